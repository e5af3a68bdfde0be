#!/usr/bin/env node
// Benchmark: MySQL / MariaDB table → zstd Parquet with dativo, divided by
// `mariadb --quick --batch -e "SELECT …" > file` (tab-separated text, no Parquet), both measured in
// this run. Two tables in the database `dativo_bench`, created once (kept for reruns):
//   standard  bench       2M rows, 10 mixed columns (short, repetitive strings)
//   text      bench_text  2M rows, the text-heavy table (same CSV as the PostgreSQL and CSV benchmarks)
//
//   node bench/mysql-to-parquet.mjs [--table all|standard|text] [--rows 2000000] [--runs 3]
//   (MYSQL_HOST, MYSQL_PORT, MYSQL_USER honoured)
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { benchTables, run, tablesOption, TEXT_COLUMNS, timeCommand } from './lib/sql-bench.mjs';

const { values } = parseArgs({
  options: { rows: { type: 'string', default: '2000000' }, runs: { type: 'string', default: '3' }, table: { type: 'string', default: 'all' } },
});
const rows = Number(values.rows);
const host = process.env.MYSQL_HOST ?? '127.0.0.1';
const port = process.env.MYSQL_PORT ?? '3306';
const user = process.env.MYSQL_USER ?? 'root';
const client = existsSync('/usr/bin/mariadb') ? 'mariadb' : 'mysql';
const cli = (sql, db = '') => run(client, ['-h', host, '-P', port, '-u', user, '--local-infile=1', '--batch', '--skip-column-names', ...(db ? [db] : []), '-e', sql]);

await cli('CREATE DATABASE IF NOT EXISTS dativo_bench CHARACTER SET utf8mb4');

async function rowsIn(table) {
  const present = (await cli(`SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'dativo_bench' AND TABLE_NAME = '${table}'`)).trim() === '1';
  return present ? Number((await cli(`SELECT COUNT(*) FROM ${table}`, 'dativo_bench')).trim()) : -1;
}

async function standardTable() {
  await cli(
    `DROP TABLE IF EXISTS bench;
     CREATE TABLE bench (id bigint PRIMARY KEY, customer_id int, name text, email text, amount decimal(12,2), score double, active boolean, signup_date date, updated_at datetime(6), note text) ENGINE=InnoDB;
     SET SESSION ${client === 'mariadb' ? 'max_recursive_iterations' : 'cte_max_recursion_depth'} = ${rows + 1};
     INSERT INTO bench WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ${rows})
       SELECT n, (n * 7919) % 100000, CONCAT('customer ', n), CONCAT('user', n, '@example.com'), ((n * 37) % 1000000) / 100, n / 3, n % 3 = 0,
         DATE_ADD('2020-01-01', INTERVAL n % 1500 DAY), DATE_ADD('2023-01-01', INTERVAL n * 15 SECOND), CONCAT('note "', n, '", with, commas and ''quotes''') FROM g;`,
    'dativo_bench',
  );
}

async function textTable(file) {
  await cli(
    `DROP TABLE IF EXISTS bench_text;
     CREATE TABLE bench_text (${TEXT_COLUMNS.map((c) => `${c.name} ${c.my}`).join(', ')}) ENGINE=InnoDB;
     LOAD DATA LOCAL INFILE '${file}' INTO TABLE bench_text CHARACTER SET utf8mb4 FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '"' LINES TERMINATED BY '\\n' IGNORE 1 LINES;`,
    'dativo_bench',
  );
}

await benchTables({
  shapes: tablesOption(values.table),
  rowsIn,
  create: { standard: standardTable, text: textTable },
  benchName: 'mysql-to-parquet',
  connector: 'mysql',
  sourceYaml: (table) => `  tables: [{ name: ${table} }]\n  connection: { host: "${host}", port: ${port}, user: "${user}", database: dativo_bench }\n`,
  referenceLabel: `${client} --quick --batch (text)`,
  referenceFile: 'mariadb.tsv',
  reference: (select, out) => timeCommand(`${client} -h ${host} -P ${port} -u ${user} --quick --batch -e "${select}" dativo_bench > '${out}'`),
  rows,
  runs: Number(values.runs),
});
