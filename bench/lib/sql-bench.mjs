// Shared parts of the database → Parquet benchmarks: the 10-column table (the same shapes as the
// CSV benchmark), a job for it, and timing of the reference export command.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { benchCsv, DATA_DIR, fresh, measureDativo, median } from './bench-util.mjs';
import { TEXT_COLUMNS } from './generate-csv.mjs';

export { TEXT_COLUMNS };

const TABLE_COLUMNS = [
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

/** Writes the asset (`columns`) and a job with `source` settings into `work`. */
function writeJob(work, connector, sourceYaml, columns) {
  fresh(work);
  writeFileSync(path.join(work, 'asset.yaml'), `name: bench\nschema:\n${columns.map((c) => `  - { name: ${c.name}, type: "${c.asset ?? c.type}" }`).join('\n')}\n`);
  writeFileSync(
    path.join(work, 'job.yaml'),
    `tenant_id: bench\nenvironment: dev\nsource_connector: ${connector}\ntarget_connector: parquet\nasset: bench\nasset_path: asset.yaml\nsource:\n${sourceYaml}target:\n  path: out\n  compression: zstd\n  partitioning: []\nlogging: { level: WARN }\n`,
  );
}

/** Alternates reference and dativo runs; prints medians, the ratio and dativo's peak RSS. */
async function compare({ name, work, runs, rows, reference, referenceLabel, goal, columns }) {
  const ref = [];
  const ours = [];
  for (let i = 0; i < runs; i++) {
    ref.push(await reference());
    fresh(path.join(work, 'out'));
    fresh(path.join(work, '.dativo'));
    ours.push(await measureDativo(['run', '--config', 'job.yaml', '--quiet'], work));
    process.stderr.write(`run ${i + 1}/${runs}: ${referenceLabel} ${ref.at(-1).toFixed(2)} s, dativo ${ours.at(-1).seconds.toFixed(2)} s (CPU ${ours.at(-1).cpuSeconds.toFixed(2)} s, peak RSS ${ours.at(-1).peakRssMb.toFixed(0)} MB)\n`);
  }
  const r = median(ref);
  const o = median(ours.map((x) => x.seconds));
  const peak = Math.max(...ours.map((x) => x.peakRssMb));
  const cpu = median(ours.map((x) => x.cpuSeconds));
  console.log(`${name}: ${rows} rows × ${columns.length} columns`);
  console.log(`  ${referenceLabel}: ${r.toFixed(2)} s`);
  console.log(`  dativo → zstd Parquet: ${o.toFixed(2)} s  (${Math.round(rows / o).toLocaleString('en-US')} rows/s, CPU ${cpu.toFixed(2)} s, peak RSS ${peak.toFixed(0)} MB, goal < 350 MB)`);
  console.log(`  ratio dativo/reference: ${(o / r).toFixed(2)}  (goal ≤ ${goal})`);
  return { reference: r, dativo: o, ratio: o / r, peakRssMb: peak };
}

/** The `--table` option of the database benchmarks: `standard`, `text` or `all` (both, in that order). */
export function tablesOption(value) {
  if (value === 'all') return ['standard', 'text'];
  if (value === 'standard' || value === 'text') return [value];
  throw new Error(`--table must be standard, text or all (got ${value})`);
}

/** The two tables every database benchmark reads (the same rows as the CSV benchmark's files). */
const TABLES = {
  standard: { table: 'bench', columns: TABLE_COLUMNS },
  text: { table: 'bench_text', columns: TEXT_COLUMNS },
};

/**
 * Runs the comparison for each table shape: creates the table unless `rowsIn(table)` already
 * counts `rows` (`create.standard()`, or `create.text(csvFile)` loading the text-heavy
 * CSV), writes the job and times `reference(select, outFile)` against `dativo run`.
 */
export async function benchTables({ shapes, rowsIn, create, benchName, connector, sourceYaml, referenceLabel, referenceFile, reference, rows, runs }) {
  for (const shape of shapes) {
    const { table, columns } = TABLES[shape];
    if ((await rowsIn(table)) !== rows) {
      const csv = shape === 'text' ? (await benchCsv(rows, 'text')).file : undefined;
      process.stderr.write(`creating ${table} with ${rows} rows in dativo_bench…\n`);
      await create[shape](csv);
    }
    const work = path.join(DATA_DIR, `${benchName}-${shape}`);
    writeJob(work, connector, sourceYaml(table), columns);
    const select = `SELECT ${columns.map((c) => c.name).join(', ')} FROM ${table}`;
    const out = path.join(work, referenceFile);
    await compare({ name: `${benchName} (${shape}: ${table})`, work, runs, rows, columns, referenceLabel, goal: shape === 'text' ? 2.0 : 2.5, reference: () => reference(select, out) });
  }
}
