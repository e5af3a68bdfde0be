// The control API as the console uses it (same origin; the bearer token is kept in this browser only).

// The shapes are the server's own (type-only imports: nothing of the server is bundled).
import type { RunView } from '../../src/fleet';

export type Run = RunView;

export interface Schedule {
  name: string;
  tenant: string;
  file: string;
  cron?: string;
  interval_seconds?: number;
  timezone?: string;
  enabled: boolean;
  paused: boolean;
  max_concurrent_runs?: number;
  tags?: Record<string, string>;
  next?: number;
}

export interface TenantTotals {
  tenant: string;
  queued: number;
  running: number;
  finished: number;
  failed: number;
  rows: number;
  bytes: number;
  deadLetters: number;
  concurrency: number | null;
}

const TOKEN_KEY = 'dativo.token';

export function savedToken(): string {
  return localStorage.getItem(TOKEN_KEY) ?? '';
}

export function saveToken(token: string): void {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

async function call<T>(method: string, url: string, body?: unknown): Promise<T> {
  const res = await fetch(`./api/v1${url}`, {
    method,
    headers: { authorization: `Bearer ${savedToken()}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const data = (await res.json().catch(() => ({}))) as { error?: string };
  if (!res.ok) throw new ApiError(data.error ?? `${res.status} ${res.statusText}`, res.status);
  return data as T;
}

export const api = {
  whoami: () => call<{ name: string; tenant?: string; write: boolean }>('GET', '/whoami'),
  runs: () => call<{ runs: Run[] }>('GET', '/runs?limit=200').then((r) => r.runs),
  run: (id: string) => call<{ run: Run; logs: string[] }>('GET', `/runs/${encodeURIComponent(id)}`),
  deadLetters: (id: string) => call<{ file?: string; entries: Array<Record<string, unknown>>; truncated: boolean }>('GET', `/runs/${encodeURIComponent(id)}/dead-letters`),
  cancel: (id: string) => call<{ result: string }>('POST', `/runs/${encodeURIComponent(id)}/cancel`),
  schedules: () => call<{ schedules: Schedule[] }>('GET', '/schedules').then((r) => r.schedules),
  trigger: (schedule: string) => call<{ id: string }>('POST', '/runs', { schedule }),
  triggerFile: (config: string) => call<{ id: string }>('POST', '/runs', { config }),
  pause: (name: string) => call('POST', `/schedules/${encodeURIComponent(name)}/pause`),
  resume: (name: string) => call('POST', `/schedules/${encodeURIComponent(name)}/resume`),
  tenants: () => call<{ tenants: TenantTotals[] }>('GET', '/tenants').then((r) => r.tenants),
};
