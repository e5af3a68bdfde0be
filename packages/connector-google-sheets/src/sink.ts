import { createHash, randomInt } from 'node:crypto';
import { DativoError, readRows, stateKeyOf, type Checkpoint, type CommitResult, type FieldSpec, type RunContext, type Sink, type SinkWriter, type StreamDescriptor } from '@dativo/core';
import { crashPoint } from '@dativo/core/testing';
import type { sheets_v4 } from '@googleapis/sheets';
import type { RecordBatch } from 'apache-arrow';
import { formatA1, parseA1 } from './a1.js';
import type { SheetsTargetConfig } from './config.js';
import { sheetsTargetHead } from './connector.js';
import { SCOPES, SheetsApi, type TabInfo } from './sheets.js';
import { valueToCell, type CellData } from './values.js';

type Request = sheets_v4.Schema$Request;
type Row = { values: CellData[] };

/** The hidden tab that holds each writer's checkpoint: column A the key, column B the JSON. */
export const STATE_TAB = '_dativo_state';
const VALUES = 'userEnteredValue,userEnteredFormat.numberFormat';
const GRID = 'gridProperties.rowCount,gridProperties.columnCount,gridProperties.frozenRowCount';

/** What a writer records in the state tab, in the same atomic batch as its data. */
interface Recorded {
  checkpoint?: Checkpoint;
  /** `replace`: the run's table being built in a hidden tab, swapped in when the run ends. */
  session?: { stage: number; rows: number } | null;
  /** `append`: the tab appended to, and its row count after the last commit (the grid is kept at that size). */
  target?: { sheetId: number; rows: number };
}

/** The tab the target names: `range`'s tab, `sheet`, or the first visible tab (v1's `A1:Z1000`). */
function targetTitle(config: SheetsTargetConfig, tabs: TabInfo[]): string {
  if (config.range) {
    const r = parseA1(config.range, 'target.range');
    if (r.startRow !== 0 || r.startColumn !== 0) {
      throw new DativoError(`target.range: '${config.range}' starts at ${formatA1('x', r.startRow, r.startColumn, r.startRow + 1, r.startColumn + 1).slice(2).split(':')[0]}; a table is written from A1 of its tab (name the tab: Orders!A1)`, { kind: 'config', code: 'SHEETS_BAD_RANGE' });
    }
    if (r.sheet !== undefined) return r.sheet;
  }
  if (config.sheet) return config.sheet;
  const first = [...tabs].filter((t) => !t.title.startsWith('_dativo_')).sort((a, b) => a.index - b.index).find((t) => !t.hidden);
  return first?.title ?? 'Sheet1';
}

export function sheetsSinkRuntime(): Sink<SheetsTargetConfig> {
  return {
    ...sheetsTargetHead,
    async check(config, ctx) {
      const api = new SheetsApi(config, ctx, SCOPES.write);
      targetTitle(config, await api.tabs(config.spreadsheet_id));
    },
    async open(config, stream, ctx) {
      const writer = new SheetsWriter(config, stream, ctx);
      await writer.init();
      return writer;
    },
  };
}

/**
 * Writes one stream into a tab. Rows are staged in a hidden tab in chunks (each under the row and
 * byte limits of one request); a commit is one `batchUpdate` — all of it applies or none — that
 * also records the checkpoint in the hidden state tab. `append` pastes the staged rows below the
 * tab's last row at each commit; `replace` keeps building the run's whole table in the hidden tab
 * (a resumed run continues it) and swaps it in, in one batch, when the run ends: a run that fails
 * leaves the old content, never a mix.
 */
class SheetsWriter implements SinkWriter {
  /** Checkpoints are recorded with the data: this target alone says how far a job got. */
  readonly keepsCheckpoints = true;
  private readonly api: SheetsApi;
  private readonly key: string;
  private readonly fields: FieldSpec[];
  private tabs: TabInfo[] = [];
  private title = '';
  private recorded: Recorded = {};
  private stateRow: number | undefined;
  private stage: TabInfo | undefined;
  /** Data rows in the stage (replace: after its header row). */
  private staged = 0;
  private committedStaged = 0;
  private freshStart = false;
  private pendingSwap = false;
  private aborted = false;
  /** This writer committed: a close after it ends the run. */
  private committed = false;
  private buffer: Row[] = [];
  private bufferBytes = 0;
  private rowsSinceCommit = 0;
  private bytesSinceCommit = 0;
  private appendEnd: number | undefined;

