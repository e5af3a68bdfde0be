import { DateDay, makeData, TimeMicrosecond, TimestampMicrosecond, type Data } from 'apache-arrow';
import type { FieldSpec } from '../../schema/types.js';
import { parseDateText, parseTimestampBig, parseTimestampText, parseTimeText } from '../text-parse.js';
import { zeroedBuffer } from '../buffer-pool.js';
import { BuilderCode } from './base.js';
import { FixedWidthBuilder, Int64PairBuilder } from './numeric.js';

const MAX_SAFE_MICROS = Number.MAX_SAFE_INTEGER;

/** Dates as days since 1970-01-01. JS numbers and Dates are read as epoch milliseconds (UTC). */
export class DateBuilder extends FixedWidthBuilder<Int32Array> {
  readonly code: BuilderCode = BuilderCode.DATE;
  readonly arrowType = new DateDay();
  readonly expected = 'a date (YYYY-MM-DD)';

  protected alloc(n: number): Int32Array {
    return new Int32Array(zeroedBuffer(n * 4));
  }

  appendText(buf: Uint8Array, start: number, end: number): string | undefined {
    let days = parseDateText(buf, start, end);
    if (days !== days) {
      // Accept a timestamp at midnight, as many exports write dates that way.
      const micros = parseTimestampText(buf, start, end);
      if (micros !== micros || micros % 86_400_000_000 !== 0) return 'is not a date (YYYY-MM-DD)';
      days = micros / 86_400_000_000;
    }
    this.put(days);
    return undefined;
  }

  /** Appends days since 1970-01-01. */
  appendDays(days: number): void {
    this.put(days);
  }

  protected appendJsValue(value: unknown): string | undefined {
    const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : NaN;
    if (!Number.isFinite(ms)) return 'is not a date';
    this.put(Math.floor(ms / 86_400_000));
    return undefined;
  }
}

/**
 * Timestamps in microseconds since the epoch. With time zone: stored as UTC instants (Arrow
 * timezone `UTC`, Parquet `isAdjustedToUTC=true`); without: wall-clock values. Text with an
 * offset is converted to UTC in both cases.
 */
export class TimestampBuilder extends Int64PairBuilder {
  readonly code: BuilderCode = BuilderCode.TIMESTAMP;
  readonly arrowType: TimestampMicrosecond;
  readonly expected = 'a timestamp (YYYY-MM-DD HH:MM:SS[.ffffff][±HH:MM])';

  constructor(field: FieldSpec, capacity: number) {
    super(field, capacity);
    const withTz = field.type.kind === 'timestamp' && field.type.withTimeZone;
    this.arrowType = withTz ? new TimestampMicrosecond('UTC') : new TimestampMicrosecond();
  }

  appendText(buf: Uint8Array, start: number, end: number): string | undefined {
    const micros = parseTimestampText(buf, start, end);
    if (micros !== micros) return 'is not a timestamp';
    if (Math.abs(micros) <= MAX_SAFE_MICROS) {
      this.putSafe(micros);
      return undefined;
    }
    // Before 1685 or after 2255 (0001-01-01 and 9999-12-31 sentinels): exact 64-bit arithmetic.
    const big = parseTimestampBig(buf, start, end);
    if (big === undefined) return 'is not a timestamp';
    this.putBig(big);
    return undefined;
  }

  protected appendJsValue(value: unknown): string | undefined {
    if (value instanceof Date) {
      const ms = value.getTime();
      if (!Number.isFinite(ms)) return 'is an invalid date';
      this.putSafe(ms * 1000);
      return undefined;
    }
    if (typeof value === 'number' && Number.isFinite(value)) {
      this.putSafe(Math.round(value * 1000));
      return undefined;
    }
    if (typeof value === 'bigint') {
      this.putBig(value);
      return undefined;
    }
    return 'is not a timestamp';
  }

  protected buildData(length: number, nullCount: number, nullBitmap: Uint8Array | undefined): Data {
    return makeData({ type: this.arrowType, length, nullCount, nullBitmap, data: this.int64Data() });
  }
}

/** Time of day in microseconds. */
export class TimeBuilder extends Int64PairBuilder {
  readonly code: BuilderCode = BuilderCode.TIME;
  readonly arrowType = new TimeMicrosecond();
  readonly expected = 'a time (HH:MM:SS[.ffffff])';

  appendText(buf: Uint8Array, start: number, end: number): string | undefined {
    const micros = parseTimeText(buf, start, end);
    if (micros !== micros) return 'is not a time of day';
    this.putSafe(micros);
    return undefined;
  }

  protected appendJsValue(value: unknown): string | undefined {
    if (typeof value === 'bigint') {
      this.putBig(value);
      return undefined;
    }
    return 'is not a time of day';
  }

  protected buildData(length: number, nullCount: number, nullBitmap: Uint8Array | undefined): Data {
    return makeData({ type: this.arrowType, length, nullCount, nullBitmap, data: this.int64Data() });
  }
}
