import { Binary, makeData, Utf8, type Data } from 'apache-arrow';
import type { FieldSpec } from '../../schema/types.js';
import { collapseDoubledQuotes, utf8Text } from '../text-parse.js';
import { zeroedBuffer } from '../buffer-pool.js';
import { BuilderCode, ColumnBuilder } from './base.js';

const ENCODER = new TextEncoder();
/** Values up to this many bytes are copied by a loop rather than `set(subarray)`. */
const LOOP_COPY_MAX = 256;

/** Offsets + bytes, shared by string, json and binary columns. */
abstract class VariableWidthBuilder extends ColumnBuilder {
  protected offsets: Int32Array;
  protected data: Uint8Array;
  protected used = 0;
  /** The last input seen as a plain Uint8Array (a Buffer's `subarray` costs ~2× a plain view's). */
  private source: Uint8Array | undefined;
  private sourceView: Uint8Array | undefined;

  constructor(field: FieldSpec, capacity: number) {
    super(field, capacity);
    this.offsets = new Int32Array(zeroedBuffer((this.capacity + 1) * 4));
    this.data = new Uint8Array(zeroedBuffer(Math.max(1024, this.capacity * 16)));
  }

  protected ensureBytes(extra: number): void {
    const need = this.used + extra;
    if (need <= this.data.length) return;
    if (need > 0x7fffffff) throw new RangeError(`column '${this.field.name}' exceeds 2 GiB in one batch; lower the batch size`);
    let next = this.data.length * 2;
    while (next < need) next *= 2;
    const bigger = new Uint8Array(Math.min(next, 0x7fffffff));
    bigger.set(this.data.subarray(0, this.used));
    this.data = bigger;
  }

  /** Appends bytes as they are. */
  appendBytes(buf: Uint8Array, start: number, end: number): void {
    this.ensureCapacity(this.length + 1);
    const n = end - start;
    this.ensureBytes(n);
    if (n <= LOOP_COPY_MAX) {
      // A JS loop costs about what a native copy's call does for short values, and allocates no
      // view per value (less garbage: the main thread's young generation stays smaller).
      const d = this.data;
      let p = this.used;
      for (let i = start; i < end; i++) d[p++] = buf[i] as number;
    } else {
      let view = this.sourceView;
      if (this.source !== buf || !view) {
        view = buf.constructor === Uint8Array ? buf : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
        this.source = buf;
        this.sourceView = view;
      }
      this.data.set(view.subarray(start, end), this.used);
    }
    this.used += n;
    this.offsets[this.length + 1] = this.used;
    this.commitValid();
  }

  /**
   * Appends the inside of a quoted CSV field, its doubled quotes (`""` → `"`) collapsed while
   * copying: no scratch copy.
   */
  appendUnescaped(buf: Uint8Array, start: number, end: number, quote: number): void {
    this.ensureCapacity(this.length + 1);
    this.ensureBytes(end - start);
    const p = collapseDoubledQuotes(buf, start, end, quote, this.data, this.used);
    this.used = p;
    this.offsets[this.length + 1] = p;
    this.commitValid();
  }

  protected appendUtf8String(value: string): void {
    this.ensureCapacity(this.length + 1);
    this.ensureBytes(value.length * 3);
    const { written } = ENCODER.encodeInto(value, this.data.subarray(this.used));
    this.used += written;
    this.offsets[this.length + 1] = this.used;
    this.commitValid();
  }

  protected appendEmptySlot(): void {
    this.offsets[this.length + 1] = this.used;
  }

  protected grow(capacity: number): void {
    const bigger = new Int32Array(capacity + 1);
    bigger.set(this.offsets.subarray(0, this.length + 1));
    this.offsets = bigger;
  }

  protected truncateValues(length: number): void {
    this.used = this.offsets[length] as number;
  }

  byteLength(): number {
    return this.used + this.length * 4;
  }

  protected reset(): void {
    this.offsets = new Int32Array(zeroedBuffer((this.capacity + 1) * 4));
    this.data = new Uint8Array(zeroedBuffer(Math.max(1024, Math.min(this.data.length, this.capacity * 64))));
    this.used = 0;
  }
}

export class StringBuilder extends VariableWidthBuilder {
  readonly code: BuilderCode = BuilderCode.STRING;
  readonly arrowType = new Utf8();
  readonly expected: string = 'text';

  appendText(buf: Uint8Array, start: number, end: number): string | undefined {
    this.appendBytes(buf, start, end);
    return undefined;
  }