  constructor(
    private readonly config: SheetsTargetConfig,
    private readonly stream: StreamDescriptor,
    private readonly ctx: RunContext,
  ) {
    this.api = new SheetsApi(config, ctx, SCOPES.write);
    const k = stateKeyOf(ctx, stream.name);
    this.key = `${k.tenant}/${k.job}/${k.stream}`;
    this.fields = stream.schema;
  }

  private get id(): string {
    return this.config.spreadsheet_id;
  }

  private get stageTitle(): string {
    return `_dativo_stage_${createHash('sha256').update(this.key).digest('hex').slice(0, 12)}`;
  }

  private tab(title: string): TabInfo | undefined {
    return this.tabs.find((t) => t.title === title);
  }

  async init(): Promise<void> {
    this.tabs = await this.api.tabs(this.id);
    this.title = targetTitle(this.config, this.tabs);
    await this.readState();
    this.stage = this.tab(this.stageTitle);
    const session = this.recorded.session;
    // Without `begin`, a recorded unfinished session continues.
    this.staged = this.committedStaged = session && this.stage?.sheetId === session.stage ? session.rows : 0;
    this.pendingSwap = this.staged > 0;
    if (this.config.mode === 'append') await this.checkHeader();
  }

  private async readState(): Promise<void> {
    const tab = this.tab(STATE_TAB);
    this.stateRow = undefined;
    if (!tab) return;
    const rows = await this.api.values(this.id, formatA1(STATE_TAB, 0, 0, Math.max(1, tab.rowCount), 2), { value: 'UNFORMATTED_VALUE', dateTime: 'SERIAL_NUMBER' });
    const at = rows.findIndex((r) => r[0] === this.key);
    if (at < 0) return;
    this.stateRow = at;
    try {
      this.recorded = JSON.parse(String(rows[at]?.[1] ?? '{}')) as Recorded;
    } catch {
      throw new DativoError(`spreadsheet ${this.id}: the state of ${this.key} in tab ${STATE_TAB} (row ${at + 1}) is not JSON; it was edited by hand`, { kind: 'permanent', code: 'SHEETS_BAD_STATE' });
    }
  }

  /** `append` into a tab with rows: its header must be the table's columns. */
  private async checkHeader(): Promise<void> {
    const tab = this.tab(this.title);
    if (!tab || tab.rowCount === 0) return;
    const [header = []] = await this.api.values(this.id, formatA1(this.title, 0, 0, 1, Math.max(1, tab.columnCount)), { value: 'FORMATTED_VALUE', dateTime: 'FORMATTED_STRING' });
    if (header.length === 0) return;
    const want = this.fields.map((f) => f.name);
    const have = header.map((v) => String(v ?? ''));
    if (have.length !== want.length || have.some((h, i) => h !== want[i])) {
      throw new DativoError(`target: tab '${this.title}' of spreadsheet ${this.id} has the columns ${have.join(', ')}; the table has ${want.join(', ')}. append needs the same header (or use mode: replace)`, { kind: 'config', code: 'SHEETS_HEADER_MISMATCH' });
    }
  }

  lastCommitted(): Promise<Checkpoint | undefined> {
    return Promise.resolve(this.recorded.checkpoint);
  }

  begin(info: { resumed: boolean }): Promise<void> {
    if (this.config.mode === 'replace' && !info.resumed) {
      // The source starts over: so does the table (whatever an interrupted run staged is overwritten).
      this.staged = this.committedStaged = 0;
      this.freshStart = true;
      this.pendingSwap = true;
    }
    return Promise.resolve();
  }

  async write(batch: RecordBatch): Promise<void> {
    for (const row of readRows(batch, this.fields)) {
      const cells = this.fields.map((f) => valueToCell(row[f.name], f));
      const bytes = JSON.stringify(cells).length;
      this.buffer.push({ values: cells });
      this.bufferBytes += bytes;
      this.rowsSinceCommit++;
      this.bytesSinceCommit += bytes;
      if (this.buffer.length >= this.config.chunk_rows || this.bufferBytes >= this.config.chunk_bytes) await this.flush();
    }
  }

  private headerRow(): Row {
    return { values: this.fields.map((f) => ({ userEnteredValue: { stringValue: f.name } })) };
  }

  private newSheetId(): number {
    for (;;) {
      const id = randomInt(1, 2 ** 31 - 1);
      if (!this.tabs.some((t) => t.sheetId === id)) return id;
    }
  }

  /** Requests creating a tab (with the id chosen here, so later requests of the batch can address it). */
  private addTab(title: string, hidden: boolean, rows: number): { tab: TabInfo; request: Request } {
    const tab: TabInfo = { sheetId: this.newSheetId(), title, index: this.tabs.length, hidden, rowCount: Math.max(1, rows), columnCount: Math.max(1, this.fields.length) };
    this.tabs.push(tab);
    return { tab, request: { addSheet: { properties: { sheetId: tab.sheetId, title, hidden, gridProperties: { rowCount: tab.rowCount, columnCount: tab.columnCount } } } } };
  }

