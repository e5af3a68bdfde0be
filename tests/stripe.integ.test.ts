import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '@dativo/testing';
import { queryDuckDb, sqlString } from '@dativo/testing/duckdb';
import { readIcebergTable } from '@dativo/testing/iceberg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeStripe, type FakeStripe } from '../packages/source-stripe/src/fake-stripe.js';
import { measureCli, parquetFiles, ROOT, runCli } from './helpers.js';

/**
 * Stripe through the CLI with the real `stripe` SDK against the Stripe API fake: thousands of
 * objects over pages and parallel windows land exactly once in Parquet and in an Iceberg table
 * (merge), read back by DuckDB and icebird; updates and deletions arrive with the next run (removed
 * from the merged table); `kill -9` mid-run and at commit points, then a rerun: exactly once.
 */
const scratch = tempDir('dativo-stripe-');
const dir = scratch.path;
const CUSTOMERS = 3_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let stripe: FakeStripe;
let start: number;

beforeAll(async () => {
  mkdirSync(path.join(dir, 'jobs'), { recursive: true });
  writeFileSync(
    path.join(dir, 'asset.yaml'),
    [
      'name: customers',
      'schema:',
      '  - { name: id, type: string, required: true }',
      '  - { name: email, type: string }',
      '  - { name: name, type: string }',
      '  - { name: balance, type: bigint }',
      '  - { name: created, type: timestamp }',
      '  - { name: _deleted, type: boolean }',
      '  - { name: _deleted_at, type: timestamp }',
      'primary_key: [id]',
      '',
    ].join('\n'),
  );
  stripe = await startFakeStripe();
  start = Math.floor(Date.now() / 1000) - 60 * 86_400;
  stripe.add('/v1/customers', CUSTOMERS, { from: start + 300, step: 1_700 });
});
afterAll(async () => {
  await stripe?.close();
  scratch.cleanup();
});

function job(name: string, target: 'parquet' | 'iceberg'): string {
  const targetBlock =
    target === 'parquet'
      ? `target:\n  path: out/${name}\n  partitioning: []\n`
      : `target:\n  catalog: { type: filesystem }\n  warehouse: warehouse\n  namespace: acme\n  table: ${name}\n  mode: merge\n  partitioning: []\n`;
  writeFileSync(
    path.join(dir, 'jobs', `${name}.yaml`),
    `tenant_id: acme
environment: dev
source_connector: stripe
target_connector: ${target}
asset: customers
asset_path: asset.yaml
source:
  api_key: \${STRIPE_API_KEY}
  api_base: \${STRIPE_API_BASE}
  objects: [customers]
  start_date: ${start}
  window_days: 3
  concurrency: 4
  page_size: 40
  incremental: { strategy: created, cursor_field: created, lookback_days: 0 }
${targetBlock}batch: { max_rows: 150 }
commit: { every_rows: 300 }
`,
  );
  return `jobs/${name}.yaml`;
}

const env = () => ({ STRIPE_API_KEY: stripe.key, STRIPE_API_BASE: stripe.url });
const run = (file: string, extra: NodeJS.ProcessEnv = {}, onSpawn?: (pid: number) => void) => runCli(['run', file, '-q', '--json'], { cwd: dir, env: { ...env(), ...extra }, ...(onSpawn ? { onSpawn } : {}) });

interface Customer {
  id: string;
  email: string | null;
  deleted: boolean;
}

async function parquetRows(name: string): Promise<Customer[]> {
  const files = parquetFiles(path.join(dir, 'out', name));
  const rows = await queryDuckDb(`SELECT id, email, coalesce(_deleted, false) AS deleted FROM read_parquet([${files.map(sqlString).join(', ')}]) ORDER BY id`);
  return rows as unknown as Customer[];
}

async function icebergRows(name: string): Promise<Customer[]> {
  const meta = path.join(dir, 'warehouse', 'acme', name, 'metadata');
  const version = readFileSync(path.join(meta, 'version-hint.text'), 'utf8').trim();
  const rows = await readIcebergTable({ metadataLocation: `file://${path.join(meta, `v${version}.metadata.json`)}` });
  return rows.map((r) => ({ id: String(r.id), email: (r.email as string | null) ?? null, deleted: r._deleted === true })).sort((a, b) => a.id.localeCompare(b.id));
}

const live = (): Customer[] => stripe.objects('/v1/customers').map((c) => ({ id: c.id, email: String(c.email), deleted: false })).sort((a, b) => a.id.localeCompare(b.id));

