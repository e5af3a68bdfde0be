import { DativoError, kindForHttpStatus, RUN_ID_HEADER, parseRetryAfter, type RunContext } from '@dativo/core';
import type { Auth } from './auth.js';

/**
 * An HTTP answer that is not a success, with what core's classifier reads: `status`, `headers`
 * (`Retry-After`) and the API's own error text. `retryable: false` when the API said so
 * (`Stripe-Should-Retry: false`).
 */
export class HttpError extends DativoError {
  static override readonly brand: string = '@dativo/api-kit/HttpError';
  readonly status: number;
  readonly headers: Record<string, string>;

  constructor(message: string, init: { status: number; headers?: Record<string, string>; shouldRetry?: boolean | undefined; code?: string; cause?: unknown }) {
    const headers = init.headers ?? {};
    const retryAfterMs = parseRetryAfter(headers['retry-after']);
    let kind = kindForHttpStatus(init.status);
    if (init.shouldRetry === false && (kind === 'transient' || kind === 'rate_limit')) kind = 'permanent';
    if (init.shouldRetry === true && kind === 'permanent') kind = 'transient';
    super(message, {
      kind,
      // A 401 does not heal by waiting: it is renewed (requestJson) or reported, never retried blindly.
      ...(init.status === 401 ? { retryable: false } : {}),
      statusCode: init.status,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      code: init.code ?? `HTTP_${init.status}`,
      ...(init.cause !== undefined ? { cause: init.cause } : {}),
    });
    this.status = init.status;
    this.headers = headers;
  }
}

/** `Stripe-Should-Retry`-style hint: true, false, or undefined when the header is absent. */
export function shouldRetryHeader(headers: Record<string, string>, name: string): boolean | undefined {
  const v = headers[name.toLowerCase()];
  return v === 'true' ? true : v === 'false' ? false : undefined;
}

export interface JsonRequest {
  method?: string;
  url: string | URL;
  query?: Record<string, string | number | boolean | readonly (string | number)[] | undefined>;
  headers?: Record<string, string>;
  body?: unknown;
  /** What is called, for logs and metrics: a template (`GET /v1/customers`), never a URL with ids. */
  endpoint: string;
  /** Abort a request that takes longer (default 60 s): a hung server is a transient failure. */
  timeoutMs?: number;
  /** A header the API sets to say whether a failure may be retried (`Stripe-Should-Retry`). */
  shouldRetryHeader?: string;
  /**
   * The config field holding the credential (`api_key`): a 401 / 403 then fails at once as a
   * configuration error naming it, instead of being retried.
   */
  credentialField?: string;
  /** Credentials added to each attempt; one that can renew itself (OAuth2) is renewed once after a 401. */
  auth?: Auth;
}

/** Response headers (a fetch `Headers`, or an SDK's plain object) keyed by lower-case name. */
export function lowerHeaders(headers: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers instanceof Headers) headers.forEach((v, k) => (out[k.toLowerCase()] = v));
  else if (headers && typeof headers === 'object') for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = String(v);
  return out;
}

/** The URL with its query: arrays as `key[]=a&key[]=b` (the form most APIs take). */
export function withQuery(url: string | URL, query: JsonRequest['query'] = {}): URL {
  const u = new URL(url);
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const item of v) u.searchParams.append(`${k}[]`, String(item));
    else u.searchParams.set(k, String(v));
  }
  return u;
}

/**
 * One JSON request through the connector's resilience service (rate limit, breaker, retries with
 * `Retry-After`), with a timeout. A body that is cut off or is not JSON is a transient failure
 * (a connection reset mid-body looks the same); the message names the endpoint, never the URL's
 * query or headers (which may hold keys).
 */
export async function requestJson<T = unknown>(ctx: RunContext, request: JsonRequest): Promise<T> {
  try {
    return await requestOnce<T>(ctx, request);
  } catch (error) {
    if (!(HttpError.isInstance(error) && error.status === 401 && request.auth?.refresh)) throw error;
    ctx.log.info('the API said the access token expired; renewing it once', { endpoint: request.endpoint });
    if (!(await request.auth.refresh(ctx))) throw error;
    try {
      return await requestOnce<T>(ctx, request);
    } catch (again) {
      if (HttpError.isInstance(again) && again.status === 401) {
        throw new DativoError(`${request.endpoint}: the API refused a freshly renewed access token (HTTP 401); the grant was revoked or lacks access`, { kind: 'config', statusCode: 401, code: 'AUTH_REFUSED', cause: again });
      }
      throw again;
    }
  }
}

function requestOnce<T>(ctx: RunContext, request: JsonRequest): Promise<T> {
  const url = withQuery(request.url, request.query);
  const timeoutMs = request.timeoutMs ?? 60_000;
  return ctx.resilience.call(
    async () => {
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = AbortSignal.any([ctx.signal, timeout]);
      const authHeaders = request.auth ? await request.auth.headers(ctx) : {};
      let res: Response;
      let text: string;
      try {
        res = await fetch(url, {
          method: request.method ?? 'GET',
          headers: { accept: 'application/json', [RUN_ID_HEADER]: ctx.runId, ...authHeaders, ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}), ...request.headers },
          ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
          signal,
        });
        text = await res.text();
      } catch (error) {
        if (ctx.signal.aborted) throw error;
        if (timeout.aborted) throw new DativoError(`${request.endpoint}: no answer within ${timeoutMs / 1000} s`, { kind: 'transient', code: 'TIMEOUT', cause: error });
        const cause = (error as { cause?: { code?: string } }).cause;
        throw new DativoError(`${request.endpoint}: ${cause?.code ?? (error as Error).message}`, { kind: 'network', code: cause?.code ?? 'NETWORK', cause: error });
      }
      const headers = lowerHeaders(res.headers);
      if (!res.ok) {
        if ((res.status === 403 || (res.status === 401 && !request.auth?.refresh)) && request.credentialField) {
          const said =
            res.status === 401 ? `the API refused the credential in ${request.credentialField}` : `the credential in ${request.credentialField} lacks a permission this needs`;
          throw new DativoError(`${request.endpoint}: ${said} (HTTP ${res.status})${apiMessage(text)}`, {
            kind: 'config',
            statusCode: res.status,
            code: res.status === 401 ? 'AUTH_REFUSED' : 'AUTH_FORBIDDEN',
          });
        }
        throw new HttpError(`${request.endpoint} answered HTTP ${res.status}${apiMessage(text)}`, {
          status: res.status,
          headers,
          shouldRetry: request.shouldRetryHeader ? shouldRetryHeader(headers, request.shouldRetryHeader) : undefined,
        });
      }
      try {
        return JSON.parse(text) as T;
      } catch (error) {
        throw new DativoError(`${request.endpoint} answered a body that is not complete JSON (${text.length} bytes)`, { kind: 'transient', code: 'BAD_JSON', cause: error });
      }
    },
    { endpoint: request.endpoint, signal: ctx.signal },
  );
}

/** `: <the API's error message>` when the body carries one (`{error: {message}}` or `{message}`). */
export function apiMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
    const m = typeof body.error === 'object' ? body.error?.message : (body.error ?? body.message);
    return typeof m === 'string' && m ? `: ${m.slice(0, 300)}` : '';
  } catch {
    return '';
  }
}