  private grow(tab: TabInfo, rows: number, columns = this.fields.length): Request[] {
    if (tab.rowCount >= rows && tab.columnCount >= columns) return [];
    tab.rowCount = Math.max(tab.rowCount, rows);
    tab.columnCount = Math.max(tab.columnCount, columns);
    return [{ updateSheetProperties: { properties: { sheetId: tab.sheetId, gridProperties: { rowCount: tab.rowCount, columnCount: tab.columnCount } }, fields: 'gridProperties.rowCount,gridProperties.columnCount' } }];
  }

  /** Writes the buffered rows into the stage (creating it, with the header for `replace`). */
  private async flush(force = false): Promise<void> {
    const rows = this.buffer;
    if (!rows.length && !force) return;
    const header = this.config.mode === 'replace' ? 1 : 0;
    const requests: Request[] = [];
    if (!this.stage) {
      const added = this.addTab(this.stageTitle, true, header + rows.length);
      this.stage = added.tab;
      requests.push(added.request);
    }
    if (header && this.staged === 0) requests.push({ updateCells: { start: { sheetId: this.stage.sheetId, rowIndex: 0, columnIndex: 0 }, rows: [this.headerRow()], fields: VALUES } });
    requests.push(...this.grow(this.stage, header + this.staged + rows.length));
    if (rows.length) requests.push({ updateCells: { start: { sheetId: this.stage.sheetId, rowIndex: header + this.staged, columnIndex: 0 }, rows, fields: VALUES } });
    await this.api.batchUpdate(this.id, requests);
    this.staged += rows.length;
    crashPoint('sheets:staged');
    this.buffer = [];
    this.bufferBytes = 0;
  }

  /** The request recording `recorded` in the state tab (created hidden when missing). */
  private recordRequests(next: Recorded): Request[] {
    const requests: Request[] = [];
    let tab = this.tab(STATE_TAB);
    if (!tab) {
      const added = this.addTab(STATE_TAB, true, 1);
      tab = added.tab;
      tab.columnCount = 2;
      requests.push({ addSheet: { properties: { ...added.request.addSheet?.properties, gridProperties: { rowCount: 1, columnCount: 2 } } } });
    }
    const values = [{ userEnteredValue: { stringValue: this.key } }, { userEnteredValue: { stringValue: JSON.stringify(next) } }];
    if (this.stateRow !== undefined) requests.push({ updateCells: { start: { sheetId: tab.sheetId, rowIndex: this.stateRow, columnIndex: 0 }, rows: [{ values }], fields: 'userEnteredValue' } });
    else requests.push({ appendCells: { sheetId: tab.sheetId, rows: [{ values }], fields: 'userEnteredValue' } });
    return requests;
  }

  /** Applies `requests` with the state `next`, atomically, and keeps what it recorded. */
  private async apply(requests: Request[], next: Recorded): Promise<void> {
    const appended = this.stateRow === undefined;
    crashPoint('sheets:before-commit');
    await this.api.batchUpdate(this.id, [...requests, ...this.recordRequests(next)]);
    this.recorded = next;
    crashPoint('sheets:committed');
    if (appended) {
      // Where the new state row landed (appended after the others).
      this.tabs = await this.api.tabs(this.id);
      await this.readState();
      this.stage = this.tab(this.stageTitle) ?? this.stage;
    }
  }

  /** The last row holding anything in a tab this writer has not trimmed yet (read in chunks). */
  private async dataEnd(tab: TabInfo): Promise<number> {
    if (this.recorded.target?.sheetId === tab.sheetId) return tab.rowCount;
    let end = 0;
    const chunk = 5_000;
    for (let r = 0; r < tab.rowCount; r += chunk) {
      const rows = await this.api.values(this.id, formatA1(tab.title, r, 0, Math.min(r + chunk, tab.rowCount), Math.max(1, tab.columnCount)), { value: 'UNFORMATTED_VALUE', dateTime: 'SERIAL_NUMBER' });
      if (rows.length) end = r + rows.length;
    }
    return end;
  }

