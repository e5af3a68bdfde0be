import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '@dativo/testing';
import { queryDuckDb, sqlString } from '@dativo/testing/duckdb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logLines, parquetFiles, ROOT, runCli, type CliResult } from './helpers.js';

/**
 * Acceptance (issue 9, plugins): third-party code is a first-class connector. From a project
 * directory outside the repository, a JS plugin file (`custom_reader` / `custom_writer`), an npm
 * package named in `source_connector`, and a v1 Python reader (`reader.py:ClassName`, run in a
 * python3 subprocess) each run a job; outputs are read back by DuckDB. Also: the resolution order
 * (docs/plugins.md) and clear errors for what is not run (Rust plugins, Python writers).
 */
const scratch = tempDir('dativo-plugins-');
const proj = path.join(scratch.path, 'project');
const CORE = path.join(ROOT, 'packages', 'core');
const ROWS = 5000;

const ASSET = `name: orders
version: "1.0"
domain: sales
dataProduct: orders
source_type: jsonl
schema:
  - { name: id, type: integer, required: true }
  - { name: customer, type: string, required: true }
  - { name: amount, type: double }
  - { name: ordered_on, type: date }
team: { owner: data@acme.example }
`;

function job(name: string, lines: string[]): string {
  const file = path.join(proj, 'jobs', `${name}.yaml`);
  writeFileSync(file, [`tenant_id: acme`, `environment: dev`, `asset: orders`, `asset_path: assets/orders.yaml`, ...lines, ''].join('\n'));
  return path.relative(proj, file);
}

const expectedRows = (n: number): string => `SELECT i::BIGINT AS id, 'customer ' || (i % 97) AS customer, CASE WHEN i % 10 = 0 THEN NULL ELSE i * 1.25 END AS amount, DATE '2024-01-01' + (i % 365)::INTEGER AS ordered_on FROM range(1, ${n + 1}) t(i)`;

beforeAll(() => {
  for (const d of ['jobs', 'assets', 'data', 'plugins', 'node_modules/@dativo', 'node_modules/@acme']) mkdirSync(path.join(proj, d), { recursive: true });
  // The project's own dependencies, as `npm install @dativo/core zod` would leave them.
  symlinkSync(CORE, path.join(proj, 'node_modules/@dativo/core'));
  symlinkSync(path.join(CORE, 'node_modules/zod'), path.join(proj, 'node_modules/zod'));
  symlinkSync(path.join(CORE, 'node_modules/apache-arrow'), path.join(proj, 'node_modules/apache-arrow'));
  cpSync(path.join(ROOT, 'tests/plugins/jsonl-reader.mjs'), path.join(proj, 'plugins/jsonl-reader.mjs'));
  cpSync(path.join(ROOT, 'tests/plugins/jsonl-writer.mjs'), path.join(proj, 'plugins/jsonl-writer.mjs'));
  const pkg = path.join(proj, 'node_modules/@acme/dativo-source-jsonl');
  cpSync(path.join(ROOT, 'tests/plugins/acme-dativo-source-jsonl'), pkg, { recursive: true });
  cpSync(path.join(ROOT, 'tests/plugins/jsonl-reader.mjs'), path.join(pkg, 'reader.mjs'));
  cpSync(path.join(ROOT, 'tests/v1-corpus/tests/fixtures/plugins'), path.join(proj, 'plugins/v1'), { recursive: true });
  writeFileSync(path.join(proj, 'assets/orders.yaml'), ASSET);
  const jsonl: string[] = [];
  const csv = ['id,customer,amount,ordered_on'];
  for (let i = 1; i <= ROWS; i++) {
    const day = new Date(Date.UTC(2024, 0, 1 + (i % 365))).toISOString().slice(0, 10);
    const amount = i % 10 === 0 ? null : i * 1.25;
    jsonl.push(JSON.stringify({ id: i, customer: `customer ${i % 97}`, amount, ordered_on: day }));
    csv.push(`${i},customer ${i % 97},${amount ?? ''},${day}`);
  }
  writeFileSync(path.join(proj, 'data/orders.jsonl'), `${jsonl.join('\n')}\n`);
  writeFileSync(path.join(proj, 'data/orders.csv'), `${csv.join('\n')}\n`);
});

