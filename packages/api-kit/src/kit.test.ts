import { generateKeyPairSync, createVerify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DativoError, FileSecretResolver, ResilienceService } from '@dativo/core';
import { testRunContext } from '@dativo/testing';
import { fakeOAuth, startHttpServer, type FakeHttpServer } from '@dativo/testing/http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OAuth2RefreshAuth, ServiceAccountAuth } from './auth.js';
import { requestJson } from './http.js';
import { pageQuery, readPage, type PageSpec } from './pagination.js';
import { RecordShaper } from './records.js';
import { planWindows, readWindows, windowBounds, type WindowState } from './windows.js';

function ctxWithRetries(maxRetries = 4) {
  const ctx = testRunContext();
  ctx.resilience = new ResilienceService('test', { retry: { maxRetries, baseDelayMs: 1, maxDelayMs: 20 } }, { log: ctx.log });
  return ctx;
}

describe('pagination as data', () => {
  const spec = (pagination: PageSpec['pagination'], pageSize = 2): PageSpec => ({ items: 'data', pagination, pageSize, limitParam: 'limit' });

  it('cursor from the last item (Stripe), from the response (HubSpot), next link, offset and page', () => {
    const stripe = spec({ kind: 'cursor', from: 'last_item', param: 'starting_after', idField: 'id', hasMoreField: 'has_more' });
    expect(readPage(stripe, { data: [{ id: 'a' }, { id: 'b' }], has_more: true }, null, 'GET /x').next).toBe('b');
    expect(readPage(stripe, { data: [{ id: 'c' }], has_more: false }, 'b', 'GET /x').next).toBeNull();
    expect(pageQuery(stripe, 'b')).toEqual({ limit: '2', starting_after: 'b' });
    const hubspot = spec({ kind: 'cursor', from: 'response', param: 'after', path: 'paging.next.after' });
    expect(readPage(hubspot, { data: [{}], paging: { next: { after: '42' } } }, null, 'GET /x').next).toBe('42');
    expect(readPage(hubspot, { data: [{}] }, '42', 'GET /x').next).toBeNull();
    const link = spec({ kind: 'next_link', path: 'links.next' });
    expect(readPage(link, { data: [{}], links: { next: 'https://api/x?page=2' } }, null, 'GET /x').next).toBe('https://api/x?page=2');
    const offset = spec({ kind: 'offset', param: 'offset' });
    expect(readPage(offset, { data: [{}, {}] }, '4', 'GET /x').next).toBe('6');
    expect(readPage(offset, { data: [{}] }, '6', 'GET /x').next).toBeNull();
    const page = spec({ kind: 'page', param: 'page', first: 1 });
    expect(pageQuery(page, null)).toEqual({ limit: '2', page: '1' });
    expect(readPage(page, { data: [{}, {}] }, '3', 'GET /x').next).toBe('4');
  });

  it('never ends a list early in silence', () => {
    const stripe = spec({ kind: 'cursor', from: 'last_item', param: 'starting_after', idField: 'id', hasMoreField: 'has_more' });
    expect(() => readPage(stripe, { data: [], has_more: true }, 'b', 'GET /v1/customers')).toThrow("GET /v1/customers: the response says has_more but holds no items; the list cannot be read to its end");
    expect(() => readPage(stripe, { object: 'list' }, null, 'GET /v1/customers')).toThrow("GET /v1/customers: the response has no list at 'data'");
    const hubspot = spec({ kind: 'cursor', from: 'response', param: 'after', path: 'next' });
    expect(() => readPage(hubspot, { data: [{}], next: '7' }, '7', 'GET /x')).toThrow(/does not advance/);
  });
});

