import { makeData, RecordBatch, Struct, type Schema } from 'apache-arrow';
import { toArrowSchema } from '../schema/arrow.js';
import type { FieldSpec } from '../schema/types.js';
import { createColumnBuilder, type ColumnBuilder } from './builders/index.js';

export interface BatchLimits {
  /** A batch closes at this many rows. */
  maxRows: number;
  /** …or when its buffers hold about this many bytes. */
  maxBytes: number;
}

export const defaultBatchLimits: BatchLimits = { maxRows: 32_768, maxBytes: 4 * 1024 * 1024 };

/** Why a row could not be appended. */
export interface RowProblem {
  column: string;
  message: string;
}

/**
 * Builds Arrow record batches row by row, with every column appended straight into typed
 * buffers. Rows are appended either whole ({@link appendRecord}, {@link appendValues}) or column by
 * column through {@link columns} followed by {@link endRow} / {@link rollbackRow}.
 */
export class BatchBuilder {
  readonly fields: readonly FieldSpec[];
  readonly schema: Schema;
  readonly columns: ColumnBuilder[];
  readonly limits: BatchLimits;
  rows = 0;
  private readonly byName: Map<string, number>;

  constructor(fields: readonly FieldSpec[], limits: Partial<BatchLimits> = {}) {
    this.fields = fields;
    this.limits = { ...defaultBatchLimits, ...limits };
    this.schema = toArrowSchema(fields);
    const capacity = Math.min(this.limits.maxRows, 65_536);
    this.columns = fields.map((f) => createColumnBuilder(f, capacity));
    this.byName = new Map(fields.map((f, i) => [f.name, i]));
  }

  /** Appends one row given as an object keyed by field name. Missing keys are nulls. */
  appendRecord(record: Readonly<Record<string, unknown>>): RowProblem | undefined {
    const columns = this.columns;
    for (let i = 0; i < columns.length; i++) {
      const column = columns[i] as ColumnBuilder;
      const problem = this.appendOne(column, record[column.field.name]);
      if (problem !== undefined) {
        this.rollbackRow();
        return { column: column.field.name, message: problem };
      }
    }
    this.rows++;
    return undefined;
  }

  /** Appends one row given as values in field order. */
  appendValues(values: readonly unknown[]): RowProblem | undefined {
    const columns = this.columns;
    for (let i = 0; i < columns.length; i++) {
      const column = columns[i] as ColumnBuilder;
      const problem = this.appendOne(column, values[i]);
      if (problem !== undefined) {
        this.rollbackRow();
        return { column: column.field.name, message: problem };
      }
    }
    this.rows++;
    return undefined;
  }

  private appendOne(column: ColumnBuilder, value: unknown): string | undefined {
    if (value === null || value === undefined) {
      if (!column.field.nullable) return 'is required but missing';
      column.appendNull();
      return undefined;
    }
    return column.appendValue(value);
  }

  indexOf(name: string): number | undefined {
    return this.byName.get(name);
  }

  /** Call after appending one value to every column. */
  endRow(): void {
    this.rows++;
  }

  /** Call after appending `count` values to every column (rows appended column by column). */
  endRows(count: number): void {
    this.rows += count;
  }

  /** Undoes the values appended since the last complete row. */
  rollbackRow(): void {
    for (const column of this.columns) if (column.length > this.rows) column.truncate(this.rows);
  }

  /** Drops complete rows from `rows` on (undoing a group of rows that belong together). */
  truncate(rows: number): void {
    if (rows >= this.rows) return this.rollbackRow();
    for (const column of this.columns) column.truncate(rows);
    this.rows = rows;
  }

  byteLength(): number {
    let n = 0;
    for (const column of this.columns) n += column.byteLength();
    return n;
  }

  /** True when the batch reached its row or byte limit. The byte size is checked every 256 rows. */
  get full(): boolean {
    if (this.rows >= this.limits.maxRows) return true;
    return (this.rows & 255) === 0 && this.rows > 0 && this.byteLength() >= this.limits.maxBytes;
  }

  /** Returns the rows appended so far as a RecordBatch and starts over; undefined when empty. */
  flush(): RecordBatch | undefined;
  /** With `{ empty: true }`, a batch of zero rows rather than undefined. */
  flush(options: { empty: true }): RecordBatch;
  flush(options: { empty?: boolean } = {}): RecordBatch | undefined {
    if (this.rows === 0 && !options.empty) return undefined;
    const length = this.rows;
    const children = this.columns.map((c) => c.finish());
    this.rows = 0;
    const data = makeData({ type: new Struct(this.schema.fields), length, nullCount: 0, children });
    return markBuffersOwned(new RecordBatch(this.schema, data));
  }
}

const OWNED = Symbol.for('@dativo/core/ownedBuffers');

/**
 * Marks a batch whose buffers nobody else references (a builder just handed them over), so a sink
 * may transfer them to another thread without copying. Recognised across package copies.
 */
export function markBuffersOwned<T extends object>(batch: T): T {
  Object.defineProperty(batch, OWNED, { value: true, enumerable: false });
  return batch;
}

/** True when the batch's buffers may be moved (not copied) to another thread. */
export function buffersOwned(batch: object): boolean {
  return (batch as Record<symbol, unknown>)[OWNED] === true;
}
