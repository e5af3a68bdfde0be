import type { DataType, FieldSpec } from '@dativo/core';

/** Days between Sheets' day 0 (1899-12-30) and the Unix epoch. */
const EPOCH_SERIAL = 25569;
const DAY_MS = 86_400_000;

/**
 * A Sheets serial number (days since 1899-12-30, the fraction is the time of day) as epoch
 * milliseconds of the same wall-clock time, read as UTC (a spreadsheet's times carry no zone).
 */
export function serialToMs(serial: number): number {
  return Math.round((serial - EPOCH_SERIAL) * DAY_MS);
}

/** Epoch milliseconds (a wall-clock time, as UTC) as a Sheets serial number. */
export function msToSerial(ms: number): number {
  return ms / DAY_MS + EPOCH_SERIAL;
}

/** A cell as the API gives it with `UNFORMATTED_VALUE`, and its number format type when known. */
export type CellValue = string | number | boolean | null | undefined;
export type NumberFormatType = 'TEXT' | 'NUMBER' | 'PERCENT' | 'CURRENCY' | 'DATE' | 'TIME' | 'DATE_TIME' | 'SCIENTIFIC' | string;

export function isEmpty(v: CellValue): boolean {
  return v === null || v === undefined || v === '';
}

/**
 * Column names from a header row, clear and stable: a merged header cell names every column it
 * spans (`Sales`, `Sales_2` …), a blank one is `column_<n>` (its position, 1-based, in the range),
 * names are trimmed, and a repeated name gets `_2`, `_3` … in order of appearance. `merges` are
 * column spans [start, end) of the header row, relative to the range.
 */
export function headerNames(cells: readonly CellValue[], width: number, merges: ReadonlyArray<{ start: number; end: number }> = []): string[] {
  const raw: string[] = [];
  for (let i = 0; i < width; i++) raw.push(isEmpty(cells[i]) ? '' : String(cells[i]).trim());
  for (const m of merges) {
    const label = raw[m.start] ?? '';
    for (let i = m.start + 1; i < Math.min(m.end, width); i++) if (raw[i] === '') raw[i] = label;
  }
  const names: string[] = [];
  const taken = new Set<string>();
  raw.forEach((name, i) => {
    const base = name === '' ? `column_${i + 1}` : name;
    let candidate = base;
    for (let n = 2; taken.has(candidate.toLowerCase()); n++) candidate = `${base}_${n}`;
    taken.add(candidate.toLowerCase());
    names.push(candidate);
  });
  return names;
}

/** A sample cell: its unformatted value and number format type (from the grid data). */
export interface SampleCell {
  value: CellValue;
  format?: NumberFormatType | undefined;
}

/**
 * The type of a column from sample cells: dates and times by their number format (Sheets keeps
 * them as serial numbers), percentages and currency as doubles (25 % is 0.25), whole numbers as
 * 64-bit integers, other numbers as doubles, booleans, and text for anything mixed. Empty columns
 * are text.
 */
export function inferType(cells: readonly SampleCell[]): DataType {
  type Kind = 'none' | 'boolean' | 'int64' | 'float64' | 'date' | 'timestamp' | 'string';
  let kind = 'none' as Kind;
  const widen = (k: Kind) => {
    if (kind === 'none' || kind === k) kind = k;
    else if ((kind === 'int64' && k === 'float64') || (kind === 'float64' && k === 'int64')) kind = 'float64';
    else if ((kind === 'date' && k === 'timestamp') || (kind === 'timestamp' && k === 'date')) kind = 'timestamp';
    else kind = 'string';
  };
  for (const c of cells) {
    if (isEmpty(c.value)) continue;
    if (typeof c.value === 'boolean') widen('boolean');
    else if (typeof c.value === 'number') {
      if (c.format === 'DATE') widen(Number.isInteger(c.value) ? 'date' : 'timestamp');
      else if (c.format === 'DATE_TIME') widen('timestamp');
      else if (c.format === 'TIME' || c.format === 'TEXT') widen('string');
      else if (c.format === 'PERCENT' || c.format === 'CURRENCY' || c.format === 'SCIENTIFIC') widen('float64');
      else widen(Number.isSafeInteger(c.value) ? 'int64' : 'float64');
    } else widen('string');
    if (kind === 'string') break;
  }
  switch (kind) {
    case 'none':
    case 'string':
      return { kind: 'string' };
    case 'timestamp':
      return { kind: 'timestamp', withTimeZone: false };
    default:
      return { kind };
  }
}

