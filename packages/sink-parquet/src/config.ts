import { boolLike, numberLike, positiveIntLike } from '@dativo/core/definition';
import { hasLocation, locationShape, NO_LOCATION, PARQUET_ENCODINGS } from '@dativo/parquet-kit/definition';
import { z } from 'zod';

export const COMPRESSIONS = ['zstd', 'snappy', 'gzip', 'brotli', 'lz4', 'lz4_raw', 'none', 'uncompressed'] as const;

/**
 * The job's `target:` for Parquet files. Local: `path` (or `connection.local.path`); S3:
 * `connection.s3` (v1 shape). `{tenant}`, `{job}` and `{stream}` in a path or prefix are replaced.
 */
export const parquetSinkConfigSchema = z
  .object({
    ...locationShape,
    compression: z.enum(COMPRESSIONS).default('zstd'),
    /** Roll over to a new file past this size (MiB). */
    target_file_size_mb: numberLike.pipe(z.number().positive()).default(256),
    /** Rows per Parquet row group. */
    row_group_rows: positiveIntLike.default(131_072),
    /**
     * …or this many MiB of Arrow data, whichever comes first (estimated from a file's first batch):
     * the encoder holds a whole row group in memory while it encodes it.
     */
    row_group_mb: numberLike.pipe(z.number().min(1).max(1024)).default(8),
    /** `[ingest_date]` (v1 default) writes `ingest_date=YYYY-MM-DD/` directories; `[]` writes none. */
    partitioning: z.array(z.string()).default(['ingest_date']),
    file_format: z
      .string()
      .default('parquet')
      .refine((f) => f.toLowerCase() === 'parquet', { message: "the Parquet sink writes 'parquet'" }),
    /**
     * Dictionary-encode string columns whose first batch shows repeated values (names, codes,
     * states; not e-mail addresses or free text). Default true; false turns dictionaries off.
     */
    dictionary: boolLike.default(true),
    /**
     * Encodings of columns without a dictionary: `auto` (DELTA_BYTE_ARRAY strings,
     * DELTA_BINARY_PACKED integers and timestamps: smaller and faster) or `plain` (for readers
     * that predate the Parquet 2 encodings, e.g. Spark before 3.3's vectorized reader).
     */
    encoding: z.enum(PARQUET_ENCODINGS).default('auto'),
    /** Parquet files are append-only: `append` (or absent); replacing or merging needs an Iceberg target. */
    mode: z
      .string()
      .optional()
      .refine((m) => m === undefined || !['overwrite', 'overwrite_partitions', 'merge'].includes(m.toLowerCase()), {
        message: 'Parquet targets append only; overwrite, overwrite_partitions and merge need an Iceberg target (target_connector: iceberg with a catalog)',
      }),
  })
  .refine(hasLocation, { message: NO_LOCATION });

export type ParquetSinkConfig = z.output<typeof parquetSinkConfigSchema>;
