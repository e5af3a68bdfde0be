import { describe, expect, it } from 'vitest';
import { cellToValue, headerNames, inferType, msToSerial, serialToMs, valueToCell } from './values.js';

describe('Sheets values', () => {
  it('serial numbers are days since 1899-12-30, the fraction the time of day', () => {
    expect(new Date(serialToMs(45292)).toISOString()).toBe('2024-01-01T00:00:00.000Z');
    expect(new Date(serialToMs(45292.75)).toISOString()).toBe('2024-01-01T18:00:00.000Z');
    expect(new Date(serialToMs(1)).toISOString()).toBe('1899-12-31T00:00:00.000Z');
    expect(msToSerial(Date.UTC(2024, 0, 1, 6))).toBe(45292.25);
  });

  it('header names: merged cells span, blanks get their position, duplicates a suffix (case-insensitively), all trimmed', () => {
    expect(headerNames(['Sales', '', ' id ', 'ID', null, 'x'], 7, [{ start: 0, end: 2 }])).toEqual(['Sales', 'Sales_2', 'id', 'ID_2', 'column_5', 'x', 'column_7']);
    expect(headerNames(['a', 'a', 'a_2'], 3)).toEqual(['a', 'a_2', 'a_2_2']);
  });

  it('infers types from values and number formats', () => {
    const t = (cells: Parameters<typeof inferType>[0]) => inferType(cells).kind;
    expect(t([{ value: 1 }, { value: 2 }, { value: '' }])).toBe('int64');
    expect(t([{ value: 1 }, { value: 2.5 }])).toBe('float64');
    expect(t([{ value: 0.25, format: 'PERCENT' }, { value: 1, format: 'PERCENT' }])).toBe('float64');
    expect(t([{ value: 12, format: 'CURRENCY' }])).toBe('float64');
    expect(t([{ value: 45292, format: 'DATE' }])).toBe('date');
    expect(t([{ value: 45292, format: 'DATE' }, { value: 45292.5, format: 'DATE_TIME' }])).toBe('timestamp');
    expect(t([{ value: true }, { value: false }])).toBe('boolean');
    expect(t([{ value: 1 }, { value: 'x' }])).toBe('string');
    expect(t([{ value: 0.5, format: 'TIME' }])).toBe('string');
    expect(t([])).toBe('string');
  });

  it('cells to values by column type', () => {
    expect(cellToValue(45292.5, { kind: 'timestamp', withTimeZone: false })).toEqual(new Date(Date.UTC(2024, 0, 1, 12)));
    expect(cellToValue(45292.5, { kind: 'date' })).toEqual(new Date(Date.UTC(2024, 0, 1)));
    expect(cellToValue(0.5, { kind: 'time' })).toBe('12:00:00');
    expect(cellToValue(12, { kind: 'string' })).toBe('12');
    expect(cellToValue('', { kind: 'int64' })).toBeNull();
    expect(cellToValue(true, { kind: 'string' })).toBe('true');
  });

  it('values to typed cells: no digit lost, dates with a format, text never a formula', () => {
    const f = (kind: string, extra = {}) => ({ name: 'c', type: { kind, ...extra } as never, nullable: true });
    expect(valueToCell(3n, f('int64'))).toEqual({ userEnteredValue: { numberValue: 3 } });
    expect(valueToCell(2n ** 60n, f('int64'))).toEqual({ userEnteredValue: { stringValue: '1152921504606846976' } });
    expect(valueToCell('12.50', f('decimal', { precision: 10, scale: 2 }))).toEqual({ userEnteredValue: { numberValue: 12.5 } });
    expect(valueToCell('12345678901234567.89', f('decimal', { precision: 38, scale: 2 }))).toEqual({ userEnteredValue: { stringValue: '12345678901234567.89' } });
    expect(valueToCell('2024-01-01', f('date'))).toEqual({ userEnteredValue: { numberValue: 45292 }, userEnteredFormat: { numberFormat: { type: 'DATE', pattern: 'yyyy-mm-dd' } } });
    expect(valueToCell('2024-01-01T18:00:00.000000', f('timestamp', { withTimeZone: false })).userEnteredValue).toEqual({ numberValue: 45292.75 });
    expect(valueToCell('=1+1', f('string'))).toEqual({ userEnteredValue: { stringValue: '=1+1' } });
    expect(valueToCell({ a: [1n] }, f('json'))).toEqual({ userEnteredValue: { stringValue: '{"a":["1"]}' } });
    expect(valueToCell(null, f('string'))).toEqual({});
  });
});
