import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runPipeline, type ConfiguredStream, type ExtractMessage, type Extractor, type FieldSpec } from '@dativo/core';
import { parquetSink } from '@dativo/sink-parquet';
import { postgresSource } from '@dativo/source-postgres';
import type { SqlSourceConfig } from '@dativo/sql-kit';
import { reliabilityRow, tempDir, testRunContext } from '@dativo/testing';
import { queryDuckDb, sqlString } from '@dativo/testing/duckdb';
import { tempPostgresDatabase, type TempDatabase } from '@dativo/testing/sql';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parquetFiles, runCli } from './helpers.js';

/**
 * No silent partial success: a source that knows how many records a read covers (PostgreSQL's
 * `COUNT(*)` in the read's snapshot) has the run compare it with what arrived, and a stream that
 * reads nothing after runs that read plenty is flagged in the summary.
 */
const scratch = tempDir('dativo-totals-');
const dir = scratch.path;
let db: TempDatabase;
const ROWS = 5000;

async function sql(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: db.uri });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

async function ids(out: string): Promise<number[]> {
  const files = parquetFiles(out);
  if (!files.length) return [];
  const rows = await queryDuckDb(`SELECT id::INTEGER AS id FROM read_parquet([${files.map(sqlString).join(', ')}]) ORDER BY id`);
  return rows.map((r) => r.id as number);
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

beforeAll(async () => {
  db = await tempPostgresDatabase('dativo_totals');
  await sql(`CREATE TABLE orders (id bigint PRIMARY KEY, item text NOT NULL);
    INSERT INTO orders SELECT g, 'item ' || g FROM generate_series(1, ${ROWS}) g;`);
  mkdirSync(path.join(dir, 'jobs'), { recursive: true });
  writeFileSync(path.join(dir, 'orders.yaml'), 'name: orders\nschema:\n  - { name: id, type: bigint, required: true }\n  - { name: item, type: string, required: true }\nprimary_key: [id]\n');
  writeFileSync(
    path.join(dir, 'jobs', 'orders.yaml'),
    `tenant_id: acme\nenvironment: dev\nsource_connector: postgres\ntarget_connector: parquet\nasset: orders\nasset_path: orders.yaml\nsource:\n  tables: [{ name: orders, object: orders }]\n  connection: { uri: "${db.uri}" }\n  batch_rows: 1000\ntarget:\n  path: out/cli\n  partitioning: []\n`,
  );
});
afterAll(async () => {
  await db?.drop();
  scratch.cleanup();
});

describe('source totals and empty-run flags', () => {
  it('a reader that loses rows fails the run with the count it missed; what was committed stays, and a rerun delivers the rest once', async () => {
    const honest = postgresSource();
    // A reader with a bug: it drops the last row of its third batch (nothing errors, nothing warns).
    let batches = 0;
    const lossy: Extractor<SqlSourceConfig> = {
      ...honest,
      async *read(config, request, ctx) {
        for await (const m of honest.read(config, request, ctx)) {
          if (m.kind === 'batch' && ++batches === 3) {
            yield { ...m, batch: m.batch.slice(0, m.batch.numRows - 1) } as ExtractMessage;
            continue;
          }
          yield m;
        }
      },
    };
    const fields: FieldSpec[] = [
      { name: 'id', type: { kind: 'int64' }, nullable: false },
      { name: 'item', type: { kind: 'string' }, nullable: false },
    ];
    const stream: ConfiguredStream = { name: 'orders', schema: fields, syncMode: 'full_refresh', primaryKey: ['id'] };
    const out = path.join(dir, 'out', 'lossy');
    const sink = parquetSink();
    // Each run its own context (run id); the Parquet target keeps the checkpoints.
    const run = (extractor: Extractor<SqlSourceConfig>) =>
      runPipeline({
        extractor,
        sourceConfig: honest.configSchema.parse({ connection: { uri: db.uri }, tables: ['orders'], batch_rows: 1000 }),
        sink,
        sinkConfig: sink.configSchema.parse({ path: out, partitioning: [] }),
        streams: [stream],
        ctx: testRunContext(),
        commitPolicy: { everyRows: 1500 },
      });
    const failed = await run(lossy);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatchObject({ kind: 'permanent', code: 'RECORD_COUNT_MISMATCH' });
    expect(failed.error?.message).toBe(
      `stream 'orders': the source reported ${ROWS} records (COUNT(*) in the read's snapshot of public.orders) but ${ROWS - 1} arrived; the run stops rather than succeed with a gap (what was committed before is kept; a rerun resumes from it)`,
    );
    // Committed before the mismatch: the first 4 batches (after 2,000 and 3,999 rows), the third short by one row.
    const kept = await ids(out);
    expect(kept).toEqual(range(4000).filter((n) => n !== 3000));
    // The rerun resumes after the last commit; the lost row stays lost to this job (its position was
    // committed), which is why the run had to fail loudly: the operator sees it, and a reset re-reads.
    const rerun = await run(honest);
    expect(rerun).toMatchObject({ status: 'succeeded', rows: 1000 });
    expect(rerun.streams[0]?.verified).toBe(1000);
    expect(await ids(out)).toEqual(range(ROWS).filter((n) => n !== 3000));
    reliabilityRow({ connector: 'Any source reporting a total', fault: 'a reader that silently drops a row (PostgreSQL source behind a lossy wrapper)', outcome: 'the run fails (`RECORD_COUNT_MISMATCH`) naming the count; what was committed before stays' });
  });

  it('the CLI reports rows checked against the count; an emptied table is flagged on the next run (text and --json)', async () => {
    const first = await runCli(['run', 'jobs/orders.yaml'], { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^✔ acme\/orders {2}5,000 rows · .* · 5,000 checked against the source's count$/m);
    expect(await ids(path.join(dir, 'out', 'cli'))).toEqual(range(ROWS));

    await sql('DELETE FROM orders');
    const second = await runCli(['run', 'jobs/orders.yaml', '--json'], { cwd: dir });
    expect(second.code, second.stderr).toBe(0);
    const report = JSON.parse(second.stdout) as { jobs: Array<{ status: string; rows: number; streams: Array<{ verified?: number; anomaly?: unknown }> }> };
    expect(report.jobs[0]).toMatchObject({ status: 'succeeded', rows: 0 });
    expect(report.jobs[0]?.streams[0]).toMatchObject({
      verified: 0,
      anomaly: {
        kind: 'zero_records',
        previousRuns: [ROWS],
        message: `stream 'orders' read 0 records; its last run read ${ROWS} — check the source (permissions, filters, an emptied table)`,
      },
    });
    expect(second.stderr).toContain("stream 'orders' read 0 records");

    const third = await runCli(['run', 'jobs/orders.yaml'], { cwd: dir });
    // Flagged once: the empty run is now part of the history.
    expect(third.stdout).not.toContain('⚠');
    await sql(`INSERT INTO orders SELECT g, 'item ' || g FROM generate_series(1, ${ROWS}) g`);
    await runCli(['run', 'jobs/orders.yaml'], { cwd: dir });
    await sql('DELETE FROM orders');
    const fifth = await runCli(['run', 'jobs/orders.yaml'], { cwd: dir });
    expect(fifth.stdout).toContain(`  ⚠ stream 'orders' read 0 records; its last run read ${ROWS} — check the source`);
    reliabilityRow({ connector: 'PostgreSQL source', fault: 'the table emptied between runs', outcome: 'flagged in the summary (text and `--json`): "read 0 records; its last run read 5000"' });
  });
});
