import { randomBytes } from 'node:crypto';
import { parseDataType, readRows, type Extractor, type FieldSpec } from '@dativo/core';
import { mysqlSource } from '@dativo/source-mysql';
import { postgresSource } from '@dativo/source-postgres';
import type { SqlSourceConfig } from '@dativo/sql-kit';
import { tempDir, testRunContext } from '@dativo/testing';
import { startMysqlTlsProxy, startPostgresTlsProxy, tempMysqlDatabase, tempPostgresDatabase, testCertificates, type TestCertificates, type TlsProxy } from '@dativo/testing/sql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Real TLS for both database sources. The local servers have no TLS configured, so a TLS-only
 * front door (certificates from a throw-away CA, made with openssl) terminates TLS and relays to
 * them. Every row — binary COPY data read straight from the TLS socket, MySQL row packets read
 * while the connection pauses and resumes — must arrive intact.
 */
const scratch = tempDir('dativo-sql-tls-');
let certs: TestCertificates;
beforeAll(() => {
  certs = testCertificates(scratch.path, ['DNS:localhost']);
});
afterAll(() => scratch.cleanup());

const ROWS = 5000;
const FIELDS: FieldSpec[] = [
  { name: 'id', type: parseDataType('bigint'), nullable: false },
  { name: 'payload', type: parseDataType('string'), nullable: true },
];

interface Target {
  source: Extractor<SqlSourceConfig>;
  /** `PostgreSQL at` / `MySQL at`. */
  label: string;
  proxy: TlsProxy;
  database: string;
  user: string;
  password?: string;
  /** What the server says to a client that does not use TLS. */
  plainRefusal: string;
  cleanup(): Promise<void>;
}

const engines: Array<{ name: string; setup(): Promise<Target>; checksPasswords: boolean }> = [
  {
    name: 'postgres',
    // The local PostgreSQL trusts every login, so passwords are not checked here (see read.integ).
    checksPasswords: false,
    async setup() {
      const db = await tempPostgresDatabase('dativo_pg_tls');
      // Wide rows so the COPY spans many TLS records.
      await db.exec(`CREATE TABLE docs (id bigint PRIMARY KEY, payload text); INSERT INTO docs SELECT g, repeat(md5(g::text), 40) FROM generate_series(1, ${ROWS}) g;`);
      const url = new URL(db.uri);
      const proxy = await startPostgresTlsProxy({ host: url.hostname, port: Number(url.port || 5432) }, certs);
      return {
        source: postgresSource(),
        label: 'PostgreSQL at',
        proxy,
        database: db.name,
        user: decodeURIComponent(url.username),
        plainRefusal: 'no pg_hba.conf entry for host "127.0.0.1", user "?", database "?", no encryption',
        cleanup: async () => {
          await proxy.close();
          await db.drop();
        },
      };
    },
  },
  {
    name: 'mysql',
    checksPasswords: true,
    async setup() {
      const db = await tempMysqlDatabase('dativo_my_tls');
      const user = `dativo_tls_${randomBytes(3).toString('hex')}`;
      await db.exec(`SET SESSION max_recursive_iterations = 100000; CREATE TABLE docs (id bigint PRIMARY KEY, payload text);
        INSERT INTO docs WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ${ROWS}) SELECT n, REPEAT(MD5(n), 40) FROM g;
        CREATE USER '${user}'@'%' IDENTIFIED BY 'tls-password'; CREATE USER '${user}'@'localhost' IDENTIFIED BY 'tls-password';
        GRANT SELECT, RELOAD ON *.* TO '${user}'@'%'; GRANT SELECT, RELOAD ON *.* TO '${user}'@'localhost';`);
      const proxy = await startMysqlTlsProxy({ host: db.host, port: db.port }, certs);
      return {
        source: mysqlSource(),
        label: 'MySQL at',
        proxy,
        database: db.name,
        user,
        password: 'tls-password',
        plainRefusal: 'Connections using insecure transport are prohibited while --require_secure_transport=ON.',
        cleanup: async () => {
          await proxy.close();
          await db.exec(`DROP USER IF EXISTS '${user}'@'%'; DROP USER IF EXISTS '${user}'@'localhost'`).catch(() => undefined);
          await db.drop();
        },
      };
    },
  },
];

