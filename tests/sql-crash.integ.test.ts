import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '@dativo/testing';
import { queryDuckDb, sqlString } from '@dativo/testing/duckdb';
import { tempMysqlDatabase, tempPostgresDatabase, type TempDatabase, type TempMysqlDatabase } from '@dativo/testing/sql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers.js';

/**
 * Database sources through the CLI: `kill -9` during a run (at a commit, and at an arbitrary
 * moment), then a rerun — every row lands exactly once; then incremental runs read exactly the
 * rows that changed.
 */
const scratch = tempDir('dativo-sql-crash-');
const dir = scratch.path;
const ROWS = 30_000;
let pgdb: TempDatabase;
let mydb: TempMysqlDatabase;

async function pgExec(sql: string): Promise<void> {
  await pgdb.exec(sql);
}

beforeAll(async () => {
  mkdirSync(path.join(dir, 'jobs'), { recursive: true });
  writeFileSync(
    path.join(dir, 'asset.yaml'),
    'name: orders\nschema:\n  - { name: id, type: bigint, required: true }\n  - { name: customer, type: string }\n  - { name: amount, type: "decimal(12,2)" }\n  - { name: updated_at, type: timestamp }\nprimary_key: [id]\n',
  );
  pgdb = await tempPostgresDatabase('dativo_crash');
  await pgExec(`CREATE TABLE "Orders" (id bigint PRIMARY KEY, customer text, amount numeric(12,2), updated_at timestamp NOT NULL);
    INSERT INTO "Orders" SELECT g, 'customer ' || (g % 977), (g % 100000) / 100.0, TIMESTAMP '2024-01-01' + g * INTERVAL '1 second' FROM generate_series(1, ${ROWS}) g;`);
  mydb = await tempMysqlDatabase('dativo_crash');
  const digits = '(SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)';
  await mydb.exec(`CREATE TABLE \`Orders\` (id bigint PRIMARY KEY, customer text, amount decimal(12,2), updated_at datetime NOT NULL);
    INSERT INTO \`Orders\` SELECT n, CONCAT('customer ', n % 977), (n % 100000) / 100, TIMESTAMP '2024-01-01 00:00:00' + INTERVAL n SECOND
      FROM (SELECT 1 + a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d AS n FROM ${digits} a, ${digits} b, ${digits} c, ${digits} e, ${digits} f) s WHERE n <= ${ROWS};`);
});
afterAll(async () => {
  await pgdb?.drop();
  await mydb?.drop();
  scratch.cleanup();
});

const engines = [
  { name: 'postgres', connection: () => `{ uri: "${pgdb.uri}" }`, exec: (sql: string) => pgExec(sql), table: '"Orders"' },
  { name: 'mysql', connection: () => `{ uri: "${mydb.uri}" }`, exec: (sql: string) => mydb.exec(sql).then(() => undefined), table: '`Orders`' },
] as const;

function writeJob(engine: (typeof engines)[number], name: string, incremental: boolean): string {
  const file = path.join('jobs', `${name}.yaml`);
  writeFileSync(
    path.join(dir, file),
    `tenant_id: acme
environment: dev
source_connector: ${engine.name}
target_connector: parquet
asset: orders
asset_path: asset.yaml
source:
  tables: [{ name: Orders, object: orders${incremental ? ', cursor_field: updated_at' : ''} }]
  connection: ${engine.connection()}
  batch_rows: 1000
${incremental ? '  incremental: { strategy: updated_at, lookback_days: 0 }\n' : ''}target:
  path: out/${name}
  partitioning: []
commit:
  every_rows: 3000
`,
  );
  return file;
}

async function output(name: string): Promise<{ n: string; d: string; total: string }> {
  const [r] = await queryDuckDb(`SELECT count(*)::VARCHAR AS n, count(DISTINCT id)::VARCHAR AS d, sum(amount)::VARCHAR AS total FROM read_parquet(${sqlString(path.join(dir, 'out', name, '*.parquet'))})`);
  return r as { n: string; d: string; total: string };
}

const expectedTotal = (): string => {
  let cents = 0;
  for (let g = 1; g <= ROWS; g++) cents += g % 100000;
  return (cents / 100).toFixed(2);
};

for (const engine of engines) {
  describe(`${engine.name} source: crash and resume`, () => {
    it('killed at a commit, then rerun: every row exactly once', async () => {
      const file = writeJob(engine, `${engine.name}-commit-kill`, false);
      const killed = await runCli(['run', file, '-q'], { cwd: dir, env: { DATIVO_CRASH_AT: 'parquet:intent-written@3' } });
      expect(killed.signal).toBe('SIGKILL');
      const rerun = await runCli(['run', file, '-q', '--json'], { cwd: dir });
      expect(rerun.code, rerun.stderr).toBe(0);
      expect(JSON.parse(rerun.stdout).jobs[0].rows).toBeLessThan(ROWS);
      expect(await output(`${engine.name}-commit-kill`)).toEqual({ n: String(ROWS), d: String(ROWS), total: expectedTotal() });
    });

    it('killed at an arbitrary moment mid-read, then rerun: no gaps, no duplicates; incremental runs read exactly the changes', async () => {
      const name = `${engine.name}-incremental`;
      const file = writeJob(engine, name, true);
      const commits = path.join(dir, 'out', name, '_dativo', 'commits');
      const count = (): number => (existsSync(commits) ? (readdirSync(commits, { recursive: true }) as string[]).filter((f) => f.endsWith('.json')).length : 0);
      let pid = 0;
      const done = runCli(['run', file, '-q'], { cwd: dir, onSpawn: (p) => (pid = p) });
      const deadline = Date.now() + 60_000;
      while (count() < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 15));
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // it finished first: the rerun below then reads nothing new
      }
      await done;
      const rerun = await runCli(['run', file, '-q'], { cwd: dir });
      expect(rerun.code, rerun.stderr).toBe(0);
      expect(await output(name)).toEqual({ n: String(ROWS), d: String(ROWS), total: expectedTotal() });

      // 200 updated rows and 300 new ones: the next run reads exactly those 500.
      await engine.exec(`UPDATE ${engine.table} SET amount = amount + 1, updated_at = TIMESTAMP '2025-01-01 00:00:00' WHERE id <= 200`);
      const values = Array.from({ length: 300 }, (_, i) => `(${ROWS + 1 + i}, 'late', 1.00, TIMESTAMP '2025-01-02 00:00:00')`).join(', ');
      await engine.exec(`INSERT INTO ${engine.table} VALUES ${values}`);
      const next = await runCli(['run', file, '-q', '--json'], { cwd: dir });
      expect(next.code, next.stderr).toBe(0);
      expect(JSON.parse(next.stdout).jobs[0].rows).toBe(500);
      const again = await runCli(['run', file, '-q', '--json'], { cwd: dir });
      expect(JSON.parse(again.stdout).jobs[0].rows).toBe(0);
    });
  });
}
