import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { reliabilityRow, tempDir } from '@dativo/testing';
import { queryDuckDb, sqlString } from '@dativo/testing/duckdb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeSheets, type CellInput, type FakeSheets } from '../packages/connector-google-sheets/src/fake-sheets.js';
import { parquetFiles, runCli } from './helpers.js';

/**
 * Google Sheets through the CLI, Google's own clients against the Sheets fake: `kill -9` while a
 * tab is being written (the tab shows the old content or the new, never a mix; the rerun completes
 * it, each row once) and while a tab is being read (the rerun resumes; each row once in Parquet).
 */
const scratch = tempDir('dativo-sheets-cli-');
const dir = scratch.path;
let sheets: FakeSheets;
let env: NodeJS.ProcessEnv;
const ROWS = 12_000;

beforeAll(async () => {
  mkdirSync(path.join(dir, 'jobs'), { recursive: true });
  sheets = await startFakeSheets();
  const key = path.join(dir, 'gsheets.json');
  writeFileSync(key, JSON.stringify(sheets.serviceAccountKey));
  env = { GSHEETS_CREDENTIALS_PATH: key, GOOGLE_API_ROOT: sheets.root };
  writeFileSync(path.join(dir, 'asset.yaml'), 'name: orders\nschema:\n  - { name: id, type: integer, required: true }\n  - { name: customer, type: string }\n  - { name: amount, type: double }\n  - { name: day, type: date }\n');
  const lines = ['id,customer,amount,day'];
  for (let i = 1; i <= ROWS; i++) lines.push(`${i},"customer ${i}, ✓",${(i % 1000) / 4},2025-0${(i % 9) + 1}-1${i % 10}`);
  writeFileSync(path.join(dir, 'orders.csv'), `${lines.join('\n')}\n`);
});
afterAll(async () => {
  await sheets?.close();
  scratch.cleanup();
});

const writeJob = (name: string, spreadsheet: string, extra = '') =>
  writeFileSync(
    path.join(dir, 'jobs', `${name}.yaml`),
    `tenant_id: acme\nenvironment: dev\nsource_connector: csv\ntarget_connector: google_sheets\nasset: orders\nasset_path: asset.yaml\nsource:\n  files: [{ path: orders.csv }]\ntarget:\n  spreadsheet_id: ${spreadsheet}\n  range: "Orders!A1"\n  chunk_rows: 500\n  writes_per_minute: 100000\n  reads_per_minute: 100000\nbatch: { max_rows: 1000 }\ncommit: { every_rows: 2000 }\n${extra}logging: { level: WARN }\n`,
  );

/** The tab's rows without the header, as the CSV's first column. */
const ids = (spreadsheet: string) => sheets.values(spreadsheet, 'Orders').slice(1).map((r) => r[0]);
const OLD: CellInput[][] = [['id', 'note'], [-1, 'old row'], [-2, 'old row']];

