import { v1GoogleCredentials } from '@dativo/api-kit';
import { defineConnector, isPlainObject, lazyExtractor, lazySink, type Extractor, type Sink, type V1JobContext, type V1SourceResult, type V1TargetResult } from '@dativo/core/definition';
import { sheetsSourceConfigSchema, sheetsTargetConfigSchema, type SheetsSourceConfig, type SheetsTargetConfig } from './config.js';
import { VERSION } from './version.js';

const limits = { rateLimit: { requestsPerSecond: 10, burst: 10 }, retry: { maxRetries: 6, maxDelayMs: 64_000 } };

/** Identity and config schema of the source; Sheets' per-minute quotas are kept by the client itself (`reads_per_minute`). */
export const sheetsSourceHead = {
  specificationVersion: 'v1',
  spec: {
    id: 'google_sheets',
    version: VERSION,
    description: 'Google Sheets tabs as typed streams: A1 ranges, header detection, serial dates converted, big tabs in row chunks; incremental by the spreadsheet\'s modified time',
    limits,
    workload: 'network',
  },
  configSchema: sheetsSourceConfigSchema,
} as const;

export const sheetsTargetHead = {
  specificationVersion: 'v1',
  spec: {
    id: 'google_sheets',
    version: VERSION,
    description: 'Tables written into Google Sheets tabs: replace (default, swapped in whole) or append, typed cells, chunked writes; a failed run leaves the old content or the new',
    limits,
  },
  configSchema: sheetsTargetConfigSchema,
} as const;

export function googleSheetsSource(): Extractor<SheetsSourceConfig> {
  return lazyExtractor(sheetsSourceHead, async () => (await import('./extractor.js')).sheetsExtractor());
}

export function googleSheetsSink(): Sink<SheetsTargetConfig> {
  return lazySink(sheetsTargetHead, async () => (await import('./sink.js')).sheetsSinkRuntime());
}

const CREDENTIAL_ENV = ['GSHEETS_CREDENTIALS_PATH'];

/**
 * v1's Google Sheets source section, read as v1 read it: `sheets: [{id | spreadsheet_id, object,
 * range, sheet, sheet_id, has_header}]` or `spreadsheet_id`; the render options of
 * `engine.options.native` (v1's recipe: UNFORMATTED_VALUE, SERIAL_NUMBER); the key file found as
 * v1 looked for it (`credentials.*`, `file_template`, GSHEETS_CREDENTIALS_PATH,
 * GOOGLE_APPLICATION_CREDENTIALS); `GOOGLE_API_ROOT` for another endpoint.
 */
export function sheetsV1Source(job: { source: Record<string, unknown> }, context: V1JobContext): V1SourceResult {
  const { credentials, engine, spreadsheets, ...rest } = job.source;
  const config: Record<string, unknown> = { ...rest };
  const notes: string[] = [];
  if (config.sheets === undefined && Array.isArray(spreadsheets)) config.sheets = spreadsheets;
  if (isPlainObject(engine)) {
    if (typeof engine.type === 'string' && engine.type !== 'native') notes.push(`engine ${engine.type}: Google Sheets is read natively (the ${engine.type} engine is not used)`);
    const native = isPlainObject(engine.options) && isPlainObject(engine.options.native) ? engine.options.native : {};
    if (config.value_render_option === undefined && typeof native.value_render_option === 'string') config.value_render_option = native.value_render_option;
    if (config.date_time_render_option === undefined && typeof native.date_time_render_option === 'string') config.date_time_render_option = native.date_time_render_option;
  }
  const missing = v1GoogleCredentials(config, credentials, context, CREDENTIAL_ENV);
  if (missing) notes.push(missing);
  return { config, notes };
}

/** v1's Google Sheets target section (`spreadsheet_id`, `range`, `credentials.file_template`). */
export function sheetsV1Target(section: Record<string, unknown>, context: V1JobContext): V1TargetResult {
  const { credentials, ...rest } = section;
  const config: Record<string, unknown> = { ...rest };
  const missing = v1GoogleCredentials(config, credentials, context, CREDENTIAL_ENV);
  return { config, ...(missing ? { notes: [missing] } : {}) };
}

/** Loaded by the CLI for `source_connector: google_sheets` and `target_connector: google_sheets`. */
export const dativoConnector = defineConnector({
  specificationVersion: 'v1',
  ids: ['google_sheets', 'gsheets'],
  source: googleSheetsSource,
  sink: googleSheetsSink,
  v1: { source: sheetsV1Source, target: sheetsV1Target },
});
