import { parseCheckpointState, type JsonValue } from '@dativo/core/definition';
import { z } from 'zod';

const position = { m: z.number(), p: z.string() };

/**
 * The CSV source's checkpoint. `after` is the last file fully read; `file` the one being read
 * (rows done, and the byte offset where the next row starts when the file is seekable). `done`
 * marks a completed run. Its size is constant whatever the number of files.
 */
export const csvCheckpointSchema = z.object({
  v: z.literal(1),
  done: z.boolean(),
  after: z.object(position).optional(),
  file: z.object({ ...position, rows: z.number().int().min(0), line: z.number().int().optional(), offset: z.number().int().min(0).optional(), size: z.number().int().min(0) }).optional(),
});

export type CsvCheckpointState = z.output<typeof csvCheckpointSchema>;

export function parseCheckpoint(state: JsonValue | undefined, stream: string): CsvCheckpointState | undefined {
  return parseCheckpointState(csvCheckpointSchema, state, { connector: 'csv', stream });
}
