import type { RunContext } from '../v1/context.js';
import type { Checkpoint } from '../v1/messages.js';

export interface StateKey {
  tenant: string;
  job: string;
  stream: string;
}

export interface StoredState {
  key: StateKey;
  checkpoint: Checkpoint;
  runId?: string;
  updatedAt: string;
  /** Records each of the stream's last runs read (oldest first, at most `STATE_HISTORY_RUNS`), for anomaly flags. */
  history?: number[];
}

/** How many runs' record counts a stream's state remembers. */
export const STATE_HISTORY_RUNS = 5;

/** Extra facts stored beside a checkpoint. */
export interface StatePutOptions {
  history?: number[];
}

/**
 * The owner of a stream's checkpoint: one (tenant, job, stream), with the job's `state_id` in place
 * of its name when one is set. Sinks that keep checkpoints themselves key them by this, so several
 * jobs writing to one location each keep their own progress.
 */
export function stateKeyOf(ctx: Pick<RunContext, 'tenant' | 'job' | 'stateId'>, stream: string): StateKey {
  return { tenant: ctx.tenant, job: ctx.stateId ?? ctx.job, stream };
}

/** Where incremental state lives between runs (per tenant / job / stream). */
export interface StateStore {
  get(key: StateKey): Promise<StoredState | undefined>;
  /** Stores the checkpoint (and the run's history, when given; a store that ignores it only loses the anomaly flags). */
  put(key: StateKey, checkpoint: Checkpoint, runId?: string, options?: StatePutOptions): Promise<void>;
  delete(key: StateKey): Promise<boolean>;
  list(filter?: Partial<Pick<StateKey, 'tenant' | 'job'>>): Promise<StoredState[]>;
}

/** In-memory store for tests and programmatic one-off pipelines. */
export class MemoryStateStore implements StateStore {
  private readonly map = new Map<string, StoredState>();

  private id(key: StateKey): string {
    return JSON.stringify([key.tenant, key.job, key.stream]);
  }
  async get(key: StateKey): Promise<StoredState | undefined> {
    return this.map.get(this.id(key));
  }
  async put(key: StateKey, checkpoint: Checkpoint, runId?: string, options: StatePutOptions = {}): Promise<void> {
    this.map.set(this.id(key), { key, checkpoint, ...(runId ? { runId } : {}), updatedAt: new Date().toISOString(), ...(options.history ? { history: options.history } : {}) });
  }
  async delete(key: StateKey): Promise<boolean> {
    return this.map.delete(this.id(key));
  }
  async list(filter: Partial<Pick<StateKey, 'tenant' | 'job'>> = {}): Promise<StoredState[]> {
    return [...this.map.values()].filter((s) => (!filter.tenant || s.key.tenant === filter.tenant) && (!filter.job || s.key.job === filter.job));
  }
}