describe('time windows', () => {
  /** 1,000 objects at times 0..999 (two per second at 500..), paged 7 at a time by offset. */
  const objects = Array.from({ length: 1000 }, (_, i) => ({ id: i, t: i < 500 ? i : 500 + Math.floor((i - 500) / 2) }));
  let concurrentMax = 0;
  let concurrent = 0;
  const fetch = async (w: { from: number; to: number }, token: string | null) => {
    concurrent++;
    concurrentMax = Math.max(concurrentMax, concurrent);
    await new Promise((r) => setTimeout(r, Math.random() * 3));
    concurrent--;
    const inWindow = objects.filter((o) => o.t >= w.from && o.t < w.to);
    const start = Number(token ?? 0);
    const items = inWindow.slice(start, start + 7);
    return { items, next: start + 7 < inWindow.length ? String(start + 7) : null };
  };

  it('reads every object once, in parallel, with a bounded state', async () => {
    const seen: number[] = [];
    let largest = 0;
    for await (const page of readWindows({ state: planWindows(0, 750, 50), concurrency: 4, fetch, signal: new AbortController().signal })) {
      seen.push(...page.items.map((o) => o.id));
      largest = Math.max(largest, page.state.active.length);
    }
    expect(seen.sort((a, b) => a - b)).toEqual(objects.map((o) => o.id));
    expect(concurrentMax).toBeGreaterThan(1);
    expect(concurrentMax).toBeLessThanOrEqual(4);
    expect(largest).toBeLessThanOrEqual(8);
  });

  it('resumes from any state it yielded: no object twice, none missed', async () => {
    const states: Array<{ state: WindowState; seen: number[] }> = [];
    const seen: number[] = [];
    for await (const page of readWindows({ state: planWindows(0, 750, 30), concurrency: 3, fetch, signal: new AbortController().signal })) {
      seen.push(...page.items.map((o) => o.id));
      states.push({ state: page.state, seen: [...seen] });
    }
    for (const at of [0, 5, Math.floor(states.length / 2), states.length - 2]) {
      const { state, seen: before } = states[at] as { state: WindowState; seen: number[] };
      const after: number[] = [];
      for await (const page of readWindows({ state, concurrency: 3, fetch, signal: new AbortController().signal })) after.push(...page.items.map((o) => o.id));
      expect([...before, ...after].sort((a, b) => a - b)).toEqual(objects.map((o) => o.id));
    }
  });

  it('plans half-open windows, widened for long ranges', () => {
    const s = planWindows(100, 1_000_100, 10, 100);
    expect(s.size).toBe(10_000);
    expect(windowBounds(s, 0)).toEqual({ from: 100, to: 10_100 });
    expect(windowBounds(s, 99)).toEqual({ from: 990_100, to: 1_000_100 });
  });
});

describe('records', () => {
  it('epoch seconds become timestamps, objects stay JSON, undeclared fields warn once or go to the catch-all', () => {
    const ctx = testRunContext();
    const fields = [
      { name: 'id', type: { kind: 'string' as const }, nullable: false },
      { name: 'created', type: { kind: 'timestamp' as const, withTimeZone: true }, nullable: false },
      { name: 'address', type: { kind: 'json' as const }, nullable: true },
    ];
    const dropper = new RecordShaper(fields, { log: ctx.log, stream: 'customers' });
    const row = dropper.shape({ id: 'cus_1', created: 1_700_000_000, address: { city: 'Oslo' }, email: 'a@b.c' });
    expect(row.created).toEqual(new Date(1_700_000_000_000));
    expect(row.address).toEqual({ city: 'Oslo' });
    dropper.shape({ id: 'cus_2', created: 1, email: 'x@y.z' });
    expect(ctx.logs.records().filter((e) => String(e.msg).includes("field 'email'"))).toHaveLength(1);
    const keeper = new RecordShaper([...fields, { name: '_extra', type: { kind: 'json' as const }, nullable: true }], { log: ctx.log, stream: 'customers', catchAll: '_extra' });
    expect(keeper.shape({ id: 'cus_1', created: 1, email: 'a@b.c', phone: null })._extra).toEqual({ email: 'a@b.c', phone: null });
  });
});

