// Shared parts of the database → Parquet benchmarks: the 10-column table (the same shapes as the
// CSV benchmark), a job for it, and timing of the reference export command.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fresh, measureDativo, median } from './bench-util.mjs';

export const TABLE_COLUMNS = [
  { name: 'id', asset: 'bigint' },
  { name: 'customer_id', asset: 'integer' },
  { name: 'name', asset: 'string' },
  { name: 'email', asset: 'string' },
  { name: 'amount', asset: 'decimal(12,2)' },
  { name: 'score', asset: 'double' },
  { name: 'active', asset: 'boolean' },
  { name: 'signup_date', asset: 'date' },
  { name: 'updated_at', asset: 'timestamp' },
  { name: 'note', asset: 'string' },
];

/** Runs a command; resolves with its stdout (rejects with stderr on failure). */
export function run(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], ...options });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} exited with ${code}: ${err}`))));
  });
}

/** Wall time of a shell command (the reference tool), in seconds. */
export async function timeCommand(command) {
  const started = performance.now();
  await run('sh', ['-c', command]);
  return (performance.now() - started) / 1000;
}

/** Writes the asset and a job reading `table` with `source` settings into `work`. */
export function writeJob(work, connector, sourceYaml) {
  fresh(work);
  writeFileSync(path.join(work, 'asset.yaml'), `name: bench\nschema:\n${TABLE_COLUMNS.map((c) => `  - { name: ${c.name}, type: "${c.asset}" }`).join('\n')}\n`);
  writeFileSync(
    path.join(work, 'job.yaml'),
    `tenant_id: bench\nenvironment: dev\nsource_connector: ${connector}\ntarget_connector: parquet\nasset: bench\nasset_path: asset.yaml\nsource:\n${sourceYaml}target:\n  path: out\n  compression: zstd\n  partitioning: []\nlogging: { level: WARN }\n`,
  );
}

/** Alternates reference and dativo runs; prints medians, the ratio and dativo's peak RSS. */
export async function compare({ name, work, runs, rows, reference, referenceLabel, goal }) {
  const ref = [];
  const ours = [];
  for (let i = 0; i < runs; i++) {
    ref.push(await reference());
    fresh(path.join(work, 'out'));
    fresh(path.join(work, '.dativo'));
    ours.push(await measureDativo(['run', '--config', 'job.yaml', '--quiet'], work));
    process.stderr.write(`run ${i + 1}/${runs}: ${referenceLabel} ${ref.at(-1).toFixed(2)} s, dativo ${ours.at(-1).seconds.toFixed(2)} s (peak RSS ${ours.at(-1).peakRssMb.toFixed(0)} MB)\n`);
  }
  const r = median(ref);
  const o = median(ours.map((x) => x.seconds));
  const peak = Math.max(...ours.map((x) => x.peakRssMb));
  console.log(`${name}: ${rows} rows × ${TABLE_COLUMNS.length} columns`);
  console.log(`  ${referenceLabel}: ${r.toFixed(2)} s`);
  console.log(`  dativo → zstd Parquet: ${o.toFixed(2)} s  (${Math.round(rows / o).toLocaleString('en-US')} rows/s, peak RSS ${peak.toFixed(0)} MB, goal < 400 MB)`);
  console.log(`  ratio dativo/reference: ${(o / r).toFixed(2)}  (goal ≤ ${goal})`);
}
