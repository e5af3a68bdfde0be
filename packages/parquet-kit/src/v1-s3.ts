import { isPlainObject, type V1JobContext, type V1TargetResult } from '@dativo/core/definition';

/** Keys of an S3 connection, as v1 wrote them under `connection.s3`, `connection.minio` or flat under `connection`. */
const S3_KEYS = ['bucket', 'prefix', 'endpoint', 'region', 'access_key_id', 'secret_access_key', 'session_token', 'path_style_access', 'secure', 'part_size_mb'] as const;

const blank = (v: unknown): boolean => v === undefined || v === null || v === '';

/** v1's table directory: the asset name lower-cased, `-` and ` ` replaced by `_`. */
export function v1TableName(name: string): string {
  return name.toLowerCase().replace(/[- ]/g, '_');
}

/** v1's standard layout under a bucket: `<domain>/<dataProduct>/<table>` (v1 `cli.py`). */
export function v1TablePrefix(asset: V1JobContext['asset']): string {
  return `${asset.domain || 'default'}/${asset.dataProduct || 'default'}/${v1TableName(asset.name)}`;
}

function withScheme(endpoint: string, secure: unknown): string | undefined {
  const plain = secure === false || String(secure).toLowerCase() === 'false';
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) ? endpoint : `${plain ? 'http' : 'https'}://${endpoint}`;
  // v1's s3 recipe names AWS's global endpoint; the SDK's regional default is the right one.
  return /^https?:\/\/s3\.amazonaws\.com\/?$/i.test(url) ? undefined : url;
}

export interface V1S3Connection {
  /** The S3 settings found (undefined when the section names no S3 storage at all). */
  s3: Record<string, unknown> | undefined;
  /** The rest of `connection` (nessie, local, …), without v1's S3 shapes. */
  rest: Record<string, unknown>;
}

/**
 * The S3 connection a v1 target names, in any of v1's shapes: `connection.s3`, `connection.minio`,
 * or flat `connection: {bucket, endpoint, …}`. Values not given there come from the environment, as
 * v1 did: `S3_BUCKET`/`MINIO_BUCKET` (when `bucketFromEnv`), `S3_ENDPOINT`/`MINIO_ENDPOINT`,
 * `AWS_ACCESS_KEY_ID`/`MINIO_ACCESS_KEY`, `AWS_SECRET_ACCESS_KEY`/`MINIO_SECRET_KEY`, `AWS_REGION`.
 * Endpoints without a scheme get `https://` (`http://` with v1's `secure: false`); a custom endpoint
 * uses path-style requests unless `path_style_access` says otherwise.
 */
export function v1S3Connection(connection: unknown, env: NodeJS.ProcessEnv, options: { bucketFromEnv: boolean }): V1S3Connection {
  const rest: Record<string, unknown> = isPlainObject(connection) ? { ...connection } : {};
  const flat: Record<string, unknown> = {};
  for (const key of S3_KEYS) {
    if (key in rest) {
      flat[key] = rest[key];
      delete rest[key];
    }
  }
  const nested = isPlainObject(rest.s3) ? rest.s3 : isPlainObject(rest.minio) ? rest.minio : undefined;
  delete rest.s3;
  delete rest.minio;
  const s3: Record<string, unknown> = {};
  for (const [k, v] of Object.entries({ ...flat, ...(nested ?? {}) })) if (!blank(v)) s3[k] = v;
  const fromEnv = (key: string, ...names: string[]): void => {
    if (!blank(s3[key])) return;
    const value = names.map((n) => env[n]).find((v) => !blank(v));
    if (value !== undefined) s3[key] = value;
  };
  if (options.bucketFromEnv) fromEnv('bucket', 'S3_BUCKET', 'MINIO_BUCKET');
  const named = Object.keys(s3).length > 0 || nested !== undefined;
  if (!named) return { s3: undefined, rest };
  fromEnv('endpoint', 'S3_ENDPOINT', 'MINIO_ENDPOINT');
  fromEnv('access_key_id', 'AWS_ACCESS_KEY_ID', 'MINIO_ACCESS_KEY');
  fromEnv('secret_access_key', 'AWS_SECRET_ACCESS_KEY', 'MINIO_SECRET_KEY');
  fromEnv('session_token', 'AWS_SESSION_TOKEN');
  fromEnv('region', 'AWS_REGION', 'AWS_DEFAULT_REGION');
  if (typeof s3.endpoint === 'string') {
    const endpoint = withScheme(s3.endpoint, s3.secure);
    if (endpoint) s3.endpoint = endpoint;
    else delete s3.endpoint;
  }
  if (s3.endpoint !== undefined && s3.path_style_access === undefined) s3.path_style_access = true;
  delete s3.secure;
  return { s3, rest };
}

