import { defineConnector, lazySink, type Sink } from '@dativo/core/definition';
import { v1LocationTarget, warmEncoderThread } from '@dativo/parquet-kit/definition';
import { parquetSinkConfigSchema, type ParquetSinkConfig } from './config.js';
import { VERSION } from './version.js';

export const parquetSinkHead = {
  specificationVersion: 'v1',
  spec: { id: 'parquet', version: VERSION, description: 'Parquet files on local disk or S3' },
  configSchema: parquetSinkConfigSchema,
} as const;

/**
 * The Parquet sink: zstd (default), snappy, gzip or uncompressed files, rolled over at a target
 * size, `ingest_date=` partitions, on local disk or S3, published exactly once per commit. Its
 * runtime is loaded when it first checks or opens a stream.
 */
export function parquetSink(): Sink<ParquetSinkConfig> {
  return lazySink(parquetSinkHead, async () => (await import('./sink.js')).parquetSinkRuntime());
}

/**
 * Loaded by the CLI for `target_connector: parquet | s3 | minio | local` (without the runtime). v1
 * targets name their location in any of v1's shapes (see `v1LocationTarget`).
 */
export const dativoConnector = defineConnector({
  specificationVersion: 'v1',
  ids: ['parquet', 's3', 'minio', 'local', 'file'],
  sink: parquetSink,
  // The encoding thread boots on the other core while the run loads (instead of after the first batch).
  warmUp: warmEncoderThread,
  v1: { target: v1LocationTarget },
});
