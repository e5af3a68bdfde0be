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
  failNext(times: number, reply: HttpReply, filter?: (request: RecordedRequest) => boolean): void;
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

function send(res: ServerResponse, reply: HttpReply): void {
  const headers: Record<string, string> = { ...reply.headers };
  let payload: string | Buffer = '';
  if (reply.body instanceof Uint8Array) payload = Buffer.from(reply.body);
  else if (typeof reply.body === 'string') payload = reply.body;
  else if (reply.body !== undefined) {
    payload = JSON.stringify(reply.body);
    headers['content-type'] ??= 'application/json';
  }
  res.writeHead(reply.status ?? 200, headers);
  res.end(payload);
}

/**
 * A local HTTP server for testing connectors of HTTP APIs with their real SDKs: routes answer with
 * payloads the test builds (from the API's official fixtures), every request is recorded, and
 * failures can be injected. An unmatched request gets a 404 with a JSON body naming it.
 */
export async function startHttpServer(options: { routes?: Array<{ method: string; path: string | RegExp; handler: HttpHandler }> } = {}): Promise<FakeHttpServer> {
  const routes: Route[] = [];
  const failures: Array<{ left: number; reply: HttpReply; filter: (r: RecordedRequest) => boolean }> = [];
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const request = await record(req);
      requests.push(request);
      const failure = failures.find((f) => f.left > 0 && f.filter(request));
      if (failure) {
        failure.left--;
        return send(res, failure.reply);
      }
      for (let i = routes.length - 1; i >= 0; i--) {
        const route = routes[i] as Route;
        if (route.method !== '*' && route.method !== request.method) continue;
        const params = route.match(request.path);
        if (!params) continue;
        return send(res, await route.handler(request, params));
      }
      send(res, { status: 404, body: { error: { message: `no route for ${request.method} ${request.path}` } } });
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
    failNext(times, reply, filter = () => true) {
      failures.push({ left: times, reply, filter });
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
  for (const r of options.routes ?? []) fake.route(r.method, r.path, r.handler);
  return fake;
}
