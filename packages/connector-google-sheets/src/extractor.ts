import { BatchBuilder, DativoError, parseCheckpointState, type ConfiguredStream, type ExtractMessage, type Extractor, type FieldSpec, type JsonValue, type RunContext, type StreamDescriptor } from '@dativo/core';
import type { sheets_v4 } from '@googleapis/sheets';
import { z } from 'zod';
import { formatA1, parseA1 } from './a1.js';
import type { SheetEntry, SheetsSourceConfig } from './config.js';
import { sheetsSourceHead } from './connector.js';
import { SCOPES, SheetsApi, type TabInfo } from './sheets.js';
import { cellToValue, headerNames, inferType, isEmpty, type CellValue, type SampleCell } from './values.js';

const checkpointSchema = z.object({
  v: z.literal(1),
  /** The run finished: the next incremental run reads spreadsheets changed since `run_to`. */
  done: z.boolean(),
  /** This run's start. */
  run_to: z.number(),
  /** Spreadsheets not modified since this (less the lookback) were read by earlier runs. */
  synced_to: z.number().nullable(),
  /** Entries (tabs) of the stream finished, in configuration order. */
  after: z.number().int().nonnegative(),
  /** The tab being read: its spreadsheet's modified time when the read began, and the next row (0-based). */
  current: z.object({ key: z.string(), modified: z.number(), row: z.number().int().nonnegative() }).nullable(),
});
type State = z.infer<typeof checkpointSchema>;

/** One tab (or range of a tab) to read, with the stream it feeds. */
interface Source {
  stream: string;
  spreadsheetId: string;
  entry: Pick<SheetEntry, 'range' | 'sheet' | 'sheet_id' | 'has_header' | 'header_row'>;
}

/** A tab resolved: its bounds, header, column names and where the data starts. */
interface Layout {
  tab: TabInfo;
  startColumn: number;
  width: number;
  dataRow: number;
  endRow: number;
  names: string[];
  /** Sampled cells per column (for type inference). */
  samples: SampleCell[][];
  shown: string;
}

function sources(config: SheetsSourceConfig, tabsOf: (id: string) => Promise<TabInfo[]>): Promise<Source[]> | Source[] {
  if (config.sheets) return config.sheets.map((e) => ({ stream: e.object ?? '', spreadsheetId: e.id, entry: e }));
  const id = config.spreadsheet_id as string;
  if (config.range) return [{ stream: '', spreadsheetId: id, entry: { range: config.range, has_header: true } }];
  return tabsOf(id).then((tabs) => tabs.filter((t) => !t.hidden).map((t) => ({ stream: t.title, spreadsheetId: id, entry: { sheet: t.title, has_header: true } })));
}

function pickTab(tabs: TabInfo[], src: Source, sheetName: string | undefined): TabInfo {
  const { entry } = src;
  const name = sheetName ?? entry.sheet;
  const tab =
    name !== undefined
      ? tabs.find((t) => t.title === name)
      : entry.sheet_id !== undefined
        ? tabs.find((t) => t.sheetId === entry.sheet_id)
        : [...tabs].sort((a, b) => a.index - b.index).find((t) => !t.hidden) ?? tabs[0];
  if (!tab) {
    const what = name !== undefined ? `no tab named '${name}'` : entry.sheet_id !== undefined ? `no tab with id ${entry.sheet_id}` : 'no tabs';
    throw new DativoError(`spreadsheet ${src.spreadsheetId}: ${what} (tabs: ${tabs.map((t) => t.title).join(', ') || 'none'})`, { kind: 'config', code: 'SHEETS_NO_TAB' });
  }
  return tab;
}

function cellOf(c: sheets_v4.Schema$CellData | undefined): SampleCell {
  const v = c?.effectiveValue;
  const value: CellValue = v?.numberValue ?? v?.stringValue ?? v?.boolValue ?? (v?.errorValue ? `#${v.errorValue.type ?? 'ERROR'}` : null);
  return { value, format: c?.effectiveFormat?.numberFormat?.type ?? undefined };
}

