import { textParse, type DataType, type FieldSpec } from '@dativo/core';
import type { CsvOptions } from './config.js';
import { openUtf8Chunks, utf8Chunks } from './input.js';
import { CsvScanner, FIELD_ESCAPED, unescapeQuotes } from './scanner.js';

const SAMPLE_BYTES = 256 * 1024;
const SAMPLE_ROWS = 1000;

type Guess = 'int64' | 'float64' | 'boolean' | 'date' | 'timestamp' | 'string';
const ORDER: Guess[] = ['boolean', 'int64', 'float64', 'date', 'timestamp', 'string'];

function guess(buf: Uint8Array, start: number, end: number): Guess {
  if (textParse.parseBoolText(buf, start, end) !== undefined && !/^[01]$/.test(textParse.latin1(buf, start, end).trim())) return 'boolean';
  if (!Number.isNaN(textParse.parseSafeInt(buf, start, end)) || textParse.parseBigIntText(buf, start, end) !== undefined) return 'int64';
  if (!Number.isNaN(textParse.parseFloatText(buf, start, end))) return 'float64';
  if (!Number.isNaN(textParse.parseDateText(buf, start, end))) return 'date';
  if (!Number.isNaN(textParse.parseTimestampText(buf, start, end))) return 'timestamp';
  return 'string';
}

function widen(a: Guess | undefined, b: Guess): Guess {
  if (a === undefined || a === b) return b;
  if ((a === 'int64' && b === 'float64') || (a === 'float64' && b === 'int64')) return 'float64';
  if ((a === 'date' && b === 'timestamp') || (a === 'timestamp' && b === 'date')) return 'timestamp';
  return ORDER.indexOf(a) > ORDER.indexOf(b) && a === 'string' ? a : 'string';
}

function toType(g: Guess | undefined): DataType {
  switch (g) {
    case 'int64':
      return { kind: 'int64' };
    case 'float64':
      return { kind: 'float64' };
    case 'boolean':
      return { kind: 'boolean' };
    case 'date':
      return { kind: 'date' };
    case 'timestamp':
      return { kind: 'timestamp', withTimeZone: false };
    default:
      return { kind: 'string' };
  }
}

/**
 * Guesses column types from the first rows of a file (for `dativo discover`): a path, or a
 * function opening its bytes (a download), of which only the first 256 KiB are read.
 */
export async function inferSchema(file: string | (() => AsyncIterable<Buffer>), options: CsvOptions): Promise<FieldSpec[]> {
  let sample: Buffer = Buffer.alloc(0);
  const chunks = typeof file === 'string' ? openUtf8Chunks(file, { encoding: options.encoding, compression: options.compression }) : utf8Chunks(file(), options.encoding, true);
  for await (const chunk of chunks) {
    sample = Buffer.concat([sample, chunk]);
    if (sample.length >= SAMPLE_BYTES) break;
  }
  const scanner = new CsvScanner(options.delimiter, options.quote);
  let pos = 0;
  let names: string[] | undefined;
  const guesses: Array<Guess | undefined> = [];
  const nullable: boolean[] = [];
  let rows = 0;
  let skipped = 0;
  const scratch = new Uint8Array(sample.length);
  while (pos < sample.length && rows < SAMPLE_ROWS) {
    const n = scanner.scanRow(sample, pos, sample.length, sample.length < SAMPLE_BYTES);
    if (n < 0) break;
    pos = scanner.rowEnd;
    if (skipped < options.skipRows) {
      skipped++;
      continue;
    }
    const values: Array<[Uint8Array, number, number]> = [];
    for (let k = 0; k < n; k++) {
      const s = scanner.starts[k] as number;
      const e = scanner.ends[k] as number;
      if (scanner.flags[k] === FIELD_ESCAPED) values.push([scratch, 0, unescapeQuotes(sample, s, e, options.quote, scratch)]);
      else values.push([sample, s, e]);
    }
    if (!names) {
      names = options.header ? values.map(([b, s, e], k) => textParse.utf8Text(b, s, e).trim() || `column_${k + 1}`) : values.map((_, k) => `column_${k + 1}`);
      if (options.header) continue;
    }
    rows++;
    values.forEach(([b, s, e], k) => {
      if (s === e) nullable[k] = true;
      else guesses[k] = widen(guesses[k], guess(b, s, e));
    });
  }
  return (names ?? []).map((name, k) => ({ name, type: toType(guesses[k]), nullable: true }));
}
