import { appendTextFast, type BatchBuilder, type ColumnBuilder, type StringBuilder } from '@dativo/core';
import type { RejectedRow, SelectStatement, StreamEvent } from '@dativo/sql-kit';
import { mysqlColumnCodec, MysqlDecoder } from './types.js';

const DECODER = new TextDecoder();
const C_0 = 48;
const C_MINUS = 45;

/** `0000-00-00…`, or a date with a zero month or day (allowed without NO_ZERO_IN_DATE). */
function isZeroDate(buf: Buffer, s: number, e: number): boolean {
  if (e - s < 10) return false;
  return (buf[s + 5] === C_0 && buf[s + 6] === C_0) || (buf[s + 8] === C_0 && buf[s + 9] === C_0);
}

/** Whether a TIME text is a time of day (00:00:00 to 23:59:59.999999) rather than a duration. */
function isTimeOfDay(buf: Buffer, s: number, e: number): boolean {
  if (e - s < 8 || buf[s] === C_MINUS || buf[s + 2] !== 58) return false;
  const h = ((buf[s] as number) - C_0) * 10 + ((buf[s + 1] as number) - C_0);
  return h >= 0 && h <= 23;
}

/** A row packet of the text protocol, as mysql2 hands it over (its buffer is never reused). */
export interface RowPacket {
  buffer: Buffer;
  offset: number;
  end: number;
}

/**
 * Appends text-protocol row packets straight to the batch builder: each value's bytes are found in
 * the packet (length-encoded strings) and parsed in place, so there is no JS string or Buffer per
 * value. Binary columns are copied as is, zero dates read as NULL with a warning, SET values split
 * into lists. A row with a value the asset type cannot hold is rolled back and reported for the
 * dead-letter queue.
 */
export class MysqlRowParser {
  private rows = 0;
  private rejected: RejectedRow[] = [];
  private readonly width: number;
  private readonly decoders: MysqlDecoder[];
  private readonly columns: Array<ColumnBuilder | undefined>;
  private readonly names: string[];
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  /** Bytes of the last row's position values (copied: small), -1 length for NULL. */
  private readonly positionBytes: Buffer[];
  private readonly positionLengths: Int32Array;
  private readonly zeroDates: number[];
  private warnings: StreamEvent[] = [];

  constructor(
    private readonly statement: SelectStatement,
    private readonly builder: BatchBuilder,
    quote: (name: string) => string,
  ) {
    const cols = statement.columns;
    this.width = cols.length;
    this.decoders = cols.map((c) => mysqlColumnCodec(quote(c.column.name), c.column, c.field).decoder);
    this.columns = cols.map((c) => (c.target >= 0 ? builder.columns[c.target] : undefined));
    this.names = cols.map((c) => c.column.name);
    this.starts = new Int32Array(this.width);
    this.ends = new Int32Array(this.width);
    this.positionBytes = statement.position.map(() => Buffer.allocUnsafe(64));
    this.positionLengths = new Int32Array(statement.position.length);
    this.zeroDates = cols.map(() => 0);
  }

  /** Warnings due (zero dates seen for the first time). */
  takeWarnings(): StreamEvent[] {
    const out = this.warnings;
    this.warnings = [];
    return out;
  }

  /** Splits a row packet into value offsets (start -1 for NULL), then appends it. */
  row(packet: RowPacket): void {
    const buf = packet.buffer;
    let p = packet.offset;
    const starts = this.starts;
    const ends = this.ends;
    for (let k = 0; k < this.width; k++) {
      const first = buf[p++] as number;
      let len: number;
      if (first < 0xfb) len = first;
      else if (first === 0xfb) {
        starts[k] = -1;
        continue;
      } else if (first === 0xfc) {
        len = buf.readUInt16LE(p);
        p += 2;
      } else if (first === 0xfd) {
        len = buf.readUIntLE(p, 3);
        p += 3;
      } else {
        len = buf.readUInt32LE(p) + buf.readUInt32LE(p + 4) * 4294967296;
        p += 8;
      }
      starts[k] = p;
      p += len;
      ends[k] = p;
    }
    if (p > packet.end) throw new Error(`malformed row packet from ${this.statement.source}`);
    this.append(buf);
  }

