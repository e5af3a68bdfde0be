import { spawnSync } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '@dativo/testing';
import { queryDuckDb, sqlString } from '@dativo/testing/duckdb';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ES module shared with the benchmarks
import { BENCH_COLUMNS, generateCsv } from '../bench/lib/generate-csv.mjs';
import { parquetFiles, ROOT } from './helpers.js';

/** Acceptance: a 2-million-row, 10-column CSV (~370 MB) converts with peak RSS under 400 MB. */
const scratch = tempDir('dativo-memory-');
afterAll(() => scratch.cleanup());

describe('memory stays bounded', () => {
  it('converts 2 million rows with peak RSS under 400 MB, content equal to the CSV', async () => {
    const dir = scratch.path;
    const csv = path.join(dir, 'big.csv');
    await generateCsv(csv, 2_000_000);
    expect(statSync(csv).size).toBeGreaterThan(350 * 1024 * 1024);
    const columns = BENCH_COLUMNS as Array<{ name: string; type: string; duck: string }>;
    writeFileSync(path.join(dir, 'asset.yaml'), `name: big\nschema:\n${columns.map((c) => `  - { name: ${c.name}, type: "${c.type}" }`).join('\n')}\n`);
    writeFileSync(path.join(dir, 'job.yaml'), `tenant_id: t\nenvironment: dev\nsource_connector: csv\ntarget_connector: parquet\nasset: big\nasset_path: asset.yaml\nsource:\n  files: [big.csv]\ntarget:\n  path: out\nlogging: { level: WARN }\n`);
    const run = spawnSync(process.execPath, [path.join(ROOT, 'bench', 'lib', 'measure.mjs'), 'run', '--config', 'job.yaml', '--quiet'], { cwd: dir, encoding: 'utf8', maxBuffer: 64 << 20 });
    const measured = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as { exitCode: number; peakRssMb: number };
    expect(measured.exitCode, run.stderr).toBe(0);
    expect(measured.peakRssMb).toBeLessThan(400);

    const files = parquetFiles(path.join(dir, 'out'));
    const sums = 'count(*)::VARCHAR AS n, sum(id)::VARCHAR AS ids, sum(amount)::VARCHAR AS amount, bit_xor(hash(id, customer_id, name, email, amount, score, active, signup_date, updated_at, note))::VARCHAR AS row_hash, count(*) FILTER (WHERE active)::VARCHAR AS active, max(signup_date)::VARCHAR AS d, sum(epoch_us(updated_at))::VARCHAR AS ts, sum(length(note))::VARCHAR AS notes, count(DISTINCT email)::VARCHAR AS emails';
    const [ours] = await queryDuckDb(`SELECT ${sums} FROM read_parquet([${files.map(sqlString).join(', ')}])`);
    const spec = columns.map((c) => `'${c.name}': '${c.duck}'`).join(', ');
    const [direct] = await queryDuckDb(`SELECT ${sums} FROM read_csv(${sqlString(csv)}, header = true, columns = {${spec}})`);
    expect(ours).toEqual(direct);
    expect(ours?.n).toBe('2000000');
  });
});
