import { defineConnector, lazyExtractor, type Extractor } from '@dativo/core/definition';
import { csvSourceConfigSchema, type CsvSourceConfig } from './config.js';
import { VERSION } from './version.js';

export interface CsvSourceOptions {
  /** Rows per Arrow batch (default 32 768). */
  batchRows?: number;
  /** Approximate bytes per batch (default 4 MiB). */
  batchBytes?: number;
}

export const csvSourceHead = {
  specificationVersion: 'v1',
  spec: { id: 'csv', version: VERSION, description: 'CSV files on local disk (globs, .gz, any encoding)' },
  configSchema: csvSourceConfigSchema,
} as const;

/**
 * The CSV source: streams RFC 4180 files (globs, gzip, any encoding) into Arrow batches coerced
 * to the asset schema. Incremental by file modification time; resumes inside a file after a crash.
 * Its runtime is loaded when it first checks, discovers or reads.
 */
export function csvSource(options: CsvSourceOptions = {}): Extractor<CsvSourceConfig> {
  return lazyExtractor(csvSourceHead, async () => (await import('./extractor.js')).csvExtractor(options));
}

/** Loaded by the CLI for `source_connector: csv` (without the runtime: see `@dativo/core/definition`). */
export const dativoConnector = defineConnector({ specificationVersion: 'v1', ids: ['csv'], source: csvSource });