describe('google_sheets target through the CLI', () => {
  it('kill -9 while the table is staged, and again just before the swap: the tab keeps its old content; the rerun completes it, each row once', async () => {
    sheets.add('kill-write', [{ title: 'Orders', rows: OLD }]);
    writeJob('write', 'kill-write');
    let pid = 0;
    sheets.onBatchUpdate = (n) => {
      // The 9th write (past a few commits) reaches the server and the writer dies while it is applied.
      if (n === 9 && pid) process.kill(pid, 'SIGKILL');
    };
    const killed = await runCli(['run', 'jobs/write.yaml', '-q'], { cwd: dir, env, onSpawn: (p) => (pid = p) });
    sheets.onBatchUpdate = undefined;
    expect(killed.signal).toBe('SIGKILL');
    expect(sheets.values('kill-write', 'Orders')).toEqual([['id', 'note'], [-1, 'old row'], [-2, 'old row']]);
    const beforeSwap = await runCli(['run', 'jobs/write.yaml', '-q'], { cwd: dir, env: { ...env, DATIVO_CRASH_AT: 'sheets:before-swap' } });
    expect(beforeSwap.signal).toBe('SIGKILL');
    expect(sheets.values('kill-write', 'Orders')).toHaveLength(3);
    const rerun = await runCli(['run', 'jobs/write.yaml', '-q', '--json'], { cwd: dir, env });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(ids('kill-write')).toEqual(Array.from({ length: ROWS }, (_, i) => i + 1));
    const tab = sheets.values('kill-write', 'Orders');
    expect(tab[0]).toEqual(['id', 'customer', 'amount', 'day']);
    expect(tab[7]).toEqual([7, 'customer 7, ✓', 1.75, 45886]);
    expect(sheets.spreadsheets.get('kill-write')?.tabs.map((t) => [t.title, t.hidden])).toEqual([
      ['Orders', false],
      ['_dativo_state', true],
    ]);
    reliabilityRow({ connector: 'Google Sheets target', fault: '`kill -9` while staging, and just before the swap', outcome: 'the tab keeps its old content; the rerun completes it, each row once' });
  });

  it('append mode: a run killed mid-way and rerun adds each row once', async () => {
    sheets.add('kill-append', [{ title: 'Orders', rows: [['id', 'customer', 'amount', 'day'], [0, 'by hand', 0, '']] }]);
    writeJob('append', 'kill-append', 'state_id: append-orders\n');
    writeFileSync(path.join(dir, 'jobs', 'append.yaml'), readFileSync(path.join(dir, 'jobs', 'append.yaml'), 'utf8').replace('  chunk_rows: 500\n', '  chunk_rows: 500\n  mode: append\n'));
    const killed = await runCli(['run', 'jobs/append.yaml', '-q'], { cwd: dir, env: { ...env, DATIVO_CRASH_AT: 'sheets:committed@3' } });
    expect(killed.signal).toBe('SIGKILL');
    const partial = ids('kill-append');
    expect(partial.length).toBeGreaterThan(1);
    expect(partial.length).toBeLessThan(ROWS + 1);
    const rerun = await runCli(['run', 'jobs/append.yaml', '-q'], { cwd: dir, env });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(ids('kill-append')).toEqual([0, ...Array.from({ length: ROWS }, (_, i) => i + 1)]);
    reliabilityRow({ connector: 'Google Sheets target', fault: '`kill -9` mid-way through an append run', outcome: 'the rerun adds each row once' });
  });
});

