#!/usr/bin/env node
// Benchmark: CSV → Iceberg (file-system catalog, zstd, v1 default ingest_date partition) divided
// by CSV → Parquet for the same 2M-row file, both through the dativo CLI in this run.
//
//   node bench/csv-to-iceberg.mjs [--rows 2000000] [--runs 3]
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BENCH_COLUMNS } from './lib/generate-csv.mjs';
import { benchCsv, DATA_DIR, fresh, measureDativo, median } from './lib/bench-util.mjs';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '2000000' }, runs: { type: 'string', default: '3' } } });
const rows = Number(values.rows);
const runs = Number(values.runs);
const { file, bytes } = await benchCsv(rows);
const work = path.join(DATA_DIR, 'csv-to-iceberg');
fresh(work);
writeFileSync(path.join(work, 'asset.yaml'), `name: bench\nschema:\n${BENCH_COLUMNS.map((c) => `  - { name: ${c.name}, type: "${c.type}" }`).join('\n')}\n`);
const job = (name, target) =>
  writeFileSync(
    path.join(work, `${name}.yaml`),
    `tenant_id: bench\nenvironment: dev\nsource_connector: csv\ntarget_connector: ${name === 'iceberg' ? 'iceberg' : 'parquet'}\nasset: bench\nasset_path: asset.yaml\nsource:\n  files: [{ path: ${JSON.stringify(file)} }]\ntarget:\n${target}logging: { level: WARN }\n`,
  );
job('parquet', '  path: out/parquet\n  compression: zstd\n  partitioning: [ingest_date]\n');
job('iceberg', '  catalog: { type: filesystem }\n  warehouse: out/warehouse\n  compression: zstd\n  partitioning: [ingest_date]\n');

async function run(name) {
  fresh(path.join(work, 'out'));
  fresh(path.join(work, '.dativo'));
  return measureDativo(['run', '--config', `${name}.yaml`, '--quiet'], work);
}

const parquet = [];
const iceberg = [];
for (let i = 0; i < runs; i++) {
  parquet.push(await run('parquet'));
  iceberg.push(await run('iceberg'));
  process.stderr.write(`run ${i + 1}/${runs}: parquet ${parquet.at(-1).seconds.toFixed(2)} s, iceberg ${iceberg.at(-1).seconds.toFixed(2)} s\n`);
}
const p = median(parquet.map((r) => r.seconds));
const ice = median(iceberg.map((r) => r.seconds));
console.log(`csv-to-iceberg: ${rows} rows, ${(bytes / 1048576).toFixed(0)} MiB CSV`);
console.log(`  dativo CSV → Parquet: ${p.toFixed(2)} s`);
console.log(`  dativo CSV → Iceberg: ${ice.toFixed(2)} s  (peak RSS ${Math.max(...iceberg.map((r) => r.peakRssMb)).toFixed(0)} MB)`);
console.log(`  ratio iceberg/parquet: ${(ice / p).toFixed(2)}  (goal ≤ 1.15)`);