  async commit(checkpoint: Checkpoint): Promise<CommitResult> {
    await this.flush();
    const result: CommitResult = { files: 0, rows: this.rowsSinceCommit, bytes: this.bytesSinceCommit };
    if (this.config.mode === 'replace') {
      const session = this.pendingSwap || this.staged > 0 || this.freshStart;
      if (session && !this.stage) await this.flush(true);
      await this.apply([], { ...this.recorded, checkpoint, session: session && this.stage ? { stage: this.stage.sheetId, rows: this.staged } : null });
      this.pendingSwap = session;
      // Rows become visible when the run ends (close); until then they count as staged.
      result.files = 0;
    } else {
      const requests: Request[] = [];
      let target = this.tab(this.title);
      let end: number;
      if (!target) {
        const added = this.addTab(this.title, false, 1);
        target = added.tab;
        requests.push(added.request, { updateCells: { start: { sheetId: target.sheetId, rowIndex: 0, columnIndex: 0 }, rows: [this.headerRow()], fields: VALUES } });
        end = 1;
      } else {
        end = this.appendEnd ?? (await this.dataEnd(target));
        if (end === 0) {
          requests.push(...this.grow(target, 1), { updateCells: { start: { sheetId: target.sheetId, rowIndex: 0, columnIndex: 0 }, rows: [this.headerRow()], fields: VALUES } });
          end = 1;
        }
      }
      const rows = end + this.staged;
      // The grid is kept at exactly the table's rows, so the next append starts below the last.
      target.rowCount = rows;
      target.columnCount = Math.max(target.columnCount, this.fields.length);
      requests.push({ updateSheetProperties: { properties: { sheetId: target.sheetId, gridProperties: { rowCount: rows, columnCount: target.columnCount } }, fields: 'gridProperties.rowCount,gridProperties.columnCount' } });
      if (this.staged > 0 && this.stage) {
        requests.push({
          copyPaste: {
            source: { sheetId: this.stage.sheetId, startRowIndex: 0, endRowIndex: this.staged, startColumnIndex: 0, endColumnIndex: this.fields.length },
            destination: { sheetId: target.sheetId, startRowIndex: end, endRowIndex: rows, startColumnIndex: 0, endColumnIndex: this.fields.length },
            pasteType: 'PASTE_NORMAL',
          },
        });
      }
      await this.apply(requests, { ...this.recorded, checkpoint, target: { sheetId: target.sheetId, rows } });
      this.appendEnd = rows;
      result.files = this.staged > 0 ? 1 : 0;
      this.staged = 0;
    }
    this.committedStaged = this.staged;
    this.committed = true;
    this.rowsSinceCommit = 0;
    this.bytesSinceCommit = 0;
    return result;
  }

  async abort(): Promise<void> {
    this.aborted = true;
    this.buffer = [];
    this.bufferBytes = 0;
    this.staged = this.committedStaged;
    return Promise.resolve();
  }

  /** `replace`, after a run that ended with a commit: the staged table takes the tab's place, in one batch. */
  async close(): Promise<void> {
    if (this.config.mode !== 'replace' || this.aborted || !this.committed || !this.pendingSwap || !this.stage) return;
    const stage = this.stage;
    const rows = 1 + this.staged;
    const width = Math.max(1, this.fields.length);
    const target = this.tab(this.title);
    // The header row stays in view (a tab cannot freeze all its rows).
    const frozen = rows > 1 ? 1 : 0;
    const requests: Request[] = [];
    if (!target) {
      requests.push({ updateSheetProperties: { properties: { sheetId: stage.sheetId, title: this.title, hidden: false, gridProperties: { rowCount: rows, columnCount: width, frozenRowCount: frozen } }, fields: `title,hidden,${GRID}` } });
    } else {
      requests.push(
        { unmergeCells: { range: { sheetId: target.sheetId } } },
        { updateSheetProperties: { properties: { sheetId: target.sheetId, gridProperties: { rowCount: rows, columnCount: width, frozenRowCount: frozen } }, fields: GRID } },
        {
          copyPaste: {
            source: { sheetId: stage.sheetId, startRowIndex: 0, endRowIndex: rows, startColumnIndex: 0, endColumnIndex: width },
            destination: { sheetId: target.sheetId, startRowIndex: 0, endRowIndex: rows, startColumnIndex: 0, endColumnIndex: width },
            pasteType: 'PASTE_NORMAL',
          },
        },
        { deleteSheet: { sheetId: stage.sheetId } },
      );
    }
    crashPoint('sheets:before-swap');
    await this.apply(requests, { ...this.recorded, session: null });
    this.ctx.log.info('tab replaced', { spreadsheet: this.id, tab: this.title, rows: this.staged });
    this.pendingSwap = false;
    if (!target) {
      stage.title = this.title;
      stage.hidden = false;
    } else this.tabs = this.tabs.filter((t) => t.sheetId !== stage.sheetId);
    this.stage = undefined;
  }
}

