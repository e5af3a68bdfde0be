import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer, type FakeHttpServer } from './http.js';
import { fakeOAuth } from './oauth.js';
import { OpenApiContract, requestContractOf, type OpenApiDocument } from './openapi.js';

let server: FakeHttpServer;
beforeAll(async () => {
  server = await startHttpServer({ routes: [{ method: 'GET', path: '/v1/customers', handler: (req) => ({ body: { object: 'list', data: [], limit: req.query.get('limit') } }) }] });
});
afterAll(() => server.close());

describe('startHttpServer', () => {
  it('answers routes with JSON, passes path parameters and records every request', async () => {
    server.route('POST', '/v1/customers/:id', (req, params) => ({ status: 201, headers: { 'request-id': 'req_1' }, body: { id: params.id, email: req.form().get('email') } }));
    const list = await fetch(`${server.url}/v1/customers?limit=3`);
    expect(await list.json()).toEqual({ object: 'list', data: [], limit: '3' });
    const created = await fetch(`${server.url}/v1/customers/cus_9`, { method: 'POST', body: 'email=a%40b.example', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(created.status).toBe(201);
    expect(created.headers.get('request-id')).toBe('req_1');
    expect(await created.json()).toEqual({ id: 'cus_9', email: 'a@b.example' });
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /v1/customers', 'POST /v1/customers/cus_9']);
    expect(server.requests[1]?.headers['content-type']).toBe('application/x-www-form-urlencoded');
  });

  it('injects failures for the next requests that match, then answers normally; unknown paths are a named 404', async () => {
    server.failNext(2, { status: 429, headers: { 'retry-after': '1' }, body: { error: { type: 'rate_limit_error' } } }, (r) => r.path === '/v1/customers');
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`${server.url}/v1/customers`)).status);
    expect(statuses).toEqual([429, 429, 200]);
    const missing = await fetch(`${server.url}/v2/nothing`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: { message: 'no route for GET /v2/nothing' } });
  });

  it('a handler that throws answers 500 with its message', async () => {
    server.route('GET', /^\/boom\/(?<what>\w+)$/, (_req, params) => {
      throw new Error(`broken ${params.what}`);
    });
    const res = await fetch(`${server.url}/boom/handler`);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: { message: 'test server handler failed: broken handler' } });
  });
});

describe('scripted faults', () => {
  it('resets before the answer and mid-body, cuts bodies short, delays, and answers normally after', async () => {
    const big = { object: 'list', data: Array.from({ length: 200 }, (_, i) => ({ id: `cus_${i}`, email: `c${i}@example.com` })) };
    server.route('GET', '/v1/big', () => ({ body: big }));
    server.failNext(1, { reset: 'before-response' }, (r) => r.path === '/v1/big');
    await expect(fetch(`${server.url}/v1/big`)).rejects.toThrow(/fetch failed/);
    server.failNext(1, { reset: 'mid-body' }, (r) => r.path === '/v1/big');
    const cut = await fetch(`${server.url}/v1/big`);
    expect(cut.status).toBe(200);
    await expect(cut.text()).rejects.toThrow();
    server.failNext(1, { truncate: true }, (r) => r.path === '/v1/big');
    const short = await (await fetch(`${server.url}/v1/big`)).text();
    expect(JSON.stringify(big).startsWith(short)).toBe(true);
    expect(() => JSON.parse(short)).toThrow();
    server.failNext(1, { delayMs: 300 }, (r) => r.path === '/v1/big');
    await expect(fetch(`${server.url}/v1/big`, { signal: AbortSignal.timeout(100) })).rejects.toThrow(/aborted|timeout/i);
    server.latencyMs = 50;
    const started = Date.now();
    expect(await (await fetch(`${server.url}/v1/big`)).json()).toEqual(big);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    server.latencyMs = 0;
    expect(server.count((r) => r.path === '/v1/big')).toBe(5);
  });
});

