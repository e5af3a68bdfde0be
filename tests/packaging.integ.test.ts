import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '@dativo/testing';
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
