import { appendTextFast, type BatchBuilder, type ColumnBuilder, type DateBuilder, type DecimalBuilder, type Int64PairBuilder, type StringBuilder } from '@dativo/core';
import type { RejectedRow, SelectStatement, StreamEvent } from '@dativo/sql-kit';
import { binaryValueText, Decoder, pgColumnCodec, PG_EPOCH_DAYS, PG_EPOCH_MICROS, readInt64AsNumber } from './codec.js';
import { quoteIdent } from './session.js';

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const EMPTY = Buffer.alloc(0);
const INT32_MAX = 0x7fffffff;
const INT32_MIN = -0x80000000;
/** PG_EPOCH_MICROS as unsigned low and signed high 32-bit words. */
const EPOCH_LO = PG_EPOCH_MICROS % 4294967296;
const EPOCH_HI = Math.floor(PG_EPOCH_MICROS / 4294967296);

/** A numeric's unscaled integer at `scale`, or why it does not fit. */
export function numericUnscaled(buf: Buffer, start: number, scale: number): number | bigint | string {
  const ndigits = buf.readInt16BE(start);
  const weight = buf.readInt16BE(start + 2);
  const sign = buf.readUInt16BE(start + 4);
  if (sign === 0xc000) return 'is NaN';
  if (sign === 0xd000 || sign === 0xf000) return 'is infinite';
  const negative = sign === 0x4000;
  const small = 4 * (weight + 1) + scale <= 15;
  let v = 0;
  let big = 0n;
  for (let i = 0; i < ndigits; i++) {
    let d = buf.readInt16BE(start + 8 + i * 2);
    if (d === 0) continue;
    let e = 4 * (weight - i) + scale;
    if (e < 0) {
      if (e <= -4) return `has more than ${scale} decimal places`;
      const div = 10 ** -e;
      if (d % div !== 0) return `has more than ${scale} decimal places`;
      d /= div;
      e = 0;
    }
    if (small) v += d * 10 ** e;
    else big += BigInt(d) * 10n ** BigInt(e);
  }
  if (small) return negative ? -v : v;
  return negative ? -big : big;
}

/**
 * Decodes the payloads of binary `COPY (SELECT …) TO STDOUT (FORMAT binary)` straight into the
 * batch builder. Integers, floats, booleans, dates, timestamps, times, numerics and bytea arrive in
 * PostgreSQL's binary form and are stored without any text step; text columns are copied as UTF-8
 * bytes. A row with a value the asset type cannot hold is rolled back and reported for the
 * dead-letter queue. Payloads are read in place (PostgreSQL sends one row per CopyData message);
 * a row split across payloads is stitched in a small carry buffer.
 */
export class CopyBinaryDecoder {
  private carry: Buffer | undefined;
  private headerDone = false;
  private trailerSeen = false;
  private rows = 0;
  private rejected: RejectedRow[] = [];
  private readonly width: number;
  private readonly decoders: Uint8Array;
  private readonly columns: Array<ColumnBuilder | undefined>;
  private readonly scales: Int32Array;
  private readonly withTz: Uint8Array;
  private readonly names: string[];
  private readonly offsets: Int32Array;
  private readonly lengths: Int32Array;
  /** The buffer holding the last row read (for positions and rejected rows). */
  private rowBuf: Buffer = EMPTY;
  private position: Array<string | null> | undefined;
  private positionStale = false;

  constructor(
    private readonly statement: SelectStatement,
    private readonly builder: BatchBuilder,
  ) {
    const cols = statement.columns;
    this.width = cols.length;
    this.decoders = Uint8Array.from(cols.map((c) => pgColumnCodec(quoteIdent(c.column.name), c.column, c.field).decoder));
    this.columns = cols.map((c) => (c.target >= 0 ? builder.columns[c.target] : undefined));
    this.scales = Int32Array.from(cols.map((c) => (c.field?.type.kind === 'decimal' ? c.field.type.scale : c.column.type.kind === 'decimal' ? c.column.type.scale : 0)));
    this.withTz = Uint8Array.from(cols.map((c) => (c.column.type.kind === 'timestamp' && c.column.type.withTimeZone ? 1 : 0)));
    this.names = cols.map((c) => c.column.name);
    this.offsets = new Int32Array(this.width);
    this.lengths = new Int32Array(this.width);
  }

  /** Decodes the rows in one CopyData payload, `buf[start, end)`. */
  payload(buf: Buffer, start: number, end: number): void {
    if (this.carry) {
      buf = Buffer.concat([this.carry, buf.subarray(start, end)]);
      start = 0;
      end = buf.length;
      this.carry = undefined;
    }
    let pos = start;
    if (!this.headerDone) {
      if (end - pos < 19) return this.keep(buf, pos, end);
      if (!buf.subarray(pos, pos + 11).equals(SIGNATURE)) throw new Error(`the COPY output of ${this.statement.source} is not in PostgreSQL's binary format`);
      const extension = buf.readInt32BE(pos + 15);
      if (end - pos < 19 + extension) return this.keep(buf, pos, end);
      pos += 19 + extension;
      this.headerDone = true;
    }
    while (pos < end) {
      const next = this.row(buf, pos, end);
      if (next < 0) return this.keep(buf, pos, end);
      pos = next;
    }
  }

  private keep(buf: Buffer, start: number, end: number): void {
    if (end > start) this.carry = Buffer.from(buf.subarray(start, end));
  }