/**
 * Reads the location of a v1 `target:` for a file sink (Parquet files, raw files). An explicit
 * local `path` (or `connection.local.path`) wins; otherwise the files go to S3 — bucket from any v1
 * connection shape or `S3_BUCKET` — under the explicit prefix, the `warehouse` URI's path, or v1's
 * standard layout `<domain>/<dataProduct>/<asset name>/`, so different assets never share a
 * directory. A job writing several streams gets one sub-directory per stream.
 */
export function v1LocationTarget(section: Record<string, unknown>, context: V1JobContext): V1TargetResult {
  const located = resolveLocation(section, context);
  return context.streams.length > 1 ? { ...located, config: perStreamLocation(located.config) } : located;
}

/** Puts each stream of a multi-stream job (Markdown-KV hybrid) in its own sub-directory. */
function perStreamLocation(target: Record<string, unknown>): Record<string, unknown> {
  const add = (p: unknown): unknown => (typeof p === 'string' && !p.includes('{stream}') ? `${p.replace(/\/+$/, '')}/{stream}` : p);
  const out: Record<string, unknown> = { ...target };
  if (out.path) out.path = add(out.path);
  if (isPlainObject(out.connection)) {
    const connection = { ...out.connection };
    if (isPlainObject(connection.local)) connection.local = { ...connection.local, path: add(connection.local.path) };
    if (isPlainObject(connection.s3)) connection.s3 = { ...connection.s3, prefix: add(connection.s3.prefix ?? '') };
    out.connection = connection;
  }
  return out;
}

function resolveLocation(section: Record<string, unknown>, context: V1JobContext): V1TargetResult {
  const notes: string[] = [];
  const config: Record<string, unknown> = { ...section };
  const warehouse = typeof section.warehouse === 'string' ? section.warehouse : undefined;
  const warehouseS3 = warehouse ? /^s3a?:\/\/([^/]+)\/?(.*)$/.exec(warehouse) : null;
  const rawConnection = isPlainObject(section.connection) ? section.connection : undefined;
  const localPath = !blank(section.path) || (isPlainObject(rawConnection?.local) && !blank(rawConnection.local.path)) || (warehouse !== undefined && !warehouseS3);
  const { s3, rest } = v1S3Connection(rawConnection, context.env, { bucketFromEnv: !localPath && !warehouseS3 });
  if (!s3) {
    if (rawConnection) config.connection = rest;
    return { config };
  }
  if (localPath) {
    if (!blank(s3.bucket)) notes.push(`target.path is set: writing to the local directory; the S3 bucket '${String(s3.bucket)}' of target.connection is not used`);
    config.connection = rest;
    return { config, notes };
  }
  if (blank(s3.bucket) && warehouseS3) s3.bucket = warehouseS3[1];
  if (blank(s3.prefix)) {
    if (warehouseS3) s3.prefix = warehouseS3[2] ?? '';
    else if (!blank(s3.bucket)) {
      s3.prefix = v1TablePrefix(context.asset);
      notes.push(`writing to s3://${String(s3.bucket)}/${String(s3.prefix)}/ (v1's layout <domain>/<dataProduct>/<asset>; set target.connection.s3.prefix to choose another)`);
    }
  }
  config.connection = { ...rest, s3 };
  return { config, notes };
}
