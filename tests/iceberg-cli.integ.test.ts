import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseJsonLossless } from '@dativo/sink-iceberg';
import { tempDir } from '@dativo/testing';
import { icebergDataFiles, readIcebergTable, startRestCatalog, type RestCatalogServer } from '@dativo/testing/iceberg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers.js';

/** Iceberg through the CLI: v1 Nessie jobs, maintenance commands, and the table staying readable. */
const scratch = tempDir('dativo-iceberg-cli-');
const dir = scratch.path;
let nessie: RestCatalogServer;

const ASSET = 'name: orders\nschema:\n  - { name: id, type: bigint, required: true }\n  - { name: region, type: string }\n  - { name: total, type: "decimal(10,2)" }\n';

beforeAll(async () => {
  for (const sub of ['jobs', 'data']) mkdirSync(path.join(dir, sub), { recursive: true });
  writeFileSync(path.join(dir, 'asset.yaml'), ASSET);
  nessie = await startRestCatalog({ warehouse: path.join(dir, 'nessie'), basePath: '/iceberg', prefix: 'main|warehouse', acceptPrefixes: ['acme|warehouse'] });
  nessie.createNamespace('acme');
});
afterAll(async () => {
  await nessie?.stop();
  scratch.cleanup();
});

function csv(name: string, from: number, to: number): void {
  let text = 'id,region,total\n';
  for (let i = from; i < to; i++) text += `${i},${['eu', 'us'][i % 2]},${i}.50\n`;
  writeFileSync(path.join(dir, 'data', name), text);
}

