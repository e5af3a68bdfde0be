import { readRows, parseDataType, type FieldSpec } from '@dativo/core';
import { startPostgresTlsProxy, tempDir, tempPostgresDatabase, testCertificates, testRunContext, type TempDatabase, type TestCertificates, type TlsProxy } from '@dativo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresSource } from './index.js';

/**
 * Real TLS: the local PostgreSQL has none configured, so a TLS-only front door (certificates from a
 * throw-away CA, made with openssl) terminates TLS and relays to it. The whole COPY stream, read
 * straight from the TLS socket, must arrive intact.
 */
const scratch = tempDir('dativo-pg-tls-');
const source = postgresSource();
const FIELDS: FieldSpec[] = [
  { name: 'id', type: parseDataType('bigint'), nullable: false },
  { name: 'payload', type: parseDataType('string'), nullable: true },
];
let db: TempDatabase;
let certs: TestCertificates;
let proxy: TlsProxy;

beforeAll(async () => {
  db = await tempPostgresDatabase('dativo_pg_tls');
  // Wide rows so the COPY spans many TLS records.
  await db.exec(`CREATE TABLE docs (id bigint PRIMARY KEY, payload text);
    INSERT INTO docs SELECT g, repeat(md5(g::text), 40) FROM generate_series(1, 5000) g;`);
  certs = testCertificates(scratch.path, ['DNS:localhost']);
  const upstream = new URL(db.uri);
  proxy = await startPostgresTlsProxy({ host: upstream.hostname, port: Number(upstream.port || 5432) }, certs);
});
afterAll(async () => {
  await proxy?.close();
  await db?.drop();
  scratch.cleanup();
});

function config(host: string, ssl: unknown) {
  const upstream = new URL(db.uri);
  return source.configSchema.parse({
    connection: { host, port: proxy.port, user: decodeURIComponent(upstream.username), database: upstream.pathname.slice(1), ssl },
    tables: ['docs'],
    batch_rows: 500,
    max_retries: 0,
  });
}

async function readAll(cfg: ReturnType<typeof config>, parallelism = 1) {
  const ids: number[] = [];
  let bytes = 0;
  const stream = { name: 'docs', schema: FIELDS, syncMode: 'full_refresh' as const, primaryKey: ['id'] };
  for await (const m of source.read({ ...cfg, parallelism }, { streams: [stream] }, testRunContext())) {
    if (m.kind !== 'batch') continue;
    for (const row of readRows(m.batch, FIELDS)) {
      ids.push(Number(row.id));
      bytes += String(row.payload).length;
    }
  }
  return { ids: ids.sort((a, b) => a - b), bytes };
}

describe('TLS', () => {
  it('verify-full with the CA reads every row over TLS, in one stream and in parallel ranges', async () => {
    const before = proxy.tlsConnections;
    const cfg = config('localhost', { mode: 'verify-full', ca: certs.caFile });
    await expect(source.check(cfg, testRunContext())).resolves.toBeUndefined();
    const one = await readAll(cfg);
    expect(one.ids).toEqual(Array.from({ length: 5000 }, (_, i) => i + 1));
    expect(one.bytes).toBe(5000 * 32 * 40);
    const parallel = await readAll(cfg, 3);
    expect(parallel.ids).toEqual(one.ids);
    expect(proxy.tlsConnections - before).toBeGreaterThanOrEqual(6);
  });

  it('require encrypts without verifying; verify-ca checks the CA but not the host name', async () => {
    await expect(source.check(config('127.0.0.1', 'require'), testRunContext())).resolves.toBeUndefined();
    await expect(source.check(config('127.0.0.1', { mode: 'verify-ca', ca: certs.ca }), testRunContext())).resolves.toBeUndefined();
  });

  it('fails clearly when the certificate cannot be verified or names another host', async () => {
    const untrusted = await source.check(config('localhost', 'verify-full'), testRunContext()).then(() => undefined, (e: Error) => e);
    expect(untrusted?.message).toMatch(new RegExp(`^PostgreSQL at localhost:${proxy.port}/dativo_pg_tls_\\w+: TLS certificate check failed \\(.*(self[- ]signed|unable to verify|local issuer).*\\); set source\\.connection\\.ssl\\.ca, or ssl: require to skip verification$`));
    const wrongHost = await source.check(config('127.0.0.1', { mode: 'verify-full', ca: certs.caFile }), testRunContext()).then(() => undefined, (e: Error) => e);
    expect(wrongHost?.message).toMatch(/TLS certificate check failed \(.*127\.0\.0\.1.*\)/);
  });

  it('a client without TLS is told the server accepts only TLS', async () => {
    const error = await source.check(config('127.0.0.1', 'disable'), testRunContext()).then(() => undefined, (e: Error) => e);
    expect(error?.message).toBe(
      `PostgreSQL at 127.0.0.1:${proxy.port}/${new URL(db.uri).pathname.slice(1)}: no pg_hba.conf entry for host "127.0.0.1", user "?", database "?", no encryption; the server accepts only TLS connections: set source.connection.ssl (require, verify-ca or verify-full)`,
    );
  });
});