describe('stripe → Parquet and Iceberg (merge) through the CLI', () => {
  it('every object exactly once; the next run brings updates, deletions (removed under merge) and new objects', async () => {
    const pq = job('customers_pq', 'parquet');
    const ice = job('customers_ice', 'iceberg');
    for (const file of [pq, ice]) {
      const first = await run(file);
      expect(first.code, first.stderr).toBe(0);
      expect(JSON.parse(first.stdout).jobs[0].rows).toBe(CUSTOMERS);
    }
    expect(await parquetRows('customers_pq')).toEqual(live());
    expect(await icebergRows('customers_ice')).toEqual(live());

    await sleep(1_100);
    const now = Math.floor(Date.now() / 1000);
    const all = stripe.objects('/v1/customers');
    const updated = [all[5], all[1_500], all[2_999]].map((c) => c?.id as string);
    for (const id of updated) stripe.update('/v1/customers', id, { email: `changed-${id}@example.com` }, now);
    const removed = [all[7], all[2_000]].map((c) => c?.id as string);
    for (const id of removed) stripe.remove('/v1/customers', id, now);
    const added = stripe.add('/v1/customers', 20, { from: now, step: 0 }).map((c) => c.id);
    await sleep(1_100);

    const before = new Set(parquetFiles(path.join(dir, 'out', 'customers_pq')));
    for (const file of [pq, ice]) {
      const second = await run(file);
      expect(second.code, second.stderr).toBe(0);
      const report = JSON.parse(second.stdout).jobs[0];
      // Parquet writes the deletions as marked rows; the merged table removes them.
      if (file === pq) expect(report).toMatchObject({ rows: updated.length + removed.length + added.length });
      else expect(report).toMatchObject({ rows: updated.length + added.length, deleted: removed.length });
      expect(second.stderr).not.toContain(stripe.key);
    }
    // The merged table is Stripe as it is now: deleted customers gone, updates in place.
    expect(await icebergRows('customers_ice')).toEqual(live());
    // Parquet keeps versions: the second run's files hold exactly the changes, deletions marked.
    const newFiles = parquetFiles(path.join(dir, 'out', 'customers_pq')).filter((f) => !before.has(f));
    const changes = (await queryDuckDb(`SELECT id, email, coalesce(_deleted, false) AS deleted FROM read_parquet([${newFiles.map(sqlString).join(', ')}]) ORDER BY id`)) as unknown as Customer[];
    expect(changes.map((c) => c.id)).toEqual([...updated, ...removed, ...added].sort());
    expect(changes.filter((c) => c.deleted).map((c) => c.id)).toEqual([...removed].sort());
    for (const id of updated) expect(changes.find((c) => c.id === id)?.email).toBe(`changed-${id}@example.com`);
  });

  for (const point of ['iceberg:data-written@2', 'iceberg:committed@3']) {
    it(`Iceberg merge, killed at ${point}, then rerun: each object exactly once`, async () => {
      const name = `crash_${point.split(':')[1]?.replace(/[-@]/g, '_')}`;
      const file = job(name, 'iceberg');
      const killed = await run(file, { DATIVO_CRASH_AT: point });
      expect(killed.signal).toBe('SIGKILL');
      const rerun = await run(file);
      expect(rerun.code, rerun.stderr).toBe(0);
      expect(await icebergRows(name)).toEqual(live());
    });
  }

  it('Parquet, killed at a commit and at an arbitrary moment mid-read, then rerun: no gaps, no duplicates', async () => {
    const atCommit = job('crash_pq_commit', 'parquet');
    expect((await run(atCommit, { DATIVO_CRASH_AT: 'parquet:intent-written@2' })).signal).toBe('SIGKILL');
    expect((await run(atCommit)).code).toBe(0);
    expect(await parquetRows('crash_pq_commit')).toEqual(live());

    const name = 'crash_pq_mid';
    const file = job(name, 'parquet');
    const commits = path.join(dir, 'out', name, '_dativo', 'commits');
    const count = (): number => (existsSync(commits) ? (readdirSync(commits, { recursive: true }) as string[]).filter((f) => f.endsWith('.json')).length : 0);
    stripe.http.latencyMs = 20;
    try {
      let pid = 0;
      const done = run(file, {}, (p) => (pid = p));
      const deadline = Date.now() + 60_000;
      while (count() < 2 && Date.now() < deadline) await sleep(10);
      await sleep(120);
      process.kill(pid, 'SIGKILL');
      expect((await done).signal).toBe('SIGKILL');
    } finally {
      stripe.http.latencyMs = 0;
    }
    const rerun = await run(file);
    expect(rerun.code, rerun.stderr).toBe(0);
    const rows = JSON.parse(rerun.stdout).jobs[0].rows as number;
    expect(rows).toBeGreaterThan(0);
    expect(rows).toBeLessThan(live().length);
    expect(await parquetRows(name)).toEqual(live());
  });
});

