import { tuneHeapFor } from '../heap.js';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import {
  createRunContext,
  DativoError,
  LocalFileStateStore,
  mergeResilience,
  MetricsRegistry,
  MetricsStore,
  noMetrics,
  newRunId,
  Redactor,
  runPipeline,
  toDativoError,
  type RunCost,
  type RunProgress,
  type RunResult,
} from '@dativo/core';
import { errorHandlingResilience, forTenant, formatWarning, loadErrorHandling, mergeErrorHandling, v1Resilience, type ErrorHandling } from '@dativo/job-config';
import { openDeadLetters } from '../dead-letters.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_PARTIAL } from '../exit-codes.js';
import { loadSecrets, makeLogger, type GlobalOptions, type SecretOptions } from '../globals.js';
import { MetricsServer, pushMetrics, startTracing, type Tracing } from '../observability.js';
import { formatBytes, formatCount, LiveProgress, ProgressLog, rowsPerSecond } from '../output.js';
import { jobFiles } from '../job-files.js';
import { planJob, type JobPlan } from '../plan.js';

export interface RunOptions extends SecretOptions {
  config?: string;
  jobDir?: string;
  tenantId?: string;
  mode?: string;
  stateId?: string;
  /** Serve Prometheus metrics on this port while running. */
  metricsPort?: string;
  /** Push each job's metrics to this Prometheus Pushgateway when it ends. */
  pushgateway?: string;
  /** Seconds between progress log lines off a terminal (0: none). */
  progressInterval?: string;
}

/** What the run needs beyond its options: the process's metrics. */
interface RunServices {
  metrics: MetricsStore;
  progressSeconds: number;
  /** The OpenTelemetry SDK, loading while the first job is planned (awaited before it runs). */
  tracing?: Promise<Tracing | undefined>;
}

/** What `dativo run --json` prints per job. */
export interface JobReport {
  file: string;
  job?: string;
  tenant?: string;
  runId?: string;
  status: 'succeeded' | 'partial' | 'failed';
  rows: number;
  /** Rows removed from the target (source deletions applied under `merge`); absent when none. */
  deleted?: number;
  files: number;
  bytes: number;
  rejected: number;
  seconds: number;
  rowsPerSecond: number;
  deadLetterFile?: string;
  error?: { kind: string; message: string; code?: string };
  /** What the run cost (also exported as metrics), for attribution per tenant and job. */
  cost?: RunCost;
  streams?: Array<{
    name: string;
    rows: number;
    files: number;
    bytes: number;
    rejected: number;
    resumed: boolean;
    /** Records the source's own total (a `COUNT(*)` in its snapshot, a file's size) vouched for. */
    verified?: number;
    /** Something to look at although the run succeeded (a stream that read nothing after runs that read plenty). */
    anomaly?: { kind: string; message: string; previousRuns: number[] };
  }>;
}

function failedReport(file: string, error: DativoError, plan?: JobPlan): JobReport {
  return {
    file,
    ...(plan ? { job: plan.name, tenant: plan.tenant } : {}),
    status: 'failed',
    rows: 0,
    files: 0,
    bytes: 0,
    rejected: 0,
    seconds: 0,
    rowsPerSecond: 0,
    error: { kind: error.kind, message: error.message, ...(error.code ? { code: error.code } : {}) },
  };
}