describe('OpenApiContract', () => {
  // Shaped like Stripe's and HubSpot's documents: deepObject ranges, arrays, enums, path templates, $refs.
  const doc: OpenApiDocument = {
    paths: {
      '/v1/customers': { get: { parameters: [
        { name: 'created', in: 'query', style: 'deepObject', schema: { anyOf: [{ type: 'object', properties: { gte: { type: 'integer' }, lt: { type: 'integer' } } }, { type: 'integer' }] } },
        { name: 'expand', in: 'query', schema: { type: 'array', items: { type: 'string', maxLength: 20 } } },
        { $ref: '#/components/parameters/limit' } as never,
        { name: 'status', in: 'query', schema: { type: 'string', enum: ['active', 'all'] } },
      ] } },
      '/v1/customers/search': { get: { parameters: [{ name: 'query', in: 'query', required: true, schema: { type: 'string' } }] } },
      '/v1/customers/{customer}': { get: { parameters: [{ name: 'customer', in: 'path', required: true, schema: { type: 'string' } }] }, delete: {} },
    },
    components: { parameters: { limit: { name: 'limit', in: 'query', schema: { type: 'integer' } } } },
  };
  const contract = new OpenApiContract(doc);
  const check = (method: string, url: string) => {
    const u = new URL(url, 'http://x');
    return contract.check({ method, path: u.pathname, query: u.searchParams });
  };

  it('accepts what the document declares', () => {
    expect(check('GET', '/v1/customers?created[gte]=1&created[lt]=2&expand[]=data.x&expand[1]=y&limit=10&status=all')).toBeUndefined();
    expect(check('GET', '/v1/customers?created=1700000000')).toBeUndefined();
    expect(check('GET', '/v1/customers/search?query=email:%27a%27')).toBeUndefined();
    expect(contract.operation('GET', '/v1/customers/cus_1')).toMatchObject({ template: '/v1/customers/{customer}', params: { customer: 'cus_1' } });
    expect(contract.operation('GET', '/v1/customers/search')).toMatchObject({ template: '/v1/customers/search' });
  });

  it('names what breaks it', () => {
    expect(check('GET', '/v1/customers?colour=red')).toEqual({ status: 400, param: 'colour', message: 'unknown query parameter colour' });
    expect(check('GET', '/v1/customers?limit=ten')).toEqual({ status: 400, param: 'limit', message: "query parameter limit: expected an integer, got 'ten'" });
    expect(check('GET', '/v1/customers?created[since]=1')?.message).toBe('query parameter created: has no key since');
    expect(check('GET', '/v1/customers?status=gone')?.message).toBe("query parameter status: expected one of active, all, got 'gone'");
    expect(check('GET', '/v1/customers?expand[]=' + 'x'.repeat(30))?.message).toBe('query parameter expand: longer than 20 characters');
    expect(check('GET', '/v1/customers/search')).toEqual({ status: 400, param: 'query', message: 'missing required query parameter query' });
    expect(check('POST', '/v1/customers/cus_1')).toEqual({ status: 405, message: 'POST is not an operation of /v1/customers/{customer} (allowed: GET, DELETE)' });
    expect(check('GET', '/v2/nothing')).toEqual({ status: 404, message: 'GET /v2/nothing is not in the API document' });
  });

  it('keeps a small request contract of chosen paths, $refs inlined', () => {
    const small = requestContractOf(doc, ['/v1/customers']);
    expect(Object.keys(small.paths)).toEqual(['/v1/customers']);
    expect(JSON.stringify(small)).not.toContain('$ref');
    expect(new OpenApiContract(small).check({ method: 'GET', path: '/v1/customers', query: new URLSearchParams('limit=x') })?.param).toBe('limit');
  });
});

describe('fakeOAuth', () => {
  it('issues, rotates, expires and revokes tokens', async () => {
    const api = await startHttpServer();
    try {
      const oauth = fakeOAuth(api, { clientId: 'c', clientSecret: 's', refreshToken: 'rt-0', rotate: true });
      api.route('GET', '/me', (req) => oauth.check(req) ?? { body: { ok: true } });
      const token = async (refresh: string) => (await fetch(oauth.tokenUrl, { method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refresh, client_id: 'c', client_secret: 's' }) })).json() as Promise<Record<string, string>>;
      const first = await token('rt-0');
      expect(first.refresh_token).toBe(oauth.refreshToken);
      expect(first.refresh_token).not.toBe('rt-0');
      expect(await token('rt-0')).toEqual({ error: 'invalid_grant', error_description: 'refresh token is invalid, expired or revoked' });
      const me = () => fetch(`${api.url}/me`, { headers: { authorization: `Bearer ${first.access_token}` } });
      expect((await me()).status).toBe(200);
      oauth.expireAccessTokens();
      expect((await me()).status).toBe(401);
      oauth.revoke();
      expect((await token(oauth.refreshToken)).error).toBe('invalid_grant');
      expect(oauth.issued).toHaveLength(1);
      expect(oauth.tokenRequests).toBe(3);
    } finally {
      await api.close();
    }
  });
});
