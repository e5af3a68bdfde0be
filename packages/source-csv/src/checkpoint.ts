import type { FilePosition, JsonValue } from '@dativo/core';

/**
 * The CSV source's checkpoint. `after` is the last file fully read; `file` the one being read
 * (rows done, and the byte offset where the next row starts when the file is seekable). `done`
 * marks a completed run. Its size is constant whatever the number of files.
 */
export interface CsvCheckpointState {
  v: 1;
  done: boolean;
  after?: FilePosition;
  file?: FilePosition & { rows: number; line?: number; offset?: number; size: number };
}

export function parseCheckpoint(state: JsonValue | undefined): CsvCheckpointState | undefined {
  if (!state || typeof state !== 'object' || Array.isArray(state)) return undefined;
  const s = state as unknown as CsvCheckpointState;
  return s.v === 1 ? s : undefined;
}