async function runOne(file: string, options: RunOptions, g: GlobalOptions, signal: AbortSignal, filePolicy: ErrorHandling, services: RunServices): Promise<JobReport> {
  const redactor = new Redactor();
  const secrets = loadSecrets(options, g, redactor);
  let plan: JobPlan;
  try {
    plan = await planJob(file, { cwd: g.cwd, env: secrets.env, redactor, ...(options.stateId ? { stateId: options.stateId } : {}) });
  } catch (error) {
    return failedReport(file, toDativoError(error, 'config'));
  }
  if (options.tenantId && options.tenantId !== plan.tenant) {
    return failedReport(file, new DativoError(`job tenant_id '${plan.tenant}' differs from --tenant-id '${options.tenantId}'`, { kind: 'config' }), plan);
  }
  // Unique per attempt, also under a worker: output files are named after it, and a run a worker
  // takes over from a dead one must not reuse (overwrite) the names of files already committed.
  const runId = newRunId();
  // Under `dativo worker`, lines also name the queued run (the id the API and console show).
  const queuedRun = g.env.DATIVO_QUEUED_RUN ? { queuedRun: g.env.DATIVO_QUEUED_RUN.slice(0, 200) } : {};
  const log = makeLogger(g, redactor, { runId, ...queuedRun, tenant: plan.tenant, job: plan.name }, plan.loaded.job.logging.level);
  for (const w of plan.warnings) log.warn(formatWarning(w), { kind: 'config_warning' });
  for (const note of plan.notes) log.info(note);
  tuneHeapFor(plan.source.connector.spec, log);
  const policy = forTenant(mergeErrorHandling(filePolicy, plan.loaded.job.error_handling), plan.tenant);
  let deadLetters;
  try {
    deadLetters = await openDeadLetters(policy, { tenant: plan.tenant, job: plan.name, runId }, g, redactor, log);
  } catch (error) {
    return failedReport(file, toDativoError(error, 'config'), plan);
  }
  const dlq = deadLetters.queue;
  const ctx = createRunContext({
    tenant: plan.tenant,
    job: plan.name,
    ...(plan.stateId ? { stateId: plan.stateId } : {}),
    runId,
    signal,
    cwd: g.cwd,
    configDir: plan.configDir,
    log,
    // DATIVO_METRICS=off: nothing is counted (measuring what metrics cost; embedding without them).
    metrics: g.env.DATIVO_METRICS === 'off' ? noMetrics : new MetricsRegistry({ tenant: plan.tenant, job: plan.name }, services.metrics),
    state: new LocalFileStateStore(g.stateDir),
    dlq,
    secrets: secrets.resolver,
    redactor,
    ...(plan.loaded.job.batch ? { batchLimits: { ...(plan.loaded.job.batch.max_rows ? { maxRows: plan.loaded.job.batch.max_rows } : {}), ...(plan.loaded.job.batch.max_bytes ? { maxBytes: plan.loaded.job.batch.max_bytes } : {}) } } : {}),
  });
  const live = g.stderr.isTTY === true && !g.json && !g.quiet ? new LiveProgress(g.stderr, `${plan.tenant}/${plan.name}`) : undefined;
  const periodic = !live && !g.quiet && services.progressSeconds > 0 ? new ProgressLog(log, services.progressSeconds) : undefined;
  const toWorker = workerChannel(g.env);
  log.info('run started', { source: plan.source.packageName, target: plan.sink.packageName, streams: plan.streams.map((s) => s.name), syncMode: plan.streams[0]?.syncMode });
  await services.tracing;
  let result: RunResult;
  try {
    const job = plan.loaded.job;
    result = await runPipeline({
      extractor: plan.source.connector,
      sourceConfig: plan.sourceConfig,
      sink: plan.sink.connector,
      sinkConfig: plan.sinkConfig,
      streams: plan.streams,
      ctx,
      validationMode: job.schema_validation_mode,
      ...(job.commit
        ? {
            commitPolicy: {
              ...(job.commit.every_rows ? { everyRows: job.commit.every_rows } : {}),
              ...(job.commit.every_bytes ? { everyBytes: job.commit.every_bytes } : {}),
              ...(job.commit.every_seconds ? { everySeconds: job.commit.every_seconds } : {}),
            },
          }
        : {}),
      ...(plan.transform ? { transform: await plan.transform() } : {}),
      // The error policy (configs/error_handling.yaml, the job's error_handling) over the recipe's rate_limits and the job's retry_config.
      resilience: {
        source: mergeResilience(v1Resilience(plan.loaded.sourceInput, job.retry_config), errorHandlingResilience(policy, [plan.source.connector.spec.id, job.source_connector])),
        sink: mergeResilience(v1Resilience(plan.loaded.targetInput, job.retry_config), errorHandlingResilience(policy, [plan.sink.connector.spec.id, job.target_connector])),
      },
      ...(policy.max_dlq_ratio !== undefined ? { maxDlqRatio: policy.max_dlq_ratio } : {}),
      ...(live || periodic || toWorker
        ? {
            onProgress: (p) => {
              if (live) live.update(p);
              else periodic?.update(p);
              toWorker?.update(p);
            },
          }
        : {}),
    });
  } finally {
    live?.clear();
    periodic?.stop();
    toWorker?.stop();
    await dlq.close();
  }
  const seconds = result.durationMs / 1000;
  const report: JobReport = {
    file: plan.file,
    job: plan.name,
    tenant: plan.tenant,
    runId,
    status: result.status,
    rows: result.rows,
    ...(result.deleted ? { deleted: result.deleted } : {}),
    files: result.files,
    bytes: result.bytes,
    rejected: result.rejected,
    seconds: Math.round(seconds * 1000) / 1000,
    rowsPerSecond: rowsPerSecond(result.rows, result.durationMs),
    ...(dlq.count > 0 ? { deadLetterFile: deadLetters.location } : {}),
    ...(result.error ? { error: { kind: result.error.kind, message: redactor.redactText(result.error.message), ...(result.error.code ? { code: result.error.code } : {}) } } : {}),
    cost: result.cost,
    streams: result.streams.map((s) => ({
      name: s.name,
      rows: s.rowsWritten,
      files: s.files,
      bytes: s.bytesOut,
      rejected: s.rejected,
      resumed: s.resumedFrom !== undefined,
      ...(s.verified !== undefined ? { verified: s.verified } : {}),
      ...(s.anomaly ? { anomaly: s.anomaly } : {}),
    })),
  };
  if (result.error) log.error('run failed', { error: result.error, cost: result.cost });
  else log.info('run finished', { rows: report.rows, files: report.files, bytes: report.bytes, seconds: report.seconds, rejected: report.rejected, cost: result.cost });
  if (options.pushgateway) await pushMetrics(services.metrics, options.pushgateway, { tenant: plan.tenant, job: plan.name }, log);
  return report;
}

