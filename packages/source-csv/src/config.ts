import { boolLike, intLike, oneOrMany } from '@dativo/core/definition';
import { z } from 'zod';

const singleChar = (what: string) =>
  z
    .string()
    .transform((v) => (v === '\\t' ? '\t' : v))
    .refine((v) => Buffer.byteLength(v) === 1, `${what} must be a single one-byte character`);

/** CSV parsing options. Accepted under `source.csv` or (v1 / pandas names) `source.engine.options`. */
export const csvOptionsSchema = z
  .object({
    delimiter: singleChar('delimiter').optional(),
    sep: singleChar('sep').optional(),
    quote: singleChar('quote').optional(),
    quotechar: singleChar('quotechar').optional(),
    quote_char: singleChar('quote_char').optional(),
    /** Character encoding of the files: utf-8 (default), utf-16-le, utf-16-be, latin1, windows-1252, … */
    encoding: z.string().min(1).optional(),
    /** First row holds column names (default true). `false`: columns are the asset's, in order. */
    header: z.union([boolLike, z.literal(0).transform(() => true), z.null().transform(() => false)]).optional(),
    /** Lines to skip before the header. */
    skip_rows: intLike.optional(),
    skiprows: intLike.optional(),
    /**
     * Texts read as null in any column, quoted or not. Default v1's list: `""`, `NULL`, `null`,
     * `None`; `[]` keeps them as text (an empty unquoted field is then still null, `""` an empty string).
     */
    null_values: oneOrMany(z.string()).optional(),
    na_values: oneOrMany(z.string()).optional(),
    /** An empty unquoted field in a string column: `null` (default) or `empty_string`. */
    empty_as: z.enum(['null', 'empty_string']).optional(),
    /**
     * Longest row in MiB (a quoted field may span lines); a quote still open after this much is
     * taken as never closed: its line is rejected and reading goes on. Default 64.
     */
    max_row_mb: z.number().positive().optional(),
    /** Largest field in MiB; a row with a larger one goes to the dead-letter queue. Default 16 (Snowflake's VARCHAR limit). */
    max_field_mb: z.number().positive().optional(),
    /**
     * A NUL byte in a field is binary data or a file in another encoding (UTF-16): `reject`
     * (default) sends the row to the dead-letter queue; `keep` loads it as it is.
     */
    nul_bytes: z.enum(['reject', 'keep']).optional(),
    /** Compression of the files: `auto` (by `.gz` extension, default), `gzip` or `none`. */
    compression: z.enum(['auto', 'gzip', 'none', 'infer']).optional(),
  })
  .catchall(z.unknown());

const fileEntry = z.union([
  z.string().min(1).transform((path) => ({ path })),
  z.object({
    path: z.string().min(1),
    object: z.string().min(1).optional(),
    name: z.string().optional(),
  }),
]);

export const csvSourceConfigSchema = z.object({
  /** Files or glob patterns (`data/*.csv`, `in/**\/*.csv.gz`), relative to the working directory or the job file. */
  files: z.array(fileEntry).min(1),
  csv: csvOptionsSchema.optional(),
  /** v1: engine choice is ignored, its options are read as CSV options. */
  engine: z
    .object({
      type: z.string().optional(),
      options: csvOptionsSchema.optional(),
    })
    .catchall(z.unknown())
    .optional(),
  incremental: z
    .object({
      strategy: z.enum(['file_modified_time', 'file_mtime', 'modified_time']).default('file_modified_time'),
      lookback_days: z.unknown().optional(),
      cursor_field: z.string().optional(),
    })
    .optional(),
  /** Connection settings a recipe may carry; unused by local files. */
  connection: z.record(z.string(), z.unknown()).optional(),
  credentials: z.unknown().optional(),
  rate_limits: z.unknown().optional(),
});

export type CsvSourceConfig = z.output<typeof csvSourceConfigSchema>;

/** v1's CSV null texts (pandas `na_values` with `keep_default_na=False`). */
export const V1_NULL_VALUES: readonly string[] = ['', 'NULL', 'null', 'None'];

/** Normalised parsing options. */
export interface CsvOptions {
  delimiter: number;
  quote: number;
  encoding: string;
  header: boolean;
  skipRows: number;
  nullValues: string[];
  emptyAs: 'null' | 'empty_string';
  compression: 'auto' | 'gzip' | 'none';
  maxRowBytes: number;
  maxFieldBytes: number;
  rejectNul: boolean;
}

export function csvOptions(config: CsvSourceConfig): CsvOptions {
  const o = { ...(config.engine?.options ?? {}), ...(config.csv ?? {}) } as z.output<typeof csvOptionsSchema>;
  const delimiter = o.delimiter ?? o.sep ?? ',';
  const quote = o.quote ?? o.quote_char ?? o.quotechar ?? '"';
  return {
    delimiter: delimiter.charCodeAt(0),
    quote: quote.charCodeAt(0),
    encoding: normaliseEncoding(o.encoding ?? 'utf-8'),
    header: o.header ?? true,
    skipRows: o.skip_rows ?? o.skiprows ?? 0,
    nullValues: o.null_values ?? o.na_values ?? [...V1_NULL_VALUES],
    emptyAs: o.empty_as ?? 'null',
    compression: o.compression === 'infer' ? 'auto' : o.compression ?? 'auto',
    maxRowBytes: Math.round((o.max_row_mb ?? 64) * 1024 * 1024),
    maxFieldBytes: Math.round((o.max_field_mb ?? 16) * 1024 * 1024),
    rejectNul: (o.nul_bytes ?? 'reject') === 'reject',
  };
}

/** `UTF_16_LE`, `utf-16-le`, `utf16le` → `utf-16le` (the WHATWG label TextDecoder knows). */
export function normaliseEncoding(label: string): string {
  const l = label.trim().toLowerCase().replace(/_/g, '-');
  if (/^utf-?8(-sig)?$/.test(l)) return 'utf-8';
  if (/^utf-?16-?le$/.test(l) || l === 'ucs-2' || l === 'ucs2') return 'utf-16le';
  if (/^utf-?16-?be$/.test(l)) return 'utf-16be';
  if (/^utf-?16$/.test(l)) return 'utf-16';
  if (l === 'latin-1' || l === 'latin1' || l === 'iso8859-1' || l === 'l1') return 'iso-8859-1';
  if (l === 'cp1252') return 'windows-1252';
  return l;
}
