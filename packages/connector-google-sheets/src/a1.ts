import { DativoError } from '@dativo/core';

/** A cell range of one tab, zero-based, end exclusive; an open end runs to the edge of the grid. */
export interface A1Range {
  /** The tab's title, when the range names one. */
  sheet?: string;
  startRow: number;
  startColumn: number;
  endRow?: number;
  endColumn?: number;
}

/** `A` → 0, `Z` → 25, `AA` → 26. */
export function columnIndex(letters: string): number {
  let n = 0;
  for (const ch of letters.toUpperCase()) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n - 1;
}

/** 0 → `A`, 26 → `AA`. */
export function columnLetters(index: number): string {
  let s = '';
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

/** A tab title as A1 notation wants it: quoted (quotes doubled) unless it is plain letters and digits. */
export function quoteSheet(title: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(title) && !/^[A-Za-z]{1,3}\d+$/.test(title) ? title : `'${title.replaceAll("'", "''")}'`;
}

const CELL = /^([A-Za-z]{1,3})?(\d+)?$/;

/**
 * Parses A1 notation as Google does: `Sheet1!A1:Z1000`, `'My tab'!B2:D`, `A:C`, `2:10`, `Sheet1`
 * (the whole tab), `A1` (one cell). `field` names the configuration key in errors.
 */
export function parseA1(text: string, field: string): A1Range {
  let rest = text.trim();
  let sheet: string | undefined;
  const quoted = /^'((?:[^']|'')*)'(?:!|$)/.exec(rest);
  if (quoted) {
    sheet = (quoted[1] as string).replaceAll("''", "'");
    rest = rest.slice(quoted[0].length);
  } else if (rest.includes('!')) {
    const at = rest.lastIndexOf('!');
    sheet = rest.slice(0, at);
    rest = rest.slice(at + 1);
  } else if (rest && !rest.includes(':') && !/^[A-Za-z]{1,3}\d+$/.test(rest)) {
    // No cells (a single cell needs a row number, a span a colon): the whole tab of that name.
    return { sheet: rest, startRow: 0, startColumn: 0 };
  }
  const bad = () => new DativoError(`${field}: '${text}' is not an A1 range (expected e.g. Sheet1!A1:Z1000, 'My tab'!B2:D, A:C)`, { kind: 'config', code: 'SHEETS_BAD_RANGE' });
  if (rest === '') return { ...(sheet !== undefined ? { sheet } : {}), startRow: 0, startColumn: 0 };
  const [from, to, extra] = rest.split(':');
  if (extra !== undefined || from === undefined) throw bad();
  const a = CELL.exec(from);
  const b = to === undefined ? a : CELL.exec(to);
  if (!a || !b || (!a[1] && !a[2]) || (!b[1] && !b[2])) throw bad();
  const range: A1Range = {
    ...(sheet !== undefined ? { sheet } : {}),
    startRow: a[2] ? Number(a[2]) - 1 : 0,
    startColumn: a[1] ? columnIndex(a[1]) : 0,
  };
  if (b[2]) range.endRow = Number(b[2]);
  if (b[1]) range.endColumn = columnIndex(b[1]) + 1;
  if (to === undefined && !a[1]) delete range.endColumn;
  if ((range.endRow !== undefined && range.endRow <= range.startRow) || (range.endColumn !== undefined && range.endColumn <= range.startColumn) || range.startRow < 0) throw bad();
  return range;
}

/** A1 notation for rows [startRow, endRow) and columns [startColumn, endColumn) of a tab. */
export function formatA1(sheet: string, startRow: number, startColumn: number, endRow: number, endColumn: number): string {
  return `${quoteSheet(sheet)}!${columnLetters(startColumn)}${startRow + 1}:${columnLetters(endColumn - 1)}${endRow}`;
}
