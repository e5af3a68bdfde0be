#!/usr/bin/env node
// Benchmark: PostgreSQL table → zstd Parquet with dativo, divided by
// `psql -c "\copy (SELECT …) TO file"` (plain text, no Parquet), both measured in this run.
// Creates the database `dativo_bench` and a 2M-row, 10-column table once (kept for reruns).
//
//   node bench/postgres-to-parquet.mjs [--rows 2000000] [--runs 3]   (PGHOST, PGPORT, PGUSER honoured)
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DATA_DIR } from './lib/bench-util.mjs';
import { compare, run, TABLE_COLUMNS, timeCommand, writeJob } from './lib/sql-bench.mjs';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '2000000' }, runs: { type: 'string', default: '3' } } });
const rows = Number(values.rows);
const host = process.env.PGHOST ?? '127.0.0.1';
const port = process.env.PGPORT ?? '5432';
const user = process.env.PGUSER ?? 'postgres';
const psql = (db, sql) => run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', host, '-p', port, '-U', user, '-d', db, '-tAc', sql]);

const exists = (await psql('postgres', "SELECT 1 FROM pg_database WHERE datname = 'dativo_bench'")).trim() === '1';
if (!exists) await psql('postgres', 'CREATE DATABASE dativo_bench');
const hasTable = (await psql('dativo_bench', "SELECT to_regclass('public.bench') IS NOT NULL")).trim() === 't';
const have = hasTable ? (await psql('dativo_bench', 'SELECT count(*) FROM bench')).trim() : '-1';
if (Number(have) !== rows) {
  process.stderr.write(`creating public.bench with ${rows} rows…\n`);
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

const work = path.join(DATA_DIR, 'postgres-to-parquet');
writeJob(work, 'postgres', `  tables: [{ name: public.bench }]\n  connection: { host: "${host}", port: ${port}, user: "${user}", database: dativo_bench }\n`);
const select = `SELECT ${TABLE_COLUMNS.map((c) => c.name).join(', ')} FROM bench`;
const out = path.join(work, 'psql.txt');
await compare({
  name: 'postgres-to-parquet',
  work,
  runs: Number(values.runs),
  rows,
  referenceLabel: 'psql \\copy (text)',
  goal: 2.5,
  reference: () => timeCommand(`psql -X -q -h ${host} -p ${port} -U ${user} -d dativo_bench -c "\\copy (${select}) TO '${out}'"`),
});
