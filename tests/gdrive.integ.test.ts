import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '@dativo/testing';
import { queryDuckDb, sqlString } from '@dativo/testing/duckdb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeDrive, type FakeDrive } from '../packages/source-gdrive-csv/src/fake-drive.js';
import { measureCli, parquetFiles, runCli } from './helpers.js';

/**
 * Google Drive CSV through the CLI, Google's Drive client against the Drive fake: a 150 MB file
 * streamed under 300 MB peak RSS, and `kill -9` mid-download, then a rerun: every row once.
 */
const scratch = tempDir('dativo-gdrive-cli-');
const dir = scratch.path;
let drive: FakeDrive;
let env: NodeJS.ProcessEnv;

/** `count` rows of `id,name,amount,day`, about 40 bytes each. */
function bigCsv(count: number): Buffer {
  const parts: string[] = ['id,name,amount,day\n'];
  for (let i = 1; i <= count; i++) parts.push(`${i},"customer ${i}, ltd",${(i % 10_000) / 100},2025-0${(i % 9) + 1}-2${i % 8}\n`);
  return Buffer.from(parts.join(''));
}

beforeAll(async () => {
  mkdirSync(path.join(dir, 'jobs'), { recursive: true });
  drive = await startFakeDrive();
  const key = path.join(dir, 'key.json');
  writeFileSync(key, JSON.stringify(drive.serviceAccountKey));
  env = { GOOGLE_APPLICATION_CREDENTIALS: key, GOOGLE_API_ROOT: drive.root };
  writeFileSync(path.join(dir, 'asset.yaml'), 'name: customers\nschema:\n  - { name: id, type: integer, required: true }\n  - { name: name, type: string }\n  - { name: amount, type: double }\n  - { name: day, type: date }\n');
});
afterAll(async () => {
  await drive?.close();
  scratch.cleanup();
});

const job = (name: string, fileId: string) =>
  writeFileSync(
    path.join(dir, 'jobs', `${name}.yaml`),
    `tenant_id: acme\nenvironment: dev\nsource_connector: gdrive_csv\ntarget_connector: parquet\nasset: customers\nasset_path: asset.yaml\nsource:\n  files: [{ id: ${fileId}, object: customers }]\n  incremental: { strategy: file_modified_time }\ntarget:\n  path: out/${name}\n  partitioning: []\nlogging: { level: WARN }\n`,
  );

describe('gdrive_csv through the CLI', () => {
  it('a 150 MB file streams into Parquet with peak RSS under 300 MB, every row once', async () => {
    const COUNT = 3_700_000;
    const content = bigCsv(COUNT);
    expect(content.length).toBeGreaterThan(150_000_000);
    drive.add({ id: 'big-file', name: 'customers.csv', mimeType: 'text/csv', content });
    job('big', 'big-file');
    const measured = await measureCli(['run', '--config', 'jobs/big.yaml', '--quiet'], { cwd: dir, env });
    expect(measured.exitCode, measured.stderr.slice(0, 2000)).toBe(0);
    expect(measured.peakRssMb).toBeLessThan(300);
    const files = parquetFiles(path.join(dir, 'out', 'big'));
    const [r] = await queryDuckDb(`SELECT count(*)::VARCHAR AS n, count(DISTINCT id)::VARCHAR AS ids, max(id)::VARCHAR AS last, min(name) AS name FROM read_parquet([${files.map(sqlString).join(', ')}])`);
    expect(r).toEqual({ n: String(COUNT), ids: String(COUNT), last: String(COUNT), name: 'customer 1, ltd' });
    drive.files.delete('big-file');
  }, 600_000);

  it('killed mid-download at a commit, then rerun: every row exactly once', async () => {
    drive.add({ id: 'mid-file', name: 'customers2.csv', mimeType: 'text/csv', content: bigCsv(300_000) });
    job('mid', 'mid-file');
    writeFileSync(path.join(dir, 'jobs', 'mid.yaml'), `${(await import('node:fs')).readFileSync(path.join(dir, 'jobs', 'mid.yaml'), 'utf8')}batch: { max_rows: 20000 }\ncommit: { every_rows: 40000 }\n`);
    const killed = await runCli(['run', 'jobs/mid.yaml', '-q'], { cwd: dir, env: { ...env, DATIVO_CRASH_AT: 'parquet:intent-written@3' } });
    expect(killed.signal).toBe('SIGKILL');
    const rerun = await runCli(['run', 'jobs/mid.yaml', '-q', '--json'], { cwd: dir, env });
    expect(rerun.code, rerun.stderr).toBe(0);
    // The rerun resumed inside the file: its download started at a byte offset.
    expect(drive.http.requests.some((r) => r.path === '/drive/v3/files/mid-file' && /^bytes=[1-9]/.test(String(r.headers.range ?? '')))).toBe(true);
    const files = parquetFiles(path.join(dir, 'out', 'mid'));
    const [r] = await queryDuckDb(`SELECT count(*)::INTEGER AS n, count(DISTINCT id)::INTEGER AS ids FROM read_parquet([${files.map(sqlString).join(', ')}])`);
    expect(r).toEqual({ n: 300_000, ids: 300_000 });
  });
});
