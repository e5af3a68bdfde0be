import { DativoError, type ErrorKind } from '../errors.js';

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
  /** How many times the record has been tried: 1 when first read, one more with each replay. */
  attempt?: number;
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

/**
 * The error policy's `dead_letter_queue.enabled: false`: nothing is set aside, so a record that
 * cannot be written fails the run (never dropped silently).
 */
export class RefusingDeadLetterQueue implements DeadLetterQueue {
  readonly count = 0;
  async put(entry: DeadLetterEntry): Promise<void> {
    throw new DativoError(`${entry.error.message} (the dead-letter queue is disabled by error_handling.dead_letter_queue.enabled: false, so a record that cannot be written stops the run)`, { kind: 'validation', code: 'DLQ_DISABLED', ...(entry.error.code ? { details: { cause: entry.error.code } } : {}) });
  }
  async close(): Promise<void> {}
}
