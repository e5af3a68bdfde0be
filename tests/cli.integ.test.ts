import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '@dativo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parquetFiles, runCli } from './helpers.js';

/** The CLI's commands beyond `run`: check, discover, validate, state, dlq, --job-dir and exit codes. */
const scratch = tempDir('dativo-cli-');
afterAll(() => scratch.cleanup());
const dir = scratch.path;

const job = (name: string, extra = '', file = 'data/people.csv', incremental = false): void =>
  writeFileSync(
    path.join(dir, 'jobs', `${name}.yaml`),
    `tenant_id: acme\nenvironment: dev\nsource_connector: csv\ntarget_connector: parquet\nasset: people\nasset_path: assets/people.yaml\nsource:\n  files: [${file}]\n${incremental ? '  incremental: { strategy: file_modified_time }\n' : ''}target:\n  path: out/${name}\n${extra}`,
  );

beforeAll(() => {
  for (const sub of ['jobs', 'assets', 'data', 'secrets']) mkdirSync(path.join(dir, sub), { recursive: true });
  writeFileSync(path.join(dir, 'assets/people.yaml'), 'name: people\nschema:\n  - { name: id, type: bigint, required: true }\n  - { name: name, type: string }\n  - { name: age, type: integer }\n');
  writeFileSync(path.join(dir, 'data/people.csv'), 'id,name,age\n1,Ada,36\n2,Alan,abc\n3,Grace,85\n');
  writeFileSync(path.join(dir, 'data/clean.csv'), 'id,name,age,city\n1,Ada,36,London\n2,Alan,41,Wilmslow\n');
  job('clean', '', 'data/clean.csv', true);
  job('snapshot', '', 'data/clean.csv');
  job('warn', 'schema_validation_mode: warn\n');
  job('broken', '', 'data/nowhere.csv');
});