  /** Decodes the row at `pos`; returns where the next one starts, or -1 when it is incomplete. */
  private row(buf: Buffer, pos: number, end: number): number {
    if (end - pos < 2) return -1;
    const count = buf.readInt16BE(pos);
    if (count === -1) {
      this.trailerSeen = true;
      return pos + 2;
    }
    const width = this.width;
    if (count !== width) throw new Error(`unexpected COPY row from ${this.statement.source}: ${count} fields, expected ${width}`);
    const offsets = this.offsets;
    const lengths = this.lengths;
    let p = pos + 2;
    for (let k = 0; k < width; k++) {
      if (end - p < 4) return -1;
      const len = buf.readInt32BE(p);
      p += 4;
      offsets[k] = p;
      lengths[k] = len;
      if (len > 0) p += len;
      if (p > end) return -1;
    }
    let problem: string | undefined;
    let problemColumn = -1;
    for (let k = 0; k < width && problem === undefined; k++) {
      const column = this.columns[k];
      if (column === undefined) continue;
      const len = lengths[k] as number;
      if (len < 0) {
        if (column.field.nullable) column.appendNull();
        else problem = 'is required but null';
      } else problem = this.decode(column, this.decoders[k] as Decoder, buf, offsets[k] as number, len, k);
      if (problem !== undefined) problemColumn = k;
    }
    this.rows++;
    this.rowBuf = buf;
    this.positionStale = true;
    if (problem !== undefined) {
      this.builder.rollbackRow();
      this.rejected.push({ raw: this.rawRow(), column: this.names[problemColumn] as string, message: problem });
    } else this.builder.endRow();
    return p;
  }

  private decode(column: ColumnBuilder, decoder: Decoder, buf: Buffer, at: number, len: number, k: number): string | undefined {
    switch (decoder) {
      case Decoder.TEXT:
        return appendTextFast(column, buf, at, at + len);
      case Decoder.INT2:
        return column.appendValue(buf.readInt16BE(at));
      case Decoder.INT4:
        return column.appendValue(buf.readInt32BE(at));
      case Decoder.INT8:
        (column as Int64PairBuilder).appendInt64Words(buf.readInt32BE(at + 4), buf.readInt32BE(at));
        return undefined;
      case Decoder.FLOAT4:
        return column.appendValue(buf.readFloatBE(at));
      case Decoder.FLOAT8:
        return column.appendValue(buf.readDoubleBE(at));
      case Decoder.BOOL:
        return column.appendValue(buf[at] === 1);
      case Decoder.DATE: {
        const days = buf.readInt32BE(at);
        if (days === INT32_MAX || days === INT32_MIN) return `is ${days > 0 ? '' : '-'}infinity, which a date column cannot hold`;
        (column as DateBuilder).appendDays(days + PG_EPOCH_DAYS);
        return undefined;
      }
      case Decoder.TIMESTAMP: {
        const hi = buf.readInt32BE(at);
        if ((hi === INT32_MAX && buf.readUInt32BE(at + 4) === 0xffffffff) || (hi === INT32_MIN && buf.readUInt32BE(at + 4) === 0)) return `is ${hi > 0 ? '' : '-'}infinity, which a timestamp column cannot hold`;
        // Exact 64-bit add of the epoch shift on the two 32-bit halves: every timestamp PostgreSQL
        // can hold (up to 294276 AD, and 9999-12-31 sentinels) survives.
        const lo = buf.readUInt32BE(at + 4) + EPOCH_LO;
        (column as Int64PairBuilder).appendInt64Words(lo >>> 0, hi + EPOCH_HI + (lo >= 4294967296 ? 1 : 0));
        return undefined;
      }
      case Decoder.TIME:
        return (column as Int64PairBuilder).appendSafeInteger(readInt64AsNumber(buf, at));
      case Decoder.NUMERIC: {
        const v = numericUnscaled(buf, at, this.scales[k] as number);
        return typeof v === 'string' ? v : (column as DecimalBuilder).appendUnscaled(v);
      }
      case Decoder.BYTES:
        (column as StringBuilder).appendBytes(buf, at, at + len);
        return undefined;
    }
  }

  /** A flush when the builder is full. */
  takeFlush(): StreamEvent | undefined {
    return this.builder.full ? this.flush() : undefined;
  }

  /** Call before the buffers passed to `payload` are released: keeps the last row's position. */
  settle(): void {
    if (this.positionStale) this.decodePosition();
  }

  end(): StreamEvent[] {
    if (!this.trailerSeen) throw new Error(`the COPY output of ${this.statement.source} ended before its last row`);
    return this.rows > 0 || this.rejected.length > 0 ? [this.flush()] : [];
  }

  private flush(): StreamEvent {
    this.settle();
    const event: StreamEvent = { kind: 'flush', position: this.position, rejected: this.rejected, rows: this.rows };
    this.rejected = [];
    this.rows = 0;
    return event;
  }

  private text(k: number): string | null {
    const len = this.lengths[k] as number;
    if (len < 0) return null;
    const at = this.offsets[k] as number;
    return binaryValueText(this.decoders[k] as Decoder, this.rowBuf, at, at + len, this.withTz[k] === 1);
  }

  private decodePosition(): void {
    this.positionStale = false;
    if (this.statement.position.length) this.position = this.statement.position.map((k) => this.text(k));
  }

  private rawRow(): Record<string, string | null> {
    const raw: Record<string, string | null> = {};
    for (let k = 0; k < this.width; k++) {
      try {
        raw[this.names[k] as string] = this.text(k);
      } catch {
        raw[this.names[k] as string] = `(unreadable ${this.lengths[k]}-byte value)`;
      }
    }
    return raw;
  }
}
