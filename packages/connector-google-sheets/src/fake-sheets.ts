// A Google Sheets v4 server (and the Drive `files.get` Sheets jobs use for modified times) for tests;
// not part of the package's entry points. Written from Google's discovery documents
// (@dativo/testing's fixtures/google: sheets__v4.json, drive__v3.json), every request checked
// against them (method, query parameters, enum values): `spreadsheets.get` (properties, merges,
// grid data with effective values and number formats for `ranges`), `values.get` / `batchGet`
// (`valueRenderOption`, `dateTimeRenderOption`, trailing empty rows and cells trimmed, ranges
// past the grid refused), `values.update` / `batchUpdate` (`RAW` and `USER_ENTERED` input),
// `spreadsheets.batchUpdate` applied atomically (addSheet, deleteSheet, updateSheetProperties,
// updateCells, appendCells, appendDimension, copyPaste, mergeCells, unmergeCells; a write past the
// grid, a duplicate title or removing the last visible tab refuses the whole batch), a per-minute
// read quota answered with 429 RESOURCE_EXHAUSTED, a request-size limit, and a service account's
// token endpoint. It shares no code with the connector it checks.
import { DiscoveryContract, fakeGoogleAccount, googleDiscovery, googleErrorReply, startHttpServer, type FakeGoogleAccount, type FakeHttpServer, type HttpReply, type RecordedRequest } from '@dativo/testing/http';

export type FakeValue = number | string | boolean | null;
export interface FakeCell {
  v: FakeValue;
  /** Number format type: DATE, DATE_TIME, TIME, PERCENT, CURRENCY, NUMBER, TEXT. */
  f?: string;
}
export interface GridRange {
  sheetId?: number;
  startRowIndex?: number;
  endRowIndex?: number;
  startColumnIndex?: number;
  endColumnIndex?: number;
}
export interface FakeTab {
  sheetId: number;
  title: string;
  index: number;
  hidden: boolean;
  rowCount: number;
  columnCount: number;
  frozenRowCount: number;
  cells: Array<Array<FakeCell | undefined> | undefined>;
  merges: GridRange[];
}
export interface FakeSpreadsheet {
  id: string;
  title: string;
  modifiedTime: number;
  tabs: FakeTab[];
}
export type CellInput = FakeValue | FakeCell | undefined;

export interface FakeSheets {
  url: string;
  root: string;
  http: FakeHttpServer;
  account: FakeGoogleAccount;
  serviceAccountKey: Record<string, string>;
  spreadsheets: Map<string, FakeSpreadsheet>;
  /** Read requests allowed per minute (Sheets' default per-user quota is 60); unlimited when undefined. */
  readsPerMinute: number | undefined;
  /** Bodies larger than this are refused (400). */
  maxRequestBytes: number;
  /** Called before a `spreadsheets.batchUpdate` is applied (the n-th, from 1). */
  onBatchUpdate: ((n: number, requests: unknown[]) => void | Promise<void>) | undefined;
  batchUpdates: number;
  /** Ids the credentials may not open (403 PERMISSION_DENIED). */
  forbidden: Set<string>;
  add(id: string, tabs: Array<{ title: string; rows?: CellInput[][]; merges?: GridRange[]; rowCount?: number; columnCount?: number; hidden?: boolean }>): FakeSpreadsheet;
  tab(id: string, title: string): FakeTab | undefined;
  /** A tab's values (trailing empties trimmed), as `UNFORMATTED_VALUE` reads them. */
  values(id: string, title: string): FakeValue[][];
  /** A tab's cell (formats included). */
  cell(id: string, title: string, row: number, column: number): FakeCell | undefined;
  close(): Promise<void>;
}

const EPOCH = Date.UTC(1899, 11, 30);
const toSerial = (ms: number) => (ms - EPOCH) / 86_400_000;
const fromSerial = (s: number) => new Date(EPOCH + Math.round(s * 86_400_000));
const isBlank = (c: FakeCell | undefined) => c === undefined || c.v === null || c.v === '';

