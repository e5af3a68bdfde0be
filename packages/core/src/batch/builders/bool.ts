import { Bool, makeData, type Data } from 'apache-arrow';
import type { FieldSpec } from '../../schema/types.js';
import { parseBoolText } from '../text-parse.js';
import { zeroedBuffer } from '../buffer-pool.js';
import { BuilderCode, ColumnBuilder } from './base.js';

export class BoolBuilder extends ColumnBuilder {
  readonly code: BuilderCode = BuilderCode.BOOL;
  readonly arrowType = new Bool();
  readonly expected = 'a boolean (true/false, t/f, yes/no, 1/0)';
  private bits: Uint8Array;

  constructor(field: FieldSpec, capacity: number) {
    super(field, capacity);
    this.bits = new Uint8Array(zeroedBuffer(Math.ceil(this.capacity / 8)));
  }

  appendText(buf: Uint8Array, start: number, end: number): string | undefined {
    const v = parseBoolText(buf, start, end);
    if (v === undefined) return 'is not a boolean';
    this.put(v);
    return undefined;
  }

  protected appendJsValue(value: unknown): string | undefined {
    if (typeof value === 'boolean') this.put(value);
    else if (value === 0 || value === 1) this.put(value === 1);
    else return 'is not a boolean';
    return undefined;
  }

  private put(v: boolean): void {
    this.ensureCapacity(this.length + 1);
    const i = this.length;
    if (v) (this.bits[i >> 3] as number) |= 1 << (i & 7);
    else (this.bits[i >> 3] as number) &= ~(1 << (i & 7));
    this.commitValid();
  }

  protected appendEmptySlot(): void {
    const i = this.length;
    (this.bits[i >> 3] as number) &= ~(1 << (i & 7));
  }
  protected grow(capacity: number): void {
    const bigger = new Uint8Array(Math.ceil(capacity / 8));
    bigger.set(this.bits);
    this.bits = bigger;
  }
  protected truncateValues(): void {}
  byteLength(): number {
    return this.length >> 3;
  }
  protected reset(): void {
    this.bits = new Uint8Array(zeroedBuffer(Math.ceil(this.capacity / 8)));
  }
  protected buildData(length: number, nullCount: number, nullBitmap: Uint8Array | undefined): Data {
    return makeData({ type: this.arrowType, length, nullCount, nullBitmap, data: this.bits.subarray(0, Math.ceil(length / 8)) });
  }
}
