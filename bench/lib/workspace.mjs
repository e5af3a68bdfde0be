// The workspace's packages for benchmarks: their ESM builds by path (one copy of core and Arrow for
// all of them), and a package's test-only TypeScript module (a fake API server) bundled to run here.
import { mkdirSync, rmSync } from 'node:fs';
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

/**
 * Runs one stream of `extractor` into zstd Parquet under `out` with the pipeline runner, at the
 * given source rate limit; its rows written, seconds and CPU seconds (this process, fake servers included).
 */
export async function runToParquet({ extractor, config, stream, ctx, rateLimit, out }) {
  const core = await loadPackage('core');
  const { parquetSink } = await loadPackage('sink-parquet');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const sink = parquetSink();
  const cpu = process.cpuUsage();
  const started = Date.now();
  const result = await core.runPipeline({ extractor, sourceConfig: config, sink, sinkConfig: sink.configSchema.parse({ path: out, partitioning: [] }), streams: [stream], ctx, resilience: { source: { rateLimit } } });
  const elapsed = (Date.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { rows: result.streams[0]?.rowsWritten ?? 0, elapsed, cpuSeconds: (used.user + used.system) / 1e6, failure: result.error?.message ?? result.status };
}
