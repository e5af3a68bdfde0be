import { v1GoogleCredentials } from '@dativo/api-kit';
import { defineConnector, lazyExtractor, type Extractor, type V1JobContext, type V1SourceResult } from '@dativo/core/definition';
import { gdriveCsvConfigSchema, type GdriveCsvConfig } from './config.js';
import { VERSION } from './version.js';

/** Identity, config schema and Drive's published per-user limit (12,000 queries per minute), spread: no runtime imports. */
export const gdriveCsvHead = {
  specificationVersion: 'v1',
  spec: {
    id: 'gdrive_csv',
    version: VERSION,
    description: 'CSV files from Google Drive (folders, shared drives, Google Sheets exported as CSV) streamed into the CSV engine; incremental by modified time; downloads resume by Range',
    limits: { rateLimit: { requestsPerSecond: 20, burst: 20 }, retry: { maxRetries: 6, maxDelayMs: 64_000 } },
    workload: 'network',
  },
  configSchema: gdriveCsvConfigSchema,
} as const;

export function gdriveCsvSource(): Extractor<GdriveCsvConfig> {
  return lazyExtractor(gdriveCsvHead, async () => (await import('./extractor.js')).gdriveCsvExtractor());
}

/**
 * v1's Google Drive section, read as v1 read it: `files: [{id, object}]` or `folder_id`,
 * `incremental` (`file_modified_time`), and the key file found as v1 looked for it — `credentials`
 * `credentials_path` / `service_account_file` / `file` / `path`, then `file_template` (`{tenant}`
 * filled in) when that file exists, then GDRIVE_CREDENTIALS_PATH or GOOGLE_APPLICATION_CREDENTIALS.
 * `GOOGLE_API_ROOT` points the client at another endpoint (a proxy, a test server).
 */
export function gdriveCsvV1Source(job: { source: Record<string, unknown> }, context: V1JobContext): V1SourceResult {
  const { credentials, folder_id: folderId, query, ...rest } = job.source;
  const config: Record<string, unknown> = { ...rest };
  const notes: string[] = [];
  if (config.folder === undefined && typeof folderId === 'string') config.folder = { id: folderId };
  if (query !== undefined) notes.push('source.query (a Drive search) is not used: name the files, or a folder with folder.name_pattern');
  const missing = v1GoogleCredentials(config, credentials, context, ['GDRIVE_CREDENTIALS_PATH']);
  if (missing) notes.push(missing);
  return { config, notes };
}

/** Loaded by the CLI for `source_connector: gdrive_csv`. */
export const dativoConnector = defineConnector({ specificationVersion: 'v1', ids: ['gdrive_csv'], source: gdriveCsvSource, v1: { source: gdriveCsvV1Source } });
