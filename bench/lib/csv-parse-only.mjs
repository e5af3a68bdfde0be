#!/usr/bin/env node
// The CSV source's parsing alone: `CsvFileReader` reads a file into Arrow batches, which are
// dropped (no encoder, no sink). What the main thread of a CSV → Parquet run costs at least, for
// comparing with the whole run (docs/benchmarks.md).
//
//   node bench/lib/csv-parse-only.mjs bench/.data/bench-2000000.csv bench/.data/csv-to-parquet-standard/asset.yaml [--runs 3]
//
// The asset is the one the CSV benchmark writes (`schema:` with a name and a type per column).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { BatchBuilder, defaultBatchLimits, parseDataType } from '@dativo/core';
import { CsvFileReader, csvOptions, csvSourceConfigSchema } from '@dativo/source-csv';
import { parse } from 'yaml';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { runs: { type: 'string', default: '3' } } });
const [file, assetFile] = positionals;
if (!file || !assetFile) throw new Error('usage: csv-parse-only.mjs FILE.csv ASSET.yaml [--runs N]');
const fields = parse(readFileSync(assetFile, 'utf8')).schema.map((f) => ({ name: f.name, type: parseDataType(f.type), nullable: !f.required }));

for (let run = 1; run <= Number(values.runs); run++) {
  const builder = new BatchBuilder(fields, defaultBatchLimits);
  const options = csvOptions(csvSourceConfigSchema.parse({ files: [{ path: file }] }));
  const reader = new CsvFileReader({ file, shown: file, stream: 'bench', fields, options, builder, seekable: true, checkpoint: (progress) => ({ kind: 'checkpoint', checkpoint: progress }) });
  const started = performance.now();
  const cpu = process.cpuUsage();
  let rows = 0;
  for await (const message of reader.read()) {
    if (message.kind === 'batch') rows += message.batch.numRows;
    else if (message.kind === 'rejected') throw message.error;
  }
  const flushed = builder.flush();
  if (flushed) rows += flushed.numRows;
  const used = process.cpuUsage(cpu);
  console.log(`run ${run}: ${rows} rows, ${((performance.now() - started) / 1000).toFixed(2)} s wall, ${((used.user + used.system) / 1e6).toFixed(2)} s CPU`);
}
