import { Decimal, Float32, Float64, Int16, Int32, Int64, makeData, type Data } from 'apache-arrow';
import type { FieldSpec } from '../../schema/types.js';
import { isNaNText, parseBigIntText, parseDecimalText, parseFloatText, parseSafeInt } from '../text-parse.js';
import { zeroedBuffer } from '../buffer-pool.js';
import { BuilderCode, ColumnBuilder } from './base.js';

const TWO_32 = 4294967296;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Values in one typed array: the fixed-width columns (small integers, floats, dates). */
export abstract class FixedWidthBuilder<A extends Int16Array | Int32Array | Float32Array | Float64Array> extends ColumnBuilder {
  protected values: A;
  protected abstract alloc(n: number): A;

  constructor(field: FieldSpec, capacity: number) {
    super(field, capacity);
    this.values = this.alloc(this.capacity);
  }

  protected put(v: number): void {
    this.ensureCapacity(this.length + 1);
    this.values[this.length] = v;
    this.commitValid();
  }

  protected appendEmptySlot(): void {
    this.values[this.length] = 0;
  }
  protected grow(capacity: number): void {
    const bigger = this.alloc(capacity);
    bigger.set(this.values.subarray(0, this.length));
    this.values = bigger;
  }
  protected truncateValues(): void {}
  byteLength(): number {
    return this.length * this.values.BYTES_PER_ELEMENT;
  }
  protected reset(): void {
    this.values = this.alloc(this.capacity);
  }
  protected buildData(length: number, nullCount: number, nullBitmap: Uint8Array | undefined): Data {
    return makeData({ type: this.arrowType, length, nullCount, nullBitmap, data: this.values.subarray(0, length) } as Parameters<typeof makeData>[0]);
  }
}

abstract class SmallIntBuilder<A extends Int16Array | Int32Array> extends FixedWidthBuilder<A> {
  protected abstract readonly min: number;
  protected abstract readonly max: number;

  appendText(buf: Uint8Array, start: number, end: number): string | undefined {
    const v = parseSafeInt(buf, start, end);
    if (v !== v) return 'is not an integer';
    return this.checked(v);
  }

  protected appendJsValue(value: unknown): string | undefined {
    if (typeof value === 'number') return Number.isInteger(value) ? this.checked(value) : 'is not an integer';
    if (typeof value === 'bigint') return value >= BigInt(this.min) && value <= BigInt(this.max) ? this.checked(Number(value)) : this.outOfRange();
    if (typeof value === 'boolean') return this.checked(value ? 1 : 0);
    return 'is not an integer';
  }

  private checked(v: number): string | undefined {
    if (v < this.min || v > this.max) return this.outOfRange();
    this.put(v);
    return undefined;
  }

  private outOfRange(): string {
    return `is out of range for ${this.expected} (${this.min}..${this.max})`;
  }
}

export class Int16Builder extends SmallIntBuilder<Int16Array> {
  readonly code: BuilderCode = BuilderCode.INT16;
  readonly arrowType = new Int16();
  readonly expected = 'smallint';
  protected readonly min = -32768;
  protected readonly max = 32767;
  protected alloc(n: number): Int16Array {
    return new Int16Array(zeroedBuffer(n * 2));
  }
}

export class Int32Builder extends SmallIntBuilder<Int32Array> {
  readonly code: BuilderCode = BuilderCode.INT32;
  readonly arrowType = new Int32();
  readonly expected = 'integer';
  protected readonly min = -2147483648;
  protected readonly max = 2147483647;
  protected alloc(n: number): Int32Array {
    return new Int32Array(zeroedBuffer(n * 4));
  }
}

/** 64-bit integers kept as little-endian int32 pairs, so safe values never become BigInts. */
export abstract class Int64PairBuilder extends ColumnBuilder {
  protected words: Int32Array;

  constructor(field: FieldSpec, capacity: number) {
    super(field, capacity);
    this.words = new Int32Array(zeroedBuffer(this.capacity * 8));
  }

  /** Stores a safe integer (|v| ≤ 2^53). */
  protected putSafe(v: number): void {
    this.ensureCapacity(this.length + 1);
    const hi = Math.floor(v / TWO_32);
    const lo = v - hi * TWO_32;
    const i = this.length * 2;
    this.words[i] = lo | 0;
    this.words[i + 1] = hi | 0;
    this.commitValid();
  }

  /**
   * Appends a 64-bit value given as its two's-complement 32-bit halves (binary wire formats), with
   * no BigInt and no range check.
   */
  appendInt64Words(lo: number, hi: number): void {
    this.ensureCapacity(this.length + 1);
    const i = this.length * 2;
    this.words[i] = lo | 0;
    this.words[i + 1] = hi | 0;
    this.commitValid();
  }

