import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '@dativo/testing';
import { queryDuckDb, sqlString } from '@dativo/testing/duckdb';
import { icebergDataFiles, readIcebergTable } from '@dativo/testing/iceberg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers.js';

/**
 * Acceptance (issue 8.1): a checkpoint a sink keeps belongs to one (tenant, job, stream). Two jobs
 * writing into one Parquet location or one Iceberg table each keep their own progress, through
 * reruns and `kill -9`, and every row of both lands exactly once.
 */
const scratch = tempDir('dativo-shared-');
afterAll(() => scratch.cleanup());
const dir = scratch.path;
const ROWS = 200_000;

interface Report {
  jobs: Array<{ status: string; rows: number; streams: Array<{ resumed: boolean }> }>;
}

function csv(file: string, from: number, rows: number): void {
  let text = 'id,name\n';
  for (let i = from; i < from + rows; i++) text += `${i},name ${i} ${'q'.repeat(i % 30)}\n`;
  writeFileSync(path.join(dir, file), text);
}

function job(name: string, file: string, target: string): string {
  writeFileSync(
    path.join(dir, 'jobs', `${name}.yaml`),
    `tenant_id: acme\nenvironment: dev\nsource_connector: csv\ntarget_connector: ${target.includes('catalog') ? 'iceberg' : 'parquet'}\nasset: rows\nasset_path: asset.yaml\nsource:\n  files: [${file}]\n  incremental: { strategy: file_modified_time }\ntarget:\n${target}commit:\n  every_rows: 40000\n`,
  );
  return `jobs/${name}.yaml`;
}

async function run(file: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; signal: NodeJS.Signals | null; report?: Report; stdout: string; stderr: string }> {
  const r = await runCli(['run', '--config', file, '--json'], { cwd: dir, env });
  return { ...r, ...(r.stdout.trim().startsWith('{') ? { report: JSON.parse(r.stdout) as Report } : {}) };
}

/** Starts a run and kills it with SIGKILL once the location holds `more` new commit records. */
async function runAndKill(file: string, commitsDir: string, more: number): Promise<void> {
  const count = (): number => (existsSync(commitsDir) ? (readdirSync(commitsDir, { recursive: true }) as string[]).filter((f) => f.endsWith('.json')).length : 0);
  const start = count();
  let pid = 0;
  const done = runCli(['run', '--config', file, '-q'], { cwd: dir, onSpawn: (p) => (pid = p) });
  const deadline = Date.now() + 120_000;
  while (count() < start + more && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // it finished first; the reruns below then find nothing new
  }
  await done;
}

async function parquetIds(location: string): Promise<{ n: string; d: string; lo: string; hi: string }> {
  const [r] = await queryDuckDb(
    `SELECT count(*)::BIGINT::VARCHAR AS n, count(DISTINCT id)::BIGINT::VARCHAR AS d, min(id)::VARCHAR AS lo, max(id)::VARCHAR AS hi FROM read_parquet(${sqlString(path.join(dir, location, '**', '*.parquet'))}, filename = true) WHERE filename NOT LIKE '%/_dativo/%'`,
  );
  return r as { n: string; d: string; lo: string; hi: string };
}

beforeAll(() => {
  mkdirSync(path.join(dir, 'jobs'), { recursive: true });
  mkdirSync(path.join(dir, 'data'), { recursive: true });
  writeFileSync(path.join(dir, 'asset.yaml'), 'name: rows\nschema:\n  - { name: id, type: bigint, required: true }\n  - { name: name, type: string }\n');
  csv('data/a.csv', 0, ROWS);
  csv('data/b.csv', ROWS, ROWS);
  csv('data/small-a.csv', 0, 3);
  csv('data/small-b.csv', 3, 4);
});

