import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '@dativo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parquetFiles, runCli } from './helpers.js';

/** Acceptance: bad input gets a clear, exact error and nothing partial is published. */
const scratch = tempDir('dativo-bad-');
afterAll(() => scratch.cleanup());
const dir = scratch.path;

const ASSET = `name: people
version: "1.0"
schema:
  - { name: id, type: bigint, required: true }
  - { name: name, type: string }
  - { name: age, type: integer }
team: { owner: qa@acme.example }
compliance: { classification: [] }
data_quality: { monitoring: { enabled: true } }
change_management: { policy: non-breaking }
`;

const JOB = `tenant_id: acme
source_connector: csv
source_connector_path: connectors/csv.yaml
target_connector: parquet
target_connector_path: connectors/parquet.yaml
asset: people
asset_path: assets/people.yaml
source:
  files:
    - path: data/people.csv
target:
  path: out/{job}
schema_validation_mode: strict
`;

const job = (name: string, text: string): string => {
  writeFileSync(path.join(dir, 'jobs', `${name}.yaml`), text);
  return `jobs/${name}.yaml`;
};

interface Report {
  status: string;
  exitCode: number;
  jobs: Array<{ status: string; rows: number; rejected: number; deadLetterFile?: string; error?: { kind: string; message: string } }>;
}

async function run(name: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; report: Report; stderr: string }> {
  const result = await runCli(['run', '--config', `jobs/${name}.yaml`, '--json'], { cwd: dir, env: extraEnv });
  return { code: result.code, report: JSON.parse(result.stdout) as Report, stderr: result.stderr };
}

function nothingPublished(name: string): void {
  expect(parquetFiles(path.join(dir, 'out', name))).toEqual([]);
  const commits = path.join(dir, 'out', name, '_dativo', 'commits');
  expect(existsSync(commits) ? (readdirSync(commits, { recursive: true }) as string[]).filter((f) => f.endsWith('.json')) : []).toEqual([]);
}

beforeAll(() => {
  for (const sub of ['jobs', 'assets', 'connectors', 'data']) mkdirSync(path.join(dir, sub), { recursive: true });
  writeFileSync(path.join(dir, 'assets/people.yaml'), ASSET);
  writeFileSync(path.join(dir, 'connectors/csv.yaml'), 'name: csv\nroles: [source]\n');
  writeFileSync(path.join(dir, 'connectors/parquet.yaml'), 'name: parquet\nroles: [target]\n');
  writeFileSync(path.join(dir, 'data/people.csv'), 'id,name,age\n1,Ada,36\n2,Alan,abc\n3,Grace,85\n');
  writeFileSync(path.join(dir, 'data/ragged.csv'), 'id,name,age\n1,Ada,36\n2,Alan,41,extra\n3,Grace,85\n');
});

