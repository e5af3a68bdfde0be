import { auditLogSink } from './audit.js';
import { createRunContext, MemoryDeadLetterQueue, MemoryLogSink, MemoryStateStore, JsonLogger, Redactor, type RunContext } from '@dativo/core';

export interface TestRunContext extends RunContext {
  state: MemoryStateStore;
  dlq: MemoryDeadLetterQueue;
  logs: MemoryLogSink;
  redactor: Redactor;
  /** Aborts the run's signal. */
  abort(reason?: unknown): void;
}

/** A RunContext with in-memory state, dead-letter queue and captured logs. */
export function testRunContext(options: { tenant?: string; job?: string; stateId?: string; cwd?: string; configDir?: string } = {}): TestRunContext {
  const controller = new AbortController();
  const logs = new MemoryLogSink();
  auditLogSink(logs);
  const redactor = new Redactor();
  const state = new MemoryStateStore();
  const dlq = new MemoryDeadLetterQueue();
  const tenant = options.tenant ?? 'test';
  const job = options.job ?? 'job';
  const ctx = createRunContext({
    tenant,
    job,
    ...(options.stateId ? { stateId: options.stateId } : {}),
    signal: controller.signal,
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(options.configDir ? { configDir: options.configDir } : {}),
    log: new JsonLogger({ level: 'debug', sink: logs, redactor, fields: { tenant, job } }),
    state,
    dlq,
    redactor,
  });
  return Object.assign(ctx, { state, dlq, logs, redactor, abort: (reason?: unknown) => controller.abort(reason) });
}
