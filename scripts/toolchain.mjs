// Makes sure pnpm (the version pinned in package.json) is available, installs the workspace and
// builds it. Used by `npm run quickstart`, `npm test` and .ci/run, so they work on a machine that
// has only Node.js and npm: pnpm is installed into .tools/ when it is not on PATH.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PINNED = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).packageManager.replace(/^pnpm@/, '');
const TOOLS_BIN = path.join(ROOT, '.tools', 'node_modules', '.bin');

function pnpmVersion(env) {
  const r = spawnSync('pnpm', ['--version'], { env, encoding: 'utf8', shell: process.platform === 'win32' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** An environment whose PATH finds pnpm (installing it into .tools/ if needed). */
export function toolchainEnv() {
  const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1', TURBO_NO_UPDATE_NOTIFIER: '1', DO_NOT_TRACK: '1' };
  const withTools = { ...env, PATH: `${TOOLS_BIN}${path.delimiter}${env.PATH ?? ''}` };
  const found = pnpmVersion(withTools);
  if (found && found.split('.')[0] === PINNED.split('.')[0]) return withTools;
  console.error(`dativo: installing pnpm ${PINNED} into .tools/ (not found on PATH)`);
  execFileSync('npm', ['install', '--prefix', path.join(ROOT, '.tools'), '--no-save', '--no-audit', '--no-fund', '--loglevel=error', `pnpm@${PINNED}`], { stdio: 'inherit', shell: process.platform === 'win32' });
  if (!pnpmVersion(withTools)) throw new Error('pnpm could not be installed');
  return withTools;
}

export function pnpm(args, env, options = {}) {
  const r = spawnSync('pnpm', args, { cwd: ROOT, env, stdio: 'inherit', shell: process.platform === 'win32', ...options });
  if (r.status !== 0) {
    console.error(`dativo: pnpm ${args.join(' ')} failed (exit ${r.status})`);
    process.exit(r.status ?? 1);
  }
}

/** Installs dependencies exactly as locked and builds every package (turbo caches unchanged ones). */
export function installAndBuild() {
  const env = toolchainEnv();
  pnpm(['install', '--frozen-lockfile', '--reporter=append-only'], env);
  pnpm(['run', 'build'], env);
  return env;
}

export function hasBuild() {
  return existsSync(path.join(ROOT, 'packages', 'cli', 'dist', 'bin.js'));
}
