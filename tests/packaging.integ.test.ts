import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '@dativo/testing';
import { queryDuckDb, sqlString } from '@dativo/testing/duckdb';
import { startHttpServer } from '@dativo/testing/http';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';

/**
 * Every package passes publint, and `pnpm pack` of each produces a tarball that installs with npm
 * and imports (ESM and CommonJS) in a fresh directory outside the workspace.
 */
const scratch = tempDir('dativo-pack-');
afterAll(() => scratch.cleanup());

const packages = readdirSync(path.join(ROOT, 'packages')).map((dir) => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'packages', dir, 'package.json'), 'utf8')) as { name: string; version: string; private?: boolean };
  return { dir: path.join(ROOT, 'packages', dir), name: pkg.name, version: pkg.version, private: pkg.private === true };
}).filter((p) => !p.private);

const pnpm = process.env.npm_execpath && /pnpm/.test(process.env.npm_execpath) ? [process.execPath, process.env.npm_execpath] : ['pnpm'];
const tarballs = new Map<string, string>();
const app = path.join(scratch.path, 'app');

beforeAll(() => {
  const out = path.join(scratch.path, 'tarballs');
  mkdirSync(out, { recursive: true });
  for (const p of packages) {
    const before = new Set(readdirSync(out));
    const [cmd, ...pre] = pnpm as [string, ...string[]];
    execFileSync(cmd, [...pre, 'pack', '--pack-destination', out], { cwd: p.dir, stdio: 'pipe' });
    const created = readdirSync(out).find((f) => !before.has(f));
    if (!created) throw new Error(`pnpm pack produced nothing for ${p.name}`);
    tarballs.set(p.name, path.join(out, created));
  }
  mkdirSync(app, { recursive: true });
  const files = Object.fromEntries([...tarballs].map(([name, file]) => [name, `file:${file}`]));
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, dependencies: { ...files, vitest: '4.1.12' }, overrides: files }, null, 2));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app, stdio: 'pipe', timeout: 280_000 });
}, 300_000);