afterAll(() => scratch.cleanup());

/** A CLI run, with stdout (the summary line) and stderr (JSON logs) together as `output`. */
const withOutput = (r: CliResult) => ({ ...r, output: r.stdout + r.stderr });
const run = async (jobFile: string, env: NodeJS.ProcessEnv = {}) => withOutput(await runCli(['run', '--config', jobFile], { cwd: proj, env: { DATIVO_STATE_DIR: path.join(scratch.path, 'state'), DATIVO_DLQ_DIR: path.join(scratch.path, 'dlq'), ...env } }));
const parquetOf = (dir: string): string => `read_parquet([${parquetFiles(path.join(proj, dir)).map(sqlString).join(', ')}])`;

async function expectOrders(output: string, n = ROWS): Promise<void> {
  const select = `SELECT id::BIGINT AS id, customer, amount::DOUBLE AS amount, ordered_on::DATE AS ordered_on FROM ${output}`;
  const diff = await queryDuckDb(`(${select} EXCEPT ALL ${expectedRows(n)}) UNION ALL (${expectedRows(n)} EXCEPT ALL ${select}) LIMIT 5`);
  expect(diff).toEqual([]);
  const [count] = await queryDuckDb(`SELECT count(*)::INTEGER AS n FROM ${output}`);
  expect(count?.n).toBe(n);
}

