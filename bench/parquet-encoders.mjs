#!/usr/bin/env node
// Benchmark: the Parquet encoder alone, parquet-wasm (what Dativo ships) against DuckDB's native
// Parquet writer (the candidate second encoder that ships inside its npm package), on the same
// rows of the text-heavy table. Measured, in this run, on one thread each:
//   parquet-wasm auto    Arrow IPC → zstd Parquet with Dativo's `encoding: auto` properties
//   parquet-wasm plain   the same with `encoding: plain` (PLAIN; dictionary on the repetitive column)
//   parquet-wasm none    `encoding: auto` without compression (how much of the time is zstd)
//   duckdb copy          COPY table TO … (FORMAT parquet, COMPRESSION zstd): DuckDB's encoder alone,
//                        rows already inside DuckDB
//   duckdb fed           Dativo's Arrow batches handed to DuckDB through its appender, then the
//                        COPY: what adopting DuckDB as Dativo's encoder would cost per row
//
//   node bench/parquet-encoders.mjs [--rows 500000]
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DuckDBInstance, DuckDBTimestampValue } from '@duckdb/node-api';
import { benchCsv, DATA_DIR, fresh, ROOT } from './lib/bench-util.mjs';
import { TEXT_COLUMNS } from './lib/generate-csv.mjs';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '500000' } } });
const rows = Number(values.rows);
const kit = createRequire(path.join(ROOT, 'packages', 'parquet-kit', 'package.json'));
const P = await import(pathToFileURL(kit.resolve('parquet-wasm/node')).href);
const arrow = await import(pathToFileURL(kit.resolve('apache-arrow')).href);

const work = path.join(DATA_DIR, 'parquet-encoders');
fresh(work);
const { file } = await benchCsv(2_000_000, 'text');
const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
const db = await instance.connect();
const columns = TEXT_COLUMNS.map((c) => `'${c.name}': '${c.duck}'`).join(', ');
await db.run(`CREATE TABLE t AS SELECT * FROM read_csv('${file}', header = true, columns = {${columns}}) LIMIT ${rows}`);
const plainFile = path.join(work, 'input.parquet');
await db.run(`COPY t TO '${plainFile}' (FORMAT parquet, COMPRESSION uncompressed)`);
const ipc = P.readParquet(readFileSync(plainFile)).intoIPCStream();
const mib = (bytes) => `${(bytes / 1048576).toFixed(1)} MiB`;
const results = [];

function wasmProps(encoding, compression = P.Compression.ZSTD) {
  let b = new P.WriterPropertiesBuilder().setCompression(compression).setMaxRowGroupSize(131072).setDictionaryEnabled(false).setColumnDictionaryEnabled('full_name', true);
  for (const c of TEXT_COLUMNS) {
    if (encoding !== 'auto') continue;
    if (c.type === 'string' && c.name !== 'full_name') b = b.setColumnEncoding(c.name, P.Encoding.DELTA_BYTE_ARRAY);
    if (['bigint', 'integer', 'timestamp'].includes(c.type)) b = b.setColumnEncoding(c.name, P.Encoding.DELTA_BINARY_PACKED);
  }
  return b.build();
}

function timeWasm(name, props) {
  let best = Infinity;
  let bytes = 0;
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    const out = P.writeParquet(P.Table.fromIPCStream(ipc), props());
    best = Math.min(best, (performance.now() - started) / 1000);
    bytes = out.length;
  }
  results.push({ name, seconds: best, bytes });
}

timeWasm('parquet-wasm auto', () => wasmProps('auto'));
timeWasm('parquet-wasm plain', () => wasmProps('plain'));
timeWasm('parquet-wasm none', () => wasmProps('auto', P.Compression.UNCOMPRESSED));

let best = Infinity;
const duckOut = path.join(work, 'duckdb.parquet');
for (let i = 0; i < 3; i++) {
  const started = performance.now();
  await db.run(`COPY t TO '${duckOut}' (FORMAT parquet, COMPRESSION zstd)`);
  best = Math.min(best, (performance.now() - started) / 1000);
}
results.push({ name: 'duckdb copy', seconds: best, bytes: statSync(duckOut).size });

// DuckDB fed from Arrow: every value crosses into DuckDB through its appender.
const table = arrow.tableFromIPC(ipc);
const vectors = TEXT_COLUMNS.map((c) => table.getChild(c.name));
await db.run(`CREATE TABLE fed (${TEXT_COLUMNS.map((c) => `"${c.name}" ${c.duck}`).join(', ')})`);
const started = performance.now();
const appender = await db.createAppender('fed');
const appendOne = TEXT_COLUMNS.map((c) => {
  if (c.type === 'bigint') return (v) => appender.appendBigInt(BigInt(v));
  if (c.type === 'integer') return (v) => appender.appendInteger(v);
  if (c.type === 'double') return (v) => appender.appendDouble(v);
  if (c.type === 'timestamp') return (v) => appender.appendTimestamp(new DuckDBTimestampValue(BigInt(Math.round(Number(v) * 1000))));
  return (v) => appender.appendVarchar(v);
});
for (let r = 0; r < table.numRows; r++) {
  for (let k = 0; k < vectors.length; k++) {
    const v = vectors[k].get(r);
    if (v === null) appender.appendNull();
    else appendOne[k](v);
  }
  appender.endRow();
}
appender.closeSync();
const fedAt = performance.now();
await db.run(`COPY fed TO '${duckOut}' (FORMAT parquet, COMPRESSION zstd)`);
results.push({ name: 'duckdb fed', seconds: (performance.now() - started) / 1000, bytes: statSync(duckOut).size, note: `appending ${((fedAt - started) / 1000).toFixed(2)} s` });
db.closeSync();
instance.closeSync();

const base = results[0].seconds;
console.log(`parquet-encoders: ${table.numRows} rows of the text-heavy table (${TEXT_COLUMNS.length} columns), one thread each`);
for (const r of results) {
  console.log(`  ${r.name.padEnd(20)} ${r.seconds.toFixed(2)} s  ${mib(r.bytes).padStart(10)}  ×${(r.seconds / base).toFixed(2)} of parquet-wasm auto${r.note ? `  (${r.note})` : ''}`);
}
