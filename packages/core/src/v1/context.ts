import type { DeadLetterQueue } from '../dlq/dlq.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics.js';
import type { SecretResolver } from '../secrets.js';
import type { StateStore } from '../state/state-store.js';

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
  /** Base directory relative paths in connector configs resolve against first. */
  cwd: string;
  /** Directory of the job file: relative paths not found under `cwd` are looked up from here. */
  configDir?: string;
}