describe('google_sheets source through the CLI', () => {
  it('kill -9 mid-read, then rerun: each row exactly once in Parquet (DuckDB), dates from serial numbers', async () => {
    const rows: CellInput[][] = [['id', 'customer', 'amount', 'day']];
    for (let i = 1; i <= ROWS; i++) rows.push([i, `customer ${i}, ✓`, { v: (i % 1000) / 4, f: 'CURRENCY' }, { v: 45658 + (i % 365), f: 'DATE' }]);
    sheets.add('kill-read', [{ title: 'Orders', rows }]);
    writeFileSync(
      path.join(dir, 'jobs', 'read.yaml'),
      'tenant_id: acme\nenvironment: dev\nsource_connector: google_sheets\ntarget_connector: parquet\nasset: orders\nasset_path: asset.yaml\nsource:\n  sheets:\n    - id: kill-read\n      object: orders\n      range: "Orders!A1:D20000"\n  chunk_rows: 1000\n  reads_per_minute: 100000\ntarget:\n  path: out/read\n  partitioning: []\nbatch: { max_rows: 1000 }\ncommit: { every_rows: 2000 }\nlogging: { level: WARN }\n',
    );
    const killed = await runCli(['run', 'jobs/read.yaml', '-q'], { cwd: dir, env: { ...env, DATIVO_CRASH_AT: 'parquet:intent-written@3' } });
    expect(killed.signal).toBe('SIGKILL');
    const valuesBefore = sheets.http.count((r) => r.path.includes('/values/'));
    const rerun = await runCli(['run', 'jobs/read.yaml', '-q', '--json'], { cwd: dir, env });
    expect(rerun.code, rerun.stderr).toBe(0);
    // The rerun resumed past the committed rows: it did not read the whole tab again.
    expect(sheets.http.count((r) => r.path.includes('/values/')) - valuesBefore).toBeLessThan(12);
    const files = parquetFiles(path.join(dir, 'out', 'read'));
    const [r] = await queryDuckDb(
      `SELECT count(*)::INTEGER AS n, count(DISTINCT id)::INTEGER AS ids, min(day)::VARCHAR AS first, max(day)::VARCHAR AS last, sum(amount)::DOUBLE AS amount, min(customer) AS customer FROM read_parquet([${files.map(sqlString).join(', ')}])`,
    );
    let amount = 0;
    for (let i = 1; i <= ROWS; i++) amount += (i % 1000) / 4;
    expect(r).toEqual({ n: ROWS, ids: ROWS, first: '2025-01-01', last: '2025-12-31', amount, customer: 'customer 1, ✓' });
    reliabilityRow({ connector: 'Google Sheets source → Parquet', fault: '`kill -9` mid-read', outcome: 'the rerun resumes: each row once (DuckDB)' });
  });

  it('a messy tab (title rows, merged, duplicate and blank header cells, unicode, quotes, empty cells, serial dates and times) lands in Parquet value by value (DuckDB)', async () => {
    const EPOCH = Date.UTC(1899, 11, 30);
    const serial = (iso: string) => (Date.parse(iso) - EPOCH) / 86_400_000;
    sheets.add('messy', [
      {
        title: 'Q1 report',
        rows: [
          ['Quarterly report — do not edit'],
          [],
          ['Order', 'Name', 'name', 'Amount', undefined, '', 'paid', 'at'],
          [1, 'Zoë "the" ✓', 'x', { v: 1234.5, f: 'CURRENCY' }, { v: 0.25, f: 'PERCENT' }, 'note, with comma', true, { v: serial('2025-03-01T10:30:00Z'), f: 'DATE_TIME' }],
          [2, '', '', '', '', '', false, ''],
          [3, '日本語', 'z', { v: -0.5, f: 'CURRENCY' }, { v: 1, f: 'PERCENT' }, '', '', { v: serial('2025-12-31T23:59:59Z'), f: 'DATE_TIME' }],
        ],
        merges: [{ startRowIndex: 2, endRowIndex: 3, startColumnIndex: 3, endColumnIndex: 5 }],
      },
    ]);
    writeFileSync(
      path.join(dir, 'messy.yaml'),
      'name: messy\nschema:\n  - { name: Order, type: integer, required: true }\n  - { name: Name, type: string }\n  - { name: name_2, type: string }\n  - { name: Amount, type: double }\n  - { name: Amount_2, type: double }\n  - { name: column_6, type: string }\n  - { name: paid, type: boolean }\n  - { name: at, type: timestamp }\n',
    );
    writeFileSync(
      path.join(dir, 'jobs', 'messy.yaml'),
      "tenant_id: acme\nenvironment: dev\nsource_connector: google_sheets\ntarget_connector: parquet\nasset: messy\nasset_path: messy.yaml\nsource:\n  sheets:\n    - { id: messy, object: messy, sheet: 'Q1 report' }\ntarget:\n  path: out/messy\n  partitioning: []\nlogging: { level: WARN }\n",
    );
    const r = await runCli(['run', 'jobs/messy.yaml', '-q'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    const files = parquetFiles(path.join(dir, 'out', 'messy'));
    const rows = await queryDuckDb(`SELECT "Order"::INTEGER AS o, "Name" AS a, name_2 AS b, "Amount" AS amount, "Amount_2" AS share, column_6 AS c6, paid, "at"::VARCHAR AS "at" FROM read_parquet([${files.map(sqlString).join(', ')}]) ORDER BY 1`);
    expect(rows).toEqual([
      { o: 1, a: 'Zoë "the" ✓', b: 'x', amount: 1234.5, share: 0.25, c6: 'note, with comma', paid: true, at: '2025-03-01 10:30:00' },
      { o: 2, a: null, b: null, amount: null, share: null, c6: null, paid: false, at: null },
      { o: 3, a: '日本語', b: 'z', amount: -0.5, share: 1, c6: null, paid: null, at: '2025-12-31 23:59:59' },
    ]);
  });
});
