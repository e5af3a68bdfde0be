import { describe, expect, it } from 'vitest';
import { decimalBytes, hashValue, minBigEndian, murmur3, transformFor } from './transforms.js';

const us = (iso: string): bigint => BigInt(Date.parse(iso)) * 1000n;

describe('Iceberg hashing (spec Appendix B test values)', () => {
  it('matches every listed value', () => {
    expect(hashValue('int', 34)).toBe(2017239379);
    expect(hashValue('long', 34n)).toBe(2017239379);
    expect(hashValue('decimal(4, 2)', 1420n)).toBe(-500754589);
    expect(hashValue('date', Math.floor(Date.parse('2017-11-16') / 86_400_000))).toBe(-653330422);
    expect(hashValue('time', ((22 * 60 + 31) * 60 + 8) * 1_000_000)).toBe(-662762989);
    expect(hashValue('timestamp', us('2017-11-16T22:31:08Z'))).toBe(-2047944441);
    expect(hashValue('timestamp', us('2017-11-16T22:31:08Z') + 1n)).toBe(-1207196810);
    expect(hashValue('timestamptz', us('2017-11-16T14:31:08-08:00'))).toBe(-2047944441);
    expect(hashValue('string', 'iceberg')).toBe(1210000089);
    expect(hashValue('binary', Uint8Array.from([0, 1, 2, 3]))).toBe(-188683207);
    expect(murmur3(new Uint8Array())).toBe(0);
  });

  it('encodes decimals with the minimum two’s-complement bytes', () => {
    expect([...minBigEndian(1420n)]).toEqual([0x05, 0x8c]);
    expect([...minBigEndian(-1n)]).toEqual([0xff]);
    expect([...minBigEndian(127n)]).toEqual([0x7f]);
    expect([...minBigEndian(128n)]).toEqual([0x00, 0x80]);
    expect([...minBigEndian(-129n)]).toEqual([0xff, 0x7f]);
    expect([decimalBytes(9), decimalBytes(18), decimalBytes(38)]).toEqual([4, 8, 16]);
  });
});

describe('partition transforms', () => {
  it('applies the temporal transforms', () => {
    const ts = us('2024-03-15T13:45:00Z');
    expect(transformFor('year', 'timestamp').apply(ts)).toBe(54);
    expect(transformFor('month', 'timestamptz').apply(ts)).toBe(54 * 12 + 2);
    expect(transformFor('day', 'timestamp').apply(ts)).toBe(Math.floor(Date.parse('2024-03-15') / 86_400_000));
    expect(transformFor('hour', 'timestamp').apply(ts)).toBe(Date.parse('2024-03-15T13:00:00Z') / 3_600_000);
    expect(transformFor('day', 'timestamp').apply(us('1969-12-31T23:59:59Z'))).toBe(-1);
    expect(transformFor('month', 'date').pathValue(54 * 12 + 2)).toBe('2024-03');
    expect(transformFor('hour', 'timestamp').pathValue(Date.parse('2024-03-15T13:00:00Z') / 3_600_000)).toBe('2024-03-15-13');
    expect(transformFor('year', 'date').apply(null)).toBeNull();
  });

  it('applies bucket and truncate as the spec defines them', () => {
    expect(transformFor('bucket[16]', 'long').apply(34n)).toBe((2017239379 & 0x7fffffff) % 16);
    expect(transformFor('truncate[10]', 'int').apply(-1)).toBe(-10);
    expect(transformFor('truncate[10]', 'long').apply(1n)).toBe(0);
    expect(transformFor('truncate[50]', 'decimal(6, 2)').apply(1065n)).toBe(1050n);
    expect(transformFor('truncate[3]', 'string').apply('iceberg')).toBe('ice');
    expect(transformFor('truncate[2]', 'string').apply('😀é!')).toBe('😀é');
    expect([...(transformFor('truncate[3]', 'binary').apply(Uint8Array.from([1, 2, 3, 4, 5])) as Uint8Array)]).toEqual([1, 2, 3]);
  });

  it('rejects transforms that do not fit the column', () => {
    expect(() => transformFor('hour', 'date')).toThrow('partition transform hour needs a timestamp column, not date');
    expect(() => transformFor('bucket[4]', 'boolean')).toThrow('bucket[] does not apply to boolean columns');
    expect(() => transformFor('zorder', 'int')).toThrow(/is not supported/);
  });
});
