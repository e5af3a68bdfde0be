import { DativoError, formatDate, formatTimestampMicros } from '@dativo/core';
import type { AvroSchema } from './avro/codec.js';

/**
 * Iceberg partition transforms (identity, year, month, day, hour, bucket[N], truncate[W], void),
 * applied to raw values: numbers for int/date (days), bigint or number for long/time/timestamp
 * (microseconds), strings, Uint8Array for binary and bigint unscaled values for decimals.
 */
export type RawValue = number | bigint | string | boolean | Uint8Array | null;

export interface Transform {
  name: string;
  /** Iceberg result type name (`int`, `date`, or the source type). */
  resultType: string;
  apply(value: RawValue): RawValue;
  /** Text of a result value in a Hive-style directory name. */
  pathValue(value: RawValue): string;
}

// --- Murmur3 x86 32-bit, seed 0 (Iceberg Appendix B) ---

function mix(k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, 0x1b873593);
}

export function murmur3(bytes: Uint8Array): number {
  let h = 0;
  const blocks = bytes.length >>> 2;
  for (let i = 0; i < blocks; i++) {
    const o = i * 4;
    const k = (bytes[o] as number) | ((bytes[o + 1] as number) << 8) | ((bytes[o + 2] as number) << 16) | ((bytes[o + 3] as number) << 24);
    h ^= mix(k);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = blocks * 4;
  const rest = bytes.length & 3;
  if (rest > 0) {
    let k = 0;
    if (rest === 3) k ^= (bytes[tail + 2] as number) << 16;
    if (rest >= 2) k ^= (bytes[tail + 1] as number) << 8;
    k ^= bytes[tail] as number;
    h ^= mix(k);
  }
  h ^= bytes.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

function longBytes(v: number | bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, BigInt(v), true);
  return out;
}

/** Two's-complement big-endian bytes of an integer, as few as hold it (decimals, Appendix B/D). */
export function minBigEndian(value: bigint): Uint8Array {
  const bytes: number[] = [];
  let v = value;
  for (;;) {
    bytes.unshift(Number(BigInt.asUintN(8, v)));
    const sign = (bytes[0] as number) & 0x80;
    v >>= 8n;
    if ((v === 0n && !sign) || (v === -1n && sign)) break;
  }
  return Uint8Array.from(bytes);
}

/** Iceberg's 32-bit hash of a value of the given source type. */
export function hashValue(sourceType: string, value: Exclude<RawValue, null>): number {
  if (sourceType === 'string') return murmur3(Buffer.from(String(value), 'utf8'));
  if (sourceType === 'binary' || sourceType.startsWith('fixed')) return murmur3(value as Uint8Array);
  if (sourceType.startsWith('decimal')) return murmur3(minBigEndian(BigInt(value as bigint)));
  if (['int', 'long', 'date', 'time', 'timestamp', 'timestamptz'].includes(sourceType)) return murmur3(longBytes(value as number | bigint));
  throw new DativoError(`bucket[] does not apply to ${sourceType} columns`, { kind: 'config', code: 'ICEBERG_TRANSFORM' });
}

const MICROS_PER_HOUR = 3_600_000_000n;
const MICROS_PER_DAY = 86_400_000_000n;

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

function daysOf(sourceType: string, value: number | bigint): number {
  if (sourceType === 'date') return Number(value);
  return Number(floorDiv(BigInt(value), MICROS_PER_DAY));
}

function civil(days: number): { y: number; m: number } {
  const d = new Date(days * 86_400_000);
  return { y: d.getUTCFullYear(), m: d.getUTCMonth() + 1 };
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

function identityPath(sourceType: string, value: RawValue): string {
  if (value === null) return 'null';
  if (sourceType === 'date') return formatDate(Number(value));
  if (sourceType === 'timestamp' || sourceType === 'timestamptz') return formatTimestampMicros(BigInt(value as number | bigint), sourceType === 'timestamptz');
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64url');
  return String(value);
}

/** Parses `identity`, `year`, `bucket[16]`, `truncate[4]`, … for a source column type. */
export function transformFor(name: string, sourceType: string): Transform {
  const temporal = ['date', 'timestamp', 'timestamptz'].includes(sourceType);
  const bucket = /^bucket\[(\d+)\]$/.exec(name);
  const truncate = /^truncate\[(\d+)\]$/.exec(name);
  const fail = (why: string): never => {
    throw new DativoError(`partition transform ${name} ${why}`, { kind: 'config', code: 'ICEBERG_TRANSFORM' });
  };
  if (name === 'identity') return { name, resultType: sourceType, apply: (v) => v, pathValue: (v) => identityPath(sourceType, v) };
  if (name === 'void') return { name, resultType: sourceType, apply: () => null, pathValue: () => 'null' };
  if (name === 'year' || name === 'month' || name === 'day') {
    if (!temporal) fail(`needs a date or timestamp column, not ${sourceType}`);
    const apply = (v: RawValue): RawValue => {
      if (v === null) return null;
      const days = daysOf(sourceType, v as number | bigint);
      if (name === 'day') return days;
      const { y, m } = civil(days);
      return name === 'year' ? y - 1970 : (y - 1970) * 12 + (m - 1);
    };
    const pathValue = (v: RawValue): string => {
      if (v === null) return 'null';
      const n = Number(v);
      if (name === 'day') return formatDate(n);
      if (name === 'year') return String(1970 + n);
      return `${1970 + Math.floor(n / 12)}-${pad((((n % 12) + 12) % 12) + 1)}`;
    };
    return { name, resultType: name === 'day' ? 'date' : 'int', apply, pathValue };
  }
  if (name === 'hour') {
    if (sourceType !== 'timestamp' && sourceType !== 'timestamptz') fail(`needs a timestamp column, not ${sourceType}`);
    return {
      name,
      resultType: 'int',
      apply: (v) => (v === null ? null : Number(floorDiv(BigInt(v as number | bigint), MICROS_PER_HOUR))),
      pathValue: (v) => {
        if (v === null) return 'null';
        const iso = new Date(Number(v) * 3_600_000).toISOString();
        return `${iso.slice(0, 10)}-${iso.slice(11, 13)}`;
      },
    };
  }
  if (bucket) {
    const n = Number(bucket[1]);
    if (n <= 0) fail('needs a positive number of buckets');
    hashValue(sourceType, sourceType === 'string' ? '' : sourceType === 'binary' ? new Uint8Array() : 0n); // validates the type
    return { name, resultType: 'int', apply: (v) => (v === null ? null : (hashValue(sourceType, v) & 0x7fffffff) % n), pathValue: (v) => (v === null ? 'null' : String(v)) };
  }
  if (truncate) {
    const w = Number(truncate[1]);
    if (w <= 0) fail('needs a positive width');
    if (sourceType === 'int' || sourceType === 'long' || sourceType.startsWith('decimal')) {
      const W = BigInt(w);
      return {
        name,
        resultType: sourceType,
        apply: (v) => {
          if (v === null) return null;
          const x = BigInt(v as number | bigint);
          const r = x - (((x % W) + W) % W);
          return sourceType === 'int' ? Number(r) : sourceType.startsWith('decimal') ? r : Number.isSafeInteger(Number(r)) ? Number(r) : r;
        },
        pathValue: (v) => (v === null ? 'null' : String(v)),
      };
    }
    if (sourceType === 'string') {
      return { name, resultType: 'string', apply: (v) => (v === null ? null : [...String(v)].slice(0, w).join('')), pathValue: (v) => (v === null ? 'null' : String(v)) };
    }
    if (sourceType === 'binary') {
      return { name, resultType: 'binary', apply: (v) => (v === null ? null : (v as Uint8Array).subarray(0, w)), pathValue: (v) => identityPath('binary', v) };
    }
    fail(`does not apply to ${sourceType} columns`);
  }
  return fail('is not supported (identity, year, month, day, hour, bucket[N], truncate[W], void)');
}

/** Avro schema of a partition value of an Iceberg result type (always nullable). */
export function partitionAvroType(resultType: string): AvroSchema {
  const decimal = /^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(resultType);
  if (decimal) {
    const precision = Number(decimal[1]);
    return ['null', { type: 'fixed', name: `decimal_${precision}_${decimal[2]}`, size: decimalBytes(precision), logicalType: 'decimal', precision, scale: Number(decimal[2]) }];
  }
  switch (resultType) {
    case 'int':
      return ['null', 'int'];
    case 'long':
      return ['null', 'long'];
    case 'boolean':
      return ['null', 'boolean'];
    case 'float':
      return ['null', 'float'];
    case 'double':
      return ['null', 'double'];
    case 'date':
      return ['null', { type: 'int', logicalType: 'date' }];
    case 'time':
      return ['null', { type: 'long', logicalType: 'time-micros' }];
    case 'timestamp':
      return ['null', { type: 'long', logicalType: 'timestamp-micros', 'adjust-to-utc': false }];
    case 'timestamptz':
      return ['null', { type: 'long', logicalType: 'timestamp-micros', 'adjust-to-utc': true }];
    case 'string':
      return ['null', 'string'];
    case 'binary':
      return ['null', 'bytes'];
    default:
      throw new DativoError(`partition values of type ${resultType} are not supported`, { kind: 'config', code: 'ICEBERG_TRANSFORM' });
  }
}

/** Bytes a fixed-length decimal of this precision needs (Iceberg's `decimalRequiredBytes`). */
export function decimalBytes(precision: number): number {
  let bytes = 1;
  while (10n ** BigInt(precision) > 2n ** BigInt(8 * bytes - 1)) bytes++;
  return bytes;
}

/** A partition value as Avro writes it in a manifest. */
export function partitionAvroValue(resultType: string, value: RawValue): unknown {
  if (value === null) return null;
  const decimal = /^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(resultType);
  if (decimal) {
    const size = decimalBytes(Number(decimal[1]));
    const min = minBigEndian(BigInt(value as bigint));
    const out = new Uint8Array(size).fill((min[0] as number) & 0x80 ? 0xff : 0);
    out.set(min, size - min.length);
    return out;
  }
  return value;
}
