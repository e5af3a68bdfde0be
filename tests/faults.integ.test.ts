import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { reliabilityRow, tempDir } from '@dativo/testing';
import { queryDuckDb, sqlString } from '@dativo/testing/duckdb';
import { s3ErrorBody, startHttpFaultProxy, startTcpFaultProxy, type HttpFaultProxy, type TcpFaultProxy } from '@dativo/testing/http';
import { startS3Server, type TestS3Server } from '@dativo/testing/s3';
import { tempPostgresDatabase, type TempDatabase } from '@dativo/testing/sql';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parquetFiles, runCli } from './helpers.js';

/**
 * Faults injected between Dativo and real servers, through the CLI: a PostgreSQL connection reset
 * mid-stream and one that stalls with its socket open (TCP fault proxy), a table locked past the
 * statement timeout, S3 `SlowDown` / 500 / a reset during a multipart upload (HTTP fault
 * proxy in front of a local S3 server), and a full disk (a small tmpfs made by the test). Each run
 * either completes with every row once, or fails with a classified error and its rerun completes
 * with every row once.
 */
const scratch = tempDir('dativo-faults-');
const dir = scratch.path;
const ROWS = 200_000;

beforeAll(() => {
  mkdirSync(path.join(dir, 'jobs'), { recursive: true });
  writeFileSync(path.join(dir, 'asset.yaml'), 'name: events\nschema:\n  - { name: id, type: bigint, required: true }\n  - { name: token, type: string }\n  - { name: amount, type: double }\nprimary_key: [id]\n');
  // Tokens of random hex, so the Parquet files stay large (a multipart upload; a full small disk).
  const lines = ['id,token,amount'];
  for (let i = 1; i <= ROWS; i++) lines.push(`${i},${randomBytes(32).toString('hex')},${i / 4}`);
  writeFileSync(path.join(dir, 'events.csv'), `${lines.join('\n')}\n`);
});
afterAll(() => scratch.cleanup());

async function counted(files: string[]): Promise<{ n: number; ids: number }> {
  const [r] = await queryDuckDb(`SELECT count(*)::INTEGER AS n, count(DISTINCT id)::INTEGER AS ids FROM read_parquet([${files.map(sqlString).join(', ')}])`);
  return r as { n: number; ids: number };
}

