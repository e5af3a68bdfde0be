import type { DeadLetterQueue } from '../dlq/dlq.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics.js';
import type { SecretResolver } from '../secrets.js';
import type { StateStore } from '../state/state-store.js';
import type { BatchLimits } from '../batch/batch-builder.js';
import type { ResilienceService } from '../resilience/service.js';

/** What every connector call receives: identity of the run, cancellation, and shared services. */
export interface RunContext {
  tenant: string;
  job: string;
  /**
   * The identity the job's progress is kept under (state store, sink checkpoints), when it is not
   * the job name: set by `state_id:` / `--state-id` so a renamed job keeps its progress. Use
   * {@link stateKeyOf} rather than reading `job` directly when storing or looking up checkpoints.
   */
  stateId?: string;
  /** Correlation id present in every log line and dead-letter entry of the run. */
  runId: string;
  signal: AbortSignal;
  log: Logger;
  metrics: Metrics;
  state: StateStore;
  dlq: DeadLetterQueue;
  secrets: SecretResolver;
  /**
   * This connector's rate limiter, circuit breaker and retry policy for the run (from what it
   * declares in `spec.limits`, the recipe's `rate_limits` and the job): send requests through
   * `resilience.call`.
   */
  resilience: ResilienceService;
  /**
   * How large the batches a source builds may grow (the job's `batch.max_rows` / `max_bytes`, else
   * the defaults): sources pass them to their BatchBuilder unless they have a reason of their own.
   */
  batchLimits: BatchLimits;
  /** Base directory relative paths in connector configs resolve against first. */
  cwd: string;
  /** Directory of the job file: relative paths not found under `cwd` are looked up from here. */
  configDir?: string;
}