function summaryLine(r: JobReport): string {
  const name = r.job ? `${r.tenant}/${r.job}` : r.file;
  if (r.status === 'failed') return `✖ ${name}  failed: ${r.error?.message ?? 'unknown error'}`;
  const mark = r.status === 'partial' ? '!' : '✔';
  const parts = [`${formatCount(r.rows)} rows`, ...(r.deleted ? [`${formatCount(r.deleted)} deleted`] : []), `${formatCount(r.files)} file${r.files === 1 ? '' : 's'}`, formatBytes(r.bytes), `${r.seconds.toFixed(1)} s`, `${formatCount(r.rowsPerSecond)} rows/s`];
  if (r.cost) parts.push(`${r.cost.cpuSeconds.toFixed(1)} s CPU${r.cost.apiRequests ? ` · ${formatCount(r.cost.apiRequests)} API request${r.cost.apiRequests === 1 ? '' : 's'}` : ''}`);
  if (r.rejected) parts.push(`${formatCount(r.rejected)} rejected → ${r.deadLetterFile ?? 'dead-letter queue'}`);
  const anomalies = (r.streams ?? []).flatMap((s) => (s.anomaly ? [`  ⚠ ${s.anomaly.message}`] : []));
  if (r.rows === 0 && !r.deleted && r.streams?.length && r.streams.every((s) => s.resumed) && !anomalies.length) parts.push('nothing new since the last run');
  const verified = (r.streams ?? []).reduce((n, s) => n + (s.verified ?? 0), 0);
  if (verified) parts.push(`${formatCount(verified)} checked against the source's count`);
  return [`${mark} ${name}  ${parts.join(' · ')}`, ...anomalies].join('\n');
}

/** Exit code of a set of job reports (v1 semantics). */
export function exitCodeOf(reports: JobReport[]): number {
  const failed = reports.filter((r) => r.status === 'failed').length;
  if (failed === reports.length) return EXIT_FAILURE;
  if (failed > 0 || reports.some((r) => r.status === 'partial')) return EXIT_PARTIAL;
  return EXIT_OK;
}

