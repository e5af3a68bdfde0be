import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer, type FakeHttpServer } from './http.js';

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
