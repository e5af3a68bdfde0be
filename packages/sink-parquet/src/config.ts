import { boolLike, numberLike, positiveIntLike } from '@dativo/core/definition';
import { z } from 'zod';

export const s3ConnectionSchema = z.object({
  bucket: z.string().min(1),
  prefix: z.string().default(''),
  endpoint: z.string().optional(),
  region: z.string().default('us-east-1'),
  access_key_id: z.string().optional(),
  secret_access_key: z.string().optional(),
  session_token: z.string().optional(),
  path_style_access: boolLike.default(false),
  /** Part size of multipart uploads in MiB (5..5120). */
  part_size_mb: positiveIntLike.optional(),
});

export type S3Connection = z.output<typeof s3ConnectionSchema>;

export const COMPRESSIONS = ['zstd', 'snappy', 'gzip', 'brotli', 'lz4', 'lz4_raw', 'none', 'uncompressed'] as const;

/**
 * The job's `target:` for Parquet files. Local: `path` (or `connection.local.path`); S3:
 * `connection.s3` (v1 shape). `{tenant}`, `{job}` and `{stream}` in a path or prefix are replaced.
 */
export const parquetSinkConfigSchema = z.object({
  path: z.string().min(1).optional(),
  warehouse: z.string().min(1).optional(),
  connection: z
    .object({
      s3: s3ConnectionSchema.optional(),
      local: z.object({ path: z.string().min(1) }).optional(),
      /** Accepted for v1 Iceberg jobs without a catalog; unused here. */
      nessie: z.unknown().optional(),
    })
    .catchall(z.unknown())
    .optional(),
  compression: z.enum(COMPRESSIONS).default('zstd'),
  /** Roll over to a new file past this size (MiB). */
  target_file_size_mb: numberLike.pipe(z.number().positive()).default(256),
  /** Rows per Parquet row group. */
  row_group_rows: positiveIntLike.default(131_072),
  /** `[ingest_date]` (v1 default) writes `ingest_date=YYYY-MM-DD/` directories; `[]` writes none. */
  partitioning: z.array(z.string()).default(['ingest_date']),
  file_format: z.string().default('parquet'),
  /** Dictionary-encode string columns (good for repeated values). Default true. */
  dictionary: boolLike.default(true),
  /** v1 keys read by the CLI (Markdown-KV rendering) or by other sinks; accepted here. */
  markdown_kv_storage: z.unknown().optional(),
  branch: z.string().optional(),
  catalog: z.unknown().optional(),
  table: z.unknown().optional(),
  /** Parquet files are append-only: `append` (or absent); replacing or merging needs an Iceberg target. */
  mode: z
    .string()
    .optional()
    .refine((m) => m === undefined || !['overwrite', 'overwrite_partitions', 'merge'].includes(m.toLowerCase()), {
      message: 'Parquet targets append only; overwrite, overwrite_partitions and merge need an Iceberg target (target_connector: iceberg with a catalog)',
    }),
}).refine((c) => Boolean(c.path ?? c.connection?.local?.path ?? c.warehouse ?? c.connection?.s3?.bucket), {
  message: 'no output location: set path (a local directory), or connection.s3.bucket (with prefix, endpoint and credentials), or the S3_BUCKET environment variable',
});

export type ParquetSinkConfig = z.output<typeof parquetSinkConfigSchema>;