describe('bad input', () => {
  it('malformed YAML', async () => {
    job('malformed', JOB.replace('  files:\n    - path: data/people.csv', '  files: [data/people.csv\n  other: 1'));
    const { code, report } = await run('malformed');
    expect(code).toBe(2);
    expect(report.jobs[0]?.error?.message).toBe('jobs/malformed.yaml:10: malformed YAML: Flow sequence in block collection must be sufficiently indented and end with a ] (line 10, column 3)');
  });

  it('unknown connector', async () => {
    job('unknown', JOB.replace('source_connector: csv', 'source_connector: ftp'));
    const { code, report } = await run('unknown');
    expect(code).toBe(2);
    expect(report.jobs[0]?.error?.message).toBe(
      "jobs/unknown.yaml: source_connector: unknown source connector 'ftp'; expected one of csv, markdown_kv, markdown-kv, mdkv, postgres, postgresql, mysql, mariadb, stripe, hubspot, gdrive_csv, google_sheets, gsheets, or an npm package name of a third-party connector",
    );
  });

  it('missing and wrongly typed fields', async () => {
    job('missing', JOB.replace('tenant_id: acme\n', ''));
    const missing = await run('missing');
    expect(missing.code).toBe(2);
    expect(missing.report.jobs[0]?.error?.message).toBe('jobs/missing.yaml: tenant_id: is required (expected string)');
    job('typed', JOB.replace('  files:\n    - path: data/people.csv', '  files: data/people.csv').replace('schema_validation_mode: strict', 'schema_validation_mode: 3'));
    const typed = await run('typed');
    expect(typed.code).toBe(2);
    expect(typed.report.jobs[0]?.error?.message).toBe('jobs/typed.yaml:12: schema_validation_mode: expected one of "strict", "warn", got number 3');
    job('typed2', JOB.replace('  files:\n    - path: data/people.csv', '  files: data/people.csv'));
    const typed2 = await run('typed2');
    expect(typed2.report.jobs[0]?.error?.message).toBe("jobs/typed2.yaml:9: source.files: expected a list, got the string 'data/people.csv'");
  });

  it('missing ${VAR}', async () => {
    job('envvar', JOB.replace('path: out/{job}', 'path: "${OUTPUT_ROOT}/{job}"'));
    const { code, report } = await run('envvar');
    expect(code).toBe(2);
    expect(report.jobs[0]?.error?.message).toBe('jobs/envvar.yaml:12: target.path: environment variable OUTPUT_ROOT is not set (referenced as ${OUTPUT_ROOT}; set it or write ${OUTPUT_ROOT:-default})');
    const ok = await run('envvar', { OUTPUT_ROOT: 'out' });
    expect(ok.report.jobs[0]?.error?.message).toContain("'abc' is not an integer"); // got past configuration
  });

  it('missing input file', async () => {
    job('nofile', JOB.replace('data/people.csv', 'data/absent.csv'));
    const { code, report } = await run('nofile');
    expect(code).toBe(2);
    expect(report.jobs[0]?.error?.message).toBe(`source.files[0].path: input file 'data/absent.csv' not found (looked under ${dir} and ${path.join(dir, 'jobs')})`);
    nothingPublished('nofile');
  });

  it('a bad value in strict mode fails the run and publishes nothing', async () => {
    job('strict', JOB);
    const { code, report } = await run('strict');
    expect(code).toBe(2);
    expect(report.jobs[0]?.error).toEqual({
      kind: 'validation',
      message: "data/people.csv row 2 (line 3), column 'age': 'abc' is not an integer (schema_validation_mode: strict; use warn to send bad records to the dead-letter queue)",
      code: 'CSV_BAD_VALUE',
    });
    nothingPublished('strict');
  });

  it('a bad value in warn mode goes to the dead-letter queue and the run goes on (exit 1)', async () => {
    job('warn', JOB.replace('schema_validation_mode: strict', 'schema_validation_mode: warn'));
    const { code, report } = await run('warn');
    expect(code).toBe(1);
    expect(report.jobs[0]).toMatchObject({ status: 'partial', rows: 2, rejected: 1 });
    const entries = readFileSync(report.jobs[0]?.deadLetterFile as string, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      tenant: 'acme',
      job: 'warn',
      stream: 'people',
      error: { kind: 'validation', code: 'CSV_BAD_VALUE', message: "data/people.csv row 2 (line 3), column 'age': 'abc' is not an integer" },
      raw: { id: '2', name: 'Alan', age: 'abc' },
      context: { file: 'data/people.csv', row: 2, line: 3, column: 'age' },
    });
    const list = await runCli(['dlq', 'list', '--json'], { cwd: dir });
    expect((JSON.parse(list.stdout) as { files: Array<{ job: string; entries: number }> }).files.find((f) => f.job === 'warn')?.entries).toBe(1);
  });

  it('a ragged row', async () => {
    job('ragged', JOB.replace('data/people.csv', 'data/ragged.csv'));
    const { code, report } = await run('ragged');
    expect(code).toBe(2);
    expect(report.jobs[0]?.error?.message).toBe('data/ragged.csv row 2 (line 3): expected 3 fields, found 4 (schema_validation_mode: strict; use warn to send bad records to the dead-letter queue)');
    nothingPublished('ragged');
  });

  it('an unreachable S3 endpoint', async () => {
    job('s3down', JOB.replace('  path: out/{job}', '  connection:\n    s3:\n      bucket: lake\n      prefix: raw/people\n      endpoint: http://127.0.0.1:1\n      access_key_id: AKIAEXAMPLE\n      secret_access_key: "${S3_SECRET}"\n      path_style_access: true'));
    const { code, report, stderr } = await run('s3down', { S3_SECRET: 'do-not-print-me' });
    expect(code).toBe(2);
    expect(report.jobs[0]?.error?.message).toBe("S3 endpoint http://127.0.0.1:1 is unreachable while trying to reach bucket 'lake' (ECONNREFUSED); check target.connection.s3.endpoint and the network");
    expect(stderr).not.toContain('do-not-print-me');
  });
});
