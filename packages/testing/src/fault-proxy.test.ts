import { createServer as createHttpServer } from 'node:http';
import { connect, createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3ErrorBody, startHttpFaultProxy, startTcpFaultProxy } from './fault-proxy.js';

/** A server that answers every connection with `size` bytes, then closes. */
const payload = Buffer.alloc(200_000, 7);
const server = createServer((s) => {
  s.on('error', () => {});
  s.end(payload);
});

/** Reads what the proxy forwards, and how the connection ended. */
function read(port: number, chunks: { n: number } = { n: 0 }): Promise<{ bytes: number; ended: 'end' | 'error' | 'timeout' }> {
  return new Promise((resolve) => {
    let bytes = 0;
    const s = connect(port, '127.0.0.1');
    s.setTimeout(300, () => {
      s.destroy();
      resolve({ bytes, ended: 'timeout' });
    });
    s.on('data', (d: Buffer) => {
      bytes += d.length;
      chunks.n++;
    });
    s.on('end', () => resolve({ bytes, ended: 'end' }));
    s.on('error', () => resolve({ bytes, ended: 'error' }));
  });
}

beforeAll(() => new Promise<void>((r) => server.listen(0, '127.0.0.1', r)));
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('TCP fault proxy', () => {
  it('forwards faithfully, then resets after N bytes, refuses, hangs, drips, each for the connections asked', async () => {
    const proxy = await startTcpFaultProxy({ host: '127.0.0.1', port: (server.address() as AddressInfo).port });
    try {
      expect(await read(proxy.port)).toEqual({ bytes: payload.length, ended: 'end' });
      proxy.inject({ resetAfterBytes: 50_000 });
      const cut = await read(proxy.port);
      expect(cut.ended).toBe('error');
      expect(cut.bytes).toBeLessThanOrEqual(50_000);
      proxy.inject({ refuse: true });
      expect(await read(proxy.port)).toMatchObject({ bytes: 0 });
      proxy.inject({ hang: true });
      expect(await read(proxy.port)).toEqual({ bytes: 0, ended: 'timeout' });
      proxy.inject({ bytesPerSecond: 400_000 });
      // A drip is whole, in many small pieces (1 kB at a time, paced), where a faithful copy arrives in a few.
      const pieces = { n: 0 };
      expect(await read(proxy.port, pieces)).toEqual({ bytes: payload.length, ended: 'end' });
      expect(pieces.n).toBeGreaterThan(50);
      expect(await read(proxy.port)).toEqual({ bytes: payload.length, ended: 'end' });
      expect(proxy.connections).toBe(6);
    } finally {
      await proxy.close();
    }
  });
});

describe('HTTP fault proxy', () => {
  it('answers chosen requests with faults (S3 SlowDown with its XML body, a reset) and forwards the rest with their bodies', async () => {
    const upstream = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => res.end(`${req.method} ${req.url} ${body}`));
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const proxy = await startHttpFaultProxy(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`);
    try {
      proxy.failNext(1, { status: 503, body: s3ErrorBody('SlowDown', 'Please reduce your request rate.') }, (r) => r.method === 'PUT');
      const slow = await fetch(`${proxy.url}/bucket/key?partNumber=1`, { method: 'PUT', body: 'part' });
      expect(slow.status).toBe(503);
      expect(await slow.text()).toContain('<Code>SlowDown</Code>');
      const ok = await fetch(`${proxy.url}/bucket/key?partNumber=1`, { method: 'PUT', body: 'part' });
      expect(await ok.text()).toBe('PUT /bucket/key?partNumber=1 part');
      proxy.failNext(1, { reset: true });
      await expect(fetch(`${proxy.url}/x`)).rejects.toThrow();
      expect(proxy.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['PUT /bucket/key', 'PUT /bucket/key', 'GET /x']);
    } finally {
      await proxy.close();
      await new Promise<void>((r) => upstream.close(() => r()));
    }
  });
});
