import { defineConnector, isPlainObject, lazySink, type ConnectorCommand, type Sink, type V1JobContext, type V1TargetResult } from '@dativo/core/definition';
import { v1S3Connection, warmEncoderThread } from '@dativo/parquet-kit/definition';
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

/** Keys only an Iceberg table has: left out when a v1 target without a catalog becomes plain Parquet. */
const TABLE_KEYS = ['branch', 'catalog', 'namespace', 'table', 'location', 'create_namespace', 'commit_retries', 'max_open_files', 'properties', 'primary_key'];

/**
 * v1 targets. Without a catalog (no `connection.nessie`, `connection.rest` or `catalog`), v1 wrote
 * plain Parquet files: the Parquet sink serves the job. With one, data files on S3 may be described
 * in any of v1's connection shapes, with its environment fallbacks.
 */
function icebergV1Target(section: Record<string, unknown>, context: V1JobContext): V1TargetResult {
  const connection = isPlainObject(section.connection) ? section.connection : {};
  if (!(connection.nessie || connection.rest || connection.catalog || section.catalog)) {
    const config = Object.fromEntries(Object.entries(section).filter(([k]) => !TABLE_KEYS.includes(k)));
    return { connector: 'parquet', config, notes: ['target_connector iceberg without a catalog (no target.connection.nessie): writing plain Parquet files, as v1 does'] };
  }
  if (section.connection === undefined) return { config: section };
  const { s3, rest } = v1S3Connection(section.connection, context.env, { bucketFromEnv: false });
  return { config: { ...section, connection: s3 ? { ...rest, s3 } : rest } };
}

/** `7d`, `12h`, `30m`, `90s` or plain milliseconds → milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) throw new Error(`--older-than: expected a duration like 7d, 12h or 30m, got '${text}'`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 'ms') as 'ms'];
  return Number(m[1]) * unit;
}

/** Table maintenance, as `dativo iceberg <command> --config job.yaml`. */
const commands: ConnectorCommand[] = [
  {
    name: 'expire-snapshots',
    description: 'expire old snapshots and delete the files only they referenced',
    options: [
      { flags: '--older-than <duration>', description: 'expire snapshots older than this (default 5d): 7d, 12h, 30m' },
      { flags: '--retain-last <n>', description: 'always keep this many recent snapshots (default 1)' },
    ],
    async run({ config, streams, options, ctx }) {
      const { expireSnapshots } = await import('./maintenance.js');
      const results = [];
      for (const stream of streams) {
        results.push(
          await expireSnapshots(config as IcebergSinkConfig, stream, ctx, {
            ...(options.olderThan ? { olderThanMs: Date.now() - parseDuration(options.olderThan) } : {}),
            ...(options.retainLast ? { retainLast: Number(options.retainLast) } : {}),
          }),
        );
      }
      return { result: results, lines: results.map((r) => `${r.table}: expired ${r.expired} snapshot(s), kept ${r.kept}, deleted ${r.deletedFiles} file(s)`) };
    },
  },
  {
    name: 'compact',
    description: 'rewrite small data files into files of the target size (the table stays readable)',
    options: [
      { flags: '--target-file-size-mb <n>', description: 'size of the rewritten files (default: target_file_size_mb)' },
      { flags: '--min-input-files <n>', description: 'rewrite partitions with at least this many small files (default 2)' },
    ],
    async run({ config, streams, options, ctx }) {
      const { compactTable } = await import('./maintenance.js');
      const results = [];
      for (const stream of streams) {
        results.push(
          await compactTable(config as IcebergSinkConfig, stream, ctx, {
            ...(options.targetFileSizeMb ? { targetFileSizeMb: Number(options.targetFileSizeMb) } : {}),
            ...(options.minInputFiles ? { minInputFiles: Number(options.minInputFiles) } : {}),
          }),
        );
      }
      return { result: results, lines: results.map((r) => `${r.table}: rewrote ${r.rewrittenFiles} file(s) into ${r.addedFiles} (${r.rows} rows)`) };
    },
  },
];

/** Loaded by the CLI for `target_connector: iceberg` (without the runtime). */
export const dativoConnector = defineConnector({
  specificationVersion: 'v1',
  ids: ['iceberg'],
  sink: icebergSink,
  // Data files are Parquet: the encoding thread boots while the run loads.
  warmUp: warmEncoderThread,
  v1: { target: icebergV1Target },
  commands,
});
