import type { JsonValue } from '@dativo/core';

/** Progress through one key range of a parallel full refresh. */
export interface RangeState {
  /** Inclusive lower bound of the key (text), or null: unbounded. */
  lo: string | null;
  /** Exclusive upper bound, or null: unbounded. */
  hi: string | null;
  /** Key of the last row read in the range. */
  after?: string[];
  done: boolean;
}

/**
 * A SQL stream's checkpoint. Values are the database's text form of the last row read, passed back
 * as typed parameters on resume. Its size does not depend on how many rows were read.
 *
 * - `cursor` (incremental): the cursor value of the last row read; `null` while the first run reads
 *   the rows whose cursor is NULL (they sort first). Absent before anything was read.
 * - `key`: the key of the last row read, the tie-breaker within one cursor value (or the position
 *   of a full refresh).
 * - `ranges`: parallel full refresh, one entry per key range.
 * - `done`: the run finished; an incremental run continues after `cursor` (minus the lookback), a
 *   full refresh starts over.
 */
export interface SqlCheckpointState {
  v: 1;
  done: boolean;
  cursor?: string | null;
  key?: string[];
  ranges?: RangeState[];
}

export function parseSqlCheckpoint(state: JsonValue | undefined): SqlCheckpointState | undefined {
  if (!state || typeof state !== 'object' || Array.isArray(state)) return undefined;
  const s = state as unknown as SqlCheckpointState;
  return s.v === 1 && typeof s.done === 'boolean' ? s : undefined;
}
