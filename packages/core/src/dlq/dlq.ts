import type { ErrorKind } from '../errors.js';

/** One rejected record with enough context to fix and replay it. Never holds secrets. */
export interface DeadLetterEntry {
  time: string;
  tenant: string;
  job: string;
  runId: string;
  stream: string;
  error: { kind: ErrorKind; message: string; code?: string };
  /** The record as read from the source. */
  raw: unknown;
  /** Where the record came from: file, row, line, page… */
  context?: Record<string, unknown>;
}

export interface DeadLetterQueue {
  put(entry: DeadLetterEntry): Promise<void>;
  /** Entries written by this queue instance (this run). */
  readonly count: number;
  close(): Promise<void>;
}

/** Keeps entries in memory (tests, programmatic pipelines). */
export class MemoryDeadLetterQueue implements DeadLetterQueue {
  readonly entries: DeadLetterEntry[] = [];
  get count(): number {
    return this.entries.length;
  }
  async put(entry: DeadLetterEntry): Promise<void> {
    this.entries.push(entry);
  }
  async close(): Promise<void> {}
}
