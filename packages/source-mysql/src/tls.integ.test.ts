import { randomBytes } from 'node:crypto';
import { parseDataType, readRows, type FieldSpec } from '@dativo/core';
import { startMysqlTlsProxy, tempDir, tempMysqlDatabase, testCertificates, testRunContext, type TempMysqlDatabase, type TestCertificates, type TlsProxy } from '@dativo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mysqlSource } from './index.js';

/**
 * Real TLS: the local MariaDB has none configured, so a TLS-only front door (certificates from a
 * throw-away CA, made with openssl) advertises TLS, terminates it and relays to the server. Every
 * row packet, read while the connection pauses and resumes, must arrive intact.
 */
const scratch = tempDir('dativo-my-tls-');
const source = mysqlSource();
const FIELDS: FieldSpec[] = [
  { name: 'id', type: parseDataType('bigint'), nullable: false },
  { name: 'payload', type: parseDataType('string'), nullable: true },
];
const user = `dativo_tls_${randomBytes(3).toString('hex')}`;
let db: TempMysqlDatabase;
let certs: TestCertificates;
let proxy: TlsProxy;

beforeAll(async () => {
  db = await tempMysqlDatabase('dativo_my_tls');
  await db.exec(`SET SESSION max_recursive_iterations = 100000; CREATE TABLE docs (id bigint PRIMARY KEY, payload text);
    INSERT INTO docs WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 5000) SELECT n, REPEAT(MD5(n), 40) FROM g;
    CREATE USER '${user}'@'%' IDENTIFIED BY 'tls-password'; CREATE USER '${user}'@'localhost' IDENTIFIED BY 'tls-password';
    GRANT SELECT, RELOAD ON *.* TO '${user}'@'%'; GRANT SELECT, RELOAD ON *.* TO '${user}'@'localhost';`);
  certs = testCertificates(scratch.path, ['DNS:localhost']);
  proxy = await startMysqlTlsProxy({ host: db.host, port: db.port }, certs);
}, 60_000);
afterAll(async () => {
  await proxy?.close();
  await db?.exec(`DROP USER IF EXISTS '${user}'@'%'; DROP USER IF EXISTS '${user}'@'localhost'`).catch(() => undefined);
  await db?.drop();
  scratch.cleanup();
});

function config(host: string, ssl: unknown, password = 'tls-password') {
  return source.configSchema.parse({ connection: { host, port: proxy.port, user, password, database: db.name, ssl }, tables: ['docs'], batch_rows: 500, max_retries: 0 });
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
  it('verify-full with the CA authenticates and reads every row over TLS, in one stream and in parallel ranges', async () => {
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

  it('a wrong password over TLS is reported as such, without the password', async () => {
    const error = await source.check(config('localhost', { mode: 'verify-full', ca: certs.caFile }, 'hunter2-secret'), testRunContext()).then(() => undefined, (e: Error) => e);
    expect(error?.message).toMatch(/: Access denied for user '[^']+'@'[^']+' \(using password: YES\); check source\.connection\.user and password$/);
    expect(error?.message).not.toContain('hunter2');
  });

  it('fails clearly when the certificate cannot be verified or names another host', async () => {
    const untrusted = await source.check(config('localhost', 'verify-full'), testRunContext()).then(() => undefined, (e: Error) => e);
    expect(untrusted?.message).toMatch(new RegExp(`^MySQL at localhost:${proxy.port}/${db.name}: TLS certificate check failed \\(.*(self[- ]signed|unable to verify|local issuer).*\\); set source\\.connection\\.ssl\\.ca, or ssl: require to skip verification$`));
    const wrongHost = await source.check(config('127.0.0.1', { mode: 'verify-full', ca: certs.caFile }), testRunContext()).then(() => undefined, (e: Error) => e);
    expect(wrongHost?.message).toMatch(/TLS certificate check failed \(.*127\.0\.0\.1.*\)/);
  });

  it('a client without TLS is told the server accepts only TLS', async () => {
    const error = await source.check(config('127.0.0.1', 'disable'), testRunContext()).then(() => undefined, (e: Error) => e);
    expect(error?.message).toBe(
      `MySQL at 127.0.0.1:${proxy.port}/${db.name}: Connections using insecure transport are prohibited while --require_secure_transport=ON.; the server accepts only TLS connections: set source.connection.ssl (require, verify-ca or verify-full)`,
    );
  });
});
