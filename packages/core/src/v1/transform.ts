import type { RecordBatch } from 'apache-arrow';
import type { FieldSpec } from '../schema/types.js';
import type { ConfiguredStream } from './messages.js';

/** Reshapes batches between source and sink (e.g. rows rendered as Markdown-KV documents). */
export interface BatchTransform {
  /** The schema the sink receives for a stream. */
  schema(stream: ConfiguredStream): FieldSpec[];
  apply(stream: string, batch: RecordBatch): RecordBatch;
}
