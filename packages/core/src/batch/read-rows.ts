import type { Data, RecordBatch } from 'apache-arrow';
import type { DataType, FieldSpec } from '../schema/types.js';

/** A value read back from a batch, in the plain form used for rendering and comparisons. */
export type PlainValue = string | number | boolean | bigint | null | Uint8Array | PlainValue[] | { [key: string]: PlainValue };

const DECODER = new TextDecoder();

function pad(n: number | bigint, width: number): string {
  return String(n).padStart(width, '0');
}

/** `YYYY-MM-DD` of days since the epoch. */
export function formatDate(days: number): string {
  return new Date(days * 86_400_000).toISOString().slice(0, 10);
}

/** ISO 8601 text of microseconds since the epoch (`…T…Z` when the value is UTC-adjusted). */
export function formatTimestampMicros(micros: bigint, utc: boolean): string {
  const ms = micros / 1000n - (micros % 1000n < 0n ? 1n : 0n);
  const frac = ((micros % 1_000_000n) + 1_000_000n) % 1_000_000n;
  const iso = new Date(Number(ms)).toISOString();
  return `${iso.slice(0, 19)}.${pad(frac, 6)}${utc ? 'Z' : ''}`;
}

/** `HH:MM:SS.ffffff` of microseconds since midnight. */
export function formatTimeMicros(micros: bigint): string {
  const total = Number(micros);
  const secs = Math.floor(total / 1_000_000);
  return `${pad(Math.floor(secs / 3600), 2)}:${pad(Math.floor(secs / 60) % 60, 2)}:${pad(secs % 60, 2)}.${pad(total % 1_000_000, 6)}`;
}

/** Exact decimal text of an unscaled 128-bit integer. */
export function formatDecimal(unscaled: bigint, scale: number): string {
  if (scale === 0) return unscaled.toString();
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

function isNull(data: Data, idx: number): boolean {
  const bitmap = data.nullBitmap;
  return data.nullCount > 0 && bitmap !== undefined && bitmap.length > 0 && (((bitmap[idx >> 3] as number) >> (idx & 7)) & 1) === 0;
}

/** Reads value `i` of an Arrow column as a {@link PlainValue} (decimals, dates and times as text). */
export function readValue(type: DataType, data: Data, i: number): PlainValue {
  const idx = data.offset + i;
  if (isNull(data, idx)) return null;
  const values = data.values as unknown as ArrayLike<number | bigint> & { subarray(a: number, b: number): Uint8Array };
  switch (type.kind) {
    case 'string':
    case 'json': {
      const o = data.valueOffsets as Int32Array;
      return DECODER.decode((data.values as Uint8Array).subarray(o[idx] as number, o[idx + 1] as number));
    }
    case 'binary': {
      const o = data.valueOffsets as Int32Array;
      return (data.values as Uint8Array).slice(o[idx] as number, o[idx + 1] as number);
    }
    case 'boolean':
      return ((((data.values as Uint8Array)[idx >> 3] as number) >> (idx & 7)) & 1) === 1;
    case 'int16':
    case 'int32':
    case 'float32':
    case 'float64':
      return values[idx] as number;
    case 'int64':
      return values[idx] as bigint;
    case 'decimal': {
      const w = data.values as Uint32Array;
      let v = 0n;
      for (let k = 3; k >= 0; k--) v = (v << 32n) | BigInt(w[idx * 4 + k] as number);
      return formatDecimal(BigInt.asIntN(128, v), type.scale);
    }
    case 'date':
      return formatDate(values[idx] as number);
    case 'timestamp':
      return formatTimestampMicros(values[idx] as bigint, type.withTimeZone);
    case 'time':
      return formatTimeMicros(values[idx] as bigint);
    case 'list': {
      const o = data.valueOffsets as Int32Array;
      const child = data.children[0] as Data;
      const out: PlainValue[] = [];
      for (let k = o[idx] as number; k < (o[idx + 1] as number); k++) out.push(readValue(type.element, child, k - child.offset));
      return out;
    }
    case 'struct': {
      const out: Record<string, PlainValue> = {};
      type.fields.forEach((f, k) => {
        out[f.name] = readValue(f.type, data.children[k] as Data, i);
      });
      return out;
    }
  }
}

/** Every row of a batch as an object keyed by field name. */
export function* readRows(batch: RecordBatch, fields: readonly FieldSpec[]): Generator<Record<string, PlainValue>> {
  const columns = fields.map((f) => {
    const index = batch.schema.fields.findIndex((a) => a.name === f.name);
    return index < 0 ? undefined : (batch.data.children[index] as Data);
  });
  for (let i = 0; i < batch.numRows; i++) {
    const row: Record<string, PlainValue> = {};
    fields.forEach((f, k) => {
      const data = columns[k];
      row[f.name] = data ? readValue(f.type, data, i) : null;
    });
    yield row;
  }
}