/** `HH:MM:SS` of a serial's fraction of a day. */
function timeOfDay(serial: number): string {
  const seconds = Math.round((serial - Math.floor(serial)) * 86_400) % 86_400;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor(seconds / 60) % 60)}:${pad(seconds % 60)}`;
}

/**
 * A cell's value for a column of `type`: serial numbers become dates, timestamps or times; empty
 * cells and empty strings are null; numbers in text columns keep their digits; everything else is
 * passed on for the batch builder to coerce (text dates, numeric text…) or refuse.
 */
export function cellToValue(value: CellValue, type: DataType): unknown {
  if (isEmpty(value)) return null;
  if (typeof value === 'number') {
    switch (type.kind) {
      case 'date':
        return new Date(Math.floor(serialToMs(value) / DAY_MS) * DAY_MS);
      case 'timestamp':
        return new Date(serialToMs(value));
      case 'time':
        return timeOfDay(value);
      case 'string':
        return String(value);
      default:
        return value;
    }
  }
  if (typeof value === 'boolean' && type.kind === 'string') return String(value);
  return value;
}

/** One cell for the API (`CellData`): typed value, and the number format dates and times need. */
export interface CellData {
  userEnteredValue?: { numberValue?: number; stringValue?: string; boolValue?: boolean };
  userEnteredFormat?: { numberFormat: { type: string; pattern?: string } };
}

const FORMATS: Partial<Record<DataType['kind'], { type: string; pattern: string }>> = {
  date: { type: 'DATE', pattern: 'yyyy-mm-dd' },
  timestamp: { type: 'DATE_TIME', pattern: 'yyyy-mm-dd hh:mm:ss' },
  time: { type: 'TIME', pattern: 'hh:mm:ss' },
};

/** The number format a column of `type` is written with (dates and times), if any. */
export function formatFor(type: DataType): { type: string; pattern: string } | undefined {
  return FORMATS[type.kind];
}

/** Parses the text forms core renders temporal values in ('2024-01-31', '2024-01-31T10:00:00.000000Z', '10:00:00'). */
function temporalSerial(text: string, kind: DataType['kind']): number | undefined {
  if (kind === 'time') {
    const m = /^(\d{2}):(\d{2}):(\d{2})(\.\d+)?$/.exec(text);
    return m ? (Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) + Number(m[4] ?? 0)) / 86_400 : undefined;
  }
  const m = /^(-?\d{4,})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}):(\d{2})(\.\d+)?)?/.exec(text);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)) + Math.round(Number(m[7] ?? 0) * 1000);
  return msToSerial(ms);
}

/**
 * A value of a row read back from a batch (core's plain rendering) as a cell of a column of
 * `field`'s type: numbers stay numbers (64-bit integers beyond 2^53 and decimals as text, so no
 * digit is lost), booleans stay booleans, dates and times become serial numbers with a date
 * format, JSON and lists are written as JSON text. Text is written as entered, never as a formula.
 */
export function valueToCell(value: unknown, field: FieldSpec): CellData {
  if (value === null || value === undefined) return {};
  const kind = field.type.kind;
  const format = formatFor(field.type);
  if (format && typeof value === 'string') {
    const serial = temporalSerial(value, kind);
    if (serial !== undefined) return { userEnteredValue: { numberValue: serial }, userEnteredFormat: { numberFormat: format } };
  }
  if (typeof value === 'boolean') return { userEnteredValue: { boolValue: value } };
  if (typeof value === 'number') return Number.isFinite(value) ? { userEnteredValue: { numberValue: value } } : { userEnteredValue: { stringValue: String(value) } };
  if (typeof value === 'bigint') {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? { userEnteredValue: { numberValue: Number(value) } } : { userEnteredValue: { stringValue: value.toString() } };
  }
  if (kind === 'decimal' && typeof value === 'string') {
    const n = Number(value);
    const exact = Number.isFinite(n) && value.replace(/^(-?)0+(?=\d)/, '$1').replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '') === String(n);
    return exact ? { userEnteredValue: { numberValue: n } } : { userEnteredValue: { stringValue: value } };
  }
  if (value instanceof Uint8Array) return { userEnteredValue: { stringValue: Buffer.from(value).toString('base64') } };
  if (typeof value === 'object') return { userEnteredValue: { stringValue: JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) } };
  return { userEnteredValue: { stringValue: String(value) } };
}
