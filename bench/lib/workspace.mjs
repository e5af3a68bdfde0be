// The workspace's packages for benchmarks: their ESM builds by path (one copy of core and Arrow for
// all of them), and a package's test-only TypeScript module (a fake API server) bundled to run here.
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './bench-util.mjs';

export const loadPackage = (pkg) => import(pathToFileURL(path.join(ROOT, 'packages', pkg, 'dist', 'index.js')).href);

/** Bundles `packages/<pkg>/src/<file>.ts` with esbuild (from tsup's install) and imports it. */
export async function loadSource(pkg, file) {
  const dir = path.join(ROOT, 'packages', pkg);
  const out = path.join(dir, '.bench', `${file}.mjs`);
  const esbuild = createRequire(createRequire(path.join(ROOT, 'package.json')).resolve('tsup'))('esbuild');
  await esbuild.build({ entryPoints: [path.join(dir, 'src', `${file}.ts`)], outfile: out, bundle: true, platform: 'node', format: 'esm', packages: 'external', logLevel: 'error' });
  return import(pathToFileURL(out).href);
}