  /** Appends an integer that must be safe (|v| ≤ 2^53): microseconds, counts. */
  appendSafeInteger(v: number): string | undefined {
    if (!Number.isSafeInteger(v)) return 'is out of the supported range';
    this.putSafe(v);
    return undefined;
  }

  protected putBig(v: bigint): void {
    this.ensureCapacity(this.length + 1);
    const u = BigInt.asUintN(64, v);
    const i = this.length * 2;
    this.words[i] = Number(u & 0xffffffffn) | 0;
    this.words[i + 1] = Number(u >> 32n) | 0;
    this.commitValid();
  }

  protected appendEmptySlot(): void {
    const i = this.length * 2;
    this.words[i] = 0;
    this.words[i + 1] = 0;
  }
  protected grow(capacity: number): void {
    const bigger = new Int32Array(capacity * 2);
    bigger.set(this.words.subarray(0, this.length * 2));
    this.words = bigger;
  }
  protected truncateValues(): void {}
  byteLength(): number {
    return this.length * 8;
  }
  protected reset(): void {
    this.words = new Int32Array(zeroedBuffer(this.capacity * 8));
  }
  protected int64Data(): BigInt64Array {
    return new BigInt64Array(this.words.buffer, this.words.byteOffset, this.length);
  }
}

export class Int64Builder extends Int64PairBuilder {
  readonly code: BuilderCode = BuilderCode.INT64;
  readonly arrowType = new Int64();
  readonly expected = 'bigint';

  appendText(buf: Uint8Array, start: number, end: number): string | undefined {
    const v = parseSafeInt(buf, start, end);
    if (v === v) {
      this.putSafe(v);
      return undefined;
    }
    const big = parseBigIntText(buf, start, end);
    if (big === undefined) return 'is not an integer';
    return this.appendBig(big);
  }

  protected appendJsValue(value: unknown): string | undefined {
    if (typeof value === 'number') {
      if (!Number.isInteger(value)) return 'is not an integer';
      if (!Number.isSafeInteger(value)) return 'is an integer past 2^53 given as a JS number (precision already lost); pass a bigint or string';
      this.putSafe(value);
      return undefined;
    }
    if (typeof value === 'bigint') return this.appendBig(value);
    if (typeof value === 'boolean') {
      this.putSafe(value ? 1 : 0);
      return undefined;
    }
    return 'is not an integer';
  }

  private appendBig(v: bigint): string | undefined {
    if (v < INT64_MIN || v > INT64_MAX) return 'is out of range for bigint (64-bit)';
    this.putBig(v);
    return undefined;
  }

  protected buildData(length: number, nullCount: number, nullBitmap: Uint8Array | undefined): Data {
    return makeData({ type: this.arrowType, length, nullCount, nullBitmap, data: this.int64Data() });
  }
}

abstract class FloatBuilder<A extends Float32Array | Float64Array> extends FixedWidthBuilder<A> {
  /** Largest finite magnitude the type holds. */
  protected abstract readonly maxFinite: number;

  appendText(buf: Uint8Array, start: number, end: number): string | undefined {
    const v = parseFloatText(buf, start, end);
    if (v !== v && !isNaNText(buf, start, end)) return 'is not a number';
    // `1e400` is a number too large, not infinity (which is written `inf` / `Infinity`).
    if (Math.abs(v) > this.maxFinite && hasDigit(buf, start, end)) return `is out of range for ${this.expected} (magnitude above ${this.maxFinite.toExponential(6)})`;
    this.put(v);
    return undefined;
  }

  protected appendJsValue(value: unknown): string | undefined {
    const v = typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : undefined;
    if (v === undefined) return 'is not a number';
    if (Number.isFinite(v) && Math.abs(v) > this.maxFinite) return `is out of range for ${this.expected} (magnitude above ${this.maxFinite.toExponential(6)})`;
    if (!Number.isFinite(v) && typeof value === 'bigint') return `is out of range for ${this.expected}`;
    this.put(v);
    return undefined;
  }
}

function hasDigit(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if ((buf[i] as number) >= 0x30 && (buf[i] as number) <= 0x39) return true;
  return false;
}

export class Float64Builder extends FloatBuilder<Float64Array> {
  readonly code: BuilderCode = BuilderCode.FLOAT64;
  readonly arrowType = new Float64();
  readonly expected = 'double';
  protected readonly maxFinite = Number.MAX_VALUE;
  protected alloc(n: number): Float64Array {
    return new Float64Array(zeroedBuffer(n * 8));
  }
}

export class Float32Builder extends FloatBuilder<Float32Array> {
  readonly code: BuilderCode = BuilderCode.FLOAT32;
  readonly arrowType = new Float32();
  readonly expected = 'real';
  protected readonly maxFinite = 3.4028234663852886e38;
  protected alloc(n: number): Float32Array {
    return new Float32Array(zeroedBuffer(n * 4));
  }
}

