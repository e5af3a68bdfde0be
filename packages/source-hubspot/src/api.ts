import { bearerAuth, HttpError, lowerHeaders, OAuth2RefreshAuth, RollingWindow, type Auth } from '@dativo/api-kit';
import { DativoError, RateLimiter, RUN_ID_HEADER, toDativoError, type RunContext } from '@dativo/core';
import { Client } from '@hubspot/api-client';
import type { HubSpotConfig } from './config.js';

/** An SDK or HTTP failure as a classified DativoError; the message names the endpoint, never the token. */
export function hubspotError(error: unknown, endpoint: string, scope?: string): DativoError {
  if (DativoError.isInstance(error)) return error;
  const e = error as { code?: number; body?: unknown; headers?: Record<string, string>; message?: string; name?: string };
  if (typeof e.code === 'number' && e.code >= 100) {
    const status = e.code;
    const body = (typeof e.body === 'object' && e.body ? e.body : {}) as { message?: string; category?: string; policyName?: string; errors?: Array<{ context?: { requiredGrantedScopes?: string[] } }> };
    const message = body.message ?? (typeof e.body === 'string' ? e.body.slice(0, 200) : 'no message');
    const headers = lowerHeaders(e.headers);
    if (status === 401) return new DativoError(`${endpoint}: HubSpot refused the token (HTTP 401, ${body.category ?? 'unauthorized'}): ${message} — check access_token (or the oauth: section)`, { kind: 'config', statusCode: 401, code: 'HUBSPOT_AUTH', cause: error });
    if (status === 403) {
      const scopes = body.errors?.flatMap((x) => x.context?.requiredGrantedScopes ?? []) ?? [];
      const named = scopes.length ? scopes.join(', ') : (scope ?? 'the object\'s read scope');
      return new DativoError(`${endpoint}: the token lacks the scope ${named} (HTTP 403, ${body.category ?? 'forbidden'}); grant it to the private app or OAuth app`, { kind: 'config', statusCode: 403, code: 'HUBSPOT_SCOPE', cause: error });
    }
    if (status === 429 && body.policyName === 'DAILY') {
      const reset = new Date();
      reset.setUTCHours(24, 0, 0, 0);
      return new DativoError(
        `${endpoint}: HubSpot's daily request limit is used up; it resets at midnight in the HubSpot account's time zone (at the latest ${reset.toISOString()}); the run stops rather than retry for hours — rerun after the reset, it resumes where it stopped`,
        { kind: 'permanent', statusCode: 429, code: 'HUBSPOT_DAILY_LIMIT', cause: error },
      );
    }
    // HubSpot's 429s carry no Retry-After: the policy says how long its window is.
    if (status === 429 && headers['retry-after'] === undefined) {
      const windowMs = body.policyName === 'SECONDLY' ? 1_000 : Number(headers['x-hubspot-ratelimit-interval-milliseconds']) || (body.policyName === 'TEN_SECONDLY_ROLLING' ? 10_000 : 0);
      if (windowMs > 0) headers['retry-after'] = String(Math.ceil(windowMs / 1000));
    }
    if (status === 414) return new DativoError(`${endpoint}: the request URL is too long for HubSpot (HTTP 414); lower max_property_chars`, { kind: 'config', statusCode: 414, code: 'HUBSPOT_URL_TOO_LONG', cause: error });
    return new HttpError(`${endpoint} answered HTTP ${status}: ${message}`, { status, headers, code: body.category ? `HUBSPOT_${body.category}` : `HTTP_${status}`, cause: error });
  }
  if (typeof e.code === 'string' && /^(E[A-Z_]+|UND_ERR\w*)$/.test(e.code)) {
    return new DativoError(`${endpoint}: connection failed (${e.code})`, { kind: 'network', code: e.code, cause: error });
  }
  // A body the SDK cannot read (cut off, HTML from a proxy, no content type): a bad answer, retried.
  const text = (error as Error | undefined)?.message ?? '';
  if (error instanceof SyntaxError || /Cannot parse content|not supported by ObjectSerializer|Unexpected (token|end of JSON)|is not valid JSON/.test(text)) {
    return new DativoError(`${endpoint}: an answer HubSpot's SDK cannot read (${text.split('\n')[0]})`, { kind: 'transient', code: 'BAD_ANSWER', cause: error });
  }
  return toDativoError(error);
}

export interface CallOptions {
  /** A search request: it also waits for the search API's own limiter. */
  search?: boolean;
  /** The scope the endpoint needs, named when HubSpot answers 403 without saying. */
  scope?: string;
}

