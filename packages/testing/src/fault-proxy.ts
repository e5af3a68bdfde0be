import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * What a TCP fault proxy does to the next connections it accepts (each fault applies to `times`
 * connections, default 1, then the proxy forwards faithfully again).
 */
export type TcpFault =
  /** Forward this many bytes from the server to the client, then reset both sides (a connection killed mid-stream). */
  | { resetAfterBytes: number }
  /** Accept, then never forward anything: a hang past every timeout, until the client gives up. */
  | { hang: true }
  /** Forward this many bytes from the server, then nothing more either way, the connection left open (a stalled peer mid-stream). */
  | { hangAfterBytes: number }
  /** Close the connection as soon as it is accepted (a refused or dropped connection). */
  | { refuse: true }
  /** Forward the server's bytes at this rate (a slow drip). */
  | { bytesPerSecond: number };

export interface TcpFaultProxy {
  host: string;
  port: number;
  /** Delay added to each chunk from the server (ms): a distant network. */
  latencyMs: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Queues a fault for the next `times` connections. */
  inject(fault: TcpFault, times?: number): void;
  /** Resets every open connection now (a network partition). */
  resetAll(): void;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A TCP proxy in front of a real server (PostgreSQL, MariaDB, Redis, an HTTP API) that injects
 * network faults on chosen connections: resets mid-stream, hangs, refusals, slow drips, latency.
 * The client connects to the proxy's port instead of the server's.
 */
export async function startTcpFaultProxy(target: { host: string; port: number }): Promise<TcpFaultProxy> {
  const queue: Array<{ fault: TcpFault; left: number }> = [];
  const open = new Set<Socket>();
  let connections = 0;
  const proxy: TcpFaultProxy = {
    host: '127.0.0.1',
    port: 0,
    latencyMs: 0,
    get connections() {
      return connections;
    },
    inject(fault, times = 1) {
      queue.push({ fault, left: times });
    },
    resetAll() {
      for (const s of open) s.resetAndDestroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((client) => {
    connections++;
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => {});
    const next = queue.find((q) => q.left > 0);
    if (next) next.left--;
    const fault = next?.fault;
    if (fault && 'refuse' in fault) return void client.resetAndDestroy();
    if (fault && 'hang' in fault) return;
    let chain = Promise.resolve();
    let resetting = false;
    const upstream = connect(target.port, target.host);
    open.add(upstream);
    upstream.on('close', () => {
      open.delete(upstream);
      // What is still queued for the client goes first.
      void chain.then(() => {
        if (!resetting) client.end();
      });
    });
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    client.pipe(upstream);
    let sent = 0;
    upstream.on('data', (chunk: Buffer) => {
      upstream.pause();
      chain = chain.then(async () => {
        if (proxy.latencyMs) await sleep(proxy.latencyMs);
        if (fault && 'resetAfterBytes' in fault) {
          const room = fault.resetAfterBytes - sent;
          if (room <= chunk.length) {
            resetting = true;
            if (room > 0) await new Promise<void>((resolve) => client.write(chunk.subarray(0, room), () => resolve()));
            // Let the bytes reach the client before the RST (an immediate reset discards them).
            await sleep(10);
            client.resetAndDestroy();
            upstream.destroy();
            return;
          }
        }
        if (fault && 'hangAfterBytes' in fault) {
          const room = fault.hangAfterBytes - sent;
          if (room <= chunk.length) {
            if (room > 0) client.write(chunk.subarray(0, room));
            // Stalled: the upstream stays paused and the client's bytes go nowhere.
            client.unpipe(upstream);
            client.on('data', () => undefined);
            sent = fault.hangAfterBytes;
            return;
          }
        }
        if (fault && 'bytesPerSecond' in fault) {
          for (let i = 0; i < chunk.length && !client.destroyed; i += 1024) {
            client.write(chunk.subarray(i, i + 1024));
            await sleep((Math.min(1024, chunk.length - i) / fault.bytesPerSecond) * 1000);
          }
        } else if (!client.destroyed) client.write(chunk);
        sent += chunk.length;
        upstream.resume();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.port = (server.address() as AddressInfo).port;
  return proxy;
}

/** A request the HTTP fault proxy saw. */
export interface ProxiedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
}

/** What the HTTP fault proxy answers instead of forwarding (a status with headers and a body), or a reset. */
export type HttpProxyFault = { status: number; headers?: Record<string, string>; body?: string } | { reset: true } | { delayMs: number };

export interface HttpFaultProxy {
  url: string;
  /** Every request seen, in order. */
  requests: ProxiedRequest[];
  /** The next `times` requests matching `filter` get `fault` instead of the server's answer. */
  failNext(times: number, fault: HttpProxyFault, filter?: (r: ProxiedRequest) => boolean): void;
  close(): Promise<void>;
}

/**
 * An HTTP proxy in front of a real HTTP server (an S3-compatible server, a catalog) that answers
 * chosen requests with faults — 500s, S3 `SlowDown`, 429 storms with `Retry-After`, resets, delays —
 * and forwards the rest unchanged, bodies streamed both ways.
 */
export async function startHttpFaultProxy(target: string): Promise<HttpFaultProxy> {
  const upstream = new URL(target);
  const failures: Array<{ left: number; fault: HttpProxyFault; filter: (r: ProxiedRequest) => boolean }> = [];
  const requests: ProxiedRequest[] = [];
  const server = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const seen: ProxiedRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers };
    requests.push(seen);
    const failure = failures.find((f) => f.left > 0 && f.filter(seen));
    if (failure) failure.left--;
    const fault = failure?.fault;
    const forward = () => {
      const out = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      out.on('error', () => res.destroy());
      req.pipe(out);
    };
    if (!fault) return forward();
    if ('delayMs' in fault) return void setTimeout(forward, fault.delayMs);
    // A fault: the request body is read and dropped, as a server that refuses it would.
    req.resume();
    req.on('end', () => {
      if ('reset' in fault) return void res.socket?.resetAndDestroy();
      res.writeHead(fault.status, { 'content-type': 'application/xml', ...fault.headers });
      res.end(fault.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    failNext(times, fault, filter = () => true) {
      failures.push({ left: times, fault, filter });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** S3's error body, as an S3 server sends it. */
export function s3ErrorBody(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>fault-proxy</RequestId></Error>`;
}