describe('jobs that share an output location', () => {
  it('the reproduction: a second job into the same Parquet path ingests its own rows', async () => {
    const a = job('people_a', 'data/small-a.csv', '  path: out/repro\n');
    const b = job('people_b', 'data/small-b.csv', '  path: out/repro\n');
    const first = await run(a);
    expect(first.code, first.stderr).toBe(0);
    const second = await run(b);
    expect(second.code, second.stderr).toBe(0);
    expect(second.report?.jobs[0]?.rows).toBe(4);
    expect(second.report?.jobs[0]?.streams[0]?.resumed).toBe(false);
    expect(await parquetIds('out/repro')).toEqual({ n: '7', d: '7', lo: '0', hi: '6' });
    // Reruns find nothing new for either job: nothing is written twice.
    for (const file of [a, b]) {
      const again = await runCli(['run', '--config', file], { cwd: dir });
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toContain('0 rows');
      expect(again.stdout).toContain('nothing new since the last run');
    }
    expect(await parquetIds('out/repro')).toEqual({ n: '7', d: '7', lo: '0', hi: '6' });
  });

  it('a renamed job is a new job, unless state_id (or --state-id) names the old one', async () => {
    const original = job('people_orig', 'data/small-a.csv', '  path: out/renamed\n');
    expect((await run(original)).code).toBe(0);
    writeFileSync(path.join(dir, 'jobs/people_new.yaml'), `${readFileSync(path.join(dir, original), 'utf8')}state_id: people_orig\n`);
    const continued = await run('jobs/people_new.yaml');
    expect(continued.code, continued.stderr).toBe(0);
    expect(continued.report?.jobs[0]?.rows).toBe(0);
    expect(continued.report?.jobs[0]?.streams[0]?.resumed).toBe(true);
    const byFlag = await runCli(['run', '--config', 'jobs/people_new.yaml', '--state-id', 'people_orig', '--json'], { cwd: dir });
    expect(JSON.parse(byFlag.stdout).jobs[0].rows).toBe(0);
    writeFileSync(path.join(dir, 'jobs/people_fresh.yaml'), readFileSync(path.join(dir, original), 'utf8'));
    const fresh = await run('jobs/people_fresh.yaml');
    expect(fresh.report?.jobs[0]?.rows).toBe(3);
    const dirFlag = await runCli(['run', '--job-dir', 'jobs', '--state-id', 'x'], { cwd: dir });
    expect(dirFlag.code).toBe(2);
    expect(dirFlag.stderr).toContain('--state-id names the progress of one job; use it with --config');
  });

  /** Two jobs into one location, alternating: each killed by timing twice and at a commit point once, then rerun to the end. */
  async function alternate(prefix: string, target: string, watched: string, points: [string, string]): Promise<void> {
    const a = job(`${prefix}_a`, 'data/a.csv', target);
    const b = job(`${prefix}_b`, 'data/b.csv', target);
    await runAndKill(a, watched, 1);
    await runAndKill(b, watched, 2);
    expect((await run(a, { DATIVO_CRASH_AT: points[0] })).signal).toBe('SIGKILL');
    expect((await run(b, { DATIVO_CRASH_AT: points[1] })).signal).toBe('SIGKILL');
    await runAndKill(a, watched, 1);
    for (const file of [b, a, b, a]) {
      const r = await run(file);
      expect(r.code, r.stderr).toBe(0);
    }
  }
  const allRows = { n: String(2 * ROWS), d: String(2 * ROWS), lo: '0', hi: String(2 * ROWS - 1) };

  it('two jobs alternating appends into one Parquet location, each killed mid-run and at commit points: every row exactly once', async () => {
    await alternate('parquet', '  path: out/parquet-shared\n  row_group_rows: 20000\n', path.join(dir, 'out/parquet-shared/_dativo/commits'), ['parquet:intent-written@1', 'parquet:file-moved@2']);
    expect(await parquetIds('out/parquet-shared')).toEqual(allRows);
  });

  it('two jobs alternating appends into one Iceberg table, each killed mid-run and at commit points: every row exactly once', async () => {
    const metadata = path.join(dir, 'warehouse/acme/shared/metadata');
    await alternate('iceberg', '  catalog: { type: filesystem }\n  warehouse: warehouse\n  namespace: acme\n  table: shared\n', metadata, ['iceberg:manifests-written@1', 'iceberg:committed@2']);
    const version = readFileSync(path.join(metadata, 'version-hint.text'), 'utf8').trim();
    const metadataLocation = `file://${path.join(metadata, `v${version}.metadata.json`)}`;
    const files = await icebergDataFiles({ metadataLocation });
    const [r] = await queryDuckDb(`SELECT count(*)::BIGINT::VARCHAR AS n, count(DISTINCT id)::BIGINT::VARCHAR AS d, min(id)::VARCHAR AS lo, max(id)::VARCHAR AS hi FROM read_parquet([${files.map((f) => sqlString(f.path)).join(', ')}], hive_partitioning = false)`);
    expect(r).toEqual(allRows);
    // The independent Iceberg reader sees the same table.
    const rows = await readIcebergTable({ metadataLocation });
    expect(rows).toHaveLength(2 * ROWS);
    expect(new Set(rows.map((row) => String(row.id))).size).toBe(2 * ROWS);
  });
});