describe("stripe: v1's asset files", () => {
  it('assets/stripe/v1.0/charges.yaml and invoices.yaml (v1 repository) read their lists as declared', async () => {
    const v1 = path.join(ROOT, 'tests', 'v1-corpus', 'assets', 'stripe', 'v1.0');
    stripe.add('/v1/charges', 420, { from: start + 100, step: 9_000 });
    stripe.add('/v1/invoices', 180, { from: start + 200, step: 20_000 });
    for (const object of ['charges', 'invoices']) {
      copyFileSync(path.join(v1, `${object}.yaml`), path.join(dir, `v1_${object}.yaml`));
      writeFileSync(
        path.join(dir, 'jobs', `v1_${object}.yaml`),
        `tenant_id: acme\nenvironment: dev\nsource_connector: stripe\ntarget_connector: parquet\nasset: stripe_${object}\nasset_path: v1_${object}.yaml\nsource:\n  api_key: \${STRIPE_API_KEY}\n  api_base: \${STRIPE_API_BASE}\n  objects: [${object}]\n  start_date: ${start}\ntarget:\n  path: out/v1_${object}\n  partitioning: []\n`,
      );
      const r = await run(`jobs/v1_${object}.yaml`);
      expect(r.code, r.stderr).toBe(0);
    }
    const charges = stripe.objects('/v1/charges');
    const [c] = await queryDuckDb(`SELECT count(*)::INTEGER AS n, count(DISTINCT id)::INTEGER AS ids, sum(amount)::BIGINT::VARCHAR AS amount, min(currency) AS currency, count(created)::INTEGER AS created FROM read_parquet(${sqlString(path.join(dir, 'out', 'v1_charges', '*.parquet'))})`);
    expect(c).toEqual({ n: 420, ids: 420, amount: String(charges.reduce((n, x) => n + Number(x.amount), 0)), currency: String(charges[0]?.currency), created: 420 });
    const invoices = stripe.objects('/v1/invoices');
    const [i] = await queryDuckDb(`SELECT count(*)::INTEGER AS n, count(DISTINCT id)::INTEGER AS ids, sum(amount_due)::BIGINT::VARCHAR AS due, min(status) AS status FROM read_parquet(${sqlString(path.join(dir, 'out', 'v1_invoices', '*.parquet'))})`);
    expect(i).toEqual({ n: 180, ids: 180, due: String(invoices.reduce((n, x) => n + Number(x.amount_due), 0)), status: String(invoices[0]?.status) });
  });
});

describe('stripe: memory stays bounded', () => {
  it('1,000,000 objects stream into Parquet with peak RSS under 300 MB, each exactly once', async () => {
    const big = await startFakeStripe();
    try {
      const COUNT = 1_000_000;
      const from = Math.floor(Date.now() / 1000) - 400 * 86_400;
      big.generate('/v1/customers', COUNT, { from, step: (399 * 86_400) / COUNT });
      writeFileSync(
        path.join(dir, 'jobs', 'million.yaml'),
        `tenant_id: acme\nenvironment: dev\nsource_connector: stripe\ntarget_connector: parquet\nasset: customers\nasset_path: asset.yaml\nsource:\n  api_key: \${STRIPE_API_KEY}\n  api_base: \${STRIPE_API_BASE}\n  objects: [customers]\n  start_date: ${from}\n  window_days: 8\n  concurrency: 6\n  page_size: 100\n  rate_limits: { rps_default: 2000, burst_default: 50 }\ntarget:\n  path: out/million\n  partitioning: []\nlogging: { level: WARN }\n`,
      );
      const measured = await measureCli(['run', '--config', 'jobs/million.yaml', '--quiet'], { cwd: dir, env: { STRIPE_API_KEY: big.key, STRIPE_API_BASE: big.url } });
      expect(measured.exitCode, measured.stderr.slice(0, 2000)).toBe(0);
      expect(measured.peakRssMb).toBeLessThan(300);
      const files = parquetFiles(path.join(dir, 'out', 'million'));
      const [r] = await queryDuckDb(`SELECT count(*)::VARCHAR AS n, count(DISTINCT id)::VARCHAR AS ids, sum(balance)::VARCHAR AS balance, min(created) = to_timestamp(${from}) AS first FROM read_parquet([${files.map(sqlString).join(', ')}])`);
      let balance = 0;
      for (let n = 1; n <= COUNT; n++) balance += n % 1000;
      // Ids are numbered after the other tests' customers; balances cycle through 0..999 all the same.
      expect(r).toEqual({ n: String(COUNT), ids: String(COUNT), balance: String(balance), first: true });
    } finally {
      await big.close();
    }
  }, 600_000);
});
