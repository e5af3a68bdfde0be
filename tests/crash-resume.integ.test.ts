import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { reliabilityRow, tempDir } from '@dativo/testing';
import { queryDuckDb, sqlString } from '@dativo/testing/duckdb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers.js';
import { noteLength, writeRowsCsv } from './fleet-helpers.js';

/** Acceptance: `kill -9` during a run, then a rerun: every input row appears exactly once. */
const scratch = tempDir('dativo-crash-');
afterAll(() => scratch.cleanup());
const dir = scratch.path;

function job(name: string, file: string): void {
  writeFileSync(
    path.join(dir, 'jobs', `${name}.yaml`),
    `tenant_id: acme
environment: dev
source_connector: csv
target_connector: parquet
asset: rows
asset_path: assets/rows.yaml
source:
  files: [{ path: ${file} }]
target:
  path: out/${name}
  row_group_rows: 20000
commit:
  every_rows: 40000
`,
  );
}

/** Starts a run and kills it with SIGKILL once `commitsBefore` more commits are on disk (plus a delay). */
async function runAndKill(name: string, waitCommits: number, delayMs: number): Promise<void> {
  const commits = path.join(dir, 'out', name, '_dativo', 'commits');
  const count = (): number => (existsSync(commits) ? (readdirSync(commits, { recursive: true }) as string[]).filter((f) => f.endsWith('.json')).length : 0);
  const start = count();
  let pid = 0;
  const done = runCli(['run', '--config', `jobs/${name}.yaml`, '-q'], { cwd: dir, onSpawn: (p) => (pid = p) });
  const deadline = Date.now() + 120_000;
  while (count() < start + waitCommits && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, delayMs));
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already finished
  }
  await done;
}

async function checkExactlyOnce(name: string, rows: number): Promise<void> {
  const glob = path.join(dir, 'out', name, 'ingest_date=*', '*.parquet');
  const [r] = await queryDuckDb(`SELECT count(*)::BIGINT::VARCHAR AS n, count(DISTINCT id)::BIGINT::VARCHAR AS d, min(id)::VARCHAR AS lo, max(id)::VARCHAR AS hi, sum(length(note))::VARCHAR AS len FROM read_parquet(${sqlString(glob)})`);
  const len = noteLength(rows);
  expect(r).toEqual({ n: String(rows), d: String(rows), lo: '0', hi: String(rows - 1), len: String(len) });
}

beforeAll(async () => {
  for (const sub of ['jobs', 'assets', 'data']) mkdirSync(path.join(dir, sub), { recursive: true });
  writeFileSync(path.join(dir, 'assets/rows.yaml'), 'name: rows\nschema:\n  - { name: id, type: bigint, required: true }\n  - { name: name, type: string }\n  - { name: note, type: string }\n');
  await writeRowsCsv(path.join(dir, 'data/rows.csv'), 1_200_000);
  await writeRowsCsv(path.join(dir, 'data/rows.csv.gz'), 400_000, true);
  job('plain', 'data/rows.csv');
  job('zipped', 'data/rows.csv.gz');
});

describe('kill -9 and rerun', () => {
  it('resumes a plain CSV from its byte offset: no gaps, no duplicates', async () => {
    await runAndKill('plain', 1, 0);
    await runAndKill('plain', 1, 150);
    await runAndKill('plain', 2, 40);
    const commitsBefore = (readdirSync(path.join(dir, 'out/plain/_dativo/commits'), { recursive: true }) as string[]).filter((f) => f.endsWith('.json')).length;
    expect(commitsBefore).toBeGreaterThanOrEqual(4);
    const final = await runCli(['run', '--config', 'jobs/plain.yaml', '--json'], { cwd: dir });
    expect(final.code, final.stderr).toBe(0);
    const report = JSON.parse(final.stdout) as { jobs: Array<{ rows: number; streams: Array<{ resumed: boolean }> }> };
    expect(report.jobs[0]?.streams[0]?.resumed).toBe(true);
    expect(report.jobs[0]?.rows).toBeLessThan(1_200_000);
    await checkExactlyOnce('plain', 1_200_000);
    reliabilityRow({ connector: 'CSV source → Parquet', fault: '`kill -9` mid-read, three times at different points', outcome: 'resumed from the byte offset of the last commit: every row once' });
  });

  for (const point of ['parquet:intent-written@2', 'parquet:file-moved@2']) {
    it(`killed at ${point} (inside a commit): the next run rolls the commit forward, no duplicates`, async () => {
      const name = `point_${point.split(':')[1]?.replace(/[-@]/g, '_')}`;
      job(name, 'data/rows.csv');
      const killed = await runCli(['run', '--config', `jobs/${name}.yaml`, '-q'], { cwd: dir, env: { DATIVO_CRASH_AT: point } });
      expect(killed.signal).toBe('SIGKILL');
      const final = await runCli(['run', '--config', `jobs/${name}.yaml`, '--json'], { cwd: dir });
      expect(final.code, final.stderr).toBe(0);
      expect(final.stderr).toContain('rolling forward an unfinished commit from a previous run');
      await checkExactlyOnce(name, 1_200_000);
      reliabilityRow({ connector: 'Parquet target', fault: '`kill -9` inside a commit (intent written, file moved)', outcome: 'the next run rolls the commit forward: every row once' });
    });
  }

  it('resumes a gzip CSV by skipping the committed rows: no gaps, no duplicates', async () => {
    await runAndKill('zipped', 1, 30);
    await runAndKill('zipped', 1, 0);
    const final = await runCli(['run', '--config', 'jobs/zipped.yaml', '-q'], { cwd: dir });
    expect(final.code, final.stderr).toBe(0);
    await checkExactlyOnce('zipped', 400_000);
    reliabilityRow({ connector: 'CSV source (gzip) → Parquet', fault: '`kill -9` mid-read, twice', outcome: 'resumed by skipping the committed rows: every row once' });
  });
});