export async function runCommand(options: RunOptions, g: GlobalOptions): Promise<number> {
  let files: string[];
  let filePolicy: ErrorHandling;
  let services: RunServices;
  let server: MetricsServer | undefined;
  try {
    if (options.stateId && options.jobDir) throw new DativoError('--state-id names the progress of one job; use it with --config, not --job-dir', { kind: 'config' });
    files = await jobFiles(options, g, 'run');
    const loaded = await loadErrorHandling({ file: g.errorHandling, cwd: g.cwd, env: g.env });
    for (const w of loaded.warnings) g.stderr.write(`dativo: ${formatWarning(w)}\n`);
    filePolicy = loaded.value;
    services = { metrics: new MetricsStore(), progressSeconds: numberOption(options.progressInterval, '--progress-interval', 30) };
    if (options.pushgateway !== undefined && !/^https?:\/\/[^/]/.test(options.pushgateway)) throw new DativoError(`--pushgateway: expected an http(s) URL such as http://pushgateway:9091, got '${options.pushgateway}'`, { kind: 'config' });
    if (options.metricsPort !== undefined) server = await MetricsServer.start(services.metrics, numberOption(options.metricsPort, '--metrics-port', 0));
  } catch (error) {
    const e = toDativoError(error, 'config');
    if (g.json) g.stdout.write(`${JSON.stringify({ status: 'failed', exitCode: EXIT_FAILURE, error: { kind: e.kind, message: e.message }, jobs: [] }, null, 2)}\n`);
    else g.stderr.write(`dativo: ${e.message}\n`);
    return EXIT_FAILURE;
  }
  const processLog = makeLogger(g, new Redactor(), {});
  if (server) processLog.info('serving metrics', { url: `http://127.0.0.1:${server.port}/metrics` });
  services.tracing = startTracing(g.env, processLog).catch((error: unknown) => {
    processLog.warn('tracing is off: the OpenTelemetry settings are not usable', { error });
    return undefined;
  });
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    g.stderr.write(`\ndativo: ${signal} received, stopping after the current batch (nothing uncommitted is published); press again to quit at once\n`);
    controller.abort(new Error(`${signal} received`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const reports: JobReport[] = [];
  try {
    for (const file of files) {
      if (controller.signal.aborted) break;
      const report = await runOne(file, options, g, controller.signal, filePolicy, services);
      reports.push(report);
      if (!g.json && !g.quiet) g.stdout.write(`${summaryLine(report)}\n`);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await (await services.tracing)?.shutdown();
    if (server) {
      // A short job's last values reach the scraper that was watching it before the port closes.
      await server.finalScrape();
      await server.close();
    }
  }
  const exitCode = controller.signal.aborted ? EXIT_FAILURE : exitCodeOf(reports);
  if (g.json) {
    const status = exitCode === EXIT_OK ? 'succeeded' : exitCode === EXIT_PARTIAL ? 'partial' : 'failed';
    g.stdout.write(`${JSON.stringify({ status, exitCode, jobs: reports }, null, 2)}\n`);
  } else if (reports.length > 1 && !g.quiet) {
    const ok = reports.filter((r) => r.status !== 'failed').length;
    g.stdout.write(`${ok}/${reports.length} jobs succeeded · ${formatCount(reports.reduce((n, r) => n + r.rows, 0))} rows\n`);
  }
  return exitCode;
}

/**
 * Progress for the worker that started this run (`DATIVO_WORKER_IPC=1` and an IPC channel): the
 * run's figures at most once a second, for the control API and the console.
 */
function workerChannel(env: NodeJS.ProcessEnv): { update(p: RunProgress): void; stop(): void } | undefined {
  if (env.DATIVO_WORKER_IPC !== '1' || typeof process.send !== 'function') return undefined;
  // The runner may hand the same (updated) object each time: a flag marks news, not identity.
  let latest: RunProgress | undefined;
  let fresh = false;
  const send = (): void => {
    if (!latest || !fresh || !process.connected) return;
    fresh = false;
    const p = latest;
    process.send?.({
      type: 'progress',
      progress: {
        rows: p.rows,
        bytes: p.bytesIn,
        rowsPerSecond: rowsPerSecond(p.rows, p.elapsedMs),
        streams: p.streams.filter((s) => s.startedAt !== undefined).map((s) => ({ name: s.name, rows: s.rows, ...(s.expected !== undefined ? { expected: s.expected } : {}), ...(s.at ? { at: s.at } : {}), ...(s.done ? { done: true } : {}) })),
        at: Date.now(),
      },
    });
  };
  const timer = setInterval(send, 1000);
  timer.unref();
  return {
    update: (p) => {
      latest = p;
      fresh = true;
    },
    stop: () => {
      clearInterval(timer);
      send();
    },
  };
}

function numberOption(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new DativoError(`${flag}: expected a whole number (0 or more), got '${value}'`, { kind: 'config' });
  return n;
}

