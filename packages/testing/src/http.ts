import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request the server received, kept for assertions. */
export interface RecordedRequest {
  method: string;
  /** The path without the query string. */
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: string;
  /** The body parsed as JSON (throws when it is not JSON). */
  json(): unknown;
  /** The body parsed as `application/x-www-form-urlencoded` (Stripe's format). */
  form(): URLSearchParams;
}

/** What a handler answers: a status, headers and a body (objects are sent as JSON). */
export interface HttpReply {
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export type HttpHandler = (request: RecordedRequest, params: Record<string, string>) => HttpReply | Promise<HttpReply>;

/**
 * A fault injected in place of (or around) a route's answer:
 * - an `HttpReply` sent instead of the route's (a 429 with `Retry-After`, a 503, a 401);
 * - `{ delayMs }`: the route's answer after a delay (a server that hangs past the client's timeout);
 * - `{ reset: 'before-response' }`: the connection is closed without an answer;
 * - `{ reset: 'mid-body' }`: the route's status and headers, half of its body, then a reset;
 * - `{ truncate: true }`: the first half of the route's body sent as a complete answer (cut-off JSON).
 */
export type HttpFault = HttpReply | { delayMs: number } | { reset: 'before-response' | 'mid-body' } | { truncate: true };

export interface FakeHttpServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Every request received, in order (including those answered by an injected failure). */
  requests: RecordedRequest[];
  /**
   * Adds a route. `path` is exact, may hold `:name` segments (`/v1/customers/:id`, passed to the
   * handler as params), or is a regular expression. Later routes win over earlier ones.
   */
  route(method: string, path: string | RegExp, handler: HttpHandler): void;
  /**
   * Answers the next `times` requests (matching `filter`, default any) with `reply` instead of
   * their route — a 429 with `Retry-After`, a 500, a 401 — to test retries and error handling.
   */
  failNext(times: number, reply: HttpFault, filter?: (request: RecordedRequest) => boolean): void;
  /** Delay before every answer (ms), like a distant API; default 0. */
  latencyMs: number;
  /** Requests received whose method and path satisfy `filter` (all by default). */
  count(filter?: (request: RecordedRequest) => boolean): number;
  close(): Promise<void>;
}

interface Route {
  method: string;
  match: (path: string) => Record<string, string> | undefined;
  handler: HttpHandler;
}

function matcher(path: string | RegExp): Route['match'] {
  if (path instanceof RegExp) {
    return (p) => {
      const m = path.exec(p);
      return m ? { ...(m.groups ?? {}) } : undefined;
    };
  }
  const parts = path.split('/');
  return (p) => {
    const got = p.split('/');
    if (got.length !== parts.length) return undefined;
    const params: Record<string, string> = {};
    for (let i = 0; i < parts.length; i++) {
      const want = parts[i] as string;
      const have = got[i] as string;
      if (want.startsWith(':')) params[want.slice(1)] = decodeURIComponent(have);
      else if (want !== have) return undefined;
    }
    return params;
  };
}

async function record(req: IncomingMessage): Promise<RecordedRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks).toString('utf8');
  const url = new URL(req.url ?? '/', 'http://localhost');
  return {
    method: (req.method ?? 'GET').toUpperCase(),
    path: url.pathname,
    query: url.searchParams,
    headers: req.headers,
    body,
    json: () => JSON.parse(body) as unknown,
    form: () => new URLSearchParams(body),
  };
}

function encode(reply: HttpReply): { headers: Record<string, string>; payload: Buffer } {
  const headers: Record<string, string> = { ...reply.headers };
  let payload = Buffer.alloc(0);
  if (reply.body instanceof Uint8Array) payload = Buffer.from(reply.body);
  else if (typeof reply.body === 'string') payload = Buffer.from(reply.body);
  else if (reply.body !== undefined) {
    payload = Buffer.from(JSON.stringify(reply.body));
    headers['content-type'] ??= 'application/json';
  }
  return { headers, payload };
}

function send(res: ServerResponse, reply: HttpReply): void {
  const { headers, payload } = encode(reply);
  res.writeHead(reply.status ?? 200, headers);
  res.end(payload);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends `reply` damaged as `fault` says. */
function sendFaulty(res: ServerResponse, reply: HttpReply, fault: { reset: 'before-response' | 'mid-body' } | { truncate: true }): void {
  const { headers, payload } = encode(reply);
  const half = payload.subarray(0, Math.floor(payload.length / 2));
  if ('truncate' in fault) {
    res.writeHead(reply.status ?? 200, { ...headers, 'content-length': String(half.length) });
    res.end(half);
    return;
  }
  if (fault.reset === 'before-response') {
    res.socket?.resetAndDestroy();
    return;
  }
  res.writeHead(reply.status ?? 200, { ...headers, 'content-length': String(payload.length) });
  res.write(half, () => setTimeout(() => res.socket?.resetAndDestroy(), 10));
}

/**
 * A local HTTP server for testing connectors of HTTP APIs with their real SDKs: routes answer with
 * payloads the test builds (from the API's official fixtures), every request is recorded, and
 * failures can be injected. An unmatched request gets a 404 with a JSON body naming it.
 */
export async function startHttpServer(options: { routes?: Array<{ method: string; path: string | RegExp; handler: HttpHandler }> } = {}): Promise<FakeHttpServer> {
  const routes: Route[] = [];
  const failures: Array<{ left: number; fault: HttpFault; filter: (r: RecordedRequest) => boolean }> = [];
  const requests: RecordedRequest[] = [];
  const answer = async (request: RecordedRequest): Promise<HttpReply> => {
    for (let i = routes.length - 1; i >= 0; i--) {
      const route = routes[i] as Route;
      if (route.method !== '*' && route.method !== request.method) continue;
      const params = route.match(request.path);
      if (!params) continue;
      return route.handler(request, params);
    }
    return { status: 404, body: { error: { message: `no route for ${request.method} ${request.path}` } } };
  };
  const server = createServer((req, res) => {
    void (async () => {
      const request = await record(req);
      requests.push(request);
      if (fake.latencyMs > 0) await sleep(fake.latencyMs);
      const failure = failures.find((f) => f.left > 0 && f.filter(request));
      if (failure) failure.left--;
      const fault = failure?.fault;
      if (fault && 'delayMs' in fault) await sleep(fault.delayMs);
      else if (fault && !('reset' in fault) && !('truncate' in fault)) return send(res, fault);
      const reply = await answer(request);
      if (fault && ('reset' in fault || 'truncate' in fault)) return sendFaulty(res, reply, fault);
      if (!res.destroyed) send(res, reply);
    })().catch((error: unknown) => send(res, { status: 500, body: { error: { message: `test server handler failed: ${(error as Error).message}` } } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const fake: FakeHttpServer = {
    url: `http://127.0.0.1:${port}`,
    requests,
    route(method, path, handler) {
      routes.push({ method: method.toUpperCase(), match: matcher(path), handler });
    },
    failNext(times, fault, filter = () => true) {
      failures.push({ left: times, fault, filter });
    },
    latencyMs: 0,
    count: (filter = () => true) => requests.filter(filter).length,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
  for (const r of options.routes ?? []) fake.route(r.method, r.path, r.handler);
  return fake;
}
