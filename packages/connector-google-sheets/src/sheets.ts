import { googleAuth, googleCall, RollingWindow, type Auth, type GoogleAuthConfig, type GoogleCallOptions } from '@dativo/api-kit';
import { DativoError, type RunContext } from '@dativo/core';
import { drive, type drive_v3 } from '@googleapis/drive';
import { sheets, type sheets_v4 } from '@googleapis/sheets';

export const SCOPES = {
  read: ['https://www.googleapis.com/auth/spreadsheets.readonly', 'https://www.googleapis.com/auth/drive.metadata.readonly'],
  write: ['https://www.googleapis.com/auth/spreadsheets'],
} as const;

export interface SheetsApiConfig extends GoogleAuthConfig {
  api_root?: string | undefined;
  reads_per_minute: number;
  writes_per_minute: number;
  timeout_seconds: number;
}

export interface TabInfo {
  sheetId: number;
  title: string;
  index: number;
  hidden: boolean;
  rowCount: number;
  columnCount: number;
}

export function tabOf(s: sheets_v4.Schema$Sheet): TabInfo {
  const p = s.properties ?? {};
  return {
    sheetId: p.sheetId ?? 0,
    title: p.title ?? '',
    index: p.index ?? 0,
    hidden: p.hidden ?? false,
    rowCount: p.gridProperties?.rowCount ?? 0,
    columnCount: p.gridProperties?.columnCount ?? 0,
  };
}

/**
 * Google's Sheets v4 and Drive v3 clients behind the run's resilience: credentials from api-kit
 * (renewed once on a 401), Sheets' per-minute read and write quotas kept by rolling windows (so a
 * run at the limit draws no 429), Google's errors classified (403 rate-limit reasons and 429 are
 * retried with backoff; 403/404 name the spreadsheet).
 */
export class SheetsApi {
  readonly sheets: sheets_v4.Sheets;
  readonly drive: drive_v3.Drive;
  private readonly auth: Auth;
  private readonly reads = new RollingWindow(0);
  private readonly writes = new RollingWindow(0);

  constructor(
    private readonly config: SheetsApiConfig,
    private readonly ctx: RunContext,
    scopes: readonly string[],
  ) {
    const root = config.api_root ? { rootUrl: config.api_root } : {};
    this.sheets = sheets({ version: 'v4', retry: false, ...root } as sheets_v4.Options);
    this.drive = drive({ version: 'v3', retry: false, ...root } as drive_v3.Options);
    this.auth = googleAuth(config, scopes);
    this.reads.observe({ max: config.reads_per_minute, remaining: config.reads_per_minute, intervalMs: 60_000 });
    this.writes.observe({ max: config.writes_per_minute, remaining: config.writes_per_minute, intervalMs: 60_000 });
  }

  /** One request (a read or a write, for the quota) with the current token, retried by the run's resilience. */
  async call<T>(kind: 'read' | 'write', endpoint: string, resource: string, fn: (options: GoogleCallOptions) => Promise<{ data: T }>): Promise<T> {
    const quota = kind === 'read' ? this.reads : this.writes;
    const res = await googleCall(this.auth, this.ctx, { endpoint, resource, timeoutMs: this.config.timeout_seconds * 1000, before: () => quota.acquire(this.ctx.signal) }, fn);
    return res.data;
  }

  /** The spreadsheet's tabs (properties only). */
  async tabs(spreadsheetId: string): Promise<TabInfo[]> {
    const data = await this.call('read', 'GET sheets/v4/spreadsheets/{id}', `spreadsheet ${spreadsheetId}`, (o) =>
      this.sheets.spreadsheets.get({ spreadsheetId, fields: 'spreadsheetId,sheets.properties' }, o),
    );
    return (data.sheets ?? []).map(tabOf);
  }

  /** Cells with their formats and the tab's merges, for the ranges given (header and type sampling). */
  async grid(spreadsheetId: string, ranges: string[]): Promise<sheets_v4.Schema$Sheet[]> {
    const data = await this.call('read', 'GET sheets/v4/spreadsheets/{id}', `spreadsheet ${spreadsheetId}`, (o) =>
      this.sheets.spreadsheets.get(
        { spreadsheetId, ranges, includeGridData: true, fields: 'sheets(properties,merges,data(startRow,startColumn,rowData(values(effectiveValue,effectiveFormat.numberFormat))))' },
        o,
      ),
    );
    return data.sheets ?? [];
  }

  async values(spreadsheetId: string, range: string, render: { value: string; dateTime: string }): Promise<unknown[][]> {
    const data = await this.call('read', 'GET sheets/v4/spreadsheets/{id}/values/{range}', `spreadsheet ${spreadsheetId}`, (o) =>
      this.sheets.spreadsheets.values.get({ spreadsheetId, range, valueRenderOption: render.value, dateTimeRenderOption: render.dateTime, majorDimension: 'ROWS' }, o),
    );
    return (data.values ?? []) as unknown[][];
  }

  /** One atomic batch of requests: all apply, or none. */
  batchUpdate(spreadsheetId: string, requests: sheets_v4.Schema$Request[]): Promise<sheets_v4.Schema$BatchUpdateSpreadsheetResponse> {
    return this.call('write', 'POST sheets/v4/spreadsheets/{id}:batchUpdate', `spreadsheet ${spreadsheetId}`, (o) =>
      this.sheets.spreadsheets.batchUpdate({ spreadsheetId, requestBody: { requests } }, o),
    );
  }

  /** The spreadsheet's last modification (Drive's `modifiedTime`), epoch ms. */
  async modifiedTime(spreadsheetId: string): Promise<number> {
    const data = await this.call('read', 'GET drive/v3/files/{fileId}', `spreadsheet ${spreadsheetId}`, (o) =>
      this.drive.files.get({ fileId: spreadsheetId, fields: 'id,modifiedTime', supportsAllDrives: true }, o),
    );
    const at = Date.parse(data.modifiedTime ?? '');
    if (!Number.isFinite(at)) throw new DativoError(`spreadsheet ${spreadsheetId}: Drive gave no modifiedTime`, { kind: 'permanent', code: 'SHEETS_NO_MODIFIED_TIME' });
    return at;
  }
}
