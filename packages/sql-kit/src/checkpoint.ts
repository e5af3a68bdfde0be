import { parseCheckpointState, type JsonValue } from '@dativo/core/definition';
import { z } from 'zod';

/** Progress through one key range of a parallel full refresh: bounds (text; null: unbounded), the key of the last row read, done. */
const rangeSchema = z.object({ lo: z.string().nullable(), hi: z.string().nullable(), after: z.array(z.string()).optional(), done: z.boolean() });

export type RangeState = z.output<typeof rangeSchema>;

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
export const sqlCheckpointSchema = z.object({
  v: z.literal(1),
  done: z.boolean(),
  cursor: z.string().nullable().optional(),
  key: z.array(z.string()).optional(),
  ranges: z.array(rangeSchema).optional(),
});

export type SqlCheckpointState = z.output<typeof sqlCheckpointSchema>;

export function parseSqlCheckpoint(state: JsonValue | undefined, stream = 'stream'): SqlCheckpointState | undefined {
  return parseCheckpointState(sqlCheckpointSchema, state, { connector: 'database', stream });
}