describe('requests', () => {
  let api: FakeHttpServer;
  beforeAll(async () => {
    api = await startHttpServer();
    api.route('GET', '/v1/things', () => ({ body: { data: [1, 2, 3] } }));
  });
  afterAll(() => api.close());

  it('retries 429 (Retry-After), 5xx and cut-off bodies, and says what failed', async () => {
    const ctx = ctxWithRetries();
    api.failNext(1, { status: 429, headers: { 'retry-after': '0' }, body: { error: { message: 'Too many requests' } } });
    api.failNext(1, { status: 503, body: 'busy' });
    api.failNext(1, { status: 200, headers: { 'content-type': 'application/json' }, body: '{"data": [1, 2' });
    const before = api.requests.length;
    await expect(requestJson(ctx, { url: `${api.url}/v1/things`, endpoint: 'GET /v1/things' })).resolves.toEqual({ data: [1, 2, 3] });
    expect(api.requests.length - before).toBe(4);
    expect(ctx.logs.records().filter((e) => e.msg === 'retrying after a failure').map((e) => e.kind)).toEqual(['rate_limit', 'transient', 'transient']);
  });

  it('does not retry when the API says not to, nor a refused key', async () => {
    const ctx = ctxWithRetries();
    api.failNext(1, { status: 429, headers: { 'stripe-should-retry': 'false' }, body: { error: { message: 'Slow down for good' } } });
    const before = api.requests.length;
    await expect(requestJson(ctx, { url: `${api.url}/v1/things`, endpoint: 'GET /v1/things', shouldRetryHeader: 'Stripe-Should-Retry' })).rejects.toThrow('GET /v1/things answered HTTP 429: Slow down for good');
    api.failNext(1, { status: 401, body: { error: { message: 'Invalid API Key provided: sk_test_****1234' } } });
    const refused = await requestJson(ctx, { url: `${api.url}/v1/things`, endpoint: 'GET /v1/things', credentialField: 'api_key' }).catch((e: unknown) => e);
    expect(DativoError.isInstance(refused) && refused.kind).toBe('config');
    expect((refused as Error).message).toBe('GET /v1/things: the API refused the credential in api_key (HTTP 401): Invalid API Key provided: sk_test_****1234');
    expect(api.requests.length - before).toBe(2);
  });

  it('times out a server that hangs, as a transient failure', async () => {
    const ctx = ctxWithRetries(1);
    api.route('GET', '/v1/slow', async () => {
      await new Promise((r) => setTimeout(r, 400));
      return { body: {} };
    });
    const error = await requestJson(ctx, { url: `${api.url}/v1/slow`, endpoint: 'GET /v1/slow', timeoutMs: 50 }).catch((e: unknown) => e);
    expect((error as Error).message).toBe('GET /v1/slow: no answer within 0.05 s');
    expect(api.requests.filter((r) => r.path === '/v1/slow')).toHaveLength(2);
  });
});

