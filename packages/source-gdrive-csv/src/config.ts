import { oauthRefreshConfigSchema } from '@dativo/api-kit';
import { csvOptionsSchema } from '@dativo/source-csv';
import { z } from 'zod';

const folderSchema = z.union([
  z.string().min(1).transform((id): { id: string; recursive: boolean; include_sheets: boolean; name_pattern?: string } => ({ id, recursive: false, include_sheets: true })),
  z.object({
    id: z.string().min(1),
    /** Sub-folders too. */
    recursive: z.boolean().default(false),
    /** File names to read: a glob (`*.csv`, `sales_*.csv`); default every CSV file (and Google Sheet). */
    name_pattern: z.string().min(1).optional(),
    /** Google Sheets files in the folder, exported as CSV (their first tab). */
    include_sheets: z.boolean().default(true),
  }),
]);

/** The job's `source:` for Google Drive CSV files (v1's `files: [{id, object}]` and `incremental` work as written). */
export const gdriveCsvConfigSchema = z
  .object({
    /** Files by id, each read into the stream its `object` names (default: the asset's). */
    files: z.array(z.object({ id: z.string().min(1), object: z.string().min(1).optional() })).min(1).optional(),
    /** Or every CSV file of a folder (shared drives included). */
    folder: folderSchema.optional(),
    /** Files of shared drives are listed and read (`supportsAllDrives`). */
    shared_drives: z.boolean().default(true),
    /** A service account's key file (JSON, as Google issues it); v1: `credentials.file_template: /secrets/{tenant}/gdrive.json`. */
    credentials: z.object({ file: z.string().min(1).optional(), json: z.string().min(1).optional() }).optional(),
    /** Or OAuth2 user credentials: the refresh token is renewed on expiry. */
    oauth: oauthRefreshConfigSchema.optional(),
    /** Google's API root (`rootUrl` of the client): a proxy, or a fake in tests; `GOOGLE_API_ROOT`. */
    api_root: z.string().url().default('https://www.googleapis.com/'),
    incremental: z
      .object({
        /** v1: `file_modified_time`. */
        strategy: z.string().optional(),
        lookback_days: z.coerce.number().min(0).default(0),
      })
      .optional(),
    csv: csvOptionsSchema.optional(),
    /** v1: engine choice is ignored, its options are read as CSV options. */
    engine: z.object({ type: z.string().optional(), options: csvOptionsSchema.optional() }).catchall(z.unknown()).optional(),
    page_size: z.coerce.number().int().min(1).max(1000).default(1000),
    /** A download that breaks is resumed (by `Range`) this many times before the run fails. */
    download_retries: z.coerce.number().int().min(0).max(20).default(5),
    timeout_seconds: z.coerce.number().positive().default(120),
  })
  .superRefine((c, issue) => {
    if (!c.files && !c.folder) issue.addIssue({ code: 'custom', path: ['files'], message: 'expected files: [{ id, object }] or a folder: { id }' });
    if (!c.credentials?.file && !c.credentials?.json && !c.oauth) {
      issue.addIssue({ code: 'custom', path: ['credentials'], message: 'expected a service account key (credentials: { file: key.json }, v1\'s credentials.file_template, or GOOGLE_APPLICATION_CREDENTIALS) or an oauth: section' });
    }
  });

export type GdriveCsvConfig = z.output<typeof gdriveCsvConfigSchema>;
