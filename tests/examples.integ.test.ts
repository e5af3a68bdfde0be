import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { tempDir } from '@dativo/testing';
import { queryDuckDb, sqlString } from '@dativo/testing/duckdb';
import { readIcebergTable } from '@dativo/testing/iceberg';
import { tempMysqlDatabase, tempPostgresDatabase } from '@dativo/testing/sql';
import { afterAll, describe, expect, it } from 'vitest';
import { copyExample, logLines, ROOT, runCli } from './helpers.js';

const scratch = tempDir('dativo-examples-');
afterAll(() => scratch.cleanup());

describe('examples/quickstart', () => {
  const dir = copyExample('quickstart', scratch.path);

  it('runs every job: CSV and Markdown-KV into local Parquet (DuckDB reads it) and CSV into local Iceberg (icebird reads it)', async () => {
    const result = await runCli(['run', '--job-dir', 'jobs'], { cwd: dir });
    expect(result.stderr).not.toMatch(/"level":"error"/);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^✔ acme\/notes_markdown_kv {2}13 rows · 1 file · /m);
    expect(result.stdout).toMatch(/^✔ acme\/people_csv {2}6 rows · 1 file · /m);
    expect(result.stdout).toMatch(/^✔ acme\/people_iceberg {2}6 rows · 1 file · /m);
    expect(result.stdout).toContain('3/3 jobs succeeded · 25 rows');
    const runIds = new Set(logLines(result.stderr).map((l) => l.runId));
    expect(runIds.size).toBe(3);

    const people = await queryDuckDb(
      `SELECT person_id::VARCHAR AS id, first_name, last_name, age, balance::VARCHAR AS balance, score, active, birth_date::VARCHAR AS birth, created_at::VARCHAR AS created, (last_login AT TIME ZONE 'UTC')::VARCHAR AS login, hex(avatar) AS avatar, preferences FROM read_parquet(${sqlString(path.join(dir, 'out/acme/csv_person/ingest_date=*/*.parquet'))}) ORDER BY person_id`,
    );
    expect(people).toEqual([
      { id: '1', first_name: 'Ada', last_name: 'Lovelace', age: '36', balance: '1234.50', score: 98.25, active: true, birth: '1815-12-10', created: '2024-01-15 09:30:00', login: '2024-06-01 10:00:00', avatar: '89504E47', preferences: '{"theme": "dark", "langs": ["en", "fr"]}' },
      { id: '2', first_name: 'Alan', last_name: 'Turing', age: '41', balance: '-20.00', score: 87.5, active: false, birth: '1912-06-23', created: '2024-02-01 12:00:00.123456', login: '2024-06-02 06:15:30', avatar: '68656C6C6F', preferences: '{}' },
      { id: '3', first_name: 'Grace', last_name: 'Hopper, RADM', age: '85', balance: '1000000.01', score: 99.9, active: true, birth: '1906-12-09', created: '2024-03-10 00:00:00', login: null, avatar: null, preferences: '{"ship": "USS Hopper"}' },
      { id: '4', first_name: 'Linus', last_name: null, age: null, balance: null, score: null, active: false, birth: '1969-12-28', created: '2024-04-01 17:45:00', login: '2024-06-03 23:59:59', avatar: null, preferences: null },
      { id: '5', first_name: 'Margaret', last_name: 'Hamilton', age: '88', balance: '42.42', score: 100, active: true, birth: '1936-08-17', created: '2024-05-05 05:05:05', login: '2024-06-04 05:00:00', avatar: null, preferences: '[1, 2, 3]' },
      { id: '6', first_name: 'Katherine', last_name: 'Johnson\n(née Coleman)', age: '101', balance: '0.01', score: -0.5, active: false, birth: '1918-08-26', created: '2024-05-06 06:06:06', login: null, avatar: null, preferences: null },
    ]);

    const iceberg = await readIcebergTable({ metadataLocation: `file://${path.join(dir, 'out/warehouse/acme/people/metadata/v2.metadata.json')}` });
    expect(iceberg.map((r) => [Number(r.person_id), r.first_name, r.last_name, r.preferences]).sort((a, b) => Number(a[0]) - Number(b[0]))).toEqual(
      people.map((p) => [Number(p.id), p.first_name, p.last_name, p.preferences]),
    );
    // v1's `partitioning: [ingest_date]`: a date column Dativo adds, holding the run's day (UTC).
    expect(new Set(iceberg.map((r) => new Date(r.ingest_date as string).toISOString().slice(0, 10)))).toEqual(new Set([new Date().toISOString().slice(0, 10)]));

    const notes = await queryDuckDb(`SELECT doc_id, section, key, value, value_json, ord FROM read_parquet(${sqlString(path.join(dir, 'out/acme/markdown_kv_notes/ingest_date=*/*.parquet'))}) ORDER BY doc_id, section, ord`);
    expect(notes.filter((n) => n.doc_id === 'redis').map((n) => [n.key, n.value, n.value_json])).toEqual([
      ['summary', 'Cache for session tokens', null],
      ['eviction', 'allkeys-lru', null],
      ['max_memory_mb', '2048', '2048'],
    ]);
    expect(notes.find((n) => n.key === 'steps')?.value).toBe('1. promote the replica\n  2. repoint the service\n  3. page the owner');
  });

  it('a second run is incremental: unchanged files are not read again', async () => {
    const result = await runCli(['run', '--job-dir', 'jobs', '--json'], { cwd: dir });
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { status: string; jobs: Array<{ rows: number; files: number }> };
    expect(report.status).toBe('succeeded');
    expect(report.jobs.map((j) => [j.rows, j.files])).toEqual([
      [0, 0],
      [0, 0],
      [0, 0],
    ]);
  });
});