describe('auth', () => {
  let api: FakeHttpServer;
  beforeAll(async () => {
    api = await startHttpServer();
    api.route('POST', '/jwt-token', (req) => {
      const form = req.form();
      if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return { status: 400, body: { error: 'unsupported_grant_type' } };
      return { body: { access_token: `jwt-${form.get('assertion')?.split('.').length}`, expires_in: 3600 } };
    });
    api.route('GET', '/me', (req) => (String(req.headers.authorization).startsWith('Bearer jwt-') ? { body: { ok: true } } : { status: 401, body: {} }));
  });
  afterAll(() => api.close());

  it('OAuth2: refreshes once on a 401, stores the rotated refresh token in the secret store, explains a revoked grant', async () => {
    const server = await startHttpServer();
    const dir = mkdtempSync(path.join(tmpdir(), 'dativo-secrets-'));
    try {
      writeFileSync(path.join(dir, 'HUBSPOT_REFRESH_TOKEN'), 'rt-0\n');
      const oauth = fakeOAuth(server, { clientId: 'c', clientSecret: 's', refreshToken: 'rt-0', rotate: true });
      server.route('GET', '/me', (req) => oauth.check(req) ?? { body: { ok: true } });
      const ctx = ctxWithRetries();
      ctx.secrets = new FileSecretResolver(dir, ctx.redactor);
      const rotated: string[] = [];
      const refreshToken = (await ctx.secrets.get('HUBSPOT_REFRESH_TOKEN')) as string;
      const auth = new OAuth2RefreshAuth({ tokenUrl: oauth.tokenUrl, clientId: 'c', clientSecret: 's', refreshToken, secretName: 'HUBSPOT_REFRESH_TOKEN', onRotated: async (t) => void rotated.push(t) });
      await expect(requestJson(ctx, { url: `${server.url}/me`, endpoint: 'GET /me', auth })).resolves.toEqual({ ok: true });
      oauth.expireAccessTokens(); // the cached access token is now refused: one refresh, then success
      await expect(requestJson(ctx, { url: `${server.url}/me`, endpoint: 'GET /me', auth })).resolves.toEqual({ ok: true });
      expect(oauth.tokenRequests).toBe(2);
      expect(rotated).toEqual([expect.stringMatching(/^rt-1-/), oauth.refreshToken]);
      // The next run starts from the stored token, which the server accepts.
      expect(readFileSync(path.join(dir, 'HUBSPOT_REFRESH_TOKEN'), 'utf8')).toBe(`${oauth.refreshToken}\n`);
      expect(JSON.stringify(ctx.logs.records())).not.toContain(oauth.refreshToken);
      // Environment variables cannot keep a value: the run goes on and says what to do.
      const envCtx = ctxWithRetries();
      const envAuth = new OAuth2RefreshAuth({ tokenUrl: oauth.tokenUrl, clientId: 'c', clientSecret: 's', refreshToken: oauth.refreshToken, secretName: 'HUBSPOT_REFRESH_TOKEN' });
      await expect(requestJson(envCtx, { url: `${server.url}/me`, endpoint: 'GET /me', auth: envAuth })).resolves.toEqual({ ok: true });
      expect(envCtx.logs.records().filter((r) => r.level === 'warn').map((r) => r.msg)).toEqual([expect.stringMatching(/rotated the refresh token, and the secret store cannot keep values: .* needs the new token in HUBSPOT_REFRESH_TOKEN/)]);
      oauth.revoke();
      await expect(requestJson(ctxWithRetries(), { url: `${server.url}/me`, endpoint: 'GET /me', auth: envAuth })).rejects.toThrow(/refresh token in refresh_token was revoked or has expired/);
      const stale = new OAuth2RefreshAuth({ tokenUrl: oauth.tokenUrl, clientId: 'c', clientSecret: 's', refreshToken: 'rt-old', field: 'credentials.refresh_token' });
      await expect(requestJson(ctxWithRetries(), { url: `${server.url}/me`, endpoint: 'GET /me', auth: stale })).rejects.toThrow(/refresh token in credentials.refresh_token was revoked or has expired/);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('service account: a verifiable RS256 assertion exchanged for a token', async () => {
    const ctx = ctxWithRetries();
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const auth = new ServiceAccountAuth({ clientEmail: 'svc@proj.iam.gserviceaccount.com', privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), tokenUrl: `${api.url}/jwt-token`, scopes: ['https://www.googleapis.com/auth/drive.readonly'] });
    const jwt = auth.assertion(1_700_000_000);
    const [h, c, sig] = jwt.split('.') as [string, string, string];
    expect(createVerify('RSA-SHA256').update(`${h}.${c}`).verify(publicKey, sig, 'base64url')).toBe(true);
    expect(JSON.parse(Buffer.from(c, 'base64url').toString())).toMatchObject({ iss: 'svc@proj.iam.gserviceaccount.com', aud: `${api.url}/jwt-token`, exp: 1_700_003_600, scope: 'https://www.googleapis.com/auth/drive.readonly' });
    await expect(requestJson(ctx, { url: `${api.url}/me`, endpoint: 'GET /me', auth })).resolves.toEqual({ ok: true });
    const bad = new ServiceAccountAuth({ clientEmail: 'svc@x', privateKey: 'not a key', tokenUrl: `${api.url}/token`, scopes: [] });
    expect(() => bad.assertion()).toThrow(/svc@x: the private key cannot sign .*expected a PEM RSA key/);
  });
});
