import { boolLike, positiveIntLike } from '@dativo/core/definition';
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

/**
 * Where a file sink writes: `path` (a local directory), `connection.local.path`, `connection.s3`
 * (v1 shape) or a `warehouse` URI. `{tenant}`, `{job}` and `{stream}` in a path or prefix are
 * replaced. Spread into a sink's config object; {@link hasLocation} checks that one is given.
 */
export const locationShape = {
  path: z.string().min(1).optional(),
  warehouse: z.string().min(1).optional(),
  connection: z
    .object({
      s3: s3ConnectionSchema.optional(),
      local: z.object({ path: z.string().min(1) }).optional(),
    })
    .catchall(z.unknown())
    .optional(),
};

export interface LocationConfig {
  path?: string | undefined;
  warehouse?: string | undefined;
  connection?: { s3?: S3Connection | undefined; local?: { path: string } | undefined } | undefined;
}

/** Whether a location config names somewhere to write. */
export function hasLocation(c: LocationConfig): boolean {
  return Boolean(c.path ?? c.connection?.local?.path ?? c.warehouse ?? c.connection?.s3?.bucket);
}

export const NO_LOCATION = 'no output location: set path (a local directory), or connection.s3.bucket (with prefix, endpoint and credentials), or the S3_BUCKET environment variable';

/** Replaces `{tenant}`, `{job}` and `{stream}` in a path or prefix. */
export function expandLocation(template: string, vars: { tenant: string; job: string; stream: string }): string {
  return template.replace(/\{(tenant|job|stream)\}/g, (_, name: 'tenant' | 'job' | 'stream') => vars[name]);
}
