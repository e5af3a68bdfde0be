import type { Data, DataType as ArrowType } from 'apache-arrow';
import type { DataType, FieldSpec } from '../../schema/types.js';
import { zeroedBuffer } from '../buffer-pool.js';

const ENCODER = new TextEncoder();

/** Numeric tag of each builder class, so hot loops can dispatch with monomorphic call sites. */
export enum BuilderCode {
  STRING,
  JSON,
  BINARY,
  BOOL,
  INT16,
  INT32,
  INT64,
  FLOAT32,
  FLOAT64,
  DECIMAL,
  DATE,
  TIME,
  TIMESTAMP,
  LIST,
  STRUCT,
}

/**
 * Appends values of one column into Arrow buffers. Two ways in:
 * - {@link appendText}: the value's text as UTF-8 bytes (CSV, COPY output), parsed without a JS
 *   string on the fast paths;
 * - {@link appendValue}: a JS value (API payloads, drivers).
 * Both return `undefined` on success or a short reason (`is not an integer`) on failure, in which
 * case nothing was appended.
 */
export abstract class ColumnBuilder {
  readonly field: FieldSpec;
  length = 0;
  nullCount = 0;
  protected capacity: number;
  private validity: Uint8Array | undefined;
  private scratch: Uint8Array | undefined;

  constructor(field: FieldSpec, capacity: number) {
    this.field = field;
    this.capacity = Math.max(8, capacity);
  }

  get type(): DataType {
    return this.field.type;
  }

  abstract readonly arrowType: ArrowType;

  /** Which concrete builder this is (see {@link appendTextFast}). */
  abstract readonly code: BuilderCode;

  /** Human description of what the column accepts, for error messages. */
  abstract readonly expected: string;

  abstract appendText(buf: Uint8Array, start: number, end: number): string | undefined;

  /** Default: strings go through {@link appendText}; everything else is type specific. */
  appendValue(value: unknown): string | undefined {
    if (value === null || value === undefined) {
      this.appendNull();
      return undefined;
    }
    if (typeof value === 'string') return this.appendString(value);
    return this.appendJsValue(value);
  }

  protected abstract appendJsValue(value: unknown): string | undefined;

  protected appendString(value: string): string | undefined {
    const need = value.length * 3;
    if (!this.scratch || this.scratch.length < need) this.scratch = new Uint8Array(Math.max(64, need));
    const { written } = ENCODER.encodeInto(value, this.scratch);
    return this.appendText(this.scratch, 0, written);
  }

  appendNull(): void {
    this.ensureCapacity(this.length + 1);
    if (!this.validity) {
      this.validity = new Uint8Array(zeroedBuffer(Math.ceil(this.capacity / 8)));
      const full = this.length >> 3;
      this.validity.fill(0xff, 0, full);
      for (let i = full * 8; i < this.length; i++) (this.validity[i >> 3] as number) |= 1 << (i & 7);
    }
    this.appendEmptySlot();
    this.length++;
    this.nullCount++;
  }

  /** Writes the placeholder of a null at `this.length` (zero, an empty string…). */
  protected abstract appendEmptySlot(): void;

  /** Marks slot `this.length` valid and advances. Subclasses call it after writing a value. */
  protected commitValid(): void {
    const v = this.validity;
    if (v) {
      const i = this.length;
      (v[i >> 3] as number) |= 1 << (i & 7);
    }
    this.length++;
  }

  protected ensureCapacity(rows: number): void {
    if (rows <= this.capacity) return;
    let next = this.capacity * 2;
    while (next < rows) next *= 2;
    this.grow(next);
    if (this.validity) {
      const bigger = new Uint8Array(Math.ceil(next / 8));
      bigger.set(this.validity);
      this.validity = bigger;
    }
    this.capacity = next;
  }

  /** Reallocates value buffers for `capacity` rows. */
  protected abstract grow(capacity: number): void;

  /** Drops rows from `length` on (used to undo a partially appended row). */
  truncate(length: number): void {
    if (length >= this.length) return;
    const v = this.validity;
    if (v) {
      for (let i = length; i < this.length; i++) {
        const bit = 1 << (i & 7);
        if (((v[i >> 3] as number) & bit) === 0) this.nullCount--;
        else (v[i >> 3] as number) &= ~bit;
      }
    }
    this.truncateValues(length);
    this.length = length;
  }

  protected abstract truncateValues(length: number): void;

  /** Approximate bytes held, for batch size limits. */
  abstract byteLength(): number;

  /** Builds the Arrow data of everything appended and starts over with fresh buffers. */
  finish(): Data {
    const data = this.buildData(this.length, this.nullCount, this.nullCount > 0 ? this.validity?.subarray(0, Math.ceil(this.length / 8)) : undefined);
    this.length = 0;
    this.nullCount = 0;
    this.validity = undefined;
    this.reset();
    return data;
  }

  protected abstract buildData(length: number, nullCount: number, nullBitmap: Uint8Array | undefined): Data;

  /** Allocates fresh buffers after {@link finish} handed the old ones to Arrow. */
  protected abstract reset(): void;
}
