import { hasLocation, locationShape, NO_LOCATION } from '@dativo/parquet-kit/definition';
import { z } from 'zod';

/**
 * The job's `target:` for raw files: where (as for Parquet: `path`, `connection.s3`…) and how each
 * row becomes a file: its `content_column` written unchanged at `path_pattern`.
 */
export const filesSinkConfigSchema = z
  .object({
    ...locationShape,
    /** The column holding each file's bytes (binary or text). */
    content_column: z.string().min(1).default('content'),
    /** Where each file goes under the location: `{<column>}` (a row's value), `{date}`, `{timestamp}`, `{ext}`. */
    path_pattern: z.string().min(1).default('{date}/{doc_id}{ext}'),
    /** Appended unless the pattern places `{ext}` itself (`.md`, `.mdkv`…). */
    file_extension: z
      .string()
      .default('')
      .transform((v) => (v === '' || v.startsWith('.') ? v : `.${v}`)),
  })
  .refine(hasLocation, { message: NO_LOCATION });

export type FilesSinkConfig = z.output<typeof filesSinkConfigSchema>;
