#!/usr/bin/env node
// Benchmark: CSV → zstd Parquet with dativo, divided by DuckDB's COPY … TO … (FORMAT parquet,
// COMPRESSION zstd) on one thread, both measured in this run on the same file. Two files:
//   standard  2M rows × 10 mixed columns (~376 MiB; short, repetitive strings)
//   text      2M rows × 10 columns, four of them unique-ish text of 15–90 characters (~500 MiB)
//
//   node bench/csv-to-parquet.mjs [--file all|standard|text] [--rows 2000000] [--runs 3]
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { BENCH_COLUMNS, TEXT_COLUMNS } from './lib/generate-csv.mjs';
import { benchCsv, DATA_DIR, fresh, measureDativo, median, writeCsvParquetJob } from './lib/bench-util.mjs';

const { values } = parseArgs({
  options: { rows: { type: 'string', default: '2000000' }, runs: { type: 'string', default: '3' }, file: { type: 'string', default: 'all' } },
});
const rows = Number(values.rows);
const runs = Number(values.runs);
const shapes = values.file === 'all' ? ['standard', 'text'] : [values.file];
const COLUMNS = { standard: BENCH_COLUMNS, text: TEXT_COLUMNS };

for (const shape of shapes) {
  const columnsOf = COLUMNS[shape];
  if (!columnsOf) throw new Error(`--file must be standard, text or all (got ${shape})`);
  const { file, bytes } = await benchCsv(rows, shape);
  const work = path.join(DATA_DIR, `csv-to-parquet-${shape}`);
  fresh(work);
  writeCsvParquetJob(work, file, columnsOf);

  const duckdb = async () => {
    const out = path.join(work, 'duckdb.parquet');
    const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
    const connection = await instance.connect();
    const columns = columnsOf.map((c) => `'${c.name}': '${c.duck}'`).join(', ');
    const started = performance.now();
    await connection.run(`COPY (SELECT * FROM read_csv('${file}', header = true, columns = {${columns}})) TO '${out}' (FORMAT parquet, COMPRESSION zstd)`);
    const seconds = (performance.now() - started) / 1000;
    connection.closeSync();
    instance.closeSync();
    return seconds;
  };
  const dativo = async () => {
    fresh(path.join(work, 'out'));
    fresh(path.join(work, '.dativo'));
    return measureDativo(['run', '--config', 'job.yaml', '--quiet'], work);
  };

  const duck = [];
  const ours = [];
  for (let i = 0; i < runs; i++) {
    duck.push(await duckdb());
    ours.push(await dativo());
    process.stderr.write(
      `${shape} run ${i + 1}/${runs}: duckdb ${duck.at(-1).toFixed(2)} s, dativo ${ours.at(-1).seconds.toFixed(2)} s (CPU ${ours.at(-1).cpuSeconds.toFixed(2)} s, peak RSS ${ours.at(-1).peakRssMb.toFixed(0)} MB)\n`,
    );
  }
  const duckSeconds = median(duck);
  const ourSeconds = median(ours.map((o) => o.seconds));
  const cpu = median(ours.map((o) => o.cpuSeconds));
  const peak = Math.max(...ours.map((o) => o.peakRssMb));
  console.log(`csv-to-parquet (${shape}): ${rows} rows, ${(bytes / 1048576).toFixed(0)} MiB CSV`);
  console.log(`  duckdb (1 thread): ${duckSeconds.toFixed(2)} s`);
  console.log(`  dativo:            ${ourSeconds.toFixed(2)} s  (${Math.round(rows / ourSeconds).toLocaleString('en-US')} rows/s, CPU ${cpu.toFixed(2)} s, peak RSS ${peak.toFixed(0)} MB, goal < 350 MB)`);
  console.log(`  ratio dativo/duckdb: ${(ourSeconds / duckSeconds).toFixed(2)}  (goal ≤ 1.2)`);
}
