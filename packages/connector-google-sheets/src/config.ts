import { oauthRefreshConfigSchema } from '@dativo/api-kit';
import { z } from 'zod';

const auth = {
  /** A service account's key file (JSON, as Google issues it) or an authorised user's; v1: `credentials.file_template: /secrets/{tenant}/gsheets.json`. */
  credentials: z.object({ file: z.string().min(1).optional(), json: z.string().min(1).optional() }).optional(),
  /** Or OAuth2 user credentials: the refresh token is renewed on expiry. */
  oauth: oauthRefreshConfigSchema.optional(),
  /** Google's API root for both Sheets and Drive (`rootUrl` of the clients): a proxy, or a fake in tests; `GOOGLE_API_ROOT`. */
  api_root: z.string().url().optional(),
  /** Sheets' read quota: 60 read requests per minute per user unless Google raised it for the project. */
  reads_per_minute: z.coerce.number().int().min(1).default(60),
  /** Sheets' write quota: 60 write requests per minute per user by default. */
  writes_per_minute: z.coerce.number().int().min(1).default(60),
  timeout_seconds: z.coerce.number().positive().default(120),
};

function requireCredentials(c: { credentials?: { file?: string | undefined; json?: string | undefined } | undefined; oauth?: unknown }, issue: z.core.$RefinementCtx): void {
  if (!c.credentials?.file && !c.credentials?.json && !c.oauth) {
    issue.addIssue({ code: 'custom', path: ['credentials'], message: "expected a service account key (credentials: { file: key.json }, v1's credentials.file_template, or GOOGLE_APPLICATION_CREDENTIALS) or an oauth: section" });
  }
}

/** v1 also wrote a tab's spreadsheet as `spreadsheet_id`. */
function v1SheetEntry(v: unknown): unknown {
  if (!v || typeof v !== 'object' || 'id' in v || !('spreadsheet_id' in v)) return v;
  const { spreadsheet_id: id, ...rest } = v as Record<string, unknown>;
  return { ...rest, id };
}

const sheetSchema = z.object({
  /** The spreadsheet's id (v1 also wrote `spreadsheet_id`). */
  id: z.string().min(1),
  /** The stream it feeds (default: the asset's, or the tab's title). */
  object: z.string().min(1).optional(),
  /** A1 range: `Sheet1!A1:Z1000`, `'My tab'!B2:F`, `A1:Z1000` (the first tab). */
  range: z.string().min(1).optional(),
  /** A tab by title (v1 `sheet`), when the range names none. */
  sheet: z.string().min(1).optional(),
  /** Or a tab by its numeric id (the `gid` of its URL; v1 `sheet_id`). */
  sheet_id: z.coerce.number().int().min(0).optional(),
  /** The first row of the range holds the column names (v1 `has_header`, default true); without one, columns are column_1, column_2… */
  has_header: z.boolean().default(true),
  /** The header's row number in the tab (1-based); default the first non-empty row of the range. */
  header_row: z.coerce.number().int().min(1).optional(),
});
export type SheetEntry = z.output<typeof sheetSchema>;

/** The job's `source:` for Google Sheets (v1's `sheets: [{id, object, range}]` works as written). */
export const sheetsSourceConfigSchema = z
  .object({
    /** Tabs to read, each a stream. */
    sheets: z.array(z.preprocess(v1SheetEntry, sheetSchema)).min(1).optional(),
    /** Or one spreadsheet: every visible tab is a stream (named after the tab), or the `range` given. */
    spreadsheet_id: z.string().min(1).optional(),
    range: z.string().min(1).optional(),
    ...auth,
    incremental: z
      .object({
        /** v1: `spreadsheet_modified_time`: an unchanged spreadsheet is not read again. */
        strategy: z.string().optional(),
        lookback_days: z.coerce.number().min(0).default(0),
      })
      .catchall(z.unknown())
      .optional(),
    /** v1: the engine is native; `options.native` may set the render options. */
    engine: z.object({ type: z.string().optional() }).catchall(z.unknown()).optional(),
    /** How values are read: `UNFORMATTED_VALUE` (v1's recipe; numbers as numbers) or `FORMATTED_VALUE` (as displayed). */
    value_render_option: z.enum(['UNFORMATTED_VALUE', 'FORMATTED_VALUE']).default('UNFORMATTED_VALUE'),
    /** Dates as `SERIAL_NUMBER` (v1's recipe; converted to dates and timestamps) or `FORMATTED_STRING`. */
    date_time_render_option: z.enum(['SERIAL_NUMBER', 'FORMATTED_STRING']).default('SERIAL_NUMBER'),
    /** Rows per request: a big tab is read in chunks of this many rows. */
    chunk_rows: z.coerce.number().int().min(1).max(100_000).default(5_000),
    /** Rows sampled (with their formats) to infer column types when the asset declares none. */
    sample_rows: z.coerce.number().int().min(1).max(10_000).default(200),
  })
  .superRefine((c, issue) => {
    if (!c.sheets && !c.spreadsheet_id) issue.addIssue({ code: 'custom', path: ['sheets'], message: 'expected sheets: [{ id, object, range }] or spreadsheet_id' });
    requireCredentials(c, issue);
  });

export type SheetsSourceConfig = z.output<typeof sheetsSourceConfigSchema>;

/** The job's `target:` for Google Sheets (v1's `iceberg_to_google_sheets.yaml`: `spreadsheet_id`, `range`). */
export const sheetsTargetConfigSchema = z
  .object({
    spreadsheet_id: z.string().min(1),
    /** The tab, as A1 notation (`Sheet1!A1`, `Orders`, v1's `A1:Z1000` = the first tab); the table is written from A1 and grows past the range's end. */
    range: z.string().min(1).optional(),
    /** Or the tab by title. */
    sheet: z.string().min(1).optional(),
    /** `replace` (default): the tab holds the run's table, swapped in whole at the end; `append`: rows are added below. */
    mode: z.enum(['replace', 'append']).default('replace'),
    ...auth,
    /** Rows per write request (kept under Google's request-size limit by bytes too). */
    chunk_rows: z.coerce.number().int().min(1).max(50_000).default(2_000),
    /** Bytes of cell data per write request. */
    chunk_bytes: z.coerce.number().int().min(10_000).max(9_000_000).default(2_000_000),
  })
  .superRefine((c, issue) => requireCredentials(c, issue));

export type SheetsTargetConfig = z.output<typeof sheetsTargetConfigSchema>;
