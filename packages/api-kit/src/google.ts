import { existsSync, readFileSync } from 'node:fs';
import { DativoError, RUN_ID_HEADER, toDativoError, type RunContext } from '@dativo/core';
import { isPlainObject } from '@dativo/core/definition';
import { OAuth2RefreshAuth, ServiceAccountAuth, type Auth, type OAuthRefreshConfig } from './auth.js';
import { HttpError, lowerHeaders } from './http.js';

/** A Google credentials file: a service account's key, or an authorised user's refresh token. */
interface KeyFile {
  type?: string;
  client_email?: string;
  private_key?: string;
  token_uri?: string;
  client_id?: string;
  client_secret?: string;
  refresh_token?: string;
}

export interface GoogleAuthConfig {
  credentials?: { file?: string | undefined; json?: string | undefined } | undefined;
  oauth?: OAuthRefreshConfig | undefined;
}

/**
 * Google credentials as api-kit auth: a service account key file (the JWT bearer flow against the
 * key's own `token_uri`), an authorised-user file or an `oauth:` section (refresh token, renewed on
 * expiry, a rotated one stored). Errors name the file, never its secrets.
 */
export function googleAuth(config: GoogleAuthConfig, scopes: readonly string[]): Auth {
  if (config.oauth) {
    return new OAuth2RefreshAuth({
      tokenUrl: config.oauth.token_url ?? 'https://oauth2.googleapis.com/token',
      clientId: config.oauth.client_id,
      clientSecret: config.oauth.client_secret,
      refreshToken: config.oauth.refresh_token,
      field: 'oauth.refresh_token',
      ...(config.oauth.refresh_token_secret ? { secretName: config.oauth.refresh_token_secret } : {}),
    });
  }
  const where = config.credentials?.file ? `credentials.file (${config.credentials.file})` : 'credentials.json';
  let key: KeyFile;
  try {
    key = JSON.parse(config.credentials?.file ? readFileSync(config.credentials.file, 'utf8') : (config.credentials?.json ?? '')) as KeyFile;
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new DativoError(`${where}: ${missing ? 'no such file' : 'not a Google credentials JSON file'}`, { kind: 'config', code: 'GOOGLE_CREDENTIALS' });
  }
  if (key.type === 'authorized_user' && key.client_id && key.client_secret && key.refresh_token) {
    return new OAuth2RefreshAuth({ tokenUrl: key.token_uri ?? 'https://oauth2.googleapis.com/token', clientId: key.client_id, clientSecret: key.client_secret, refreshToken: key.refresh_token, field: where });
  }
  if (!key.client_email || !key.private_key) {
    throw new DativoError(`${where}: expected a service account key (client_email, private_key) or an authorized_user file (client_id, client_secret, refresh_token)`, { kind: 'config', code: 'GOOGLE_CREDENTIALS' });
  }
  return new ServiceAccountAuth({ clientEmail: key.client_email, privateKey: key.private_key, tokenUrl: key.token_uri ?? 'https://oauth2.googleapis.com/token', scopes });
}

/** The reasons Google gives a 403 that means "slow down" rather than "not allowed". */
const RATE_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'quotaExceeded', 'sharingRateLimitExceeded']);

/** A failure of a Google API client (gaxios) as a classified DativoError naming the endpoint and the resource. */
export function googleError(error: unknown, endpoint: string, resource?: string): DativoError {
  if (DativoError.isInstance(error)) return error;
  const e = error as { status?: number; code?: string | number; response?: { status?: number; headers?: unknown; data?: unknown }; message?: string };
  const status = e.response?.status ?? e.status ?? (typeof e.code === 'number' ? e.code : undefined);
  if (typeof status === 'number' && status >= 400) {
    const data = e.response?.data as { error?: { message?: string; status?: string; errors?: Array<{ reason?: string; message?: string }> } } | undefined;
    const reason = data?.error?.errors?.[0]?.reason ?? data?.error?.status ?? '';
    const message = data?.error?.message ?? e.message ?? 'no message';
    const what = resource ? ` (${resource})` : '';
    if (status === 401) return new DativoError(`${endpoint}${what}: Google refused the credentials (HTTP 401): ${message}`, { kind: 'config', statusCode: 401, code: 'GOOGLE_AUTH', cause: error });
    if (status === 403 && RATE_REASONS.has(reason)) {
      return new HttpError(`${endpoint}${what}: Google's quota says slow down (${reason})`, { status: 429, headers: lowerHeaders(e.response?.headers), code: `GOOGLE_${reason}`, cause: error });
    }
    if (status === 403) return new DativoError(`${endpoint}${what}: permission denied (HTTP 403, ${reason || 'forbidden'}): ${message}; share it with the service account or grant the OAuth scope`, { kind: 'config', statusCode: 403, code: 'GOOGLE_PERMISSION', cause: error });
    if (status === 404) return new DativoError(`${endpoint}${what}: not found (HTTP 404): ${message}; check the id, and that it is shared with the credentials`, { kind: 'config', statusCode: 404, code: 'GOOGLE_NOT_FOUND', cause: error });
    return new HttpError(`${endpoint}${what} answered HTTP ${status}: ${message}`, { status, headers: lowerHeaders(e.response?.headers), code: reason ? `GOOGLE_${reason}` : `HTTP_${status}`, cause: error });
  }
  if (typeof e.code === 'string' && /^(E[A-Z_]+|UND_ERR\w*)$/.test(e.code)) return new DativoError(`${endpoint}: connection failed (${e.code})`, { kind: 'network', code: e.code, cause: error });
  if (error instanceof SyntaxError) return new DativoError(`${endpoint}: an answer that is not JSON (${error.message})`, { kind: 'transient', code: 'BAD_ANSWER', cause: error });
  return toDativoError(error);
}