describe('v1 Nessie job', () => {
  it('maps connection.nessie.uri, branch and warehouse onto the Iceberg REST API', async () => {
    csv('orders.csv', 0, 100);
    writeFileSync(
      path.join(dir, 'jobs', 'nessie.yaml'),
      `tenant_id: acme\nenvironment: dev\nsource_connector: csv\ntarget_connector: iceberg\nasset: orders\nasset_path: asset.yaml\nsource:\n  files: [data/orders.csv]\ntarget:\n  branch: acme\n  warehouse: ${path.join(dir, 'lake')}\n  connection:\n    nessie:\n      uri: "${nessie.uri}/api/v1"\n`,
    );
    const r = await runCli(['run', 'jobs/nessie.yaml'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(nessie.prefixesUsed).toEqual(new Set(['acme|warehouse']));
    expect(nessie.requests.filter((q) => q.startsWith('POST')).map((q) => q.replace(/%7C/g, '|'))).toEqual([
      '/v1/acme|warehouse/namespaces/acme/tables',
      '/v1/acme|warehouse/namespaces/acme/tables/orders',
    ].map((p) => `POST ${p}`));
    const rows = await readIcebergTable({ metadataLocation: nessie.metadataLocation('acme', 'orders') as string });
    expect(rows.length).toBe(100);
    // The table lives in the job's warehouse, partitioned by ingest_date (v1 default).
    const files = await icebergDataFiles({ metadataLocation: nessie.metadataLocation('acme', 'orders') as string });
    expect(files[0]?.path).toMatch(new RegExp(`^${path.join(dir, 'lake', 'acme', 'orders', 'data', 'ingest_date=')}\\d{4}-\\d\\d-\\d\\d/`));
    expect(nessie.violations).toEqual([]);
  });
});

describe('dativo iceberg maintenance', () => {
  const warehouse = path.join(dir, 'wh');
  const job = (): void =>
    writeFileSync(
      path.join(dir, 'jobs', 'small.yaml'),
      `tenant_id: acme\nenvironment: dev\nsource_connector: csv\ntarget_connector: iceberg\nasset: orders\nasset_path: asset.yaml\nsource:\n  files: ["data/small-*.csv"]\n  incremental: { strategy: file_modified_time }\ntarget:\n  catalog: { type: filesystem }\n  warehouse: ${warehouse}\n  table: small\n  partitioning: [region]\n`,
    );
  const metadataFile = (): string => {
    const meta = path.join(warehouse, 'acme', 'small', 'metadata');
    return `file://${path.join(meta, `v${readFileSync(path.join(meta, 'version-hint.text'), 'utf8').trim()}.metadata.json`)}`;
  };
  const total = async (): Promise<number[]> => (await readIcebergTable({ metadataLocation: metadataFile() })).map((r) => Number(r.id)).sort((a, b) => a - b);

  it('compacts small files into one per partition, then expires old snapshots and their files; the table stays readable', async () => {
    job();
    for (let i = 0; i < 5; i++) {
      csv(`small-${i}.csv`, i * 20, i * 20 + 20);
      const r = await runCli(['run', 'jobs/small.yaml', '-q'], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
    }
    const all = Array.from({ length: 100 }, (_, i) => i);
    expect(await total()).toEqual(all);
    expect((await icebergDataFiles({ metadataLocation: metadataFile() })).length).toBe(10);

    const compact = await runCli(['iceberg', 'compact', '--config', 'jobs/small.yaml', '--json'], { cwd: dir });
    expect(compact.code, compact.stderr).toBe(0);
    expect(JSON.parse(compact.stdout).results).toEqual([{ table: 'acme.small', rewrittenFiles: 10, addedFiles: 2, rows: 100 }]);
    expect(await total()).toEqual(all);
    expect((await icebergDataFiles({ metadataLocation: metadataFile() })).length).toBe(2);

    const before = readdirSync(path.join(warehouse, 'acme', 'small', 'data'), { recursive: true }).filter((f) => String(f).endsWith('.parquet')).length;
    const expire = await runCli(['iceberg', 'expire-snapshots', '--config', 'jobs/small.yaml', '--older-than', '0s', '--retain-last', '1'], { cwd: dir });
    expect(expire.code, expire.stderr).toBe(0);
    expect(expire.stdout).toMatch(/^acme\.small: expired 5 snapshot\(s\), kept 1, deleted \d+ file\(s\)\n$/);
    const after = readdirSync(path.join(warehouse, 'acme', 'small', 'data'), { recursive: true }).filter((f) => String(f).endsWith('.parquet')).length;
    expect(before).toBe(12);
    expect(after).toBe(2);
    expect(await total()).toEqual(all);
    const metadata = parseJsonLossless(readFileSync(new URL(metadataFile()), 'utf8')) as { snapshots: unknown[]; properties: Record<string, string> };
    expect(metadata.snapshots).toHaveLength(1);
    // The job's checkpoint survives expiry (table property): the next run reads only new files.
    expect(Object.keys(metadata.properties).filter((k) => k.startsWith('dativo.checkpoint.'))).toEqual(['dativo.checkpoint.main.acme.small.orders']);
    csv('small-9.csv', 900, 905);
    const next = await runCli(['run', 'jobs/small.yaml', '--json'], { cwd: dir });
    expect(JSON.parse(next.stdout).jobs[0].rows).toBe(5);
    expect((await total()).length).toBe(105);
  });

  it('state reset --config rewinds the checkpoint kept in the table: the next run reads every file again', async () => {
    const reset = await runCli(['state', 'reset', '--config', 'jobs/small.yaml'], { cwd: dir });
    expect(reset.code, reset.stderr).toBe(0);
    expect(reset.stdout).toBe('reset acme/small/orders\n');
    const rerun = await runCli(['run', 'jobs/small.yaml', '--json'], { cwd: dir });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(JSON.parse(rerun.stdout).jobs[0].rows).toBe(105); // appended again: the job's mode is append
    expect((await total()).length).toBe(210);
  });

  it('refuses maintenance on a job whose target is not an Iceberg catalog table', async () => {
    writeFileSync(path.join(dir, 'jobs', 'parquet.yaml'), 'tenant_id: acme\nsource_connector: csv\ntarget_connector: parquet\nasset: orders\nasset_path: asset.yaml\nenvironment: dev\nsource: { files: [data/orders.csv] }\ntarget: { path: out }\n');
    const r = await runCli(['iceberg', 'compact', '--config', 'jobs/parquet.yaml'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("dativo iceberg compact: jobs/parquet.yaml: the job's target is parquet (@dativo/sink-parquet) and its source csv; iceberg commands need a job that uses iceberg\n");
  });
});

describe("the asset's target.mode", () => {
  it('merges by the primary key through the CLI (re-runs upsert instead of duplicating)', async () => {
    writeFileSync(path.join(dir, 'merge-asset.yaml'), `${ASSET.replace('required: true }', 'required: true, primary_key: true }')}target: { partitioning: [region], mode: merge }\n`);
    const job = `tenant_id: acme\nenvironment: dev\nsource_connector: csv\ntarget_connector: iceberg\nasset: orders\nasset_path: merge-asset.yaml\nsource:\n  files: [data/merge.csv]\ntarget:\n  catalog: { type: filesystem }\n  warehouse: ${path.join(dir, 'merge-wh')}\n  table: merged\n`;
    writeFileSync(path.join(dir, 'jobs', 'merge.yaml'), job);
    csv('merge.csv', 0, 50);
    expect((await runCli(['run', 'jobs/merge.yaml'], { cwd: dir })).code).toBe(0);
    // The second file changes totals of ids 40..49 and adds 50..59.
    let text = 'id,region,total\n';
    for (let i = 40; i < 60; i++) text += `${i},${['eu', 'us'][i % 2]},${i}.99\n`;
    writeFileSync(path.join(dir, 'data', 'merge.csv'), text);
    const r = await runCli(['run', 'jobs/merge.yaml'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const meta = path.join(dir, 'merge-wh', 'acme', 'merged', 'metadata');
    const version = readFileSync(path.join(meta, 'version-hint.text'), 'utf8').trim();
    const rows = (await readIcebergTable({ metadataLocation: `file://${path.join(meta, `v${version}.metadata.json`)}` })).map((row) => [Number(row.id), Number(row.total)]).sort((a, b) => (a[0] as number) - (b[0] as number));
    expect(rows).toEqual(Array.from({ length: 60 }, (_, i) => [i, i < 40 ? i + 0.5 : i + 0.99]));
  });

  it('a Parquet target refuses merge with an error naming the setting', async () => {
    writeFileSync(path.join(dir, 'jobs', 'merge-parquet.yaml'), `tenant_id: acme\nenvironment: dev\nsource_connector: csv\ntarget_connector: parquet\nasset: orders\nasset_path: merge-asset.yaml\nsource:\n  files: [data/merge.csv]\ntarget:\n  path: out/merge-parquet\n`);
    const r = await runCli(['run', 'jobs/merge-parquet.yaml'], { cwd: dir });
    expect(r.code).not.toBe(0);
    expect(`${r.stdout}${r.stderr}`).toMatch(/merge-asset\.yaml.*target\.mode: Parquet targets append only; overwrite, overwrite_partitions and merge need an Iceberg target/);
  });
});