  private append(buf: Buffer): void {
    let problem: string | undefined;
    let problemColumn = -1;
    for (let k = 0; k < this.width && problem === undefined; k++) {
      const column = this.columns[k];
      if (column === undefined) continue;
      const start = this.starts[k] as number;
      if (start < 0) {
        if (column.field.nullable) column.appendNull();
        else problem = 'is required but null';
      } else {
        const end = this.ends[k] as number;
        switch (this.decoders[k]) {
          case MysqlDecoder.TEXT:
            problem = appendTextFast(column, buf, start, end);
            break;
          case MysqlDecoder.BYTES:
            (column as StringBuilder).appendBytes(buf, start, end);
            break;
          case MysqlDecoder.ZERO_DATE:
            if (isZeroDate(buf, start, end)) problem = this.zeroDate(column, k, buf, start, end);
            else problem = appendTextFast(column, buf, start, end);
            break;
          case MysqlDecoder.SET:
            problem = column.appendValue(end > start ? DECODER.decode(buf.subarray(start, end)).split(',') : []);
            break;
          case MysqlDecoder.TIME:
            problem = isTimeOfDay(buf, start, end) ? appendTextFast(column, buf, start, end) : 'is a duration outside 00:00:00–23:59:59; declare the column as string in the asset to keep such values';
            break;
        }
      }
      if (problem !== undefined) problemColumn = k;
    }
    this.rows++;
    this.keepPosition(buf);
    if (problem !== undefined) {
      this.builder.rollbackRow();
      this.rejected.push({ raw: this.raw(buf), column: this.names[problemColumn] as string, message: problem });
    } else this.builder.endRow();
  }

  private zeroDate(column: ColumnBuilder, k: number, buf: Buffer, start: number, end: number): string | undefined {
    if (!column.field.nullable) return 'is a zero date, which the required column cannot hold';
    column.appendNull();
    this.zeroDates[k] = (this.zeroDates[k] ?? 0) + 1;
    if (this.zeroDates[k] === 1) {
      this.warnings.push({ kind: 'warning', message: `${this.statement.source}: column '${this.names[k]}' holds zero dates ('${DECODER.decode(buf.subarray(start, end))}'); they are read as null`, context: { column: this.names[k] } });
    }
    return undefined;
  }

  private keepPosition(buf: Buffer): void {
    const position = this.statement.position;
    for (let i = 0; i < position.length; i++) {
      const k = position[i] as number;
      const start = this.starts[k] as number;
      if (start < 0) {
        this.positionLengths[i] = -1;
        continue;
      }
      const len = (this.ends[k] as number) - start;
      if ((this.positionBytes[i] as Buffer).length < len) this.positionBytes[i] = Buffer.allocUnsafe(len * 2);
      buf.copy(this.positionBytes[i] as Buffer, 0, start, start + len);
      this.positionLengths[i] = len;
    }
  }

  /** A flush when the builder is full. */
  takeFlush(): StreamEvent | undefined {
    return this.builder.full ? this.flush() : undefined;
  }

  end(): StreamEvent[] {
    const out: StreamEvent[] = this.takeWarnings();
    this.zeroDates.forEach((n, k) => {
      if (n > 1) out.push({ kind: 'warning', message: `${this.statement.source}: ${n} zero dates in column '${this.names[k]}' were read as null`, context: { column: this.names[k], count: n } });
    });
    if (this.rows > 0 || this.rejected.length > 0) out.push(this.flush());
    return out;
  }

  private flush(): StreamEvent {
    const position = this.statement.position;
    const event: StreamEvent = {
      kind: 'flush',
      position: this.rows > 0 && position.length ? position.map((k, i) => this.text(this.positionBytes[i] as Buffer, 0, this.positionLengths[i] as number, k)) : undefined,
      rejected: this.rejected,
      rows: this.rows,
    };
    this.rejected = [];
    this.rows = 0;
    return event;
  }

  /** A value as text: binary values as hex (positions pass them back through UNHEX). */
  private text(buf: Buffer, start: number, len: number, k: number): string | null {
    if (len < 0) return null;
    return this.decoders[k] === MysqlDecoder.BYTES ? buf.toString('hex', start, start + len) : DECODER.decode(buf.subarray(start, start + len));
  }

  private raw(buf: Buffer): Record<string, string | null> {
    const raw: Record<string, string | null> = {};
    for (let k = 0; k < this.width; k++) {
      const start = this.starts[k] as number;
      raw[this.names[k] as string] = start < 0 ? null : this.text(buf, start, (this.ends[k] as number) - start, k);
    }
    return raw;
  }
}