describe('PostgreSQL behind a TCP fault proxy', () => {
  let db: TempDatabase;
  let proxy: TcpFaultProxy;
  beforeAll(async () => {
    db = await tempPostgresDatabase('dativo_faults');
    await db.exec(`CREATE TABLE events (id bigint PRIMARY KEY, token text, amount float8);
      INSERT INTO events SELECT g, md5(g::text) || md5((g * 7)::text), g / 4.0 FROM generate_series(1, ${ROWS}) g;`);
    proxy = await startTcpFaultProxy({ host: process.env.PGHOST ?? '127.0.0.1', port: Number(process.env.PGPORT ?? 5432) });
  });
  afterAll(async () => {
    await proxy?.close();
    await db?.drop();
  });

  it('a connection reset mid-stream, then a refused reconnect: the source reconnects and resumes; every row once', async () => {
    const uri = db.uri.replace(/@[^/]+\//, `@${proxy.host}:${proxy.port}/`);
    writeFileSync(
      path.join(dir, 'jobs', 'pg.yaml'),
      `tenant_id: acme\nenvironment: dev\nsource_connector: postgres\ntarget_connector: parquet\nasset: events\nasset_path: asset.yaml\nsource:\n  tables: [{ name: events, object: events }]\n  connection: { uri: "${uri}" }\n  batch_rows: 2000\ntarget:\n  path: out/pg\n  partitioning: []\ncommit: { every_rows: 10000 }\nretry_config: { max_attempts: 6, initial_delay_seconds: 0.05, max_delay_seconds: 0.2 }\n`,
    );
    // The first connection (the reader's) dies after ~2 MB; the next one is refused; then all is well.
    proxy.inject({ resetAfterBytes: 2_000_000 });
    const before = proxy.connections;
    const killedMidway = setInterval(() => {
      if (proxy.connections > before) {
        proxy.inject({ refuse: true });
        clearInterval(killedMidway);
      }
    }, 5);
    const r = await runCli(['run', 'jobs/pg.yaml', '--json', '--log-format', 'json'], { cwd: dir });
    clearInterval(killedMidway);
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    expect(r.stderr).toMatch(/retrying after a failure|reconnect/i);
    expect(proxy.connections - before).toBeGreaterThanOrEqual(2);
    expect(await counted(parquetFiles(path.join(dir, 'out', 'pg')))).toEqual({ n: ROWS, ids: ROWS });
    reliabilityRow({ connector: 'PostgreSQL source', fault: 'connection reset mid-stream, then a refused reconnect (TCP fault proxy)', outcome: 'retried, reconnects, resumes after the last row read: every row once' });
  });

  const job = (name: string, uri: string, connection: string) =>
    writeFileSync(
      path.join(dir, 'jobs', `${name}.yaml`),
      `tenant_id: acme\nenvironment: dev\nsource_connector: postgres\ntarget_connector: parquet\nasset: events\nasset_path: asset.yaml\nsource:\n  tables: [{ name: events, object: events }]\n  connection:\n    uri: "${uri}"\n${connection}  batch_rows: 2000\ntarget:\n  path: out/${name}\n  partitioning: []\ncommit: { every_rows: 10000 }\n`,
    );

  it('a connection that stalls mid-stream (nothing more arrives, nothing closes): dropped after read_timeout_seconds, then reconnect and resume; every row once', async () => {
    job('pg-stall', db.uri.replace(/@[^/]+\//, `@${proxy.host}:${proxy.port}/`), '    read_timeout_seconds: 2\n');
    // The reader's connection forwards ~2 MB, then goes silent with its socket open.
    const before = proxy.connections;
    proxy.inject({ hangAfterBytes: 2_000_000 });
    const r = await runCli(['run', 'jobs/pg-stall.yaml', '--log-format', 'json'], { cwd: dir });
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    expect(r.stderr).toContain('no rows from the server for 2 s (source.connection.read_timeout_seconds)');
    expect(proxy.connections - before).toBeGreaterThanOrEqual(2);
    expect(await counted(parquetFiles(path.join(dir, 'out', 'pg-stall')))).toEqual({ n: ROWS, ids: ROWS });
    reliabilityRow({ connector: 'PostgreSQL source', fault: 'a connection that stalls mid-stream, its socket left open (TCP fault proxy)', outcome: 'dropped after `read_timeout_seconds`, reconnects and resumes after the last batch: every row once' });
  });

  it('a table locked by another session: a short lock is ridden out (lock_timeout_seconds, retried); one held past the retries fails, classified, naming the setting, and the rerun reads every row once', async () => {
    /** Runs `run` while another session holds the table; `retries` > 0 releases it once the reader has come back that many times. */
    const locked = async (retries: number, run: () => Promise<void>) => {
      const holder = new pg.Client({ connectionString: db.uri });
      const watcher = new pg.Client({ connectionString: db.uri });
      await holder.connect();
      await watcher.connect();
      await holder.query('BEGIN; LOCK TABLE events IN ACCESS EXCLUSIVE MODE');
      let stop = false;
      const release = (async () => {
        if (retries === 0) return;
        // Each attempt waits on its own connection: distinct waiting backends are attempts.
        const waiters = new Set<number>();
        while (!stop && waiters.size <= retries) {
          const { rows } = await watcher.query("SELECT pid FROM pg_locks WHERE NOT granted AND relation = 'events'::regclass");
          for (const r of rows as Array<{ pid: number }>) waiters.add(r.pid);
          await new Promise((r) => setTimeout(r, 20));
        }
        await holder.query('ROLLBACK');
      })();
      try {
        await run();
      } finally {
        stop = true;
        await release;
        await holder.query('ROLLBACK').catch(() => undefined);
        await holder.end();
        await watcher.end();
      }
    };
    // A migration holds the table: each attempt waits 0.3 s for the lock, backs off and tries again; the lock goes after the first retry.
    job('pg-lock-short', db.uri, '    lock_timeout_seconds: 0.3\n  max_retries: 10\n');
    await locked(1, async () => {
      const r = await runCli(['run', 'jobs/pg-lock-short.yaml', '--log-format', 'json'], { cwd: dir });
      expect(r.code, r.stderr.slice(-2000)).toBe(0);
      expect(r.stderr).toMatch(/another session holds a lock on the table and it was not granted within 0.3 s \(source.connection.lock_timeout_seconds\)/);
    });
    expect(await counted(parquetFiles(path.join(dir, 'out', 'pg-lock-short')))).toEqual({ n: ROWS, ids: ROWS });

    // Held past every retry: the run fails, classified; after the lock is gone the rerun reads every row once.
    job('pg-locked', db.uri, '    lock_timeout_seconds: 0.3\n  max_retries: 1\n');
    await locked(0, async () => {
      const blocked = await runCli(['run', 'jobs/pg-locked.yaml', '--json'], { cwd: dir });
      expect(blocked.code).toBe(2);
      const report = JSON.parse(blocked.stdout) as { jobs: Array<{ error: { kind: string; message: string; code: string } }> };
      expect(report.jobs[0]?.error).toMatchObject({ kind: 'transient', code: '55P03', message: expect.stringMatching(/not granted within 0.3 s \(source.connection.lock_timeout_seconds\)/) });
    });
    const rerun = await runCli(['run', 'jobs/pg-locked.yaml'], { cwd: dir });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(await counted(parquetFiles(path.join(dir, 'out', 'pg-locked')))).toEqual({ n: ROWS, ids: ROWS });
    reliabilityRow({ connector: 'PostgreSQL source', fault: 'the table locked by another session (`LOCK TABLE … ACCESS EXCLUSIVE`), for a second and for good', outcome: 'waits `lock_timeout_seconds`, retries with backoff: a short lock is ridden out; one held past the retries fails, classified (transient, 55P03), and the rerun reads every row once' });
  });
});

describe('S3 behind an HTTP fault proxy', () => {
  let s3: TestS3Server;
  let proxy: HttpFaultProxy;
  beforeAll(async () => {
    s3 = await startS3Server({ buckets: ['lake'] });
    proxy = await startHttpFaultProxy(s3.endpoint);
  });
  afterAll(async () => {
    await proxy?.close();
    await s3?.stop();
  });

  it('SlowDown, 500 and a reset during the multipart upload: retried, the table lands once', async () => {
    writeFileSync(
      path.join(dir, 'jobs', 's3.yaml'),
      `tenant_id: acme\nenvironment: dev\nsource_connector: csv\ntarget_connector: parquet\nasset: events\nasset_path: asset.yaml\nsource:\n  files: [{ path: events.csv }]\ntarget:\n  connection:\n    s3: { bucket: lake, prefix: events, endpoint: "${proxy.url}", region: us-east-1, access_key_id: ${s3.accessKeyId}, secret_access_key: ${s3.secretAccessKey}, path_style_access: true, part_size_mb: 5 }\n  partitioning: []\n`,
    );
    const part = (r: { method: string; query: URLSearchParams }) => r.method === 'PUT' && r.query.has('uploadId');
    proxy.failNext(2, { status: 503, body: s3ErrorBody('SlowDown', 'Please reduce your request rate.') }, part);
    proxy.failNext(1, { status: 500, body: s3ErrorBody('InternalError', 'We encountered an internal error. Please try again.') }, part);
    proxy.failNext(1, { reset: true }, part);
    const r = await runCli(['run', 'jobs/s3.yaml', '--json'], { cwd: dir });
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    // The faults were met: more part uploads than parts.
    expect(proxy.requests.filter(part).length).toBeGreaterThan(4);
    // s3rver keeps each object as a file named <key>._S3rver_object.
    const files = (readdirSync(path.join(s3.directory, 'lake', 'events'), { recursive: true }) as string[]).filter((f) => f.endsWith('.parquet._S3rver_object') && !f.includes('_dativo')).map((f) => path.join(s3.directory, 'lake', 'events', f));
    expect(await counted(files)).toEqual({ n: ROWS, ids: ROWS });
    reliabilityRow({ connector: 'S3 (Parquet target)', fault: '`SlowDown` (503) twice, `InternalError` (500), a reset — all on parts of one multipart upload (HTTP fault proxy before a local S3 server)', outcome: 'part uploads retried (8 attempts): the file lands once' });
  });
});

/** A tmpfs of `mb` MiB mounted at `at` (root only); false where mounting is not allowed. */
function mountTmpfs(at: string, mb: number): boolean {
  mkdirSync(at, { recursive: true });
  return spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${mb}m`, 'tmpfs', at], { stdio: 'ignore' }).status === 0;
}

describe('a full disk', () => {
  const disk = path.join(dir, 'small-disk');
  const mounted = mountTmpfs(disk, 4);
  afterAll(() => {
    if (mounted) spawnSync('umount', ['-l', disk], { stdio: 'ignore' });
  });

  it.skipIf(!mounted)('the run fails with a classified "disk full" error, keeps what it committed; with space again the rerun resumes: every row once', async () => {
    writeFileSync(
      path.join(dir, 'jobs', 'disk.yaml'),
      `tenant_id: acme\nenvironment: dev\nsource_connector: csv\ntarget_connector: parquet\nasset: events\nasset_path: asset.yaml\nsource:\n  files: [{ path: events.csv }]\ntarget:\n  path: ${disk}/events\n  partitioning: []\nbatch: { max_rows: 5000 }\ncommit: { every_rows: 20000 }\n`,
    );
    const full = await runCli(['run', 'jobs/disk.yaml', '--json'], { cwd: dir });
    expect(full.code).toBe(2);
    const error = (JSON.parse(full.stdout) as { jobs: Array<{ error: { kind: string; code?: string; message: string } }> }).jobs[0]?.error;
    expect(error?.code, JSON.stringify(error)).toBe('ENOSPC');
    expect(error?.message).toContain('the disk is full: what was committed is kept');
    const kept = parquetFiles(path.join(disk, 'events'));
    expect(kept.length).toBeGreaterThan(0);
    const committed = await counted(kept);
    expect(committed.n).toBe(committed.ids);
    expect(committed.n).toBeLessThan(ROWS);
    execFileSync('mount', ['-o', 'remount,size=64m', disk]);
    const rerun = await runCli(['run', 'jobs/disk.yaml', '--json'], { cwd: dir });
    expect(rerun.code, rerun.stderr.slice(-2000)).toBe(0);
    expect(await counted(parquetFiles(path.join(disk, 'events')))).toEqual({ n: ROWS, ids: ROWS });
    reliabilityRow({ connector: 'Local Parquet target', fault: 'disk full (a 4 MiB tmpfs made by the test)', outcome: 'fails with `ENOSPC` ("the disk is full: what was committed is kept"); with space again the rerun resumes: every row once' });
  });
});
