import { textParse, type FieldSpec } from '@dativo/core';
import type { ColumnInfo } from '@dativo/sql-kit';

/** How one column's binary COPY value is decoded. */
export const enum Decoder {
  /** The value is text bytes (text types, and anything selected as `::text` or JSON). */
  TEXT,
  /** Raw bytes into a binary column. */
  BYTES,
  INT2,
  INT4,
  INT8,
  FLOAT4,
  FLOAT8,
  BOOL,
  DATE,
  TIMESTAMP,
  TIME,
  NUMERIC,
}

/** Types whose binary form is their text (UTF-8 bytes). */
const TEXT_TYPES = new Set(['text', 'varchar', 'bpchar', 'name', 'json', 'citext']);

const NATIVE: Record<string, { decoder: Decoder; kinds: readonly string[] }> = {
  int2: { decoder: Decoder.INT2, kinds: ['int16', 'int32', 'int64'] },
  int4: { decoder: Decoder.INT4, kinds: ['int32', 'int64'] },
  int8: { decoder: Decoder.INT8, kinds: ['int64'] },
  float4: { decoder: Decoder.FLOAT4, kinds: ['float32', 'float64'] },
  float8: { decoder: Decoder.FLOAT8, kinds: ['float64'] },
  bool: { decoder: Decoder.BOOL, kinds: ['boolean'] },
  date: { decoder: Decoder.DATE, kinds: ['date'] },
  timestamp: { decoder: Decoder.TIMESTAMP, kinds: ['timestamp'] },
  timestamptz: { decoder: Decoder.TIMESTAMP, kinds: ['timestamp'] },
  time: { decoder: Decoder.TIME, kinds: ['time'] },
  numeric: { decoder: Decoder.NUMERIC, kinds: ['decimal'] },
  bytea: { decoder: Decoder.BYTES, kinds: ['binary'] },
};

export interface ColumnCodec {
  expression: string;
  decoder: Decoder;
}

/**
 * How a column is selected for binary COPY and decoded: natively when the database type maps onto
 * the field's type (integers, floats, booleans, dates, timestamps, times, numerics, bytea: no
 * text formatting on the server, no parsing here), as text for text types, as JSON for arrays and
 * composites, and as `::text` for everything else. Without a field (a column read only for the
 * position) the native form is used.
 */
export function pgColumnCodec(quoted: string, column: ColumnInfo, field: FieldSpec | undefined): ColumnCodec {
  const traits = column.traits;
  if (traits?.has('array')) return { expression: `array_to_json(${quoted})`, decoder: Decoder.TEXT };
  if (traits?.has('composite')) return { expression: `to_json(${quoted})`, decoder: Decoder.TEXT };
  const base = traits?.has('money') ? 'numeric' : (column.nativeType ?? '');
  const expr = traits?.has('money') ? `${quoted}::numeric` : quoted;
  const native = NATIVE[base];
  if (native && (!field || native.kinds.includes(field.type.kind))) return { expression: expr, decoder: native.decoder };
  if ((TEXT_TYPES.has(base) || traits?.has('enum')) && field?.type.kind !== 'binary') return { expression: quoted, decoder: Decoder.TEXT };
  return { expression: `${expr}::text`, decoder: Decoder.TEXT };
}

/** Microseconds between 1970-01-01 and PostgreSQL's epoch 2000-01-01. */
export const PG_EPOCH_MICROS = 946_684_800_000_000;
export const PG_EPOCH_DAYS = 10_957;
const TWO_32 = 4294967296;

/** A 64-bit big-endian integer as a double (exact below 2^53). */
export function readInt64AsNumber(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * TWO_32 + buf.readUInt32BE(at + 4);
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function civilFromDays(days: number): string {
  // Howard Hinnant's algorithm (inverse of core's daysFromCivil).
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`;
}

function clockText(micros: number): string {
  const s = Math.floor(micros / 1_000_000);
  const frac = micros - s * 1_000_000;
  return `${pad(Math.floor(s / 3600), 2)}:${pad(Math.floor(s / 60) % 60, 2)}:${pad(s % 60, 2)}${frac ? `.${pad(frac, 6)}` : ''}`;
}

/** PostgreSQL binary numeric → exact decimal text (`-12.50`), or 'NaN' / 'Infinity'. */
export function numericText(buf: Buffer, start: number): string {
  const ndigits = buf.readInt16BE(start);
  const weight = buf.readInt16BE(start + 2);
  const sign = buf.readUInt16BE(start + 4);
  const dscale = buf.readInt16BE(start + 6);
  if (sign === 0xc000) return 'NaN';
  if (sign === 0xd000) return 'Infinity';
  if (sign === 0xf000) return '-Infinity';
  let intPart = '';
  let fracPart = '';
  for (let i = 0; i < ndigits; i++) {
    const d = pad(buf.readInt16BE(start + 8 + i * 2), 4);
    if (weight - i >= 0) intPart += d;
    else fracPart += d;
  }
  for (let w = weight - ndigits; w >= 0; w--) intPart += '0000';
  if (weight < -1) fracPart = '0000'.repeat(-weight - 1) + fracPart;
  intPart = intPart.replace(/^0+/, '') || '0';
  fracPart = fracPart.padEnd(dscale, '0').slice(0, dscale);
  return `${sign === 0x4000 ? '-' : ''}${intPart}${dscale > 0 ? `.${fracPart}` : ''}`;
}

/** The text form of a binary COPY value (for positions: passed back as a parameter on resume). */
export function binaryValueText(decoder: Decoder, buf: Buffer, start: number, end: number, withTimeZone: boolean): string {
  switch (decoder) {
    case Decoder.INT2:
      return String(buf.readInt16BE(start));
    case Decoder.INT4:
      return String(buf.readInt32BE(start));
    case Decoder.INT8:
      return buf.readBigInt64BE(start).toString();
    case Decoder.FLOAT4:
      return String(buf.readFloatBE(start));
    case Decoder.FLOAT8:
      return String(buf.readDoubleBE(start));
    case Decoder.BOOL:
      return buf[start] === 1 ? 'true' : 'false';
    case Decoder.DATE:
      return civilFromDays(buf.readInt32BE(start) + PG_EPOCH_DAYS);
    case Decoder.TIMESTAMP: {
      const micros = buf.readBigInt64BE(start) + BigInt(PG_EPOCH_MICROS);
      const days = Number(micros / 86_400_000_000n) - (micros % 86_400_000_000n < 0n ? 1 : 0);
      const rest = Number(micros - BigInt(days) * 86_400_000_000n);
      return `${civilFromDays(days)} ${clockText(rest)}${withTimeZone ? '+00:00' : ''}`;
    }
    case Decoder.TIME:
      return clockText(readInt64AsNumber(buf, start));
    case Decoder.NUMERIC:
      return numericText(buf, start);
    case Decoder.BYTES:
      return `\\x${buf.subarray(start, end).toString('hex')}`;
    default:
      return textParse.utf8Text(buf, start, end);
  }
}
