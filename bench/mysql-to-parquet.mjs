#!/usr/bin/env node
// Benchmark: MySQL / MariaDB table → zstd Parquet with dativo, divided by
// `mariadb --quick --batch -e "SELECT …" > file` (tab-separated text, no Parquet), both measured in
// this run. Creates the database `dativo_bench` and a 2M-row, 10-column table once (kept for reruns).
//
//   node bench/mysql-to-parquet.mjs [--rows 2000000] [--runs 3]   (MYSQL_HOST, MYSQL_PORT, MYSQL_USER honoured)
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DATA_DIR } from './lib/bench-util.mjs';
import { compare, run, TABLE_COLUMNS, timeCommand, writeJob } from './lib/sql-bench.mjs';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '2000000' }, runs: { type: 'string', default: '3' } } });
const rows = Number(values.rows);
const host = process.env.MYSQL_HOST ?? '127.0.0.1';
const port = process.env.MYSQL_PORT ?? '3306';
const user = process.env.MYSQL_USER ?? 'root';
const client = existsSync('/usr/bin/mariadb') ? 'mariadb' : 'mysql';
const cli = (sql, db = '') => run(client, ['-h', host, '-P', port, '-u', user, '--batch', '--skip-column-names', ...(db ? [db] : []), '-e', sql]);

await cli('CREATE DATABASE IF NOT EXISTS dativo_bench CHARACTER SET utf8mb4');
const have = (await cli("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'dativo_bench' AND TABLE_NAME = 'bench'")).trim() === '1' ? (await cli('SELECT COUNT(*) FROM bench', 'dativo_bench')).trim() : '-1';
if (Number(have) !== rows) {
  process.stderr.write(`creating dativo_bench.bench with ${rows} rows…\n`);
  await cli(
    `DROP TABLE IF EXISTS bench;
     CREATE TABLE bench (id bigint PRIMARY KEY, customer_id int, name text, email text, amount decimal(12,2), score double, active boolean, signup_date date, updated_at datetime(6), note text) ENGINE=InnoDB;
     SET SESSION cte_max_recursion_depth = ${rows + 1};
     INSERT INTO bench WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ${rows})
       SELECT n, (n * 7919) % 100000, CONCAT('customer ', n), CONCAT('user', n, '@example.com'), ((n * 37) % 1000000) / 100, n / 3, n % 3 = 0,
         DATE_ADD('2020-01-01', INTERVAL n % 1500 DAY), DATE_ADD('2023-01-01', INTERVAL n * 15 SECOND), CONCAT('note "', n, '", with, commas and ''quotes''') FROM g;`.replace(
      'SET SESSION cte_max_recursion_depth',
      client === 'mariadb' ? 'SET SESSION max_recursive_iterations' : 'SET SESSION cte_max_recursion_depth',
    ),
    'dativo_bench',
  );
}

const work = path.join(DATA_DIR, 'mysql-to-parquet');
writeJob(work, 'mysql', `  tables: [{ name: bench }]\n  connection: { host: "${host}", port: ${port}, user: "${user}", database: dativo_bench }\n`);
const select = `SELECT ${TABLE_COLUMNS.map((c) => c.name).join(', ')} FROM bench`;
const out = path.join(work, 'mariadb.tsv');
await compare({
  name: 'mysql-to-parquet',
  work,
  runs: Number(values.runs),
  rows,
  referenceLabel: `${client} --quick --batch (text)`,
  goal: 2.5,
  reference: () => timeCommand(`${client} -h ${host} -P ${port} -u ${user} --quick --batch -e "${select}" dativo_bench > '${out}'`),
});