describe('examples/programmatic', () => {
  it('runs the pipeline built in code, then finds nothing new', async () => {
    const out = path.join(scratch.path, 'programmatic');
    const script = path.join(ROOT, 'examples', 'programmatic', 'pipeline.mjs');
    const first = JSON.parse(execFileSync(process.execPath, [script, out], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    expect(first).toEqual({ status: 'succeeded', rows: 3, files: 1 });
    const rows = await queryDuckDb(`SELECT id::INTEGER AS id, name, signed_up::VARCHAR AS d FROM read_parquet(${sqlString(path.join(out, 'people/ingest_date=*/*.parquet'))}) ORDER BY id`);
    expect(rows).toEqual([
      { id: 1, name: 'Ada', d: '2024-01-15' },
      { id: 2, name: 'Alan', d: '2024-02-01' },
      { id: 3, name: 'Grace', d: '2024-03-10' },
    ]);
    const second = JSON.parse(execFileSync(process.execPath, [script, out], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    expect(second).toEqual({ status: 'succeeded', rows: 0, files: 0 });
  });
});

describe('examples/databases', () => {
  it('loads the seeds, runs both jobs, then reads only changed rows and merges them into Iceberg', async () => {
    const dir = copyExample('databases', scratch.path);
    const pg = await tempPostgresDatabase('dativo_example');
    const my = await tempMysqlDatabase('dativo_example');
    try {
      await pg.exec(readFileSync(path.join(dir, 'seed', 'postgres.sql'), 'utf8'));
      await my.exec(readFileSync(path.join(dir, 'seed', 'mysql.sql'), 'utf8'));
      const pgUrl = new URL(pg.uri);
      const env = { PGHOST: pgUrl.hostname, PGPORT: pgUrl.port || '5432', PGUSER: decodeURIComponent(pgUrl.username), PGDATABASE: pg.name, MYSQL_HOST: my.host, MYSQL_PORT: String(my.port), MYSQL_USER: my.user, MYSQL_PASSWORD: my.password, MYSQL_DATABASE: my.name };
      const check = await runCli(['check', '--job-dir', 'jobs'], { cwd: dir, env });
      expect(check.code, check.stdout + check.stderr).toBe(0);
      expect(check.stdout).toContain('2/2 jobs passed every check');
      const first = await runCli(['run', '--job-dir', 'jobs'], { cwd: dir, env });
      expect(first.code, first.stderr).toBe(0);
      expect(first.stderr).not.toMatch(/"level":"(warn|error)"/);
      expect(first.stdout).toMatch(/^✔ acme\/customers_mysql {2}5 rows · 1 file · /m);
      expect(first.stdout).toMatch(/^✔ acme\/orders_postgres {2}120 rows · 1 file · /m);
      const customers = await queryDuckDb(`SELECT customer_id::INTEGER AS id, name, tier, balance::VARCHAR AS balance, signed_up::VARCHAR AS signed_up FROM read_parquet(${sqlString(path.join(dir, 'out/acme/mysql_customers/ingest_date=*/*.parquet'))}) ORDER BY 1`);
      expect(customers.map((c) => [c.id, c.name, c.tier, c.balance])).toEqual([
        [1, 'Ada Lovelace', 'enterprise', '1234.50'],
        [2, 'Alan Turing', 'pro', '0.00'],
        [3, 'Grace Hopper', 'free', '-20.00'],
        [4, 'Zoë 🚀 Ünicode', 'pro', '99.99'],
        [5, 'Katherine Johnson', 'enterprise', '1000000.01'],
      ]);

      await pg.exec(`UPDATE orders SET status = 'refunded', updated_at = TIMESTAMPTZ '2024-05-06 09:00:00+00' WHERE order_id = 7`);
      const second = await runCli(['run', '--job-dir', 'jobs', '--json'], { cwd: dir, env });
      expect(second.code, second.stderr).toBe(0);
      const report = JSON.parse(second.stdout) as { jobs: Array<{ job: string; rows: number }> };
      // The changed order plus the one-day lookback window (orders 96–120); no MySQL row changed.
      expect(Object.fromEntries(report.jobs.map((j) => [j.job, j.rows]))).toEqual({ customers_mysql: 0, orders_postgres: 26 });
      const metadata = path.join(dir, 'out/warehouse/acme/orders/metadata');
      const version = readFileSync(path.join(metadata, 'version-hint.text'), 'utf8').trim();
      const orders = await readIcebergTable({ metadataLocation: `file://${path.join(metadata, `v${version}.metadata.json`)}` });
      expect(orders).toHaveLength(120);
      expect(new Set(orders.map((o) => Number(o.order_id))).size).toBe(120);
      expect(orders.filter((o) => o.status === 'refunded').map((o) => Number(o.order_id))).toEqual([7]);
    } finally {
      await pg.drop();
      await my.drop();
    }
  });
});
