import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadAsset, loadJob } from './load.js';
import { substituteEnv } from './env.js';
import { formatWarning } from './issues.js';

let dir: string;
const write = (rel: string, text: string): string => {
  const file = path.join(dir, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return rel;
};

const ASSET = `apiVersion: v3.0.2
kind: DataContract
name: people
version: "1.0"
schema:
  - { name: id, type: bigint, required: true }
  - { name: amount, type: "decimal(10,2)" }
team: { owner: a@b.c }
compliance: { classification: [] }
data_quality: { monitoring: { enabled: true } }
change_management: { policy: non-breaking }
`;

const JOB = (extra = ''): string => `tenant_id: acme
source_connector: csv
source_connector_path: connectors/csv.yaml
target_connector: parquet
target_connector_path: connectors/parquet.yaml
asset: people
asset_path: assets/people.yaml
source:
  files: [{ path: data/p.csv }]
target:
  path: out
${extra}`;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dativo-config-'));
  write('assets/people.yaml', ASSET);
  write('connectors/csv.yaml', 'name: csv\ntype: csv\nroles: [source]\nconnection_template: { host: recipe-host, port: 1 }\nincremental: { strategy: file_modified_time, lookback_days_default: 2 }\n');
  write('connectors/parquet.yaml', 'name: parquet\nroles: [target]\n');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const load = (file: string, env: NodeJS.ProcessEnv = {}) => loadJob(file, { cwd: dir, env });

describe('loadJob', () => {
  it('loads a v1 job with its asset and recipes, merging recipe defaults under job values', async () => {
    write('jobs/a.yaml', JOB('sourse:\n  files: []\nlogging: { level: INFO, colour: true }\n'));
    write('jobs/b.yaml', JOB().replace('source:\n  files: [{ path: data/p.csv }]', 'source:\n  files: [{ path: data/p.csv }]\n  connection: { port: "${PGPORT:-5432}" }\n  incremental: { strategy: file_modified_time }'));
    const job = await load('jobs/b.yaml');
    expect(job.name).toBe('b');
    expect(job.job.environment).toBe('prod');
    expect(job.job.schema_validation_mode).toBe('strict');
    expect(job.fields.map((f) => f.name)).toEqual(['id', 'amount']);
    expect(job.fields[0]).toMatchObject({ type: { kind: 'int64' }, nullable: false });
    expect(job.sourceInput).toMatchObject({ connection: { host: 'recipe-host', port: '5432' }, incremental: { strategy: 'file_modified_time', lookback_days: 2 } });
    expect(job.targetInput).toMatchObject({ path: 'out' });
    const a = await load('jobs/a.yaml');
    expect(a.warnings.map((w) => `${w.file}:${w.line}: ${w.path}: ${w.message}`)).toEqual([
      'jobs/a.yaml:13: sourse: unknown key (ignored); did you mean source?',
      'jobs/a.yaml:14: logging.colour: unknown key (ignored); check the spelling',
    ]);
  });

  it('names the file, line, path and expectation of every problem', async () => {
    write('jobs/bad.yaml', 'tenant_id: 5\nsource_connector: csv\ntarget_connector: parquet\nasset_path: assets/people.yaml\nschema_validation_mode: lenient\nsource: [1]\n');
    await expect(load('jobs/bad.yaml')).rejects.toThrow(
      [
        'jobs/bad.yaml:1: tenant_id: expected string, got number 5',
        'jobs/bad.yaml: asset: is required (expected string)',
        'jobs/bad.yaml:6: source: expected record, got a list',
        "jobs/bad.yaml:5: schema_validation_mode: expected one of \"strict\", \"warn\", got the string 'lenient'",
      ].join('\n'),
    );
  });

  it('reports malformed YAML with its position', async () => {
    write('jobs/broken.yaml', 'tenant_id: acme\nsource:\n  files: [unclosed\n');
    await expect(load('jobs/broken.yaml')).rejects.toThrow(/^jobs\/broken\.yaml:4: malformed YAML: .+ \(line 4, column 1\)$/);
  });

  it('reports a missing job file, asset file and environment variable', async () => {
    await expect(load('jobs/none.yaml')).rejects.toThrow('jobs/none.yaml: job file not found');
    write('jobs/c.yaml', JOB().replace('assets/people.yaml', 'assets/missing.yaml'));
    await expect(load('jobs/c.yaml')).rejects.toThrow(/^jobs\/c\.yaml:7: asset_path: asset file 'assets\/missing\.yaml' not found/);
    write('jobs/d.yaml', JOB('  token: "${API_TOKEN}"\n'.replace('  token', 'description')));
    await expect(load('jobs/d.yaml')).rejects.toThrow('jobs/d.yaml:12: description: environment variable API_TOKEN is not set (referenced as ${API_TOKEN}; set it or write ${API_TOKEN:-default})');
    await expect(load('jobs/d.yaml', { API_TOKEN: 'abc' })).resolves.toMatchObject({ envVarsUsed: ['API_TOKEN'] });
  });

  it('validates asset types and v1 governance by environment', async () => {
    write('assets/bad.yaml', ASSET.replace('type: bigint', 'type: "decimal(40,2)"'));
    await expect(loadAsset('assets/bad.yaml', { cwd: dir })).rejects.toThrow(/^assets\/bad\.yaml:6: schema\[0\]\.type: column 'id': 'decimal\(40,2\)': decimal precision must be 1\.\.38/);
    // A type name v1 did not know either is stored as a string with one warning, as v1 did.
    write('assets/unknown.yaml', ASSET.replace('type: bigint', 'type: array'));
    const unknown = await loadAsset('assets/unknown.yaml', { cwd: dir });
    expect(unknown.fields[0]).toMatchObject({ name: 'id', type: { kind: 'string' } });
    expect(unknown.warnings.map(formatWarning)).toContain("assets/unknown.yaml:6: schema[0].type: column 'id': unknown type 'array', stored as a string (as v1 did); expected one of string, integer/bigint/long, int, double/float, real, decimal(p,s), boolean, date, time, timestamp, timestamptz, binary, json, array<T>, struct<name:T,…>");
    write('assets/ungoverned.yaml', 'name: x\nschema: [{ name: a, type: string }]\n');
    await expect(loadAsset('assets/ungoverned.yaml', { cwd: dir })).rejects.toThrow("assets/ungoverned.yaml: team.owner: an owner is required (team.owner: data-team@example.com) in environment 'prod'");
    const dev = await loadAsset('assets/ungoverned.yaml', { cwd: dir, environment: 'dev' });
    expect(dev.warnings.map((w) => w.path)).toEqual(['team.owner', 'compliance', 'data_quality.monitoring', 'change_management']);
  });

  it("takes the asset's target.mode as the write mode, but not v1's validation value 'strict'", async () => {
    write('assets/people.yaml', `${ASSET}target: { partitioning: [region], mode: merge }\n`);
    write('job.yaml', JOB());
    const merged = await load('job.yaml');
    expect(merged.targetInput).toMatchObject({ path: 'out', partitioning: ['region'], mode: 'merge' });
    write('job2.yaml', JOB('  mode: append\n'));
    expect((await load('job2.yaml')).targetInput.mode).toBe('append'); // the job overrides the asset
    write('assets/people.yaml', `${ASSET}target: { file_format: parquet, partitioning: [ingest_date], mode: strict }\n`);
    expect((await load('job.yaml')).targetInput.mode).toBeUndefined();
  });

  it('accepts the ODCS nested form (schema objects with properties)', async () => {
    write('assets/odcs.yaml', "name: orders\nobject: orders\nschema:\n  - name: orders\n    logicalType: object\n    properties:\n      - { name: id, logicalType: integer, required: true, primaryKey: true }\n      - { name: total, physicalType: 'decimal(12,2)' }\n      - { name: tags, logicalType: array, items: { logicalType: string } }\n");
    const { fields } = await loadAsset('assets/odcs.yaml', { cwd: dir, environment: 'test' });
    expect(fields.map((f) => [f.name, f.type])).toEqual([
      ['id', { kind: 'int64' }],
      ['total', { kind: 'decimal', precision: 12, scale: 2 }],
      ['tags', { kind: 'list', element: { kind: 'string' } }],
    ]);
  });
});

describe('substituteEnv', () => {
  it('supports ${VAR}, ${VAR:-default}, ${VAR-default} and $${ escapes', () => {
    const env = { A: 'x', EMPTY: '' };
    const { value, errors } = substituteEnv({ a: '${A}', b: 'pre-${B:-dflt}-post', c: '${EMPTY:-d}', d: '${EMPTY-d}', e: '$${A}', n: [1, '${A}'] }, env);
    expect(errors).toEqual([]);
    expect(value).toEqual({ a: 'x', b: 'pre-dflt-post', c: 'd', d: '', e: '${A}', n: [1, 'x'] });
  });
});
