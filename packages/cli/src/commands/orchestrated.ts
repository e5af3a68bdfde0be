import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DativoError, Redactor, toDativoError, type Logger } from '@dativo/core';
import { formatWarning } from '@dativo/job-config';
import type { ApiToken, Fleet as FleetType, FleetWorker as FleetWorkerType, LoadedRunnerConfig } from '@dativo/orchestrator';
import { EXIT_FAILURE, EXIT_OK } from '../exit-codes.js';
import { makeLogger, type GlobalOptions, type SecretOptions } from '../globals.js';
import { VERSION } from '../version.js';

export interface FleetOptions extends SecretOptions {
  runnerConfig?: string;
  redisUrl?: string;
  concurrency?: string;
  tenants?: string;
  lockSeconds?: string;
  port?: string;
  host?: string;
  api?: boolean;
}

const orchestrator = () => import('@dativo/orchestrator');

/** The command that runs this CLI in a child process (one per run). */
function cliCommand(): string[] {
  const bin = fileURLToPath(new URL('../bin/dativo.mjs', import.meta.url));
  return [process.execPath, existsSync(bin) ? bin : (process.argv[1] ?? bin)];
}

function positive(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new DativoError(`${flag}: expected a whole number of 1 or more, got '${value}'`, { kind: 'config' });
  return n;
}

async function loadRunner(options: FleetOptions, g: GlobalOptions, log: Logger, required: boolean): Promise<LoadedRunnerConfig | undefined> {
  if (!options.runnerConfig) {
    if (required) throw new DativoError('--runner-config <file> is required (v1 configs/runner.yaml)', { kind: 'config' });
    return undefined;
  }
  const loaded = await (await orchestrator()).loadRunnerConfig(options.runnerConfig, { cwd: g.cwd, env: g.env });
  for (const w of loaded.warnings) log.warn(formatWarning(w), { kind: 'config_warning' });
  for (const n of loaded.notes) log.info(n);
  return loaded;
}

async function openFleet(options: FleetOptions, g: GlobalOptions, loaded: LoadedRunnerConfig | undefined): Promise<FleetType> {
  const { Fleet, redisUrl } = await orchestrator();
  const url = options.redisUrl ?? redisUrl(loaded?.config, g.env);
  const fleet = new Fleet({ url, prefix: loaded?.config.redis.prefix ?? g.env.DATIVO_REDIS_PREFIX ?? 'dativo' });
  try {
    await withTimeout(fleet.redis.ping(), 10_000, `Redis at ${redactUrl(url)} did not answer within 10 s`);
  } catch (error) {
    await fleet.close().catch(() => undefined);
    throw new DativoError(`cannot reach Redis at ${redactUrl(url)}: ${(error as Error).message} (set REDIS_URL or runner.redis.url)`, { kind: 'config' });
  }
  return fleet;
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

async function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Child processes get the worker's own global settings (absolute, so the child's directory does not matter). */
function globalArgs(g: GlobalOptions): string[] {
  return ['--state-dir', g.stateDir, ...(g.dlqDirExplicit ? ['--dlq-dir', g.dlqDir] : []), ...(g.errorHandling ? ['--error-handling', path.resolve(g.cwd, g.errorHandling)] : []), ...(g.logLevel ? ['--log-level', g.logLevel] : [])];
}

async function startWorker(fleet: FleetType, options: FleetOptions, g: GlobalOptions, loaded: LoadedRunnerConfig | undefined, log: Logger): Promise<FleetWorkerType> {
  const { FleetWorker, childProcessExecutor } = await orchestrator();
  const tenants = options.tenants ? options.tenants.split(',').map((t) => t.trim()).filter(Boolean) : loaded?.config.worker.tenants;
  const secretsDir = options.secretsDir ? path.resolve(g.cwd, options.secretsDir) : undefined;
  const worker = new FleetWorker({
    fleet,
    log,
    concurrency: positive(options.concurrency, '--concurrency', loaded?.config.worker.concurrency ?? 1),
    lockSeconds: positive(options.lockSeconds, '--lock-seconds', loaded?.config.worker.lock_seconds ?? 30),
    ...(tenants?.length ? { tenants } : {}),
    executor: childProcessExecutor({ command: cliCommand(), cwd: g.cwd, env: g.env, globalArgs: globalArgs(g), ...(secretsDir ? { secretsDir } : {}) }),
  });
  await worker.start();
  return worker;
}