/**
 * v1's Google credentials, found as v1 looked for them: `credentials` `credentials_path` /
 * `service_account_file` / `file` / `path`, then `file_template` (`{tenant}` filled in) when that
 * file exists, then the environment variables named (`GDRIVE_CREDENTIALS_PATH`,
 * `GSHEETS_CREDENTIALS_PATH`…, then `GOOGLE_APPLICATION_CREDENTIALS`). Sets `config.credentials`
 * (unless the section already has `credentials` or `oauth`) and `config.api_root` from
 * `GOOGLE_API_ROOT`; returns a note when nothing was found.
 */
export function v1GoogleCredentials(config: Record<string, unknown>, given: unknown, context: { tenant: string; env: Record<string, string | undefined> }, envNames: readonly string[]): string | undefined {
  const creds = isPlainObject(given) ? given : {};
  const named = ['credentials_path', 'service_account_file', 'file', 'path'].map((k) => creds[k]).find((v): v is string => typeof v === 'string');
  const template = typeof creds.file_template === 'string' ? creds.file_template.replaceAll('{tenant}', context.tenant) : undefined;
  const fromEnv = [...envNames, 'GOOGLE_APPLICATION_CREDENTIALS'].map((n) => context.env[n]).find((v) => v);
  const file = named ?? (template && existsSync(template) ? template : undefined) ?? fromEnv ?? template;
  if (config.api_root === undefined && context.env.GOOGLE_API_ROOT) config.api_root = context.env.GOOGLE_API_ROOT;
  if (config.oauth !== undefined || config.credentials !== undefined) return undefined;
  if (typeof creds.json === 'string') config.credentials = { json: creds.json };
  else if (file) config.credentials = { file };
  else return `no Google credentials: give credentials.file_template, or set ${[...envNames, 'GOOGLE_APPLICATION_CREDENTIALS'].join(' or ')}`;
  return undefined;
}

/** What a Google client call receives: the bearer header, the timeout and the run's signal. */
export interface GoogleCallOptions {
  headers: Record<string, string>;
  timeout: number;
  signal: AbortSignal;
}

/**
 * One request of a Google API client with the current token (renewed once on a 401), its failure
 * classified by {@link googleError} (naming `endpoint` and `resource`), retried by the run's
 * resilience. `before` runs ahead of every attempt (a quota's rolling window).
 */
export function googleCall<T>(auth: Auth, ctx: RunContext, request: { endpoint: string; resource: string; timeoutMs: number; before?: () => Promise<void> }, fn: (options: GoogleCallOptions) => Promise<T>): Promise<T> {
  const once = async () => {
    await request.before?.();
    try {
      return await fn({ headers: { ...(await auth.headers(ctx)), [RUN_ID_HEADER]: ctx.runId }, timeout: request.timeoutMs, signal: ctx.signal });
    } catch (error) {
      throw googleError(error, request.endpoint, request.resource);
    }
  };
  return ctx.resilience.call(
    async () => {
      try {
        return await once();
      } catch (error) {
        if (DativoError.isInstance(error) && error.statusCode === 401 && auth.refresh && (await auth.refresh(ctx))) return once();
        throw error;
      }
    },
    { endpoint: request.endpoint, signal: ctx.signal },
  );
}
