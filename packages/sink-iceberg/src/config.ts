import { boolLike, intLike, numberLike, positiveIntLike } from '@dativo/core/definition';
import { PARQUET_ENCODINGS, s3ConnectionSchema } from '@dativo/parquet-kit/definition';
import { z } from 'zod';

export const WRITE_MODES = ['append', 'overwrite', 'overwrite_partitions', 'merge'] as const;
export type WriteMode = (typeof WRITE_MODES)[number];

export const catalogSchema = z.object({
  /** `rest` (Nessie, Polaris, Lakekeeper, S3 Tables…), `sql` (PostgreSQL, JDBC layout) or `filesystem`. */
  type: z.enum(['rest', 'sql', 'jdbc', 'filesystem', 'hadoop']),
  /** REST: the catalog URI. SQL: `postgresql://user:password@host:5432/db`. */
  uri: z.string().min(1).optional(),
  warehouse: z.string().min(1).optional(),
  /** REST: fixed path prefix (default: from the server's /v1/config). */
  prefix: z.string().optional(),
  /** REST: OAuth2 client credentials `client_id:client_secret`. */
  credential: z.string().optional(),
  /** REST: bearer token. */
  token: z.string().optional(),
  oauth2_server_uri: z.string().optional(),
  scope: z.string().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  /** SQL: catalog_name in the catalog tables (default `dativo`). */
  name: z.string().min(1).default('dativo'),
  host: z.string().optional(),
  port: intLike.optional(),
  user: z.string().optional(),
  password: z.string().optional(),
  database: z.string().optional(),
});

export type CatalogConfig = z.output<typeof catalogSchema>;

/**
 * The job's `target:` for Iceberg. v1 jobs say `connection.nessie.uri`, `branch`, `warehouse` and
 * `connection.s3`; `catalog:` selects any catalog explicitly.
 */
export const icebergSinkConfigSchema = z.object({
  catalog: catalogSchema.optional(),
  warehouse: z.string().min(1).optional(),
  branch: z.string().min(1).default('main'),
  /** Namespace of the table (dots for levels); default the tenant id. */
  namespace: z.string().min(1).optional(),
  /** Table name; default the stream (asset) name. */
  table: z.string().min(1).optional(),
  /** Location of a table the sink creates (a URI: s3://…, file://…); default the catalog's choice. */
  location: z.string().regex(/^[a-z][a-z0-9+.-]*:\/\//i, 'expected a URI such as s3://bucket/path or file:///dir').optional(),
  connection: z
    .object({
      nessie: z.object({ uri: z.string().min(1), token: z.string().optional() }).catchall(z.unknown()).optional(),
      rest: z.object({ uri: z.string().min(1) }).catchall(z.unknown()).optional(),
      s3: s3ConnectionSchema.partial({ bucket: true }).optional(),
    })
    .catchall(z.unknown())
    .optional(),
  /** `append` (default), `overwrite` (the whole table), `overwrite_partitions` (the partitions a run touches) or `merge` (upsert by primary key). */
  mode: z.enum(WRITE_MODES).optional(),
  /** Merge key; default the asset's primary key. */
  primary_key: z.array(z.string().min(1)).optional(),
  /**
   * Under `merge`: what a row whose `delete_marker` column is true means. `remove` (default): the
   * key is deleted from the table (the row is not written); `mark`: the row is written like any
   * update, marker included (a soft delete).
   */
  deletes: z.enum(['remove', 'mark']).default('remove'),
  /** Boolean column flagging deleted source records (`_deleted`, as API sources write it). */
  delete_marker: z.string().min(1).default('_deleted'),
  partitioning: z.array(z.unknown()).default(['ingest_date']),
  create_namespace: boolLike.optional(),
  compression: z.enum(['zstd', 'snappy', 'gzip', 'none', 'uncompressed']).default('zstd'),
  /**
   * Encodings of data-file columns without a dictionary: `plain` (default: every Iceberg engine's
   * vectorized reader handles it) or `auto` (DELTA_BYTE_ARRAY / DELTA_BINARY_PACKED: smaller,
   * faster to write; for engines with Parquet 2 encodings support).
   */
  encoding: z.enum(PARQUET_ENCODINGS).default('plain'),
  target_file_size_mb: numberLike.pipe(z.number().positive()).default(512),
  row_group_rows: positiveIntLike.default(131_072),
  /** …or this many MiB of Arrow data (see the Parquet sink's `row_group_mb`). */
  row_group_mb: numberLike.pipe(z.number().min(1).max(1024)).default(8),
  max_open_files: positiveIntLike.default(64),
  commit_retries: positiveIntLike.default(10),
  properties: z.record(z.string(), z.string()).optional(),
  file_format: z.string().default('parquet'),
  /** Accepted for v1 jobs. */
  path: z.string().optional(),
});

export type IcebergSinkConfig = z.output<typeof icebergSinkConfigSchema>;

/**
 * The Iceberg branch (snapshot ref) commits go to. With a Nessie catalog, v1's `branch` names the
 * Nessie branch (a catalog-level reference, part of the REST prefix) and the table ref is `main`.
 */
export function tableRef(config: IcebergSinkConfig): string {
  return config.connection?.nessie ? 'main' : config.branch;
}
