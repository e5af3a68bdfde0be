import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { JsonlDeadLetterQueue } from '../dlq/jsonl.js';
import type { DeadLetterQueue } from '../dlq/dlq.js';
import { JsonLogger, type Logger } from '../log/logger.js';
import { Redactor } from '../log/redact.js';
import { MetricsRegistry, type Metrics } from '../metrics.js';
import { ResilienceService } from '../resilience/service.js';
import { defaultBatchLimits, type BatchLimits } from '../batch/batch-builder.js';
import { EnvSecretResolver, type SecretResolver } from '../secrets.js';
import type { RunContext } from '../v1/context.js';
import { LocalFileStateStore } from '../state/local-file.js';
import type { StateStore } from '../state/state-store.js';

/** A sortable, unique run id: `20261125T061524Z-3f9a1c2e`. */
export function newRunId(now: Date = new Date()): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(4).toString('hex')}`;
}

export interface RunContextOptions {
  tenant: string;
  job: string;
  /** Identity the job's checkpoints are kept under when it is not the job name (`state_id`). */
  stateId?: string;
  runId?: string;
  signal?: AbortSignal;
  cwd?: string;
  configDir?: string;
  /** Default `.dativo/state` under cwd. */
  stateDir?: string;
  /** Default `.dativo/dlq` under cwd. */
  dlqDir?: string;
  log?: Logger;
  metrics?: Metrics;
  state?: StateStore;
  dlq?: DeadLetterQueue;
  secrets?: SecretResolver;
  redactor?: Redactor;
  /** Default: a service with no rate limit, the default retry policy and a breaker. */
  resilience?: ResilienceService;
  /** Limits of source batches (default 32 768 rows, 4 MiB). */
  batchLimits?: Partial<BatchLimits>;
}

/** Builds a RunContext with local-file state, a JSONL dead-letter queue and JSON logs by default. */
export function createRunContext(options: RunContextOptions): RunContext & { redactor: Redactor } {
  const cwd = options.cwd ?? process.cwd();
  const runId = options.runId ?? newRunId();
  const redactor = options.redactor ?? new Redactor();
  const log = options.log ?? new JsonLogger({ fields: { runId, tenant: options.tenant, job: options.job }, redactor });
  const metrics = options.metrics ?? new MetricsRegistry({ tenant: options.tenant, job: options.job });
  return {
    tenant: options.tenant,
    job: options.job,
    ...(options.stateId ? { stateId: options.stateId } : {}),
    runId,
    signal: options.signal ?? new AbortController().signal,
    cwd,
    ...(options.configDir ? { configDir: options.configDir } : {}),
    log,
    metrics,
    state: options.state ?? new LocalFileStateStore(options.stateDir ?? path.join(cwd, '.dativo', 'state')),
    dlq: options.dlq ?? new JsonlDeadLetterQueue(options.dlqDir ?? path.join(cwd, '.dativo', 'dlq'), { tenant: options.tenant, job: options.job, runId }, redactor),
    secrets: options.secrets ?? new EnvSecretResolver(process.env, redactor),
    resilience: options.resilience ?? new ResilienceService(options.job, {}, { log, metrics }),
    batchLimits: { ...defaultBatchLimits, ...options.batchLimits },
    redactor,
  };
}
