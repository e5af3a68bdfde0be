import type { RecordBatch } from 'apache-arrow';
import type { ZodType } from 'zod';
import type { RunContext } from './context.js';
import type { ConnectorSpec } from './extractor.js';
import type { Checkpoint, StreamDescriptor } from './messages.js';

export interface CommitResult {
  /** Files (or objects, snapshots) published by this commit. */
  files: number;
  rows: number;
  bytes: number;
  /** Rows removed from the target by this commit (deletions applied under `merge`). */
  deleted?: number;
}

/** Writes one stream. All data written since the last commit becomes visible atomically at commit. */
export interface SinkWriter {
  /** The checkpoint stored by the sink's own last commit, when it records one. */
  lastCommitted(): Promise<Checkpoint | undefined>;
  /**
   * True when the sink records checkpoints with its data (a commit log, snapshot summaries, a
   * state row): then it alone says how far a job got, and a target without a record (a table
   * dropped or recreated) is read into from the start, whatever a state store remembers.
   */
  readonly keepsCheckpoints?: boolean;
  /** Optional: told once, before the first batch, whether the source resumes or starts over. */
  begin?(info: { resumed: boolean }): Promise<void>;
  /** Stages a batch; awaiting it is the backpressure. */
  write(batch: RecordBatch): Promise<void>;
  /** Publishes everything staged together with the checkpoint. */
  commit(checkpoint: Checkpoint): Promise<CommitResult>;
  /** Drops staged, uncommitted data. */
  abort(): Promise<void>;
  /** Releases resources. Called after commit or abort. */
  close(): Promise<void>;
}

export interface Sink<C = unknown> {
  readonly specificationVersion: 'v1';
  readonly spec: ConnectorSpec;
  /** Validates the job's `target:` section. */
  readonly configSchema: ZodType<C>;
  check(config: C, ctx: RunContext): Promise<void>;
  open(config: C, stream: StreamDescriptor, ctx: RunContext): Promise<SinkWriter>;
}
