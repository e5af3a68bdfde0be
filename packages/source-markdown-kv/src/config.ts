import { z } from 'zod';

export const STORAGE_MODES = ['string', 'raw_file', 'structured'] as const;
export const STRUCTURED_PATTERNS = ['row_per_kv', 'document_level', 'hybrid'] as const;

/** v1 `target.markdown_kv_storage` (the CLI passes the job's value to the source). */
export const markdownKvStorageSchema = z.object({
  mode: z.enum(STORAGE_MODES).default('structured'),
  structured_pattern: z.enum(STRUCTURED_PATTERNS).default('row_per_kv'),
  /** raw_file: extension of the copied files. */
  file_extension: z.enum(['.mdkv', '.md', 'mdkv', 'md']).transform((v) => (v.startsWith('.') ? v : `.${v}`)).default('.mdkv'),
  /** raw_file: object path under the target location; `{doc_id}`, `{date}`, `{timestamp}`. */
  path_pattern: z.string().min(1).default('{date}/{doc_id}{ext}'),
});

export type MarkdownKvStorage = z.output<typeof markdownKvStorageSchema>;

const fileEntry = z.union([
  z.string().min(1).transform((path) => ({ path })),
  z.object({ path: z.string().min(1), object: z.string().min(1).optional() }),
]);

export const markdownKvSourceConfigSchema = z.object({
  /** Markdown-KV files or globs (`docs/**\/*.md`). */
  files: z.array(fileEntry).min(1),
  /** Storage mode; without it, the mode whose columns the asset declares (default one row per pair). */
  markdown_kv_storage: markdownKvStorageSchema.optional(),
  incremental: z
    .object({
      strategy: z.enum(['file_modified_time', 'file_mtime', 'modified_time']).default('file_modified_time'),
      lookback_days: z.unknown().optional(),
    })
    .optional(),
  /** Largest document accepted, in MiB (documents are parsed whole). */
  max_document_mb: z.number().positive().default(64),
  engine: z.unknown().optional(),
  connection: z.unknown().optional(),
  credentials: z.unknown().optional(),
  rate_limits: z.unknown().optional(),
});

export type MarkdownKvSourceConfig = z.output<typeof markdownKvSourceConfigSchema>;
