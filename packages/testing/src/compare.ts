import { expect } from 'vitest';

type Row = Record<string, unknown>;

/**
 * Two ordered row lists are equal, value by value; a mismatch names the row (by its `id` column)
 * and the column. `canonical` brings both sides' values to one comparable form (for example a
 * DuckDB value and a database driver's value of the same timestamp).
 */
export function expectRowsEqual(expected: readonly Row[], actual: readonly Row[], columns: readonly string[], canonical: (column: string, value: unknown) => unknown = (_, v) => v, id = 'id'): void {
  expect(actual).toHaveLength(expected.length);
  for (const [i, row] of expected.entries()) {
    for (const column of columns) {
      expect([row[id], column, canonical(column, actual[i]?.[column])]).toEqual([row[id], column, canonical(column, row[column])]);
    }
  }
}
