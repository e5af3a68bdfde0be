import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { RunData, RunProgressData, RunReport } from './fleet.js';

/** One run handed to an executor by a worker. */
export interface ExecuteRequest {
  id: string;
  data: RunData;
  signal: AbortSignal;
  /** A log line of the run (JSON or text), kept with the run for the API and console. */
  onLog(line: string): void;
  onProgress(progress: RunProgressData): void;
}

/** Runs one job to its end and reports; never throws for a failed job (that is a report). */
export type RunExecutor = (request: ExecuteRequest) => Promise<RunReport>;

export interface ChildExecutorOptions {
  /** The command that runs the CLI: `[process.execPath, '/path/to/dativo/bin']`. */
  command: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Options placed before `run` (`--state-dir`, `--dlq-dir`, `--error-handling`). */
  globalArgs?: string[];
  /**
   * v1's filesystem secrets layout, `<dir>/<tenant>/…`: a run gets its own tenant's folder
   * (`--secrets-dir <dir>/<tenant>`) and never another's.
   */
  secretsDir?: string;
  /** How long a cancelled run may take to stop after its current batch before it is killed. */
  graceMs?: number;
}

const MAX_LINE = 8192;

/**
 * Each run in its own `dativo run` process: a crash, a leak or a heavy job of one tenant cannot
 * take the worker down, the run's CPU time is its own, and cancelling it is a signal. The child
 * gets an IPC channel: it sends progress over it, and it ends itself at once when the channel
 * closes (the worker died), so a run never outlives the worker that owns it — another worker
 * takes the run over only after the owner's lock has expired, and nothing is written twice.
 */
export function childProcessExecutor(options: ChildExecutorOptions): RunExecutor {
  return (request) =>
    new Promise<RunReport>((resolve) => {
      const { data } = request;
      const args = [...options.command.slice(1), ...(options.globalArgs ?? []), 'run', '--config', data.file, '--tenant-id', data.tenant, '--json', '--log-format', 'json', '--progress-interval', '0'];
      const tenantSecrets = options.secretsDir ? path.join(options.secretsDir, data.tenant) : undefined;
      if (tenantSecrets && existsSync(tenantSecrets)) args.push('--secrets-dir', tenantSecrets);
      const started = Date.now();
      const child = spawn(options.command[0] ?? process.execPath, args, {
        cwd: options.cwd,
        env: { ...runEnv(options.env, data.tenant), DATIVO_QUEUED_RUN: request.id, DATIVO_WORKER_IPC: '1' },
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      });
      let stdout = '';
      const { stdout: out, stderr: err } = child;
      if (!out || !err) throw new Error('the run process has no output pipes');
      out.setEncoding('utf8');
      out.on('data', (chunk: string) => {
        if (stdout.length < 4 * 1024 * 1024) stdout += chunk;
      });
      createInterface({ input: err }).on('line', (line) => {
        if (line.trim()) request.onLog(line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)}…` : line);
      });
      child.on('message', (message: unknown) => {
        const m = message as { type?: string; progress?: RunProgressData };
        if (m?.type === 'progress' && m.progress) request.onProgress(m.progress);
      });
      let cancelled = false;
      let killTimer: NodeJS.Timeout | undefined;
      const onAbort = (): void => {
        cancelled = true;
        // The run stops after its current batch; nothing uncommitted is published.
        child.kill('SIGTERM');
        killTimer = setTimeout(() => child.kill('SIGKILL'), options.graceMs ?? 30_000);
      };
      if (request.signal.aborted) onAbort();
      else request.signal.addEventListener('abort', onAbort, { once: true });
      child.on('error', (error) => {
        request.signal.removeEventListener('abort', onAbort);
        resolve(failure(`could not start the run process: ${error.message}`, started));
      });
      child.on('close', (code, signal) => {
        request.signal.removeEventListener('abort', onAbort);
        if (killTimer) clearTimeout(killTimer);
        const report = parseReport(stdout, code ?? 2, started);
        if (cancelled) resolve({ ...(report ?? failure('', started)), status: 'cancelled', error: { kind: 'cancelled', message: `cancelled: ${String(request.signal.reason instanceof Error ? request.signal.reason.message : (request.signal.reason ?? 'by request'))}` } });
        else if (report) resolve(report);
        else resolve(failure(signal ? `the run process was ended by ${signal}` : `the run process exited with code ${code} without a report`, started));
      });
    });
}

/**
 * The environment a tenant's run sees: v1's per-tenant secret variables
 * (`DATIVO_SECRET__<TENANT>__<NAME>…`) of other tenants and the API's admin token are left out.
 */
export function tenantEnv(env: NodeJS.ProcessEnv, tenant: string): NodeJS.ProcessEnv {
  const own = tenant.toUpperCase();
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) {
    // The control API's admin token is the worker's, not the run's.
    if (k === 'DATIVO_API_TOKEN') continue;
    const m = /^DATIVO_SECRET__(.+?)__/.exec(k);
    if (m && m[1] !== undefined && !['GLOBAL', 'ALL', own].includes(m[1].toUpperCase())) continue;
    out[k] = v;
  }
  return out;
}

function failure(message: string, started: number): RunReport {
  return { status: 'failed', exitCode: 2, rows: 0, bytes: 0, files: 0, rejected: 0, seconds: (Date.now() - started) / 1000, error: { kind: 'internal', message } };
}

interface CliJson {
  exitCode: number;
  jobs: Array<Omit<RunReport, 'exitCode' | 'streams'> & { streams?: Array<{ name: string; rows: number }> }>;
  error?: { kind: string; message: string };
}

function parseReport(stdout: string, code: number, started: number): RunReport | undefined {
  let parsed: CliJson;
  try {
    parsed = JSON.parse(stdout) as CliJson;
  } catch {
    return undefined;
  }
  const job = parsed.jobs?.[0];
  if (!job) return parsed.error ? { ...failure(parsed.error.message, started), error: parsed.error } : undefined;
  return {
    status: job.status,
    exitCode: parsed.exitCode ?? code,
    rows: job.rows,
    bytes: job.bytes,
    files: job.files,
    rejected: job.rejected,
    seconds: job.seconds,
    ...(job.job ? { job: job.job } : {}),
    ...(job.streams ? { streams: job.streams.map((s) => ({ name: s.name, rows: s.rows, done: true })) } : {}),
    ...(job.deadLetterFile ? { deadLetterFile: job.deadLetterFile } : {}),
    ...(job.error ? { error: job.error } : {}),
  };
}

/**
 * The environment of one tenant's run: {@link tenantEnv}, plus `MALLOC_ARENA_MAX=2` unless the
 * worker's environment sets it. glibc gives every thread that allocates (the Parquet encoding
 * thread, libuv's pool compressing pages) its own malloc arena, each keeping the memory it freed;
 * two arenas lower a run's peak RSS by 25–40 MB on text-heavy tables at no measured cost
 * (docs/benchmarks.md). Other C libraries ignore the variable.
 */
export function runEnv(env: NodeJS.ProcessEnv, tenant: string): NodeJS.ProcessEnv {
  return { MALLOC_ARENA_MAX: '2', ...tenantEnv(env, tenant) };
}