/** Reads a tab's header and a sample of rows (values with formats, merges) and lays the tab out. */
/**
 * The header row among the sampled rows: the row naming the most of the columns the stream expects
 * (so title rows above a table are passed over); without a match, the first row filled more than
 * half as wide as the widest sampled row (a one-cell title is not a header); -1 when all are empty.
 */
function findHeader(rows: SampleCell[][], expected: readonly string[]): number {
  const filled = rows.map((r) => r.filter((c) => !isEmpty(c.value)).length);
  const wanted = new Set(expected.map((n) => n.trim().toLowerCase()));
  let best = -1;
  let most = 0;
  rows.forEach((r, i) => {
    const hits = r.filter((c) => typeof c.value === 'string' && wanted.has(c.value.trim().toLowerCase())).length;
    if (hits > most) [best, most] = [i, hits];
  });
  if (best >= 0) return best;
  const widest = Math.max(0, ...filled);
  return widest === 0 ? -1 : filled.findIndex((n) => n > 0 && n * 2 > widest);
}

async function layout(api: SheetsApi, config: SheetsSourceConfig, src: Source, tabCache: Map<string, Promise<TabInfo[]>>, expected: readonly string[] = []): Promise<Layout> {
  const field = 'source.sheets[].range';
  const range = src.entry.range ? parseA1(src.entry.range, field) : { startRow: 0, startColumn: 0 };
  let tabs = tabCache.get(src.spreadsheetId);
  if (!tabs) tabCache.set(src.spreadsheetId, (tabs = api.tabs(src.spreadsheetId)));
  const tab = pickTab(await tabs, src, 'sheet' in range ? range.sheet : undefined);
  const endRow = Math.min(range.endRow ?? tab.rowCount, tab.rowCount);
  const endColumn = Math.min(range.endColumn ?? tab.columnCount, tab.columnCount);
  const shown = `${src.spreadsheetId} '${tab.title}'`;
  const headerAt = src.entry.header_row !== undefined ? src.entry.header_row - 1 : undefined;
  const from = headerAt ?? range.startRow;
  const to = Math.min(endRow, from + config.sample_rows + 1);
  if (from >= endRow || range.startColumn >= endColumn) {
    return { tab, startColumn: range.startColumn, width: 0, dataRow: endRow, endRow, names: [], samples: [], shown };
  }
  const [sheet] = await api.grid(src.spreadsheetId, [formatA1(tab.title, from, range.startColumn, to, endColumn)]);
  const data = sheet?.data?.[0];
  const rows = (data?.rowData ?? []).map((r) => (r.values ?? []).map(cellOf));
  const firstRow = data?.startRow ?? from;
  let header = -1;
  if (src.entry.has_header) {
    header = headerAt !== undefined ? 0 : findHeader(rows, expected);
    if (header < 0) return { tab, startColumn: range.startColumn, width: 0, dataRow: endRow, endRow, names: [], samples: [], shown };
  }
  const headerCells = header >= 0 ? (rows[header] ?? []) : [];
  const merges = (sheet?.merges ?? [])
    .filter((m) => (m.startRowIndex ?? 0) <= firstRow + header && (m.endRowIndex ?? 0) > firstRow + header)
    .map((m) => ({ start: (m.startColumnIndex ?? 0) - range.startColumn, end: (m.endColumnIndex ?? 0) - range.startColumn }));
  const body = rows.slice(header + 1);
  const lastFilled = (cells: SampleCell[]) => {
    for (let i = cells.length - 1; i >= 0; i--) if (!isEmpty(cells[i]?.value)) return i + 1;
    return 0;
  };
  // Trailing empty columns are not columns: the header's extent (merges included), or the data's without a header.
  let width = header >= 0 ? Math.max(lastFilled(headerCells), ...merges.filter((m) => m.start < lastFilled(headerCells)).map((m) => m.end)) : Math.max(0, ...body.map(lastFilled));
  width = Math.min(width, endColumn - range.startColumn);
  const names = header >= 0 ? headerNames(headerCells.map((c) => c.value), width, merges) : Array.from({ length: width }, (_, i) => `column_${i + 1}`);
  const samples = names.map((_, i) => body.map((r) => r[i] ?? { value: null }));
  return { tab, startColumn: range.startColumn, width, dataRow: firstRow + header + 1, endRow, names, samples, shown };
}

