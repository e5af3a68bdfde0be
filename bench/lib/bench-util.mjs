import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateCsv, generateTextCsv } from './generate-csv.mjs';

export const BENCH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = path.resolve(BENCH_DIR, '..');
export const DATA_DIR = path.join(BENCH_DIR, '.data');

/**
 * The benchmark CSV, generated once and reused (bench/.data is git-ignored): `standard` is the
 * 10-column mixed table, `text` the text-heavy one (four unique-ish text columns).
 */
export async function benchCsv(rows, shape = 'standard') {
  mkdirSync(DATA_DIR, { recursive: true });
  const file = path.join(DATA_DIR, `${shape === 'text' ? 'text' : 'bench'}-${rows}.csv`);
  if (!existsSync(file)) {
    process.stderr.write(`generating ${rows} rows into ${path.relative(ROOT, file)}…\n`);
    await (shape === 'text' ? generateTextCsv : generateCsv)(`${file}.tmp`, rows);
    const { renameSync } = await import('node:fs');
    renameSync(`${file}.tmp`, file);
  }
  return { file, bytes: statSync(file).size };
}

/** Runs `dativo` through bench/lib/measure.mjs and returns its time and peak RSS. */
export function measureDativo(args, cwd, env = {}, nodeArgs = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, path.join(BENCH_DIR, 'lib', 'measure.mjs'), ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', () => {
      const last = out.trim().split('\n').at(-1) ?? '';
      try {
        const result = JSON.parse(last);
        if (result.exitCode !== 0) reject(new Error(`dativo exited with ${result.exitCode}\n${out}\n${err}`));
        else resolve(result);
      } catch {
        reject(new Error(`no measurement from dativo\n${out}\n${err}`));
      }
    });
  });
}

export function fresh(dir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** The CSV → zstd Parquet job of the CSV benchmarks (asset.yaml and job.yaml in `work`). */
export function writeCsvParquetJob(work, file, columns) {
  writeFileSync(path.join(work, 'asset.yaml'), `name: bench\nschema:\n${columns.map((c) => `  - { name: ${c.name}, type: "${c.type}" }`).join('\n')}\n`);
  writeFileSync(
    path.join(work, 'job.yaml'),
    `tenant_id: bench\nenvironment: dev\nsource_connector: csv\ntarget_connector: parquet\nasset: bench\nasset_path: asset.yaml\nsource:\n  files: [{ path: ${JSON.stringify(file)} }]\ntarget:\n  path: out\n  compression: zstd\n  partitioning: []\nlogging: { level: WARN }\n`,
  );
}