describe('dativo CLI', () => {
  it('--job-dir runs every job; a failed job and dead-lettered rows make exit code 1', async () => {
    const r = await runCli(['run', '--job-dir', 'jobs'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`✖ acme/broken  failed: source.files[0].path: input file 'data/nowhere.csv' not found (looked under ${dir} and ${path.join(dir, 'jobs')})`);
    expect(r.stdout).toMatch(/^✔ acme\/clean {2}2 rows · 1 file · .* rows\/s · [\d.]+ s CPU$/m);
    expect(r.stdout).toMatch(/^! acme\/warn {2}2 rows · 1 file · .* · 1 rejected → .*\.jsonl$/m);
    expect(r.stdout).toContain('3/4 jobs succeeded · 6 rows');
    const again = await runCli(['run', '--config', 'jobs/clean.yaml'], { cwd: dir });
    expect(again.stdout).toMatch(/^✔ acme\/clean {2}0 rows · 0 files · .* · nothing new since the last run$/m);
    // Without source.incremental every run is a full refresh: the files are read again.
    for (let i = 0; i < 2; i++) expect((await runCli(['run', 'jobs/snapshot.yaml'], { cwd: dir })).stdout).toMatch(/^✔ acme\/snapshot {2}2 rows · 1 file · /);
  });

  it('check reports each step', async () => {
    const ok = await runCli(['check', '--config', 'jobs/clean.yaml', '--json'], { cwd: dir });
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, checks: [{ name: 'configuration', ok: true }, { name: 'source (csv)', ok: true }, { name: 'target (parquet)', ok: true }] });
    const bad = await runCli(['check', 'jobs/broken.yaml'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stdout).toMatch(/^✔ configuration\n✖ source \(csv\): source\.files\[0\]\.path: input file 'data\/nowhere\.csv' not found .*\n✔ target \(parquet\)\n$/);
  });

  it('check --job-dir checks every job and names the one that fails', async () => {
    const text = await runCli(['check', '--job-dir', 'jobs'], { cwd: dir });
    expect(text.code).toBe(2);
    expect(text.stdout).toMatch(/^jobs\/broken\.yaml\n {2}✔ configuration\n {2}✖ source \(csv\): source\.files\[0\]\.path: input file 'data\/nowhere\.csv' not found .*\n {2}✔ target \(parquet\)\njobs\/clean\.yaml\n {2}✔ configuration\n/);
    expect(text.stdout).toMatch(/\n3\/4 jobs passed every check\n$/);
    const json = await runCli(['check', '--job-dir', 'jobs', '--json'], { cwd: dir });
    const report = JSON.parse(json.stdout) as { ok: boolean; jobs: Array<{ file: string; ok: boolean }> };
    expect(report.ok).toBe(false);
    expect(report.jobs.map((j) => [j.file, j.ok])).toEqual([
      ['jobs/broken.yaml', false],
      ['jobs/clean.yaml', true],
      ['jobs/snapshot.yaml', true],
      ['jobs/warn.yaml', true],
    ]);
    const none = await runCli(['check'], { cwd: dir });
    expect(none.code).toBe(2);
    expect(none.stderr).toBe('dativo check: no job given: dativo check --config <job.yaml> (or a path), or --job-dir <dir>\n');
  });

  it('discover lists streams of a job and the settings of a connector', async () => {
    const streams = await runCli(['discover', '--config', 'jobs/clean.yaml', '--json'], { cwd: dir });
    expect(streams.code).toBe(0);
    const parsed = JSON.parse(streams.stdout) as { streams: Array<{ name: string; schema: Array<{ name: string; type: { kind: string } }> }> };
    expect(parsed.streams[0]?.schema.map((f) => `${f.name}:${f.type.kind}`)).toEqual(['id:int64', 'name:string', 'age:int64', 'city:string']);
    const connector = await runCli(['discover', '--connector', 'csv', '--json'], { cwd: dir });
    const info = JSON.parse(connector.stdout) as { package: string; config: { properties: Record<string, unknown>; required: string[] } };
    expect(info.package).toBe('@dativo/source-csv');
    expect(Object.keys(info.config.properties)).toContain('files');
    expect(info.config.required).toEqual(['files']);
    const unknown = await runCli(['discover', '--connector', 'nope'], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^dativo discover: --connector: unknown source connector 'nope'/);
  });

  it('validate tells jobs, assets and recipes apart', async () => {
    writeFileSync(path.join(dir, 'recipe.yaml'), 'name: csv\nroles: [source]\nconnection_template: {}\nrate_limit: 5\n');
    const r = await runCli(['validate', 'jobs/clean.yaml', 'assets/people.yaml', 'recipe.yaml', 'data/people.csv', '--environment', 'dev'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('✔ jobs/clean.yaml (job)');
    expect(r.stdout).toContain('✔ assets/people.yaml (asset)');
    expect(r.stdout).toContain('✔ recipe.yaml (recipe)\n  warning: recipe.yaml:4: rate_limit: unknown key (ignored); did you mean rate_limits?');
    expect(r.stdout).toContain('✖ data/people.csv\n  error: data/people.csv: expected a mapping of keys at the top of the YAML file, got string');
  });

  it('state show and reset: the next run starts from scratch', async () => {
    const show = await runCli(['state', 'show', '--config', 'jobs/clean.yaml', '--json'], { cwd: dir });
    const states = (JSON.parse(show.stdout) as { states: Array<{ key: { stream: string }; checkpoint: { state: { done: boolean } } }> }).states;
    expect(states).toHaveLength(1);
    expect(states[0]).toMatchObject({ key: { stream: 'people' }, checkpoint: { state: { done: true } } });
    const reset = await runCli(['state', 'reset', '--config', 'jobs/clean.yaml'], { cwd: dir });
    expect(reset.stdout).toBe('reset acme/clean/people\n');
    const rerun = await runCli(['run', 'jobs/clean.yaml', '--json'], { cwd: dir });
    expect(JSON.parse(rerun.stdout).jobs[0].rows).toBe(2);
    expect(parquetFiles(path.join(dir, 'out/clean'))).toHaveLength(2);
  });

  it('dlq list shows runs and entries', async () => {
    const files = JSON.parse((await runCli(['dlq', 'list', '--json', '--job', 'warn'], { cwd: dir })).stdout) as { files: Array<{ runId: string; entries: number }> };
    expect(files.files).toHaveLength(1);
    const entries = await runCli(['dlq', 'list', '--run', files.files[0]!.runId], { cwd: dir });
    expect(entries.stdout).toMatch(/ people \[validation\] data\/people\.csv row 2 \(line 3\), column 'age': 'abc' is not an integer\n {2}\{"id":"2","name":"Alan","age":"abc"\}\n$/);
  });

  it('reads ${VAR} from a secrets directory and never prints secrets', async () => {
    writeFileSync(path.join(dir, 'secrets', 'DB_PASSWORD'), 'pa55-word-xyz\n');
    job('secret', 'description: "${DB_PASSWORD}"\nsource2: "${DB_PASSWORD}"\n', '"data/missing-${DB_PASSWORD}.csv"');
    const r = await runCli(['run', 'jobs/secret.yaml', '--secrets-dir', 'secrets', '--log-level', 'debug'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain("input file 'data/missing-[REDACTED].csv' not found");
    expect(r.stdout + r.stderr).not.toContain('pa55-word-xyz');
  });

  it('prints usage errors and --version', async () => {
    const v = await runCli(['--version'], { cwd: dir });
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const none = await runCli(['run'], { cwd: dir });
    expect(none.code).toBe(2);
    expect(none.stderr).toBe('dativo: no job given: dativo run --config <job.yaml> (or a path), or --job-dir <dir>\n');
    const unknown = await runCli(['frobnicate'], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("error: unknown command 'frobnicate'");
  });
});
