import { defineConnector, lazySink, type Sink } from '@dativo/core/definition';
import { v1LocationTarget } from '@dativo/parquet-kit/definition';
import { filesSinkConfigSchema, type FilesSinkConfig } from './config.js';
import { VERSION } from './version.js';

export const filesSinkHead = {
  specificationVersion: 'v1',
  spec: { id: 'files', version: VERSION, description: 'Each row written as a file (raw documents), on local disk or S3' },
  configSchema: filesSinkConfigSchema,
} as const;

/**
 * The raw-files sink: each row's content column is written unchanged as one file at a path built
 * from the row (`docs/{doc_id}.md`), staged and published exactly once per commit like Parquet
 * files. Markdown-KV's `raw_file` storage mode lands here.
 */
export function filesSink(): Sink<FilesSinkConfig> {
  return lazySink(filesSinkHead, async () => (await import('./sink.js')).filesSinkRuntime());
}

/** Loaded by the CLI for `target_connector: files` (without the runtime). */
export const dativoConnector = defineConnector({ specificationVersion: 'v1', ids: ['files'], sink: filesSink, v1: { target: v1LocationTarget } });