describe('JavaScript plugins', () => {
  it('custom_reader: a JS file exporting an Extractor class feeds a built-in sink', async () => {
    const file = job('js_reader', [
      'source_connector: csv # replaced by the custom reader',
      'target_connector: parquet',
      'source:',
      '  custom_reader: plugins/jsonl-reader.mjs:JsonLinesReader',
      '  files: [{ path: data/orders.jsonl }]',
      '  batch_rows: 700',
      'target:',
      '  path: out/js_reader',
    ]);
    const r = await run(file);
    expect(r.code, r.stderr).toBe(0);
    const started = logLines(r.stderr).find((l) => l.msg === 'run started');
    expect(started?.source).toBe(path.join(proj, 'plugins/jsonl-reader.mjs'));
    await expectOrders(parquetOf('out/js_reader'));
  });

  it('custom_writer: a JS file exporting a Sink factory receives a built-in source, commit by commit', async () => {
    const file = job('js_writer', ['source_connector: csv', 'target_connector: parquet # replaced by the custom writer', 'source:', '  files: [{ path: data/orders.csv }]', 'target:', '  custom_writer: plugins/jsonl-writer.mjs', '  path: out/js_writer', 'batch: { max_rows: 1000 }']);
    const r = await run(file);
    expect(r.code, r.stderr).toBe(0);
    const dir = path.join(proj, 'out/js_writer/orders');
    const parts = readdirSync(dir).filter((f) => f.startsWith('part-'));
    expect(parts.length).toBeGreaterThanOrEqual(1);
    await expectOrders(`read_json([${parts.map((p) => sqlString(path.join(dir, p))).join(', ')}], columns = {id: 'BIGINT', customer: 'VARCHAR', amount: 'DOUBLE', ordered_on: 'DATE'})`);
    expect(JSON.parse(readFileSync(path.join(dir, '_checkpoint.json'), 'utf8'))).toMatchObject({ stream: 'orders', state: { done: true } });
  });

  it('an npm package named in source_connector resolves from the project node_modules; a custom_reader in the same job wins over it', async () => {
    const viaPackage = job('npm_package', ['source_connector: "@acme/dativo-source-jsonl"', 'target_connector: parquet', 'source:', '  files: [{ path: data/orders.jsonl }]', 'target:', '  path: out/npm_package']);
    const r = await run(viaPackage);
    expect(r.code, r.stderr).toBe(0);
    expect(logLines(r.stderr).find((l) => l.msg === 'run started')?.source).toBe('@acme/dativo-source-jsonl');
    await expectOrders(parquetOf('out/npm_package'));

    // Both named: the plugin file is used, the package is not even loaded.
    const both = job('both', ['source_connector: "@acme/not-installed"', 'target_connector: parquet', 'source:', '  custom_reader: plugins/jsonl-reader.mjs:JsonLinesReader', '  files: [{ path: data/orders.jsonl }]', 'target:', '  path: out/both']);
    const b = await run(both);
    expect(b.code, b.stderr).toBe(0);
    await expectOrders(parquetOf('out/both'));
  });

  it('a plugin path is looked up from the working directory first, then from the job file directory', async () => {
    mkdirSync(path.join(proj, 'jobs/plugins'), { recursive: true });
    // Same name next to the job: one that would fail if it were chosen.
    writeFileSync(path.join(proj, 'jobs/plugins/jsonl-reader.mjs'), 'export const JsonLinesReader = 42;\n');
    const file = job('order', ['source_connector: csv', 'target_connector: parquet', 'source:', '  custom_reader: plugins/jsonl-reader.mjs:JsonLinesReader', '  files: [{ path: data/orders.jsonl }]', 'target:', '  path: out/order']);
    const fromCwd = await run(file);
    expect(fromCwd.code, fromCwd.stderr).toBe(0);
    // Only next to the job: found there.
    writeFileSync(path.join(proj, 'jobs/plugins/only-here.mjs'), "export { JsonLinesReader as Reader } from '../../plugins/jsonl-reader.mjs';\n");
    const nextToJob = job('next_to_job', ['source_connector: csv', 'target_connector: parquet', 'source:', '  custom_reader: plugins/only-here.mjs:Reader', '  files: [{ path: data/orders.jsonl }]', 'target:', '  path: out/next_to_job']);
    const r = await run(nextToJob);
    expect(r.code, r.stderr).toBe(0);
    await expectOrders(parquetOf('out/next_to_job'));
  });

  it('what cannot be loaded is a configuration error naming the job file, the key and what was expected', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['source:', '  custom_reader: plugins/jsonl-reader.mjs:NoSuchExport'], /jobs\/bad_\d\.yaml:\d+: source\.custom_reader: plugins\/jsonl-reader\.mjs:NoSuchExport: the module has no export 'NoSuchExport' \(it exports JsonLinesReader\)/],
      [['source:', '  custom_reader: plugins/missing.mjs:Reader'], /source\.custom_reader: plugin file 'plugins\/missing\.mjs' not found \(looked relative to /],
      [['source:', '  custom_reader: jobs/plugins/jsonl-reader.mjs:JsonLinesReader'], /the export 'JsonLinesReader' is not an Extractor \(specificationVersion 'v1'/],
      [['source:', '  custom_reader: target/release/libcsv_reader_plugin.so:create_reader'], /source\.custom_reader: 'target\/release\/libcsv_reader_plugin\.so:create_reader' is a Rust \(native\) plugin, which Dativo does not run/],
      [['target:', '  custom_writer: plugins/v1/csv_employee_reader.py:CSVEmployeeReader'], /target\.custom_writer: .* is a v1 Python writer \(BaseWriter\), which Dativo does not run/],
      [['source:', '  custom_reader: plugins/v1/csv_employee_reader.py'], /a Python plugin needs its class: 'plugins\/v1\/csv_employee_reader\.py:ClassName'/],
    ];
    let i = 0;
    for (const [lines, message] of cases) {
      const file = job(`bad_${i++}`, ['source_connector: csv', 'target_connector: parquet', ...lines, ...(lines[0] === 'target:' ? ['  path: out/x', 'source: { files: [{ path: data/orders.csv }] }'] : ['  files: [{ path: data/orders.jsonl }]', 'target: { path: out/x }'])]);
      const r = await run(file);
      expect(r.code, r.stderr).toBe(2);
      expect(r.output).toMatch(message);
    }
  });
});

