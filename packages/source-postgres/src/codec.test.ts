import { parseDataType } from '@dativo/core';
import { describe, expect, it } from 'vitest';
import { numericUnscaled } from './binary-parser.js';
import { binaryValueText, Decoder, numericText, pgColumnCodec } from './codec.js';

/** PostgreSQL's binary numeric: ndigits, weight, sign, dscale, then base-10000 digits. */
function numeric(digits: number[], weight: number, negative: boolean, dscale: number): Buffer {
  const b = Buffer.alloc(8 + digits.length * 2);
  b.writeInt16BE(digits.length, 0);
  b.writeInt16BE(weight, 2);
  b.writeUInt16BE(negative ? 0x4000 : 0, 4);
  b.writeInt16BE(dscale, 6);
  digits.forEach((d, i) => b.writeInt16BE(d, 8 + i * 2));
  return b;
}

describe('binary numeric', () => {
  it('formats exact decimal text', () => {
    expect(numericText(numeric([12, 5000], 0, false, 2), 0)).toBe('12.50');
    expect(numericText(numeric([1], -1, false, 4), 0)).toBe('0.0001');
    expect(numericText(numeric([100], -2, true, 8), 0)).toBe('-0.00000100');
    expect(numericText(numeric([12], 1, false, 0), 0)).toBe('120000');
    expect(numericText(numeric([], 0, false, 3), 0)).toBe('0.000');
  });

  it('converts to the unscaled integer of the target scale, rejecting extra places', () => {
    expect(numericUnscaled(numeric([12, 5000], 0, false, 2), 0, 2)).toBe(1250);
    expect(numericUnscaled(numeric([12, 5000], 0, true, 2), 0, 4)).toBe(-125000);
    expect(numericUnscaled(numeric([1, 2345], 0, false, 4), 0, 2)).toBe('has more than 2 decimal places');
    // 1234567890123456789012345678.0123456789 at scale 10: beyond 2^53, exact as a bigint.
    expect(numericUnscaled(numeric([1234, 5678, 9012, 3456, 7890, 1234, 5678, 123, 4567, 8900], 6, false, 10), 0, 10)).toBe(12345678901234567890123456780123456789n);
  });
});

describe('binary values as text (positions)', () => {
  it('formats integers, timestamps (exact past 2^53) and dates', () => {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(-(2n ** 63n));
    expect(binaryValueText(Decoder.INT8, b, 0, 8, false)).toBe('-9223372036854775808');
    // 9999-12-31 23:59:59.999999 is 252455615999999999 µs after 2000-01-01.
    b.writeBigInt64BE(252455615999999999n);
    expect(binaryValueText(Decoder.TIMESTAMP, b, 0, 8, false)).toBe('9999-12-31 23:59:59.999999');
    b.writeBigInt64BE(-1n);
    expect(binaryValueText(Decoder.TIMESTAMP, b, 0, 8, true)).toBe('1999-12-31 23:59:59.999999+00:00');
    const d = Buffer.alloc(4);
    d.writeInt32BE(-10957);
    expect(binaryValueText(Decoder.DATE, d, 0, 4, false)).toBe('1970-01-01');
  });
});

describe('pgColumnCodec', () => {
  const col = (nativeType: string, traits: string[] = []) => ({ name: 'c', dbType: nativeType, type: parseDataType('string'), nullable: true, nativeType, traits: new Set(traits) });
  const field = (type: string) => ({ name: 'c', type: parseDataType(type), nullable: true });
  it('decodes natively when the types match, as text otherwise', () => {
    expect(pgColumnCodec('"c"', col('int4'), field('bigint'))).toEqual({ expression: '"c"', decoder: Decoder.INT4 });
    expect(pgColumnCodec('"c"', col('int8'), field('int'))).toEqual({ expression: '"c"::text', decoder: Decoder.TEXT });
    expect(pgColumnCodec('"c"', col('_int4', ['array']), field('array<integer>'))).toEqual({ expression: 'array_to_json("c")', decoder: Decoder.TEXT });
    expect(pgColumnCodec('"c"', col('money', ['money']), field('decimal(19,2)'))).toEqual({ expression: '"c"::numeric', decoder: Decoder.NUMERIC });
    expect(pgColumnCodec('"c"', col('uuid'), field('string'))).toEqual({ expression: '"c"::text', decoder: Decoder.TEXT });
    expect(pgColumnCodec('"c"', col('varchar'), field('string'))).toEqual({ expression: '"c"', decoder: Decoder.TEXT });
  });
});