/**
 * Per-request options every SDK method takes last: the response middleware that reads the rate
 * headers. (The SDK's 13.x API classes ignore middleware given to the Client, so it goes per call.)
 */
export type SdkOptions = never;

export interface Api {
  call<T>(endpoint: string, fn: (client: Client, options: SdkOptions) => Promise<T>, options?: CallOptions): Promise<T>;
}

/** What HubSpot's `X-HubSpot-RateLimit-*` headers of the last answer said. */
export interface RateHeaders {
  max: number;
  remaining: number;
  intervalMs: number;
}

export function rateHeaders(headers: Record<string, string | string[] | undefined>): RateHeaders | undefined {
  const h = lowerHeaders(headers as Record<string, string>);
  const max = Number(h['x-hubspot-ratelimit-max']);
  const remaining = Number(h['x-hubspot-ratelimit-remaining']);
  const intervalMs = Number(h['x-hubspot-ratelimit-interval-milliseconds']);
  return Number.isFinite(max) && max > 0 && Number.isFinite(remaining) && Number.isFinite(intervalMs) && intervalMs > 0 ? { max, remaining, intervalMs } : undefined;
}

/**
 * The SDK behind the run's resilience (its own limiter and retries off): the run's limiter for the
 * general API, and behind it HubSpot's rolling window as its `X-HubSpot-RateLimit-*` headers
 * describe it (shared with the account's other apps); a second limiter for search (exempt from the
 * window); OAuth refreshed once on a 401; `timeout_seconds` per request.
 */
export function hubspotApi(config: HubSpotConfig, ctx: RunContext): Api {
  const auth: Auth = config.oauth
    ? new OAuth2RefreshAuth({
        tokenUrl: config.oauth.token_url ?? `${config.api_base.replace(/\/$/, '')}/oauth/v1/token`,
        clientId: config.oauth.client_id,
        clientSecret: config.oauth.client_secret,
        refreshToken: config.oauth.refresh_token,
        field: 'oauth.refresh_token',
        ...(config.oauth.refresh_token_secret ? { secretName: config.oauth.refresh_token_secret } : {}),
      })
    : bearerAuth(config.access_token as string);
  // No burst: HubSpot counts search requests per calendar second.
  const searchGate = new RateLimiter({ requestsPerSecond: config.search_rps, burst: 1 });
  const window = new RollingWindow(1);
  const sdkOptions = {
    middlewareMergeStrategy: 'append',
    middleware: [
      {
        pre: async (c: unknown) => c,
        post: async (c: unknown) => {
          const rate = rateHeaders((c as { headers?: Record<string, string> }).headers ?? {});
          if (rate) window.observe(rate);
          return c;
        },
      },
    ],
  } as unknown as SdkOptions;
  let client: { token: string; sdk: Client } | undefined;
  const sdkFor = async (): Promise<Client> => {
    const token = ((await auth.headers(ctx)).authorization ?? '').replace(/^Bearer /, '');
    if (client?.token !== token) client = { token, sdk: new Client({ accessToken: token, basePath: config.api_base.replace(/\/$/, ''), numberOfApiCallRetries: 0, defaultHeaders: { [RUN_ID_HEADER]: ctx.runId } }) };
    return client.sdk;
  };
  return {
    call(endpoint, fn, options = {}) {
      const once = async (): Promise<Awaited<ReturnType<typeof fn>>> => {
        // The SDK's fetch takes no timeout: a request that outlives timeout_seconds is given up
        // (a transient failure, retried) while the socket is left to close on its own.
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new DativoError(`${endpoint}: no answer within ${config.timeout_seconds} s (timeout_seconds)`, { kind: 'transient', code: 'TIMEOUT' })), config.timeout_seconds * 1000);
        });
        try {
          return await Promise.race([fn(await sdkFor(), sdkOptions), timeout]);
        } catch (error) {
          throw hubspotError(error, endpoint, options.scope);
        } finally {
          clearTimeout(timer);
        }
      };
      const attempt = async () => {
        if (!options.search) await window.acquire(ctx.signal);
        try {
          return await once();
        } catch (error) {
          // An expired OAuth access token: renew it once, transparently.
          if (config.oauth && DativoError.isInstance(error) && error.statusCode === 401 && auth.refresh && (await auth.refresh(ctx))) return once();
          throw error;
        }
      };
      return ctx.resilience.call(() => (options.search ? searchGate.schedule(attempt) : attempt()), { endpoint, signal: ctx.signal }) as never;
    },
  };
}