/** An interpreter that can import `module`, if this machine has one (python3 on the PATH, then Debian's). */
function pythonWith(module: string): string | undefined {
  for (const bin of [process.env.DATIVO_PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean) as string[]) {
    if (spawnSync(bin, ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0) return bin;
  }
  return undefined;
}

describe('v1 Python readers (python3 subprocess)', () => {
  beforeAll(() => {
    if (!pythonWith('json')) throw new Error('these tests need python3 on the PATH (or DATIVO_PYTHON): v1 Python readers run in it');
  });

  const pythonJob = (name: string, extra: string[] = []) =>
    job(name, [
      'source_connector: csv',
      'target_connector: parquet',
      'source:',
      '  custom_reader: plugins/v1/csv_employee_reader.py:CSVEmployeeReader',
      '  files: [{ path: data/orders.csv, object: orders }]',
      '  engine: { options: { batch_size: 250, delimiter: ",", encoding: utf-8 } }',
      'target:',
      `  path: out/${name}`,
      ...extra,
    ]);

  it("v1's own reader (unchanged) runs a job: every record, typed by the asset", async () => {
    const r = await run(pythonJob('python_reader'));
    expect(r.code, r.stderr).toBe(0);
    await expectOrders(parquetOf('out/python_reader'));
  });

  it('a run killed mid-way resumes after the committed records: exactly the rest, no duplicates', async () => {
    const file = pythonJob('python_crash', ['batch: { max_rows: 600 }', 'commit: { every_rows: 1000 }']);
    const killed = await run(file, { DATIVO_CRASH_AT: 'parquet:file-moved@3' });
    expect(killed.signal ?? killed.code).toBe('SIGKILL');
    const committed = parquetFiles(path.join(proj, 'out/python_crash')).length;
    expect(committed).toBeGreaterThan(0);
    const resumed = await run(file);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain('resuming the Python reader: skipping the records already committed');
    await expectOrders(parquetOf('out/python_crash'));
  });

  it("a reader's exception fails the run with its type and message; its prints go to the log, not the protocol", async () => {
    writeFileSync(
      path.join(proj, 'plugins/failing.py'),
      [
        'from dativo_ingest.plugins import BaseReader',
        'class Failing(BaseReader):',
        '    def extract(self, state_manager=None):',
        '        print("about to read", self.source_config.files)',
        '        yield [{"id": 1, "customer": "a"}]',
        '        raise RuntimeError("upstream said no")',
        '',
      ].join('\n'),
    );
    const file = job('python_failing', ['source_connector: csv', 'target_connector: parquet', 'source:', '  custom_reader: plugins/failing.py:Failing', '  files: [{ path: data/orders.csv }]', 'target:', '  path: out/python_failing']);
    const r = await run(file);
    expect(r.code).toBe(2);
    expect(r.output).toContain('the Python reader plugins/failing.py:Failing raised RuntimeError: upstream said no');
    expect(logLines(r.stderr).some((l) => l.msg === 'python reader output' && String(l.line).startsWith('about to read'))).toBe(true);
    expect(parquetFiles(path.join(proj, 'out/python_failing'))).toEqual([]);
  });

  it('dativo check runs the reader\'s check_connection', async () => {
    writeFileSync(
      path.join(proj, 'plugins/checked.py'),
      [
        'from dativo_ingest.plugins import BaseReader, ConnectionTestResult',
        'class Checked(BaseReader):',
        '    def check_connection(self):',
        '        return ConnectionTestResult(False, "token for " + str(self.source_config.account) + " expired")',
        '    def extract(self, state_manager=None):',
        '        yield []',
        '',
      ].join('\n'),
    );
    const file = job('python_check', ['source_connector: csv', 'target_connector: parquet', 'source:', '  custom_reader: plugins/checked.py:Checked', '  account: acme-42', 'target:', '  path: out/python_check']);
    const r = await runCli(['check', '--config', file], { cwd: proj });
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('reports its connection check failed: token for acme-42 expired');
  });
});
