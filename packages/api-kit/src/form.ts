import { DativoError, type RunContext } from '@dativo/core';
import { apiMessage } from './http.js';

/**
 * A form POST to a token endpoint, through the resilience service. OAuth errors (`invalid_grant`,
 * HTTP 400 / 401) come back as the parsed answer for the caller to explain; 5xx and resets retry.
 */
export function requestForm<T>(ctx: RunContext, url: string, form: Record<string, string>, what: string): Promise<T> {
  return ctx.resilience.call(
    async () => {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: new URLSearchParams(form), signal: ctx.signal });
      const text = await res.text();
      if (res.status >= 500 || res.status === 429) {
        throw new DativoError(`${what}: HTTP ${res.status}${apiMessage(text)}`, { kind: res.status === 429 ? 'rate_limit' : 'transient', statusCode: res.status });
      }
      try {
        return JSON.parse(text) as T;
      } catch (error) {
        throw new DativoError(`${what}: HTTP ${res.status}, not JSON`, { kind: res.ok ? 'transient' : 'config', statusCode: res.status, cause: error });
      }
    },
    { endpoint: `POST ${new URL(url).pathname}`, signal: ctx.signal },
  );
}