for (const engine of engines) {
  describe(`${engine.name} over TLS`, () => {
    let t: Target;
    beforeAll(async () => {
      t = await engine.setup();
    }, 60_000);
    afterAll(async () => {
      await t?.cleanup();
    });

    const config = (host: string, ssl: unknown, password = t.password) =>
      t.source.configSchema.parse({
        connection: { host, port: t.proxy.port, user: t.user, ...(password !== undefined ? { password } : {}), database: t.database, ssl },
        tables: ['docs'],
        batch_rows: 500,
        max_retries: 0,
      });
    const failure = (cfg: SqlSourceConfig): Promise<Error | undefined> => t.source.check(cfg, testRunContext()).then(() => undefined, (e: Error) => e);
    const where = (host: string): string => `${t.label} ${host}:${t.proxy.port}/${t.database}`;

    async function readAll(cfg: SqlSourceConfig, parallelism = 1) {
      const ids: number[] = [];
      let chars = 0;
      const stream = { name: 'docs', schema: FIELDS, syncMode: 'full_refresh' as const, primaryKey: ['id'] };
      for await (const m of t.source.read({ ...cfg, parallelism }, { streams: [stream] }, testRunContext())) {
        if (m.kind !== 'batch') continue;
        for (const row of readRows(m.batch, FIELDS)) {
          ids.push(Number(row.id));
          chars += String(row.payload).length;
        }
      }
      return { ids: ids.sort((a, b) => a - b), chars };
    }

    it('verify-full with the CA reads every row over TLS, in one stream and in parallel ranges', async () => {
      const before = t.proxy.tlsConnections;
      const cfg = config('localhost', { mode: 'verify-full', ca: certs.caFile });
      await expect(t.source.check(cfg, testRunContext())).resolves.toBeUndefined();
      const one = await readAll(cfg);
      expect(one.ids).toEqual(Array.from({ length: ROWS }, (_, i) => i + 1));
      expect(one.chars).toBe(ROWS * 32 * 40);
      const parallel = await readAll(cfg, 3);
      expect(parallel).toEqual(one);
      expect(t.proxy.tlsConnections - before).toBeGreaterThanOrEqual(6);
    });

    it('require encrypts without verifying; verify-ca checks the CA but not the host name', async () => {
      await expect(t.source.check(config('127.0.0.1', 'require'), testRunContext())).resolves.toBeUndefined();
      await expect(t.source.check(config('127.0.0.1', { mode: 'verify-ca', ca: certs.ca }), testRunContext())).resolves.toBeUndefined();
    });

    it('fails clearly when the certificate cannot be verified or names another host', async () => {
      const untrusted = await failure(config('localhost', 'verify-full'));
      expect(untrusted?.message.startsWith(`${where('localhost')}: TLS certificate check failed (`)).toBe(true);
      expect(untrusted?.message).toMatch(/(self[- ]signed|unable to verify|local issuer).*\); set source\.connection\.ssl\.ca, or ssl: require to skip verification$/);
      const wrongHost = await failure(config('127.0.0.1', { mode: 'verify-full', ca: certs.caFile }));
      expect(wrongHost?.message).toMatch(/TLS certificate check failed \(.*127\.0\.0\.1.*\)/);
    });

    it('a client without TLS is told the server accepts only TLS', async () => {
      const error = await failure(config('127.0.0.1', 'disable'));
      expect(error?.message).toBe(`${where('127.0.0.1')}: ${t.plainRefusal}; the server accepts only TLS connections: set source.connection.ssl (require, verify-ca or verify-full)`);
    });

    if (engine.checksPasswords) {
      it('a wrong password over TLS is reported as such, without the password', async () => {
        const error = await failure(config('localhost', { mode: 'verify-full', ca: certs.caFile }, 'hunter2-secret'));
        expect(error?.message).toMatch(/: Access denied for user '[^']+'@'[^']+' \(using password: YES\); check source\.connection\.user and password$/);
        expect(error?.message).not.toContain('hunter2');
      });
    }
  });
}