  protected override appendString(value: string): string | undefined {
    this.appendUtf8String(value);
    return undefined;
  }

  protected appendJsValue(value: unknown): string | undefined {
    if (value instanceof Date) this.appendUtf8String(Number.isNaN(value.getTime()) ? String(value) : value.toISOString());
    else if (typeof value === 'object') this.appendUtf8String(JSON.stringify(value, jsonReplacer));
    else this.appendUtf8String(String(value));
    return undefined;
  }

  protected buildData(length: number, nullCount: number, nullBitmap: Uint8Array | undefined): Data {
    return makeData({ type: this.arrowType, length, nullCount, nullBitmap, valueOffsets: this.offsets.subarray(0, length + 1), data: this.data.subarray(0, this.used) });
  }
}

/**
 * Deepest nesting of arrays and objects a JSON value may have (BigQuery's limit; deeper documents
 * overflow the stacks of many readers and are almost always a bug upstream).
 */
export const MAX_JSON_DEPTH = 500;

/** The nesting depth of a JSON text, stopping once past `limit` (brackets inside strings do not count). */
export function jsonDepth(text: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) {
        max = depth;
        if (max > limit) return max;
      }
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/** Why a JSON text is nested too deeply, if it is (a text shorter than the limit cannot be: no scan). */
function tooDeep(text: string): string | undefined {
  if (text.length <= MAX_JSON_DEPTH || jsonDepth(text) <= MAX_JSON_DEPTH) return undefined;
  return `is nested more than ${MAX_JSON_DEPTH} levels deep (arrays and objects within each other), more than readers such as BigQuery accept`;
}

function jsonProblem(text: string): string | undefined {
  const deep = tooDeep(text);
  if (deep) return deep;
  try {
    JSON.parse(text);
  } catch {
    return 'is not valid JSON';
  }
  return undefined;
}

/** JSON documents stored as UTF-8 text; every value is checked to be valid JSON, nested at most `MAX_JSON_DEPTH` levels. */
export class JsonBuilder extends StringBuilder {
  override readonly code: BuilderCode = BuilderCode.JSON;
  override readonly expected = 'a JSON document';

  override appendText(buf: Uint8Array, start: number, end: number): string | undefined {
    const problem = jsonProblem(utf8Text(buf, start, end));
    if (problem) return problem;
    this.appendBytes(buf, start, end);
    return undefined;
  }

  protected override appendString(value: string): string | undefined {
    const problem = jsonProblem(value);
    if (problem) return problem;
    this.appendUtf8String(value);
    return undefined;
  }

  protected override appendJsValue(value: unknown): string | undefined {
    const text = JSON.stringify(value, jsonReplacer);
    if (text === undefined) return 'cannot be represented as JSON';
    const deep = tooDeep(text);
    if (deep) return deep;
    this.appendUtf8String(text);
    return undefined;
  }
}

/** JSON.stringify replacer keeping bigints exact and bytes as base64. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (value && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data)) {
    return Buffer.from((value as { data: number[] }).data).toString('base64');
  }
  return value;
}

/** Binary values. As text: `\x`-prefixed hex (PostgreSQL style) or base64. */
export class BinaryBuilder extends VariableWidthBuilder {
  readonly code: BuilderCode = BuilderCode.BINARY;
  readonly arrowType = new Binary();
  readonly expected = 'binary as base64 or \\x-prefixed hex';

  appendText(buf: Uint8Array, start: number, end: number): string | undefined {
    const text = utf8Text(buf, start, end).trim();
    let bytes: Buffer;
    if (text.startsWith('\\x')) {
      const hex = text.slice(2);
      if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) return 'is not valid \\x hex';
      bytes = Buffer.from(hex, 'hex');
    } else {
      if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text)) return 'is not valid base64';
      bytes = Buffer.from(text, 'base64');
    }
    this.appendBytes(bytes, 0, bytes.length);
    return undefined;
  }

  protected appendJsValue(value: unknown): string | undefined {
    if (value instanceof Uint8Array) {
      this.appendBytes(value, 0, value.length);
      return undefined;
    }
    if (value instanceof ArrayBuffer) {
      const bytes = new Uint8Array(value);
      this.appendBytes(bytes, 0, bytes.length);
      return undefined;
    }
    return 'is not binary data';
  }

  protected buildData(length: number, nullCount: number, nullBitmap: Uint8Array | undefined): Data {
    return makeData({ type: this.arrowType, length, nullCount, nullBitmap, valueOffsets: this.offsets.subarray(0, length + 1), data: this.data.subarray(0, this.used) });
  }
}
