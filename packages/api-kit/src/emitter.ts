import { BatchBuilder, type BatchLimits, type ExtractMessage, type FieldSpec, type JsonValue, type RowProblem } from '@dativo/core';

/**
 * The batches of one API stream and their checkpoints: rows go into a BatchBuilder, and a
 * checkpoint (the batch so far, then the state) is due when the batch is full or `everyMs` has
 * passed since the last one, so a crashed run loses at most a few seconds of pages.
 */
export class StreamBatches {
  private readonly builder: BatchBuilder;
  private last = Date.now();

  constructor(
    private readonly stream: string,
    schema: readonly FieldSpec[],
    limits: Partial<BatchLimits>,
    private readonly everyMs = 2_000,
  ) {
    this.builder = new BatchBuilder(schema, limits);
  }

  /** Adds a row; the problem when a value does not fit its column. */
  append(row: Record<string, unknown>): RowProblem | undefined {
    return this.builder.appendRecord(row);
  }

  get due(): boolean {
    return this.builder.full || Date.now() - this.last >= this.everyMs;
  }

  /** The rows so far as a batch, then the checkpoint of `state`. */
  *checkpoint(state: unknown): Generator<ExtractMessage> {
    const batch = this.builder.flush();
    if (batch) yield { kind: 'batch', stream: this.stream, batch };
    yield { kind: 'checkpoint', checkpoint: { stream: this.stream, state: state as JsonValue } };
    this.last = Date.now();
  }
}
