import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '@dativo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from './helpers.js';

/** Acceptance (issue 8.4): what a newcomer meets in the first hour. */
const scratch = tempDir('dativo-first-hour-');
afterAll(() => scratch.cleanup());
const dir = scratch.path;

const JOB = (extra: string, head = 'tenant_id: acme\n'): string =>
  `${head}environment: dev\nsource_connector: csv\ntarget_connector: parquet\nasset: people\nasset_path: assets/people.yaml\nsource: { files: [data/people.csv] }\n${extra}`;

beforeAll(() => {
  for (const sub of ['jobs', 'assets', 'data']) mkdirSync(path.join(dir, sub), { recursive: true });
  writeFileSync(path.join(dir, 'assets/people.yaml'), 'name: people\nschema:\n  - { name: id, type: integer, required: true }\n  - { name: name, type: string }\n');
  writeFileSync(path.join(dir, 'data/people.csv'), 'id,name\n1,Ada\n3000000000,Grace\n');
  writeFileSync(path.join(dir, 'jobs/tenant.yaml'), JOB('target: { path: out }\n', 'tenant_Id: acme\n'));
  writeFileSync(path.join(dir, 'jobs/enum.yaml'), JOB('target: { path: out }\nschema_validation_mode: wran\n'));
  writeFileSync(path.join(dir, 'jobs/pth.yaml'), JOB('target: { pth: out }\n'));
  writeFileSync(path.join(dir, 'jobs/proc.yaml'), JOB('target: { path: /proc/dativo-test/out }\n'));
  writeFileSync(path.join(dir, 'jobs/ok.yaml'), JOB('target: { path: out/ok }\n'));
});

describe('a newcomer meets', () => {
  it('"did you mean" for a misspelled key, also when it leaves a required key missing, and for a misspelled enum value', async () => {
    const tenant = await runCli(['validate', 'jobs/tenant.yaml'], { cwd: dir });
    expect(tenant.code).toBe(2);
    expect(tenant.stdout).toContain('jobs/tenant.yaml: tenant_id: is required (expected string); found `tenant_Id` — did you mean tenant_id?');
    const mode = await runCli(['validate', 'jobs/enum.yaml'], { cwd: dir });
    expect(mode.code).toBe(2);
    expect(mode.stdout).toContain(`jobs/enum.yaml:9: schema_validation_mode: expected one of "strict", "warn", got the string 'wran' — did you mean warn?`);
  });

  it('validate fails when the job cannot run (a target without a location), naming the misspelled key', async () => {
    const r = await runCli(['validate', 'jobs/pth.yaml'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('jobs/pth.yaml:8: target: no output location: set path (a local directory), or connection.s3.bucket (with prefix, endpoint and credentials), or the S3_BUCKET environment variable; found `pth` — did you mean path?');
    const ok = await runCli(['validate', 'jobs/ok.yaml'], { cwd: dir });
    expect(ok.code, ok.stdout).toBe(0);
  });

  it('a target under a special path (/proc) fails at once with a clear error', async () => {
    const r = await runCli(['run', 'jobs/proc.yaml', '--json'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).jobs[0].error.message).toBe("cannot write to output directory /proc/dativo-test/out: ENOENT: no such file or directory, mkdir '/proc/dativo-test'");
  }, 20_000);

  it("v1's integer is 64-bit: 3000000000 loads", async () => {
    const r = await runCli(['run', 'jobs/ok.yaml', '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).jobs[0].rows).toBe(2);
  });

  it('subcommand help lists the global options; --version answers', async () => {
    const help = await runCli(['run', '--help'], { cwd: dir });
    expect(help.stdout).toMatch(/Global Options:\n\s+-V, --version[\s\S]*--state-dir <dir>[\s\S]*--log-format <format>/);
    expect((await runCli(['--version'], { cwd: dir })).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('the dativo command works from the repository root as the README writes it (npx dativo), through a committed bin file', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'packages/cli/package.json'), 'utf8')) as { bin: Record<string, string>; files: string[] };
    const bin = path.join(ROOT, 'packages/cli', pkg.bin.dativo as string);
    // The bin exists before any build, so installing the workspace never fails to link it.
    expect(bin).not.toContain(`${path.sep}dist${path.sep}`);
    expect(existsSync(bin)).toBe(true);
    expect(pkg.files).toContain('bin');
    const r = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'dativo'), ['--version'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(readFileSync(path.join(ROOT, 'README.md'), 'utf8')).toContain('npx dativo');
  });
});
