import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { reliabilityRow, tempDir } from '@dativo/testing';
import { queryDuckDb, sqlString } from '@dativo/testing/duckdb';
import { icebergDataFiles, startRestCatalog, type RestCatalogServer } from '@dativo/testing/iceberg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers.js';

/**
 * Acceptance (Iceberg): `kill -9` between data write and commit, during the commit, and right after
 * the catalog commit; each rerun yields every row exactly once.
 */
const scratch = tempDir('dativo-iceberg-crash-');
const dir = scratch.path;
const ROWS = 240_000;
let rest: RestCatalogServer;

beforeAll(async () => {
  for (const sub of ['jobs', 'data']) mkdirSync(path.join(dir, sub), { recursive: true });
  let text = 'id,name,amount\n';
  for (let i = 0; i < ROWS; i++) text += `${i},name ${i},${(i % 1000) / 10}\n`;
  writeFileSync(path.join(dir, 'data/rows.csv'), text);
  writeFileSync(path.join(dir, 'asset.yaml'), 'name: rows\nschema:\n  - { name: id, type: bigint, required: true }\n  - { name: name, type: string }\n  - { name: amount, type: "decimal(8,1)" }\n');
  rest = await startRestCatalog({ warehouse: path.join(dir, 'rest-warehouse') });
  rest.createNamespace('acme');
});
afterAll(async () => {
  await rest?.stop();
  scratch.cleanup();
});

function job(name: string, catalog: 'filesystem' | 'rest'): string {
  const target =
    catalog === 'filesystem'
      ? `  catalog: { type: filesystem }\n  warehouse: warehouse\n`
      : `  catalog: { type: rest, uri: "${rest.uri}" }\n`;
  writeFileSync(
    path.join(dir, 'jobs', `${name}.yaml`),
    `tenant_id: acme\nenvironment: dev\nsource_connector: csv\ntarget_connector: iceberg\nasset: rows\nasset_path: asset.yaml\nsource:\n  files: [data/rows.csv]\ntarget:\n${target}  namespace: acme\n  table: ${name}\n  partitioning: ["bucket(4, id)"]\ncommit:\n  every_rows: 60000\n`,
  );
  return `jobs/${name}.yaml`;
}

function metadataFile(name: string, catalog: 'filesystem' | 'rest'): string {
  if (catalog === 'rest') return rest.metadataLocation('acme', name) as string;
  const meta = path.join(dir, 'warehouse', 'acme', name, 'metadata');
  const version = readFileSync(path.join(meta, 'version-hint.text'), 'utf8').trim();
  return `file://${path.join(meta, `v${version}.metadata.json`)}`;
}

async function exactlyOnce(name: string, catalog: 'filesystem' | 'rest'): Promise<void> {
  const files = await icebergDataFiles({ metadataLocation: metadataFile(name, catalog) });
  const [r] = await queryDuckDb(`SELECT count(*)::BIGINT::VARCHAR AS n, count(DISTINCT id)::BIGINT::VARCHAR AS d, min(id)::VARCHAR AS lo, max(id)::VARCHAR AS hi FROM read_parquet([${files.map((f) => sqlString(f.path)).join(', ')}], hive_partitioning = false)`);
  expect(r).toEqual({ n: String(ROWS), d: String(ROWS), lo: '0', hi: String(ROWS - 1) });
}

describe('kill -9 around Iceberg commits', () => {
  for (const catalog of ['filesystem', 'rest'] as const) {
    for (const point of ['iceberg:data-written', 'iceberg:manifests-written', 'iceberg:committed']) {
      it(`${catalog} catalog, killed at ${point}: the rerun yields each row exactly once`, async () => {
        const name = `${catalog}_${point.split(':')[1]?.replace('-', '_')}`;
        const file = job(name, catalog);
        const killed = await runCli(['run', file, '-q'], { cwd: dir, env: { DATIVO_CRASH_AT: `${point}@2` } });
        expect(killed.signal, killed.stdout + killed.stderr.slice(-1500)).toBe('SIGKILL');
        const rerun = await runCli(['run', file, '--json'], { cwd: dir });
        expect(rerun.code, rerun.stderr).toBe(0);
        const report = JSON.parse(rerun.stdout) as { jobs: Array<{ rows: number; streams: Array<{ resumed: boolean }> }> };
        expect(report.jobs[0]?.streams[0]?.resumed).toBe(true);
        expect(report.jobs[0]?.rows).toBeLessThan(ROWS);
        await exactlyOnce(name, catalog);
        if (catalog === 'filesystem') {
          // Files a killed run wrote but never committed are not part of the table.
          const data = path.join(dir, 'warehouse', 'acme', name, 'data');
          expect(existsSync(data)).toBe(true);
          expect((readdirSync(data, { recursive: true }) as string[]).filter((f) => f.endsWith('.parquet')).length).toBeGreaterThanOrEqual((await icebergDataFiles({ metadataLocation: metadataFile(name, catalog) })).length);
        }
        reliabilityRow({ connector: 'Iceberg target', fault: '`kill -9` at data written / manifests written / committed (file-system and REST catalogs)', outcome: 'the rerun yields each row once' });
      });
    }
  }
  it('the REST catalog saw only requests its OpenAPI document allows', () => {
    expect(rest.violations).toEqual([]);
  });
});
