import { defineConnector, lazySink, type Sink, type V1SectionContext, type V1SectionResult } from '@dativo/core/definition';
import { v1S3Connection } from '@dativo/sink-parquet/connector';
import { icebergSinkConfigSchema, type IcebergSinkConfig } from './config.js';
import { VERSION } from './version.js';

export const icebergSinkHead = {
  specificationVersion: 'v1',
  spec: { id: 'iceberg', version: VERSION, description: 'Apache Iceberg v2 tables (REST, SQL or file-system catalog)' },
  configSchema: icebergSinkConfigSchema,
} as const;

/**
 * The Iceberg sink: format v2 tables through a REST (Nessie, Polaris…), SQL (PostgreSQL) or
 * file-system catalog, on local disk or S3, with append / overwrite / merge, schema evolution and
 * checkpoints in snapshot summaries (exactly-once). Its runtime is loaded when it first checks or
 * opens a table.
 */
export function icebergSink(): Sink<IcebergSinkConfig> {
  return lazySink(icebergSinkHead, async () => (await import('./sink.js')).icebergSinkRuntime());
}

/** v1 targets: data files on S3 may be described in any of v1's connection shapes, with environment fallbacks. */
function icebergV1Target(section: Record<string, unknown>, context: V1SectionContext): V1SectionResult {
  if (section.connection === undefined) return { config: section };
  const { s3, rest } = v1S3Connection(section.connection, context.env, { bucketFromEnv: false });
  return { config: { ...section, connection: s3 ? { ...rest, s3 } : rest } };
}

/** Loaded by the CLI for `target_connector: iceberg` with a catalog (without the runtime). */
export const dativoConnector = defineConnector({ specificationVersion: 'v1', ids: ['iceberg'], sink: icebergSink, v1Target: icebergV1Target });