/** Resolves when SIGINT / SIGTERM arrives (the second one ends the process at once). */
function untilSignal(g: GlobalOptions, what: string): Promise<void> {
  return new Promise((resolve) => {
    let count = 0;
    const on = (signal: NodeJS.Signals): void => {
      count++;
      if (count > 1) process.exit(130);
      g.stderr.write(`\ndativo: ${signal} received, ${what}; press again to quit at once\n`);
      resolve();
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

async function guarded(g: GlobalOptions, body: (log: Logger) => Promise<number>): Promise<number> {
  const log = makeLogger(g, new Redactor(), {});
  try {
    return await body(log);
  } catch (error) {
    const e = toDativoError(error, 'config');
    g.stderr.write(`dativo: ${e.message}\n`);
    return EXIT_FAILURE;
  }
}

function secretOptionsOf(o: SecretOptions): SecretOptions {
  return { ...(o.secretManager ? { secretManager: o.secretManager } : {}), ...(o.secretsDir ? { secretsDir: o.secretsDir } : {}), ...(o.secretManagerConfig ? { secretManagerConfig: o.secretManagerConfig } : {}) };
}

/** `dativo worker`: takes runs from Redis and runs them, until stopped. */
export async function workerCommand(options: FleetOptions, g: GlobalOptions): Promise<number> {
  return guarded(g, async (log) => {
    const loaded = await loadRunner(options, g, log, false);
    const fleet = await openFleet(options, g, loaded);
    const worker = await startWorker(fleet, options, g, loaded, log);
    await untilSignal(g, 'letting running runs finish (no new ones are taken)');
    await worker.close(true);
    await fleet.close();
    return EXIT_OK;
  });
}

/** `dativo scheduler`: puts the runner file's schedules into Redis; stays up and applies the file again on SIGHUP. */
export async function schedulerCommand(options: FleetOptions & { once?: boolean }, g: GlobalOptions): Promise<number> {
  return guarded(g, async (log) => {
    const { applySchedules } = await orchestrator();
    const loaded = await loadRunner(options, g, log, true);
    if (!loaded) return EXIT_FAILURE;
    const fleet = await openFleet(options, g, loaded);
    await applySchedules(fleet, loaded, log);
    if (!options.once) {
      const reapply = (): void => {
        void loadRunner(options, g, log, true)
          .then((again) => (again ? applySchedules(fleet, again, log) : undefined))
          .catch((error: unknown) => log.error('the runner file could not be applied; the schedules in Redis are unchanged', { error: toDativoError(error, 'config') }));
      };
      process.on('SIGHUP', reapply);
      await untilSignal(g, 'stopping');
      process.off('SIGHUP', reapply);
    }
    await fleet.close();
    return EXIT_OK;
  });
}

/** `dativo submit --config job.yaml`: queues a one-off run (with --wait: waits for it and exits with its code). */
export async function submitCommand(options: FleetOptions & { config?: string; wait?: boolean }, g: GlobalOptions): Promise<number> {
  return guarded(g, async (log) => {
    const { tenantOf, viewOf } = await orchestrator();
    if (!options.config) throw new DativoError('--config <job file> is required', { kind: 'config' });
    const file = path.resolve(g.cwd, options.config);
    const tenant = await tenantOf(file, g.cwd);
    const loaded = await loadRunner(options, g, log, false);
    const fleet = await openFleet(options, g, loaded);
    try {
      const id = await fleet.enqueue({ file, tenant, trigger: 'submit', by: g.env.USER ?? 'cli' }, loaded?.config.keep_runs);
      if (g.json && !options.wait) g.stdout.write(`${JSON.stringify({ id, tenant, file })}\n`);
      else if (!g.quiet) g.stdout.write(`queued run ${id} of ${tenant} (${path.relative(g.cwd, file) || file})\n`);
      if (!options.wait) return EXIT_OK;
      for (;;) {
        const job = await fleet.run(tenant, id);
        if (!job) throw new DativoError(`run ${id} is no longer in Redis (removed or cancelled)`, { kind: 'permanent' });
        const view = await viewOf(job);
        if (!['queued', 'running'].includes(view.status)) {
          if (g.json) g.stdout.write(`${JSON.stringify(view)}\n`);
          else if (!g.quiet) g.stdout.write(`${view.status === 'succeeded' ? '✔' : view.status === 'partial' ? '!' : '✖'} run ${id} ${view.status}: ${view.rows} rows${view.error ? ` — ${view.error}` : ''}\n`);
          const report = job.returnvalue as { exitCode?: number } | undefined;
          return report?.exitCode ?? (view.status === 'succeeded' ? EXIT_OK : EXIT_FAILURE);
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    } finally {
      await fleet.close();
    }
  });
}

/** API tokens: the runner file's, DATIVO_API_TOKEN (an admin token), or a new one printed at start. */
function apiTokens(loaded: LoadedRunnerConfig | undefined, g: GlobalOptions, log: Logger, generate: boolean): ApiToken[] {
  const tokens = [...(loaded?.config.api.tokens ?? [])];
  if (g.env.DATIVO_API_TOKEN) tokens.push({ token: g.env.DATIVO_API_TOKEN, access: 'write', name: 'admin' });
  if (!tokens.length && generate) {
    const token = randomBytes(24).toString('base64url');
    tokens.push({ token, access: 'write', name: 'admin' });
    // Printed once, on the terminal that started the process (never into the logs).
    g.stderr.write(`dativo: no API token configured (DATIVO_API_TOKEN or runner.api.tokens); this run's admin token is ${token}\n`);
  }
  if (!tokens.length) log.warn('no API token configured: every API call will be refused (set DATIVO_API_TOKEN or runner.api.tokens)');
  return tokens;
}

async function startApi(fleet: FleetType, options: FleetOptions, g: GlobalOptions, loaded: LoadedRunnerConfig | undefined, log: Logger, generateToken: boolean): Promise<{ close(): Promise<void>; url: string }> {
  const { createControlApi } = await orchestrator();
  const consoleDir = fileURLToPath(new URL('../../orchestrator/console', import.meta.url));
  const pkgConsole = await resolveConsoleDir(consoleDir);
  const jobDirs = [...new Set((loaded?.schedules ?? []).map((s) => path.dirname(s.file)))];
  const app = await createControlApi({ fleet, tokens: apiTokens(loaded, g, log, generateToken), jobDirs, cwd: g.cwd, keepRuns: loaded?.config.keep_runs ?? 1000, version: VERSION, ...(pkgConsole ? { consoleDir: pkgConsole } : {}) });
  const port = options.port !== undefined ? Number(options.port) : (loaded?.config.api.port ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new DativoError(`--port: expected a port number (0-65535), got '${options.port}'`, { kind: 'config' });
  const host = options.host ?? loaded?.config.api.host ?? '127.0.0.1';
  const address = await app.listen({ port, host });
  log.info('control API listening', { url: address, openapi: `${address}/openapi.json`, console: pkgConsole ? `${address}/` : 'not built' });
  if (!g.quiet) g.stderr.write(`dativo: console and API at ${address}/ (OpenAPI at ${address}/openapi.json)\n`);
  return { url: address, close: () => app.close() };
}

/** The console shipped in @dativo/orchestrator (`console/`), wherever the package is installed. */
async function resolveConsoleDir(fallback: string): Promise<string | undefined> {
  try {
    const { createRequire } = await import('node:module');
    const pkg = createRequire(import.meta.url).resolve('@dativo/orchestrator/package.json');
    const dir = path.join(path.dirname(pkg), 'console');
    if (existsSync(path.join(dir, 'index.html'))) return dir;
  } catch {
    // not resolvable from here: try the workspace layout
  }
  return existsSync(path.join(fallback, 'index.html')) ? fallback : undefined;
}

/** `dativo api`: the control API and console alone (scale it apart from the workers). */
export async function apiCommand(options: FleetOptions, g: GlobalOptions): Promise<number> {
  return guarded(g, async (log) => {
    const loaded = await loadRunner(options, g, log, false);
    const fleet = await openFleet(options, g, loaded);
    const api = await startApi(fleet, options, g, loaded, log, false);
    await untilSignal(g, 'stopping');
    await api.close();
    await fleet.close();
    return EXIT_OK;
  });
}

/**
 * `dativo start orchestrated --runner-config runner.yaml`: scheduler, worker and control API in one
 * process (one machine, one command). `dativo start oneshot` runs each enabled schedule's job once.
 */
export async function startCommand(mode: string, options: FleetOptions, g: GlobalOptions): Promise<number> {
  return guarded(g, async (log) => {
    if (mode !== 'orchestrated' && mode !== 'oneshot') throw new DativoError(`dativo start: mode must be orchestrated or oneshot, got '${mode}'`, { kind: 'config' });
    const loaded = await loadRunner(options, g, log, true);
    if (!loaded) return EXIT_FAILURE;
    if (mode === 'oneshot' || loaded.config.mode === 'oneshot') {
      if (mode !== 'oneshot') log.info('runner.mode is oneshot: each enabled schedule runs once, then the command ends');
      const { runCommand } = await import('./run.js');
      const codes: number[] = [];
      for (const s of loaded.schedules.filter((x) => x.enabled)) codes.push(await runCommand({ ...secretOptionsOf(options), config: s.file }, g));
      // v1 semantics over the jobs: all failed 2, some failed or partial 1, else 0.
      if (codes.length && codes.every((c) => c === EXIT_FAILURE)) return EXIT_FAILURE;
      return codes.some((c) => c !== EXIT_OK) ? 1 : EXIT_OK;
    }
    const { applySchedules } = await orchestrator();
    const fleet = await openFleet(options, g, loaded);
    await applySchedules(fleet, loaded, log);
    const worker = await startWorker(fleet, options, g, loaded, log);
    const api = options.api === false ? undefined : await startApi(fleet, options, g, loaded, log, true);
    await untilSignal(g, 'letting running runs finish (no new ones are taken)');
    await api?.close();
    await worker.close(true);
    await fleet.close();
    return EXIT_OK;
  });
}