/** decimal(p,s) as Arrow Decimal128: four little-endian 32-bit words, two's complement. */
export class DecimalBuilder extends ColumnBuilder {
  readonly code: BuilderCode = BuilderCode.DECIMAL;
  readonly arrowType: Decimal;
  readonly expected: string;
  private readonly precision: number;
  private readonly scale: number;
  /** 10^precision (exact for the precisions the safe-integer path checks). */
  private readonly limit: number;
  private words: Uint32Array;

  constructor(field: FieldSpec, capacity: number) {
    super(field, capacity);
    if (field.type.kind !== 'decimal') throw new TypeError('DecimalBuilder needs a decimal field');
    this.precision = field.type.precision;
    this.scale = field.type.scale;
    this.arrowType = new Decimal(this.scale, this.precision, 128);
    this.expected = `decimal(${this.precision},${this.scale})`;
    this.limit = 10 ** Math.min(this.precision, 16);
    this.words = new Uint32Array(zeroedBuffer(this.capacity * 16));
  }

  appendText(buf: Uint8Array, start: number, end: number): string | undefined {
    const v = parseDecimalText(buf, start, end, this.precision, this.scale);
    if (typeof v === 'string') return v;
    if (typeof v === 'number') this.putSafe(v);
    else {
      if (v.toString().replace('-', '').length > this.precision) return `does not fit ${this.expected}`;
      this.putBig(v);
    }
    return undefined;
  }

  protected appendJsValue(value: unknown): string | undefined {
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) return `is not a finite number for ${this.expected}`;
      // Shortest round-trip text of the double, then the exact decimal parse.
      return this.appendString(numberToPlainString(value));
    }
    if (typeof value === 'bigint') return this.appendString(value.toString());
    return `is not a number for ${this.expected}`;
  }

  /** Appends the unscaled integer of a value already at this column's scale (binary wire formats). */
  appendUnscaled(v: number | bigint): string | undefined {
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) return this.appendUnscaled(BigInt(v));
      // Safe integers have at most 16 digits: only narrower precisions need the check.
      if (this.precision < 16 && (v >= this.limit || v <= -this.limit)) return `does not fit ${this.expected}`;
      this.putSafe(v);
      return undefined;
    }
    const limit = 10n ** BigInt(this.precision);
    if (v >= limit || v <= -limit) return `does not fit ${this.expected}`;
    this.putBig(v);
    return undefined;
  }

  private putSafe(v: number): void {
    this.ensureCapacity(this.length + 1);
    const i = this.length * 4;
    const hi = Math.floor(v / TWO_32);
    const lo = v - hi * TWO_32;
    const sign = v < 0 ? 0xffffffff : 0;
    this.words[i] = lo >>> 0;
    this.words[i + 1] = hi >>> 0;
    this.words[i + 2] = sign;
    this.words[i + 3] = sign;
    this.commitValid();
  }

  private putBig(v: bigint): void {
    this.ensureCapacity(this.length + 1);
    const u = BigInt.asUintN(128, v);
    const i = this.length * 4;
    this.words[i] = Number(u & 0xffffffffn);
    this.words[i + 1] = Number((u >> 32n) & 0xffffffffn);
    this.words[i + 2] = Number((u >> 64n) & 0xffffffffn);
    this.words[i + 3] = Number((u >> 96n) & 0xffffffffn);
    this.commitValid();
  }

  protected appendEmptySlot(): void {
    this.words.fill(0, this.length * 4, this.length * 4 + 4);
  }
  protected grow(capacity: number): void {
    const bigger = new Uint32Array(capacity * 4);
    bigger.set(this.words.subarray(0, this.length * 4));
    this.words = bigger;
  }
  protected truncateValues(): void {}
  byteLength(): number {
    return this.length * 16;
  }
  protected reset(): void {
    this.words = new Uint32Array(zeroedBuffer(this.capacity * 16));
  }
  protected buildData(length: number, nullCount: number, nullBitmap: Uint8Array | undefined): Data {
    return makeData({ type: this.arrowType, length, nullCount, nullBitmap, data: this.words.subarray(0, length * 4) });
  }
}

/** `1e-7` → `0.0000001`: decimal text of a double without exponent. */
export function numberToPlainString(value: number): string {
  const text = String(value);
  if (!/e/i.test(text)) return text;
  const [mant = '0', expText = '0'] = text.toLowerCase().split('e');
  const negative = mant.startsWith('-');
  const digits = mant.replace(/^-/, '').replace('.', '');
  const dot = mant.replace(/^-/, '').indexOf('.');
  const intLen = (dot < 0 ? mant.replace(/^-/, '').length : dot) + Number(expText);
  let out: string;
  if (intLen <= 0) out = `0.${'0'.repeat(-intLen)}${digits}`;
  else if (intLen >= digits.length) out = digits + '0'.repeat(intLen - digits.length);
  else out = `${digits.slice(0, intLen)}.${digits.slice(intLen)}`;
  return negative ? `-${out}` : out;
}
