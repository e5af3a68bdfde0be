import { defineConnector, lazySink, type Sink } from '@dativo/core/definition';
import { parquetSinkConfigSchema, type ParquetSinkConfig } from './config.js';
import { parquetV1Target } from './v1.js';
import { VERSION } from './version.js';

export { parquetSinkConfigSchema, s3ConnectionSchema, COMPRESSIONS, type ParquetSinkConfig, type S3Connection } from './config.js';
export { parquetV1Target, v1S3Connection, v1TableName, v1TablePrefix, type V1S3Connection } from './v1.js';

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

/** Loaded by the CLI for `target_connector: parquet | s3 | minio | local` (without the runtime). */
export const dativoConnector = defineConnector({ specificationVersion: 'v1', ids: ['parquet', 's3', 'minio', 'local', 'file'], sink: parquetSink, v1Target: parquetV1Target });
