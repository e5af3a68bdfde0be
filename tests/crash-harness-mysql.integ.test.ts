import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { crashResumeHarness, reliabilityRow, tempDir } from '@dativo/testing';
import { queryDuckDb, sqlString } from '@dativo/testing/duckdb';
import { tempMysqlDatabase, type TempMysqlDatabase } from '@dativo/testing/sql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CRASH_SEEDS, parquetFiles, reportHarness, runCli } from './helpers.js';

/**
 * The crash-resume harness for MySQL → Parquet (see crash-harness.integ.test.ts): seeded `kill -9`
 * sequences, then the Parquet output compared with the table by DuckDB. In the one-at-a-time lane:
 * MySQL's parallel snapshot takes a server-wide read lock.
 */
const scratch = tempDir('dativo-harness-mysql-');
const dir = scratch.path;
const ROWS = 50_000;
let db: TempMysqlDatabase;

beforeAll(async () => {
  mkdirSync(path.join(dir, 'jobs'), { recursive: true });
  writeFileSync(path.join(dir, 'rows.yaml'), 'name: rows\nschema:\n  - { name: id, type: bigint, required: true }\n  - { name: name, type: string }\n  - { name: amount, type: "decimal(12,2)" }\nprimary_key: [id]\n');
  db = await tempMysqlDatabase('dativo_harness');
  const digits = '(SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)';
  await db.exec(`CREATE TABLE \`rows\` (id bigint PRIMARY KEY, name text, amount decimal(12,2), updated_at datetime NOT NULL);
    INSERT INTO \`rows\` SELECT n, CONCAT('row ', n), (n % 10000) / 100, TIMESTAMP '2024-01-01 00:00:00' + INTERVAL n SECOND
      FROM (SELECT 1 + a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d AS n FROM ${digits} a, ${digits} b, ${digits} c, ${digits} e, ${digits} f) s WHERE n <= ${ROWS};`);
  writeFileSync(
    path.join(dir, 'jobs', 'mysql-parquet.yaml'),
    `tenant_id: acme\nenvironment: dev\nsource_connector: mysql\ntarget_connector: parquet\nasset: rows\nasset_path: rows.yaml\nsource:\n  tables: [{ name: rows, object: rows, cursor_field: updated_at }]\n  connection: { uri: "${db.uri}" }\n  batch_rows: 2500\n  incremental: { strategy: updated_at, lookback_days: 0 }\ntarget:\n  path: out/mysql\n  partitioning: []\ncommit: { every_rows: 5000 }\n`,
  );
});
afterAll(async () => {
  await db?.drop();
  scratch.cleanup();
});

describe('crash-resume harness', () => {
  it(`MySQL → Parquet: ${CRASH_SEEDS} seeded kill sequences, every row once with its value`, async () => {
    const cents = Array.from({ length: ROWS }, (_, i) => (i + 1) % 10_000).reduce((a, b) => a + b, 0);
    const iterations = await crashResumeHarness({
      seeds: CRASH_SEEDS,
      run: (env, onSpawn) => runCli(['run', 'jobs/mysql-parquet.yaml', '-q'], { cwd: dir, env, onSpawn }),
      crashPoints: ['parquet:intent-written', 'parquet:file-moved'],
      killWithinMs: 2_500,
      reset: async () => rmSync(path.join(dir, 'out', 'mysql'), { recursive: true, force: true }),
      verify: async () => {
        const files = parquetFiles(path.join(dir, 'out', 'mysql'));
        const [r] = await queryDuckDb(`SELECT count(*)::INTEGER AS n, count(DISTINCT id)::INTEGER AS ids, (sum(amount) * 100)::BIGINT::VARCHAR AS cents FROM read_parquet([${files.map(sqlString).join(', ')}])`);
        expect(r).toEqual({ n: ROWS, ids: ROWS, cents: String(cents) });
      },
    });
    reportHarness('MySQL → Parquet', iterations);
    expect(iterations).toHaveLength(CRASH_SEEDS);
    reliabilityRow({ connector: 'MySQL source → Parquet', fault: '`kill -9` at seeded crash points and delays, 1–3 times per seed', outcome: 'the rerun completes: every row once with its value' });
  }, Math.max(300_000, CRASH_SEEDS * 45_000));
});