function colIndex(letters: string): number {
  let n = 0;
  for (const ch of letters.toUpperCase()) n = n * 26 + ch.charCodeAt(0) - 64;
  return n - 1;
}
function colName(i: number): string {
  let s = '';
  for (let n = i + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}
const quote = (t: string) => `'${t.replaceAll("'", "''")}'`;

function render(c: FakeCell | undefined, valueOpt: string, dateOpt: string): FakeValue | undefined {
  if (isBlank(c)) return undefined;
  const { v, f } = c as FakeCell;
  const temporal = f === 'DATE' || f === 'DATE_TIME' || f === 'TIME';
  if (typeof v === 'number' && temporal && (valueOpt === 'FORMATTED_VALUE' || dateOpt === 'FORMATTED_STRING')) {
    const iso = fromSerial(v).toISOString();
    return f === 'DATE' ? iso.slice(0, 10) : f === 'TIME' ? iso.slice(11, 19) : `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
  }
  if (valueOpt !== 'FORMATTED_VALUE') return v;
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (typeof v === 'number') {
    if (f === 'PERCENT') return `${Math.round(v * 10000) / 100}%`;
    if (f === 'CURRENCY') return `$${v.toFixed(2)}`;
    return String(v);
  }
  return v;
}

/** A value typed in by a user (`USER_ENTERED`): numbers, booleans, dates, percentages and currency are parsed. */
function entered(v: FakeValue): FakeCell {
  if (typeof v !== 'string') return { v };
  const s = v.trim();
  if (/^-?\d+(\.\d+)?$/.test(s)) return { v: Number(s) };
  if (/^(TRUE|FALSE)$/i.test(s)) return { v: s.toUpperCase() === 'TRUE' };
  let m = /^(-?\d+(?:\.\d+)?)%$/.exec(s);
  if (m) return { v: Number(m[1]) / 100, f: 'PERCENT' };
  m = /^\$(-?[\d,]+(?:\.\d+)?)$/.exec(s);
  if (m) return { v: Number((m[1] as string).replaceAll(',', '')), f: 'CURRENCY' };
  m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(s);
  if (m) return { v: toSerial(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0))), f: m[4] ? 'DATE_TIME' : 'DATE' };
  return { v };
}

class BadRequest extends Error {}

export async function startFakeSheets(): Promise<FakeSheets> {
  const http = await startHttpServer();
  const account = fakeGoogleAccount(http);
  const sheetsContract = new DiscoveryContract(googleDiscovery('sheets__v4'));
  const driveContract = new DiscoveryContract(googleDiscovery('drive__v3'));
  const reads: number[] = [];
  let readQuota: number | undefined;
  let nextSheetId = 1000;

  const fake: FakeSheets = {
    url: http.url,
    root: `${http.url}/`,
    http,
    account,
    serviceAccountKey: account.serviceAccountKey,
    spreadsheets: new Map(),
    get readsPerMinute() {
      return readQuota;
    },
    set readsPerMinute(n) {
      readQuota = n;
      reads.length = 0;
    },
    maxRequestBytes: 10 * 1024 * 1024,
    onBatchUpdate: undefined,
    batchUpdates: 0,
    forbidden: new Set(),
    add(id, tabs) {
      const s: FakeSpreadsheet = {
        id,
        title: id,
        modifiedTime: Date.UTC(2025, 0, 1),
        tabs: tabs.map((t, index) => {
          const cells = (t.rows ?? []).map((r) => r.map((c) => (c === undefined ? undefined : c !== null && typeof c === 'object' ? c : { v: c })));
          const width = Math.max(0, ...cells.map((r) => r.length));
          return { sheetId: index === 0 ? 0 : nextSheetId++, title: t.title, index, hidden: t.hidden ?? false, rowCount: t.rowCount ?? Math.max(1000, cells.length), columnCount: t.columnCount ?? Math.max(26, width), frozenRowCount: 0, cells, merges: t.merges ?? [] };
        }),
      };
      for (const t of s.tabs) for (const m of t.merges) m.sheetId = t.sheetId;
      fake.spreadsheets.set(id, s);
      return s;
    },
    tab: (id, title) => fake.spreadsheets.get(id)?.tabs.find((t) => t.title === title),
    values(id, title) {
      const t = fake.tab(id, title);
      if (!t) throw new Error(`no tab ${title}`);
      return trimmed(t, 0, 0, t.rowCount, t.columnCount, 'UNFORMATTED_VALUE', 'SERIAL_NUMBER') as FakeValue[][];
    },
    cell: (id, title, row, column) => fake.tab(id, title)?.cells[row]?.[column],
    close: () => http.close(),
  };

  function trimmed(t: FakeTab, r0: number, c0: number, r1: number, c1: number, valueOpt: string, dateOpt: string): Array<Array<FakeValue | ''>> {
    const out: Array<Array<FakeValue | ''>> = [];
    for (let r = r0; r < Math.min(r1, t.rowCount); r++) {
      const row: Array<FakeValue | ''> = [];
      for (let c = c0; c < Math.min(c1, t.columnCount); c++) {
        const v = render(t.cells[r]?.[c], valueOpt, dateOpt);
        row.push(v === undefined ? '' : v);
      }
      while (row.length && row[row.length - 1] === '') row.pop();
      out.push(row);
    }
    while (out.length && (out[out.length - 1] as unknown[]).length === 0) out.pop();
    return out;
  }

  /** Parses A1 notation against a spreadsheet (an unnamed range is the first tab). */
  function resolve(s: FakeSpreadsheet, a1: string): { tab: FakeTab; r0: number; c0: number; r1: number; c1: number } {
    let rest = a1;
    let tab: FakeTab | undefined;
    const q = /^'((?:[^']|'')*)'(!|$)/.exec(rest);
    if (q) {
      tab = s.tabs.find((t) => t.title === (q[1] as string).replaceAll("''", "'"));
      rest = rest.slice(q[0].length);
    } else if (rest.includes('!')) {
      const name = rest.slice(0, rest.lastIndexOf('!'));
      tab = s.tabs.find((t) => t.title === name);
      rest = rest.slice(name.length + 1);
    } else {
      const named = s.tabs.find((t) => t.title === rest);
      if (named) [tab, rest] = [named, ''];
      else tab = [...s.tabs].sort((a, b) => a.index - b.index)[0];
    }
    if (!tab) throw new BadRequest(`Unable to parse range: ${a1}`);
    if (rest === '') return { tab, r0: 0, c0: 0, r1: tab.rowCount, c1: tab.columnCount };
    const m = /^([A-Z]*)(\d*)(?::([A-Z]*)(\d*))?$/i.exec(rest);
    if (!m || (!m[1] && !m[2])) throw new BadRequest(`Unable to parse range: ${a1}`);
    const [, ac, ar, bc, br] = m as unknown as [string, string, string, string | undefined, string | undefined];
    const single = m[3] === undefined && m[4] === undefined;
    const r0 = ar ? Number(ar) - 1 : 0;
    const c0 = ac ? colIndex(ac) : 0;
    const r1 = single ? (ar ? r0 + 1 : tab.rowCount) : br ? Number(br) : tab.rowCount;
    const c1 = single ? (ac ? c0 + 1 : tab.columnCount) : bc ? colIndex(bc) + 1 : tab.columnCount;
    if (r0 >= tab.rowCount || c1 > tab.columnCount) throw new BadRequest(`Range (${quote(tab.title)}!${rest}) exceeds grid limits. Max rows: ${tab.rowCount}, max columns: ${tab.columnCount}`);
    return { tab, r0, c0, r1: Math.min(r1, tab.rowCount), c1 };
  }

  function setCell(t: FakeTab, r: number, c: number, cell: FakeCell | undefined): void {
    if (r >= t.rowCount || c >= t.columnCount) throw new BadRequest(`Range (${quote(t.title)}!${colName(c)}${r + 1}) exceeds grid limits. Max rows: ${t.rowCount}, max columns: ${t.columnCount}`);
    const row = (t.cells[r] ??= []);
    row[c] = cell;
  }

  function writeValues(s: FakeSpreadsheet, range: string, values: FakeValue[][], input: string): { updatedRange: string; updatedRows: number; updatedColumns: number; updatedCells: number } {
    const { tab, r0, c0 } = resolve(s, range);
    let cells = 0;
    let cols = 0;
    values.forEach((row, i) =>
      row.forEach((v, j) => {
        setCell(tab, r0 + i, c0 + j, v === null ? undefined : input === 'USER_ENTERED' ? entered(v) : { v });
        cells++;
        cols = Math.max(cols, j + 1);
      }),
    );
    return { updatedRange: `${quote(tab.title)}!${colName(c0)}${r0 + 1}:${colName(c0 + Math.max(cols, 1) - 1)}${r0 + Math.max(values.length, 1)}`, updatedRows: values.length, updatedColumns: cols, updatedCells: cells };
  }

  type Cd = { userEnteredValue?: { numberValue?: number; stringValue?: string; boolValue?: boolean; formulaValue?: string }; userEnteredFormat?: { numberFormat?: { type?: string } } };
  function fromCellData(c: Cd | undefined, fields: string, old: FakeCell | undefined): FakeCell | undefined {
    const all = fields === '*';
    const wantValue = all || fields.split(',').some((f) => f.trim() === 'userEnteredValue');
    const wantFormat = all || fields.split(',').some((f) => f.trim().startsWith('userEnteredFormat'));
    const uv = c?.userEnteredValue;
    const v: FakeValue = wantValue ? (uv?.numberValue ?? uv?.stringValue ?? uv?.boolValue ?? uv?.formulaValue ?? null) : (old?.v ?? null);
    const f = wantFormat ? c?.userEnteredFormat?.numberFormat?.type : old?.f;
    return v === null && !f ? undefined : { v, ...(f ? { f } : {}) };
  }

  function sheetById(s: FakeSpreadsheet, id: number | undefined): FakeTab {
    const t = s.tabs.find((x) => x.sheetId === (id ?? 0));
    if (!t) throw new BadRequest(`No grid with id: ${id}`);
    return t;
  }

  type Req = Record<string, Record<string, unknown>>;
  function applyRequest(s: FakeSpreadsheet, req: Req, i: number): Record<string, unknown> {
    const [kind, body] = Object.entries(req)[0] ?? [];
    const b = body as Record<string, any>;
    switch (kind) {
      case 'addSheet': {
        const p = b.properties ?? {};
        const title = p.title ?? `Sheet${s.tabs.length + 1}`;
        if (s.tabs.some((t) => t.title === title)) throw new BadRequest(`Invalid requests[${i}].addSheet: A sheet with the name "${title}" already exists. Please enter another name.`);
        const sheetId = p.sheetId ?? nextSheetId++;
        if (s.tabs.some((t) => t.sheetId === sheetId)) throw new BadRequest(`Invalid requests[${i}].addSheet: Sheet with id ${sheetId} already exists.`);
        const tab: FakeTab = { sheetId, title, index: s.tabs.length, hidden: p.hidden ?? false, rowCount: p.gridProperties?.rowCount ?? 1000, columnCount: p.gridProperties?.columnCount ?? 26, frozenRowCount: 0, cells: [], merges: [] };
        s.tabs.push(tab);
        return { addSheet: { properties: { sheetId, title, index: tab.index, sheetType: 'GRID', hidden: tab.hidden, gridProperties: { rowCount: tab.rowCount, columnCount: tab.columnCount } } } };
      }
      case 'deleteSheet': {
        const t = sheetById(s, b.sheetId);
        s.tabs = s.tabs.filter((x) => x !== t);
        s.tabs.forEach((x, k) => (x.index = k));
        return {};
      }
      case 'updateSheetProperties': {
        const p = b.properties ?? {};
        const t = sheetById(s, p.sheetId);
        const fields = String(b.fields ?? '').split(',').map((f) => f.trim());
        if (!b.fields) throw new BadRequest(`Invalid requests[${i}].updateSheetProperties: You must specify which fields you want to update.`);
        for (const f of fields) {
          if (f === 'title') {
            if (s.tabs.some((x) => x !== t && x.title === p.title)) throw new BadRequest(`Invalid requests[${i}].updateSheetProperties: A sheet with the name "${p.title}" already exists.`);
            t.title = p.title;
          } else if (f === 'hidden') t.hidden = Boolean(p.hidden);
          else if (f === 'index') t.index = p.index;
          else if (f === 'gridProperties.rowCount') {
            t.rowCount = p.gridProperties.rowCount;
            t.cells.length = Math.min(t.cells.length, t.rowCount);
          } else if (f === 'gridProperties.columnCount') {
            t.columnCount = p.gridProperties.columnCount;
            for (const row of t.cells) if (row) row.length = Math.min(row.length, t.columnCount);
          } else if (f === 'gridProperties.frozenRowCount') t.frozenRowCount = p.gridProperties?.frozenRowCount ?? 0;
          else throw new BadRequest(`Invalid requests[${i}].updateSheetProperties: the fake does not know the field ${f}`);
        }
        if (t.frozenRowCount >= t.rowCount && t.frozenRowCount > 0) throw new BadRequest(`Invalid requests[${i}].updateSheetProperties: You can't freeze all visible rows on the sheet.`);
        return {};
      }
      case 'updateCells': {
        const fields = String(b.fields ?? '');
        if (!fields) throw new BadRequest(`Invalid requests[${i}].updateCells: fields is required`);
        const start = b.start ?? { sheetId: b.range?.sheetId, rowIndex: b.range?.startRowIndex ?? 0, columnIndex: b.range?.startColumnIndex ?? 0 };
        const t = sheetById(s, start.sheetId);
        (b.rows ?? []).forEach((row: { values?: Cd[] }, r: number) => (row.values ?? []).forEach((c, k) => setCell(t, (start.rowIndex ?? 0) + r, (start.columnIndex ?? 0) + k, fromCellData(c, fields, t.cells[(start.rowIndex ?? 0) + r]?.[(start.columnIndex ?? 0) + k]))));
        return {};
      }
      case 'appendCells': {
        const t = sheetById(s, b.sheetId);
        let end = 0;
        t.cells.forEach((row, r) => row?.some((c) => !isBlank(c)) && (end = r + 1));
        const rows = (b.rows ?? []) as Array<{ values?: Cd[] }>;
        if (end + rows.length > t.rowCount) t.rowCount = end + rows.length;
        rows.forEach((row, r) => (row.values ?? []).forEach((c, k) => setCell(t, end + r, k, fromCellData(c, String(b.fields ?? '*'), undefined))));
        return {};
      }
      case 'appendDimension': {
        const t = sheetById(s, b.sheetId);
        if (b.dimension === 'ROWS') t.rowCount += b.length;
        else t.columnCount += b.length;
        return {};
      }
      case 'copyPaste': {
        const src = b.source as GridRange;
        const dst = b.destination as GridRange;
        const from = sheetById(s, src.sheetId);
        const to = sheetById(s, dst.sheetId);
        if (b.pasteType && b.pasteType !== 'PASTE_NORMAL') throw new BadRequest(`the fake pastes PASTE_NORMAL only`);
        const [r0, r1, c0, c1] = [src.startRowIndex ?? 0, src.endRowIndex ?? from.rowCount, src.startColumnIndex ?? 0, src.endColumnIndex ?? from.columnCount];
        const copy = Array.from({ length: r1 - r0 }, (_, r) => Array.from({ length: c1 - c0 }, (_, c) => from.cells[r0 + r]?.[c0 + c]));
        copy.forEach((row, r) => row.forEach((cell, c) => setCell(to, (dst.startRowIndex ?? 0) + r, (dst.startColumnIndex ?? 0) + c, cell ? { ...cell } : undefined)));
        return {};
      }
      case 'mergeCells': {
        const t = sheetById(s, b.range?.sheetId);
        t.merges.push({ ...b.range });
        return {};
      }
      case 'unmergeCells': {
        const t = sheetById(s, b.range?.sheetId);
        t.merges = [];
        return {};
      }
      default:
        throw new BadRequest(`Invalid requests[${i}]: the fake does not answer ${kind}`);
    }
  }

  const spreadsheetOf = (id: string): FakeSpreadsheet | HttpReply => {
    const s = fake.spreadsheets.get(id);
    if (!s) return googleErrorReply(404, 'NOT_FOUND', 'notFound', 'Requested entity was not found.');
    if (fake.forbidden.has(id)) return googleErrorReply(403, 'PERMISSION_DENIED', 'forbidden', 'The caller does not have permission');
    return s;
  };

  const tabJson = (t: FakeTab) => ({ sheetId: t.sheetId, title: t.title, index: t.index, sheetType: 'GRID', hidden: t.hidden, gridProperties: { rowCount: t.rowCount, columnCount: t.columnCount, ...(t.frozenRowCount ? { frozenRowCount: t.frozenRowCount } : {}) } });

  const handle = async (req: RecordedRequest): Promise<HttpReply> => {
    const drive = req.path.startsWith('/drive/');
    const contract = drive ? driveContract : sheetsContract;
    const refused = contract.violation(req) ?? account.check(req);
    if (refused) return refused;
    if (req.body.length > fake.maxRequestBytes) return googleErrorReply(400, 'INVALID_ARGUMENT', 'badRequest', `Request payload size exceeds the limit: ${fake.maxRequestBytes} bytes.`);
    const method = contract.methodOf(req) as { id: string; params: Record<string, string> };
    const write = req.method !== 'GET';
    if (!write && fake.readsPerMinute !== undefined) {
      const now = Date.now();
      while (reads.length && (reads[0] as number) <= now - 60_000) reads.shift();
      if (reads.length >= fake.readsPerMinute) {
        return { status: 429, body: { error: { code: 429, message: "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute per user' of service 'sheets.googleapis.com'.", status: 'RESOURCE_EXHAUSTED' } } };
      }
      reads.push(now);
    }
    const found = spreadsheetOf(method.params.spreadsheetId ?? method.params.fileId ?? '');
    if (!('tabs' in found)) return found;
    const s = found;
    try {
      switch (method.id) {
        case 'drive.files.get':
          return { body: { kind: 'drive#file', id: s.id, name: s.title, mimeType: 'application/vnd.google-apps.spreadsheet', modifiedTime: new Date(s.modifiedTime).toISOString() } };
        case 'sheets.spreadsheets.get': {
          const ranges = req.query.getAll('ranges');
          const grid = req.query.get('includeGridData') === 'true';
          const wanted = ranges.length ? ranges.map((r) => resolve(s, r)) : s.tabs.map((tab) => ({ tab, r0: 0, c0: 0, r1: tab.rowCount, c1: tab.columnCount }));
          const tabs = ranges.length ? [...new Set(wanted.map((w) => w.tab))] : s.tabs;
          return {
            body: {
              spreadsheetId: s.id,
              properties: { title: s.title, locale: 'en_US', timeZone: 'Etc/GMT' },
              sheets: tabs.map((t) => ({
                properties: tabJson(t),
                ...(t.merges.length ? { merges: t.merges } : {}),
                ...(grid
                  ? {
                      data: wanted
                        .filter((w) => w.tab === t)
                        .map((w) => ({
                          startRow: w.r0,
                          startColumn: w.c0,
                          rowData: Array.from({ length: w.r1 - w.r0 }, (_, r) => ({
                            values: Array.from({ length: w.c1 - w.c0 }, (_, c) => {
                              const cell = t.cells[w.r0 + r]?.[w.c0 + c];
                              if (isBlank(cell)) return {};
                              const v = (cell as FakeCell).v;
                              const ev = typeof v === 'number' ? { numberValue: v } : typeof v === 'boolean' ? { boolValue: v } : { stringValue: v };
                              return { effectiveValue: ev, formattedValue: String(render(cell, 'FORMATTED_VALUE', 'FORMATTED_STRING')), ...((cell as FakeCell).f ? { effectiveFormat: { numberFormat: { type: (cell as FakeCell).f } } } : {}) };
                            }),
                          })),
                        })),
                    }
                  : {}),
              })),
            },
          };
        }
        case 'sheets.spreadsheets.values.get':
        case 'sheets.spreadsheets.values.batchGet': {
          const valueOpt = req.query.get('valueRenderOption') ?? 'FORMATTED_VALUE';
          const dateOpt = req.query.get('dateTimeRenderOption') ?? 'SERIAL_NUMBER';
          const ranges = method.id.endsWith('batchGet') ? req.query.getAll('ranges') : [method.params.range as string];
          const valueRanges = ranges.map((a1) => {
            const w = resolve(s, a1);
            const values = trimmed(w.tab, w.r0, w.c0, w.r1, w.c1, valueOpt, dateOpt);
            return { range: `${quote(w.tab.title)}!${colName(w.c0)}${w.r0 + 1}:${colName(w.c1 - 1)}${w.r1}`, majorDimension: 'ROWS', ...(values.length ? { values } : {}) };
          });
          return { body: method.id.endsWith('batchGet') ? { spreadsheetId: s.id, valueRanges } : valueRanges[0] };
        }
        case 'sheets.spreadsheets.values.update':
        case 'sheets.spreadsheets.values.batchUpdate': {
          const body = req.json() as { valueInputOption?: string; data?: Array<{ range: string; values: FakeValue[][] }>; values?: FakeValue[][] };
          const input = req.query.get('valueInputOption') ?? body.valueInputOption;
          if (input !== 'RAW' && input !== 'USER_ENTERED') return googleErrorReply(400, 'INVALID_ARGUMENT', 'badRequest', "'valueInputOption' is required but not specified");
          const copy = structuredClone(s);
          const data = method.id.endsWith('batchUpdate') ? (body.data ?? []) : [{ range: method.params.range as string, values: body.values ?? [] }];
          const responses = data.map((d) => ({ spreadsheetId: s.id, ...writeValues(copy, d.range, d.values, input) }));
          copy.modifiedTime = Date.now();
          fake.spreadsheets.set(s.id, copy);
          return { body: method.id.endsWith('batchUpdate') ? { spreadsheetId: s.id, totalUpdatedCells: responses.reduce((n, r) => n + r.updatedCells, 0), responses } : responses[0] };
        }
        case 'sheets.spreadsheets.batchUpdate': {
          const requests = ((req.json() as { requests?: Req[] }).requests ?? []) as Req[];
          fake.batchUpdates++;
          await fake.onBatchUpdate?.(fake.batchUpdates, requests);
          const copy = structuredClone(s);
          const replies = requests.map((r, i) => applyRequest(copy, r, i));
          if (!copy.tabs.some((t) => !t.hidden)) throw new BadRequest("You can't remove all the visible sheets in a document.");
          copy.modifiedTime = Date.now();
          fake.spreadsheets.set(s.id, copy);
          return { body: { spreadsheetId: s.id, replies } };
        }
        default:
          return googleErrorReply(501, 'UNIMPLEMENTED', 'notImplemented', `the fake does not answer ${method.id}`);
      }
    } catch (error) {
      if (error instanceof BadRequest) return googleErrorReply(400, 'INVALID_ARGUMENT', 'badRequest', error.message);
      throw error;
    }
  };
  http.route('*', /^\/(v4\/spreadsheets|drive\/v3\/files)\//, handle);
  return fake;
}