function inferredSchema(l: Layout): FieldSpec[] {
  return l.names.map((name, i) => ({ name, type: inferType(l.samples[i] ?? []), nullable: true }));
}

export function sheetsExtractor(): Extractor<SheetsSourceConfig> {
  return {
    ...sheetsSourceHead,

    async check(config, ctx) {
      const api = new SheetsApi(config, ctx, SCOPES.read);
      const cache = new Map<string, Promise<TabInfo[]>>();
      for (const src of await sources(config, (id) => api.tabs(id))) await layout(api, config, src, cache);
    },

    async discover(config, ctx) {
      const api = new SheetsApi(config, ctx, SCOPES.read);
      const cache = new Map<string, Promise<TabInfo[]>>();
      const out = new Map<string, StreamDescriptor>();
      for (const src of await sources(config, (id) => api.tabs(id))) {
        const l = await layout(api, config, src, cache);
        const name = src.stream || l.tab.title;
        if (!out.has(name)) out.set(name, { name, schema: inferredSchema(l), syncModes: ['full_refresh', 'incremental'], description: `Google Sheets ${l.shown}` });
      }
      return [...out.values()];
    },

    async *read(config, request, ctx) {
      const api = new SheetsApi(config, ctx, SCOPES.read);
      const all = await sources(config, (id) => api.tabs(id));
      const cache = new Map<string, Promise<TabInfo[]>>();
      for (const stream of request.streams) {
        const named = all.filter((s) => s.stream.toLowerCase() === stream.name.toLowerCase());
        // One stream read (a job's asset) takes every tab unless some are named after it.
        const mine = named.length || request.streams.length > 1 ? named : all;
        yield* readStream(api, config, stream, mine, cache, ctx);
      }
    },
  };
}

/** Maps a tab's columns onto the stream's fields: exact names first, then ignoring case. */
function columnMap(names: string[], fields: readonly FieldSpec[]): Array<number | undefined> {
  return fields.map((f) => {
    const exact = names.indexOf(f.name);
    if (exact >= 0) return exact;
    const folded = names.findIndex((n) => n.toLowerCase() === f.name.toLowerCase());
    return folded >= 0 ? folded : undefined;
  });
}

