import { describe, expect, it } from 'vitest';
import { columnIndex, columnLetters, formatA1, parseA1, quoteSheet } from './a1.js';

describe('A1 notation', () => {
  it('column letters both ways', () => {
    expect([0, 25, 26, 51, 52, 701, 702, 16_383].map(columnLetters)).toEqual(['A', 'Z', 'AA', 'AZ', 'BA', 'ZZ', 'AAA', 'XFD']);
    for (let i = 0; i < 20_000; i += 37) expect(columnIndex(columnLetters(i))).toBe(i);
  });

  it('parses ranges as Google reads them', () => {
    expect(parseA1('Sheet1!A1:Z1000', 'range')).toEqual({ sheet: 'Sheet1', startRow: 0, startColumn: 0, endRow: 1000, endColumn: 26 });
    expect(parseA1("'It''s Q1'!B2:D", 'range')).toEqual({ sheet: "It's Q1", startRow: 1, startColumn: 1, endColumn: 4 });
    expect(parseA1('A1:Z1000', 'range')).toEqual({ startRow: 0, startColumn: 0, endRow: 1000, endColumn: 26 });
    expect(parseA1('C:E', 'range')).toEqual({ startRow: 0, startColumn: 2, endColumn: 5 });
    expect(parseA1('3:10', 'range')).toEqual({ startRow: 2, startColumn: 0, endRow: 10 });
    expect(parseA1('Orders', 'range')).toEqual({ sheet: 'Orders', startRow: 0, startColumn: 0 });
    expect(parseA1('Log', 'range')).toEqual({ sheet: 'Log', startRow: 0, startColumn: 0 });
    expect(parseA1("'My tab'", 'range')).toEqual({ sheet: 'My tab', startRow: 0, startColumn: 0 });
    expect(parseA1('Data!B5', 'range')).toEqual({ sheet: 'Data', startRow: 4, startColumn: 1, endRow: 5, endColumn: 2 });
  });

  it('refuses what is not a range, naming the field', () => {
    for (const bad of ['A1:B2:C3', 'Sheet1!A0', 'Sheet1!B2:A1', 'x!1A']) expect(() => parseA1(bad, 'source.sheets[].range'), bad).toThrow(/source\.sheets\[\]\.range: .* is not an A1 range/);
  });

  it('formats ranges, quoting tab titles that need it', () => {
    expect(formatA1('Sheet1', 0, 0, 5000, 26)).toBe('Sheet1!A1:Z5000');
    expect(formatA1("Q1 'final'", 1, 2, 3, 4)).toBe("'Q1 ''final'''!C2:D3");
    expect(quoteSheet('AB12')).toBe("'AB12'");
  });
});
