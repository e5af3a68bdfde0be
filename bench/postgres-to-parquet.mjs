#!/usr/bin/env node
// Benchmark: PostgreSQL table → zstd Parquet with dativo, divided by
// `psql -c "\copy (SELECT …) TO file"` (plain text, no Parquet), both measured in this run.
// Two tables, created once in the database `dativo_bench` (kept for reruns):
//   standard  public.bench       2M rows, 10 mixed columns (short, repetitive strings)
//   text      public.bench_text  2M rows, ids / integers / doubles / a timestamp and four unique-ish
//                                text columns of 15–90 characters (e-mail, name, postal address, comment),
//                                loaded from the same CSV as the text-heavy CSV benchmark
//
//   node bench/postgres-to-parquet.mjs [--table all|standard|text] [--rows 2000000] [--runs 3]
//   (PGHOST, PGPORT, PGUSER honoured)
import { parseArgs } from 'node:util';
import { benchTables, run, tablesOption, TEXT_COLUMNS, timeCommand } from './lib/sql-bench.mjs';

const { values } = parseArgs({
  options: { rows: { type: 'string', default: '2000000' }, runs: { type: 'string', default: '3' }, table: { type: 'string', default: 'all' } },
});
const rows = Number(values.rows);
const host = process.env.PGHOST ?? '127.0.0.1';
const port = process.env.PGPORT ?? '5432';
const user = process.env.PGUSER ?? 'postgres';
const psql = (db, sql) => run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', host, '-p', port, '-U', user, '-d', db, '-tAc', sql]);

const exists = (await psql('postgres', "SELECT 1 FROM pg_database WHERE datname = 'dativo_bench'")).trim() === '1';
if (!exists) await psql('postgres', 'CREATE DATABASE dativo_bench');

async function rowsIn(table) {
  const hasTable = (await psql('dativo_bench', `SELECT to_regclass('public.${table}') IS NOT NULL`)).trim() === 't';
  return hasTable ? Number((await psql('dativo_bench', `SELECT count(*) FROM ${table}`)).trim()) : -1;
}

async function standardTable() {
  await psql(
    'dativo_bench',
    `DROP TABLE IF EXISTS bench;
     CREATE TABLE bench (id bigint PRIMARY KEY, customer_id integer, name text, email text, amount numeric(12,2), score double precision, active boolean, signup_date date, updated_at timestamp, note text);
     INSERT INTO bench SELECT g, (g * 7919) % 100000, 'customer ' || g, 'user' || g || '@example.com', ((g * 37) % 1000000) / 100.0, g / 3.0, g % 3 = 0,
       DATE '2020-01-01' + (g % 1500)::int, TIMESTAMP '2023-01-01' + (g * 15) * INTERVAL '1 second', 'note "' || g || '", with, commas and ''quotes'''
     FROM generate_series(1::bigint, ${rows}::bigint) g;`,
  );
  await psql('dativo_bench', 'VACUUM ANALYZE bench');
}

async function textTable(file) {
  await psql('dativo_bench', `DROP TABLE IF EXISTS bench_text; CREATE TABLE bench_text (${TEXT_COLUMNS.map((c) => `${c.name} ${c.pg}`).join(', ')})`);
  await run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', host, '-p', port, '-U', user, '-d', 'dativo_bench', '-c', `\\copy bench_text FROM '${file}' (FORMAT csv, HEADER true)`]);
  await psql('dativo_bench', 'VACUUM ANALYZE bench_text');
}

await benchTables({
  shapes: tablesOption(values.table),
  rowsIn,
  create: { standard: standardTable, text: textTable },
  benchName: 'postgres-to-parquet',
  connector: 'postgres',
  sourceYaml: (table) => `  tables: [{ name: public.${table} }]\n  connection: { host: "${host}", port: ${port}, user: "${user}", database: dativo_bench }\n`,
  referenceLabel: 'psql \\copy (text)',
  referenceFile: 'psql.txt',
  reference: (select, out) => timeCommand(`psql -X -q -h ${host} -p ${port} -U ${user} -d dativo_bench -c "\\copy (${select}) TO '${out}'"`),
  rows,
  runs: Number(values.runs),
});