describe('published packages', () => {
  it('pass publint (strict)', async () => {
    for (const p of packages) {
      const { messages, pkg } = await publint({ pkgDir: p.dir, strict: true, pack: 'pnpm' });
      expect(messages.map((m) => `${p.name}: ${formatMessage(m, pkg) ?? m.code}`)).toEqual([]);
    }
  });

  it('declare their workspace dependencies as real versions in the tarball', () => {
    const manifest = JSON.parse(execFileSync('tar', ['-xOzf', tarballs.get('@dativo/sink-parquet') as string, 'package/package.json'], { encoding: 'utf8' })) as { dependencies: Record<string, string> };
    expect(manifest.dependencies['@dativo/core']).toMatch(/^\^\d+\.\d+\.\d+$/);
  });

  it('import as ES modules and from CommonJS outside the workspace', () => {
    for (const p of packages) {
      const esm = execFileSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(p.name)}); console.log(Object.keys(m).length)`], { cwd: app, encoding: 'utf8' });
      expect(Number(esm.trim()), p.name).toBeGreaterThan(0);
      if (p.name === '@dativo/testing') continue; // imports vitest, which is ESM-only
      const cjs = execFileSync(process.execPath, ['-e', `const m = require(${JSON.stringify(p.name)}); console.log(Object.keys(m).length)`], { cwd: app, encoding: 'utf8' });
      expect(Number(cjs.trim()), p.name).toBeGreaterThan(0);
    }
    // Functions built on ESM-only dependencies (p-retry) work from CommonJS too.
    const retried = execFileSync(process.execPath, ['-e', "require('@dativo/core').withRetry(async (n) => { if (n < 2) throw Object.assign(new Error('reset'), { code: 'ECONNRESET' }); return 'ok after ' + n; }, { policy: { baseDelayMs: 1 } }).then(console.log)"], { cwd: app, encoding: 'utf8' });
    expect(retried.trim()).toBe('ok after 2');
  });

  it('run a CSV job end to end with the installed dativo binary', () => {
    mkdirSync(path.join(app, 'job'), { recursive: true });
    writeFileSync(path.join(app, 'job', 'people.csv'), 'id,name\n1,Ada\n2,Alan\n');
    writeFileSync(path.join(app, 'job', 'asset.yaml'), 'name: people\nschema:\n  - { name: id, type: bigint }\n  - { name: name, type: string }\n');
    writeFileSync(path.join(app, 'job', 'job.yaml'), 'tenant_id: t\nenvironment: dev\nsource_connector: csv\ntarget_connector: parquet\nasset: people\nasset_path: asset.yaml\nsource: { files: [people.csv] }\ntarget: { path: out }\n');
    const version = execFileSync(path.join(app, 'node_modules', '.bin', 'dativo'), ['--version'], { cwd: app, encoding: 'utf8' });
    expect(version.trim()).toBe(packages.find((p) => p.name === '@dativo/cli')?.version);
    const out = execFileSync(path.join(app, 'node_modules', '.bin', 'dativo'), ['run', 'job/job.yaml', '--log-level', 'error'], { cwd: app, encoding: 'utf8' });
    expect(out).toMatch(/^✔ t\/job {2}2 rows · 1 file · /);
  });
});

/** Runs a command without blocking the event loop (the fake API below lives in this process). */
function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Acceptance (issue 9): a new source made from `templates/source-template`, outside `packages/`,
 * builds against the packed @dativo packages, passes publint and the conformance suite, installs
 * from its own tarball next to the packed CLI and runs a job against an HTTP API.
 */
describe('a source made from the template', () => {
  const template = path.join(scratch.path, 'dativo-source-example');
  let templateTarball: string;
  const steps: Record<string, { code: number | null; stdout: string; stderr: string }> = {};

  beforeAll(async () => {
    cpSync(path.join(ROOT, 'templates', 'source-template'), template, { recursive: true, filter: (src) => !/[\\/](node_modules|dist)([\\/]|$)/.test(src) });
    // As a user's package.json would name the published versions; here the packed tarballs.
    const original = readFileSync(path.join(template, 'package.json'), 'utf8');
    const manifest = JSON.parse(original) as Record<string, Record<string, string>>;
    const file = (name: string): string => `file:${tarballs.get(name) as string}`;
    (manifest.dependencies as Record<string, string>)['@dativo/core'] = file('@dativo/core');
    (manifest.devDependencies as Record<string, string>)['@dativo/testing'] = file('@dativo/testing');
    manifest.overrides = Object.fromEntries([...tarballs].map(([name, f]) => [name, `file:${f}`]));
    writeFileSync(path.join(template, 'package.json'), JSON.stringify(manifest, null, 2));
    steps.install = await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], template);
    if (steps.install.code !== 0) throw new Error(`npm install in the template failed:\n${steps.install.stderr}`);
    for (const script of ['build', 'typecheck']) steps[script] = await run('npm', ['run', script], template);
    steps.test = await run('npm', ['test', '--', '--reporter=verbose'], template, { NO_COLOR: '1', FORCE_COLOR: '0' });
    // publint judges the manifest a user publishes (registry versions), not the test's file: links.
    const rewritten = readFileSync(path.join(template, 'package.json'), 'utf8');
    writeFileSync(path.join(template, 'package.json'), original);
    steps['lint:package'] = await run('npm', ['run', 'lint:package'], template);
    writeFileSync(path.join(template, 'package.json'), rewritten);
    const packed = await run('npm', ['pack', '--pack-destination', scratch.path, '--silent'], template);
    templateTarball = path.join(scratch.path, packed.stdout.trim().split('\n').at(-1) as string);
  }, 600_000);

  it('builds, typechecks, passes publint --strict and the conformance suite out of the box', () => {
    for (const script of ['build', 'typecheck', 'lint:package', 'test']) expect(steps[script]?.code, `npm run ${script}:\n${steps[script]?.stdout}\n${steps[script]?.stderr}`).toBe(0);
    expect(steps.test?.stdout).toMatch(/Tests\s+\d+ passed/);
    expect(steps.test?.stdout).toContain('extractor conformance');
  });

  it('an HTTP connector author installs @dativo/testing without pg, mysql2 or an S3 server', () => {
    for (const heavy of ['pg', 'mysql2', 's3rver', 'icebird', '@duckdb/node-api']) expect(existsSync(path.join(template, 'node_modules', heavy)), heavy).toBe(false);
    expect(existsSync(path.join(template, 'node_modules', '@dativo', 'testing', 'dist', 'http.js'))).toBe(true);
  });

  it('installs from its tarball next to the packed CLI and runs a job against the API', async () => {
    const installed = await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', templateTarball], app);
    expect(installed.code, installed.stderr).toBe(0);
    const items = Array.from({ length: 120 }, (_, i) => ({ id: i + 1, name: `item ${i + 1}`, price: (i + 1) / 4, updated_at: new Date(Date.UTC(2024, 4, 1, 0, i)).toISOString() }));
    const api = await startHttpServer();
    api.route('GET', '/items', (req) => {
      if (req.headers.authorization !== 'Bearer s3cret-key-42') return { status: 401, body: {} };
      const offset = Number(req.query.get('cursor') ?? 0);
      const limit = Number(req.query.get('limit'));
      return { body: { data: items.slice(offset, offset + limit), next_cursor: offset + limit < items.length ? String(offset + limit) : null } };
    });
    try {
      const jobDir = path.join(app, 'api-job');
      mkdirSync(jobDir, { recursive: true });
      writeFileSync(path.join(jobDir, 'items.yaml'), 'name: items\nschema:\n  - { name: id, type: bigint, required: true }\n  - { name: name, type: string }\n  - { name: price, type: double }\n  - { name: updated_at, type: timestamptz }\n');
      writeFileSync(
        path.join(jobDir, 'job.yaml'),
        `tenant_id: acme\nenvironment: dev\nsource_connector: dativo-source-example\ntarget_connector: parquet\nasset: items\nasset_path: items.yaml\nsource:\n  base_url: ${api.url}\n  api_key: \${EXAMPLE_API_KEY}\n  page_size: 25\ntarget:\n  path: out/items\n`,
      );
      const r = await run(path.join(app, 'node_modules', '.bin', 'dativo'), ['run', 'api-job/job.yaml'], app, { EXAMPLE_API_KEY: 's3cret-key-42', DATIVO_STATE_DIR: path.join(app, '.state') });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/✔ acme\/job {2}120 rows/);
      expect(r.stdout + r.stderr).not.toContain('s3cret-key-42');
      expect(api.requests.filter((q) => q.path === '/items').length).toBe(5);
      const out = await queryDuckDb(`SELECT count(*)::INTEGER AS n, sum(id)::INTEGER AS ids, max(price) AS price FROM read_parquet(${sqlString(path.join(app, 'out/items/**/*.parquet'))})`);
      expect(out).toEqual([{ n: 120, ids: 7260, price: 30 }]);
    } finally {
      await api.close();
    }
  });
});