async function* readStream(api: SheetsApi, config: SheetsSourceConfig, stream: ConfiguredStream, srcs: Source[], cache: Map<string, Promise<TabInfo[]>>, ctx: RunContext): AsyncGenerator<ExtractMessage> {
  const previous = parseCheckpointState(checkpointSchema, stream.resumeFrom?.state, { connector: 'google_sheets', stream: stream.name });
  const incremental = stream.syncMode === 'incremental' || config.incremental?.strategy === 'spreadsheet_modified_time';
  let state: State;
  if (previous && !previous.done) state = previous;
  else state = { v: 1, done: false, run_to: Date.now(), synced_to: incremental ? (previous?.run_to ?? null) : null, after: 0, current: null };
  let resumed = previous !== undefined && !previous.done;
  const since = state.synced_to === null ? -Infinity : state.synced_to - Math.round((config.incremental?.lookback_days ?? 0) * 86_400_000);
  const render = { value: config.value_render_option, dateTime: config.date_time_render_option };
  const checkpoint = (): ExtractMessage => ({ kind: 'checkpoint', checkpoint: { stream: stream.name, state: state as unknown as JsonValue } });
  let started = false;
  const start = (): ExtractMessage[] => (started ? [] : ((started = true), [{ kind: 'start', stream: stream.name, resumed }]));
  const builder = new BatchBuilder(stream.schema, ctx.batchLimits);
  for (let index = state.after; index < srcs.length; index++) {
    if (ctx.signal.aborted) return;
    const src = srcs[index] as Source;
    const key = `${src.spreadsheetId}|${src.entry.range ?? ''}|${src.entry.sheet ?? ''}|${src.entry.sheet_id ?? ''}`;
    const modified = await api.modifiedTime(src.spreadsheetId);
    let row: number | undefined;
    if (state.current?.key === key) {
      if (state.current.modified === modified) row = state.current.row;
      else {
        yield* start();
        yield { kind: 'warning', stream: stream.name, message: `spreadsheet ${src.spreadsheetId} changed while an interrupted run was reading it: read again from its first row (rows delivered before the interruption may repeat)`, context: { spreadsheet: src.spreadsheetId } };
        if (index === 0) resumed = false;
      }
    }
    if (row === undefined && modified < since) {
      ctx.log.info('spreadsheet unchanged since the last run: not read', { stream: stream.name, spreadsheet: src.spreadsheetId, modifiedTime: new Date(modified).toISOString() });
      state = { ...state, after: index + 1, current: null };
      continue;
    }
    yield* start();
    const l = await layout(api, config, src, cache, stream.schema.map((f) => f.name));
    const map = columnMap(l.names, stream.schema);
    const missing = stream.schema.filter((_, i) => map[i] === undefined).map((f) => f.name);
    if (missing.length && l.width > 0) yield { kind: 'warning', stream: stream.name, message: `${l.shown}: no column ${missing.map((m) => `'${m}'`).join(', ')} in the header: written as null`, context: { spreadsheet: src.spreadsheetId, tab: l.tab.title } };
    const used = new Set(map.filter((i): i is number => i !== undefined));
    const extra = l.names.filter((_, i) => !used.has(i));
    if (extra.length) yield { kind: 'warning', stream: stream.name, message: `${l.shown}: column(s) ${extra.map((m) => `'${m}'`).join(', ')} not in the asset: not read`, context: { spreadsheet: src.spreadsheetId, tab: l.tab.title } };
    ctx.log.info(row !== undefined ? 'resuming tab' : 'reading tab', { stream: stream.name, spreadsheet: src.spreadsheetId, tab: l.tab.title, ...(row !== undefined ? { fromRow: row + 1 } : {}) });
    let r = Math.max(row ?? l.dataRow, l.dataRow);
    state = { ...state, current: { key, modified, row: r } };
    while (r < l.endRow && l.width > 0) {
      if (ctx.signal.aborted) return;
      const to = Math.min(r + config.chunk_rows, l.endRow);
      const rows = await api.values(src.spreadsheetId, formatA1(l.tab.title, r, l.startColumn, to, l.startColumn + l.width), render);
      for (let i = 0; i < rows.length; i++) {
        const cells = rows[i] as CellValue[];
        if (!cells.some((c) => !isEmpty(c))) continue;
        const record: Record<string, unknown> = {};
        stream.schema.forEach((f, j) => {
          const at = map[j];
          record[f.name] = at === undefined ? null : cellToValue(cells[at], f.type);
        });
        const problem = builder.appendRecord(record);
        if (problem) {
          yield {
            kind: 'rejected',
            stream: stream.name,
            raw: Object.fromEntries(l.names.map((n, k) => [n, (cells[k] ?? null) as JsonValue])),
            error: new DativoError(`${l.shown} row ${r + i + 1}: '${problem.column}' ${problem.message}`, { kind: 'validation', code: 'SHEETS_BAD_ROW' }),
            context: { spreadsheet: src.spreadsheetId, tab: l.tab.title, row: r + i + 1 },
          };
        }
        if (builder.full) {
          const batch = builder.flush();
          if (batch) yield { kind: 'batch', stream: stream.name, batch };
        }
      }
      r = to;
      const batch = builder.flush();
      if (batch) yield { kind: 'batch', stream: stream.name, batch };
      state = { ...state, current: { key, modified, row: r } };
      yield checkpoint();
    }
    state = { ...state, after: index + 1, current: null };
    yield checkpoint();
  }
  yield* start();
  state = { ...state, done: true, current: null };
  yield checkpoint();
}
