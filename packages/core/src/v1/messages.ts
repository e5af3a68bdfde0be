import type { RecordBatch } from 'apache-arrow';
import type { DativoError } from '../errors.js';
import type { FieldSpec } from '../schema/types.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * A stream's durable position: small JSON (a cursor value, a file and row offset, a page token).
 * Its size must not depend on how much history was read.
 */
export interface Checkpoint {
  stream: string;
  state: JsonValue;
}

export type SyncMode = 'full_refresh' | 'incremental';

/** What a source offers (from `discover`). */
export interface StreamDescriptor {
  name: string;
  schema: FieldSpec[];
  primaryKey?: string[];
  cursorFields?: string[];
  syncModes: SyncMode[];
  /**
   * `connector` when the connector decides the output columns itself (Markdown-KV structured
   * rows); `asset` (default) when the asset's schema is the contract the source is coerced to.
   */
  schemaOwner?: 'asset' | 'connector';
  description?: string;
}

/** One stream the pipeline asks a source to read. */
export interface ConfiguredStream {
  name: string;
  /**
   * The output schema: the asset's, or the connector's own for `schemaOwner: 'connector'`. Empty
   * means "the source's own columns": the pipeline runner fills it in from `discover`.
   */
  schema: FieldSpec[];
  syncMode: SyncMode;
  cursorField?: string;
  primaryKey?: string[];
  /** Resume position: the last checkpoint the sink (or state store) durably recorded. */
  resumeFrom?: Checkpoint;
}

export interface ReadRequest {
  streams: ConfiguredStream[];
}

export interface BatchMessage {
  kind: 'batch';
  stream: string;
  batch: RecordBatch;
}

export interface CheckpointMessage {
  kind: 'checkpoint';
  checkpoint: Checkpoint;
  /**
   * When the data up to this checkpoint was current at the source (epoch ms): the cursor's time for
   * a timestamp cursor, a window's end. Optional; without it the runner uses the time the stream's
   * read began. Feeds `dativo_checkpoint_lag_seconds`.
   */
  sourceTime?: number;
}

/** A record the source could not turn into a row; it goes to the dead-letter queue. */
export interface RejectedMessage {
  kind: 'rejected';
  stream: string;
  /** The raw record as read (a CSV line's fields, a JSON object…). */
  raw: unknown;
  error: DativoError;
  /** Where it came from: file, row, line, page… */
  context?: Record<string, unknown>;
  /** How many times the record has been tried (a replayed dead letter: its earlier attempts + 1); default 1. */
  attempt?: number;
}

/** A non-fatal notice to surface to the user (zero dates, ignored columns…). */
export interface WarningMessage {
  kind: 'warning';
  stream: string;
  message: string;
  context?: Record<string, unknown>;
}

/**
 * Sent by a source when it starts reading a stream: `resumed` says whether it continues from the
 * requested checkpoint (true) or reads from the beginning (false). Sinks with replace semantics
 * (Iceberg overwrite) use it so a resumed run does not replace what its crashed predecessor wrote.
 * Optional: without it the runner assumes `resumed` when a checkpoint was given.
 */
export interface StartMessage {
  kind: 'start';
  stream: string;
  resumed: boolean;
}

/**
 * What the source knows it should have delivered: `records` rows (delivered + rejected) since the
 * stream started in this run or since its previous `total` message — a `COUNT(*)` in the read's own
 * snapshot, an API's total. Sent after the records it covers and before the checkpoint that ends
 * them; the runner compares and fails the run on a mismatch (no silent partial success).
 */
export interface TotalMessage {
  kind: 'total';
  stream: string;
  records: number;
  /** Where the number comes from, for the error message (`COUNT(*) in the read's snapshot of public.orders`). */
  basis: string;
}

/**
 * Where the source is now, for progress displays and traces: the file, table or window it reads
 * (`at`) and, where it knows, how many records the stream holds in all this run (`expected`, for an
 * ETA). Optional and informational: nothing is checked against it.
 */
export interface StatusMessage {
  kind: 'status';
  stream: string;
  at?: string;
  expected?: number;
}

export type ExtractMessage = BatchMessage | CheckpointMessage | RejectedMessage | WarningMessage | StartMessage | TotalMessage | StatusMessage;
