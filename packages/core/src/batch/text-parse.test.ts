import { describe, expect, it } from 'vitest';
import { daysFromCivil, parseBoolText, parseDateText, parseDecimalText, parseFloatText, parseSafeInt, parseTimestampBig, parseTimestampText, parseTimeText } from './text-parse.js';

const b = (s: string): [Buffer, number, number] => {
  const buf = Buffer.from(s, 'utf8');
  return [buf, 0, buf.length];
};

describe('text parsers', () => {
  it('parses integers and rejects anything else', () => {
    expect(parseSafeInt(...b('42'))).toBe(42);
    expect(parseSafeInt(...b(' -17 '))).toBe(-17);
    expect(parseSafeInt(...b('+9007199254740991'))).toBe(9007199254740991);
    expect(parseSafeInt(...b('9007199254740993'))).toBeNaN();
    for (const bad of ['', '-', '1.5', '1e3', '12a', '0x10']) expect(parseSafeInt(...b(bad))).toBeNaN();
  });

  it('parses doubles exactly like Number()', () => {
    const samples = ['0', '-0.5', '3.14159', '1e2', '6.02214076e23', '1.7976931348623157e308', '5e-324', '304.26420271396637', '0.1', '123456789012345678', '-1.5E-7', '.5', '5.'];
    for (const text of samples) expect(parseFloatText(...b(text))).toBe(Number(text));
    let seed = 7;
    const random = (): number => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    for (let i = 0; i < 20_000; i++) {
      const value = (random() - 0.5) * 10 ** Math.floor(random() * 40 - 20);
      const text = String(value);
      expect(parseFloatText(...b(text))).toBe(value);
      const fixed = value.toFixed(Math.floor(random() * 8));
      expect(parseFloatText(...b(fixed))).toBe(Number(fixed));
    }
    // 16 and 17 significant digits on both sides of 2^53 (the fast path's limit), with fractions.
    for (const text of ['9007199254740991', '9007199254740992', '9007199254740993', '9007199254740995', '900719925474099.3', '90071992547409.95', '0.9007199254740993', '1234567.333333333', '123456.33333333333', '4503599627370497.5', '1e22', '1e23', '9007199254740991e-22', '9007199254740993e-22']) {
      expect([text, parseFloatText(...b(text))]).toEqual([text, Number(text)]);
    }
    for (let i = 0; i < 20_000; i++) {
      const value = (random() * 2 ** 53) / 10 ** Math.floor(random() * 20);
      const sixteen = value.toPrecision(16);
      expect(parseFloatText(...b(sixteen))).toBe(Number(sixteen));
      expect(parseFloatText(...b(String(value)))).toBe(value);
    }
    expect(parseFloatText(...b('Infinity'))).toBe(Infinity);
    expect(parseFloatText(...b('-inf'))).toBe(-Infinity);
    for (const bad of ['', 'abc', '1.2.3', '1e', '--1']) expect(parseFloatText(...b(bad))).toBeNaN();
  });

  it('parses decimals to exact unscaled integers and rejects lossy values', () => {
    expect(parseDecimalText(...b('1234.5'), 12, 2)).toBe(123450);
    expect(parseDecimalText(...b('-0.01'), 12, 2)).toBe(-1);
    expect(parseDecimalText(...b('1.500'), 5, 2)).toBe(150);
    expect(parseDecimalText(...b('12345678901234567890.12'), 38, 2)).toBe(1234567890123456789012n);
    expect(parseDecimalText(...b('99999999999999999999999999999999999999'), 38, 0)).toBe(99999999999999999999999999999999999999n);
    expect(parseDecimalText(...b('1.234'), 5, 2)).toBe('has more than 2 digits after the decimal point');
    expect(parseDecimalText(...b('1234'), 5, 2)).toBe('needs 4 digits before the decimal point; decimal(5,2) allows 3');
    expect(parseDecimalText(...b('1.5e2'), 10, 2)).toBe(15000n);
    expect(parseDecimalText(...b('abc'), 10, 2)).toBe('is not a decimal number');
  });

  it('parses booleans in the usual spellings', () => {
    for (const t of ['true', 'TRUE', 't', 'yes', 'y', '1', 'on']) expect(parseBoolText(...b(t))).toBe(true);
    for (const f of ['false', 'False', 'f', 'no', 'n', '0', 'off']) expect(parseBoolText(...b(f))).toBe(false);
    expect(parseBoolText(...b('maybe'))).toBeUndefined();
  });

  it('parses dates, times and timestamps with offsets', () => {
    expect(parseDateText(...b('1970-01-01'))).toBe(0);
    expect(parseDateText(...b('2024-02-29'))).toBe(daysFromCivil(2024, 2, 29));
    expect(parseDateText(...b('1815-12-10'))).toBe(Math.floor(Date.UTC(1815, 11, 10) / 86_400_000));
    expect(parseDateText(...b('2023-02-29'))).toBeNaN();
    expect(parseDateText(...b('2024-13-01'))).toBeNaN();
    expect(parseTimeText(...b('23:59:59.123456'))).toBe(((23 * 60 + 59) * 60 + 59) * 1e6 + 123456);
    expect(parseTimeText(...b('25:00'))).toBeNaN();
    const us = (iso: string): number => Date.parse(iso) * 1000;
    expect(parseTimestampText(...b('2024-01-15 09:30:00'))).toBe(us('2024-01-15T09:30:00Z'));
    expect(parseTimestampText(...b('2024-01-15T09:30:00.123456'))).toBe(us('2024-01-15T09:30:00Z') + 123456);
    expect(parseTimestampText(...b('2024-06-02T08:15:30+02:00'))).toBe(us('2024-06-02T06:15:30Z'));
    expect(parseTimestampText(...b('2024-06-04T00:00:00-0500'))).toBe(us('2024-06-04T05:00:00Z'));
    expect(parseTimestampText(...b('2024-06-01T10:00:00Z'))).toBe(us('2024-06-01T10:00:00Z'));
    expect(parseTimestampText(...b('2024-06-01'))).toBe(us('2024-06-01T00:00:00Z'));
    expect(parseTimestampText(...b('2024-06-01 10:00:00 UTC'))).toBe(us('2024-06-01T10:00:00Z'));
    for (const bad of ['2024-06-01 25:00:00', 'yesterday', '2024-06-01T10:00:00+25:00', '2024-06-01 10:00:00 junk']) expect(parseTimestampText(...b(bad))).toBeNaN();
  });

  it('parses timestamps beyond ±2^53 µs exactly (year 0001 and 9999 sentinels)', () => {
    expect(parseTimestampBig(...b('9999-12-31 23:59:59.999999'))).toBe(253402300799999999n);
    expect(parseTimestampBig(...b('0001-01-01 00:00:00'))).toBe(-62135596800000000n);
    expect(parseTimestampBig(...b('9999-12-31T23:59:59+01:00'))).toBe(253402297199000000n);
    expect(parseTimestampBig(...b('not a time'))).toBeUndefined();
  });
});
