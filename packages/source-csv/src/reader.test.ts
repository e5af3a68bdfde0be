import { BatchBuilder, parseDataType, readRows, type ExtractMessage, type FieldSpec } from '@dativo/core';
import { seededRandom as random } from '@dativo/testing';
import { describe, expect, it } from 'vitest';
import { csvOptions, csvSourceConfigSchema } from './config.js';
import { CsvFileReader, type FileProgress } from './reader.js';

// Column-wise blocks and rows cut by chunk boundaries must not change a single message: every
// variant (blocks or row by row, any chunking, resumed from any checkpoint) is compared with row
// by row over the whole file in one buffer.

const f = (name: string, type: string, nullable = true): FieldSpec => ({ name, type: parseDataType(type), nullable });
/** The asset: `note` is not in the files (read as nulls); the files' `extra` column is not in the asset. */
const FIELDS: FieldSpec[] = [f('id', 'bigint', false), f('name', 'string'), f('age', 'int'), f('balance', 'decimal(10,2)'), f('joined', 'date'), f('seen', 'timestamp'), f('vip', 'boolean'), f('note', 'string')];
const HEADER = 'id,name,age,balance,joined,seen,vip,extra';

/** A file of ordinary rows sprinkled with everything a row-by-row reader treats specially. */
function makeFile(seed: number, rows: number): Buffer {
  const r = random(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const parts: Buffer[] = [Buffer.from(`${HEADER}\n`)];
  const text = (): string => {
    const base = pick(['Ada', 'Grace Hopper', 'Émilie du Châtelet', '漢字 name', 'a, with comma', 'say "hi"', 'two\nlines', 'crlf\r\ninside', 'NULL', 'None', '', 'x'.repeat(1 + Math.floor(r() * 90))]);
    return /[,"\n\r]/.test(base) || r() < 0.2 ? `"${base.replace(/"/g, '""')}"` : base;
  };
  for (let i = 1; i <= rows; i++) {
    const eol = r() < 0.1 ? '\r\n' : '\n';
    const fields = [String(i), text(), pick(['42', '-7', '', 'NULL', '0']), pick(['12.34', '-0.50', '', '99999999.99']), pick(['2024-01-02', '1999-12-31', '']), pick(['2024-01-02T03:04:05Z', '2024-06-30 23:59:59.123', '']), pick(['true', 'false', '']), pick(['ignored', '"quoted, ignored"', ''])];
    const odd = r();
    if (odd < 0.01) fields[2] = 'abc'; // not an integer
    else if (odd < 0.02) fields[0] = ''; // a required column empty
    else if (odd < 0.03) fields.pop(); // ragged
    else if (odd < 0.035) fields[1] = '"stray"x'; // a character after the closing quote
    else if (odd < 0.04) fields[1] = 'nul\u0000byte';
    else if (odd < 0.045) fields[2] = '1e'; // not an integer either
    else if (odd < 0.05) fields[3] = '12.345'; // too many decimals
    else if (odd < 0.053) fields[1] = 'z'.repeat(70_000 + Math.floor(r() * 250_000)); // past the first joined slice of a chunk
    else if (odd < 0.056) fields[5] = 'not a time';
    else if (odd < 0.058) fields[1] = `"stray"x${'z'.repeat(70_000 + Math.floor(r() * 200_000))}`; // …on a long line
    if (odd >= 0.058 && odd < 0.065) parts.push(Buffer.from(eol)); // a blank line
    const line = Buffer.from(`${fields.join(',')}${eol}`);
    if (odd >= 0.065 && odd < 0.068) line[line.indexOf(',') + 1] = 0xff; // invalid UTF-8
    parts.push(line);
  }
  parts.push(Buffer.from(`${rows + 1},"no newline at the end",1,1.00,2024-01-01,,true,x`));
  return Buffer.concat(parts);
}

/** The file cut into chunks of random sizes: a few bytes, tens of KiB, or more than a MiB. */
function chunked(file: Buffer, seed: number): Buffer[] {
  const r = random(seed);
  const chunks: Buffer[] = [];
  for (let at = 0; at < file.length; ) {
    const kind = r();
    const size = kind < 0.2 ? 1 + Math.floor(r() * 64) : kind < 0.9 ? 1024 + Math.floor(r() * 150_000) : 1_100_000;
    chunks.push(Buffer.from(file.subarray(at, at + size)));
    at += size;
  }
  return chunks;
}

interface Variant {
  columnWise: boolean;
  chunks: (file: Buffer) => Buffer[];
  resume?: FileProgress;
}

type Seen = { kind: string; message?: string; progress?: FileProgress; rows?: unknown[]; raw?: unknown; context?: unknown };

async function readAll(file: Buffer, variant: Variant, config: Record<string, unknown> = {}): Promise<Seen[]> {
  const builder = new BatchBuilder(FIELDS, { maxRows: 1000, maxBytes: 48 * 1024 });
  const reader = new CsvFileReader({
    file: 'mem.csv',
    shown: 'mem.csv',
    stream: 's',
    fields: FIELDS,
    options: csvOptions(csvSourceConfigSchema.parse({ files: [{ path: 'mem.csv' }], csv: { max_row_mb: 1, ...config } })),
    builder,
    seekable: true,
    columnWise: variant.columnWise,
    ...(variant.resume ? { resume: variant.resume } : {}),
    checkpoint: (progress) => ({ kind: 'checkpoint', checkpoint: progress as never }) as ExtractMessage,
    open: (offset) => {
      const chunks = variant.chunks(offset ? file.subarray(offset) : file);
      return (async function* () {
        yield* chunks;
      })();
    },
  });
  const seen: Seen[] = [];
  const batch = (b: import('apache-arrow').RecordBatch): Seen => ({ kind: 'batch', rows: [...readRows(b, FIELDS)] });
  for await (const m of reader.read()) {
    if (m.kind === 'batch') seen.push(batch(m.batch));
    else if (m.kind === 'checkpoint') seen.push({ kind: 'checkpoint', progress: m.checkpoint as unknown as FileProgress });
    else if (m.kind === 'rejected') seen.push({ kind: 'rejected', raw: m.raw, message: m.error.message, context: m.context });
    else if (m.kind === 'warning') seen.push({ kind: 'warning', message: m.message });
    else seen.push({ kind: m.kind });
  }
  const last = builder.flush();
  if (last) seen.push(batch(last));
  return seen;
}

const whole = (file: Buffer): Buffer[] => [file];

/** Compares two message lists from their first difference (a readable failure on long lists). */
function expectSame(actual: Seen[], expected: Seen[]): void {
  const at = expected.findIndex((m, i) => JSON.stringify(m, bigints) !== JSON.stringify(actual[i], bigints));
  const first = at === -1 ? Math.min(actual.length, expected.length) : at;
  expect({ at: first, messages: actual.slice(first, first + 2) }).toEqual({ at: first, messages: expected.slice(first, first + 2) });
  expect(actual.length).toBe(expected.length);
}
const bigints = (_: string, v: unknown): unknown => (typeof v === 'bigint' ? `${v}n` : v);

describe('CsvFileReader: column-wise blocks and chunk boundaries', () => {
  for (const seed of [1, 2, 3]) {
    it(`reads the same rows, rejections, line numbers and checkpoints in every variant (seed ${seed})`, async () => {
      const file = makeFile(seed, 6000);
      const reference = await readAll(file, { columnWise: false, chunks: whole });
      // The file does exercise what it is meant to.
      const rejected = reference.filter((m) => m.kind === 'rejected');
      for (const what of ['expected 8 fields', 'unexpected character after a closing quote', 'NUL byte', 'invalid UTF-8', 'is required but empty', "column 'age'", "column 'seen'"]) {
        expect(rejected.some((m) => m.message?.includes(what)), what).toBe(true);
      }
      const checkpoints = reference.filter((m) => m.kind === 'checkpoint');
      expect(checkpoints.length).toBeGreaterThan(10);
      const rows = reference.flatMap((m) => m.rows ?? []);
      expect(rows.length).toBeGreaterThan(5000);
      expect(rows.at(-1)).toMatchObject({ id: 6001n, name: 'no newline at the end', note: null });

      expectSame(await readAll(file, { columnWise: true, chunks: whole }), reference);
      expectSame(await readAll(file, { columnWise: true, chunks: (b) => chunked(b, seed * 7) }), reference);
      expectSame(await readAll(file, { columnWise: false, chunks: (b) => chunked(b, seed * 11) }), reference);

      // Resumed from a checkpoint: exactly the messages that followed it.
      const at = reference.indexOf(checkpoints[Math.floor(checkpoints.length / 2)] as Seen);
      const resume = reference[at]?.progress as FileProgress;
      const resumed = await readAll(file, { columnWise: true, chunks: (b) => chunked(b, seed * 13), resume });
      expectSame(resumed.filter((m) => m.kind !== 'warning'), reference.slice(at + 1));
    });
  }

  it('keeps null tokens, empty strings and skipped lines the same way (other options)', async () => {
    const file = makeFile(9, 3000);
    for (const config of [{ null_values: [] }, { empty_as: 'empty_string' }, { null_values: ['', 'None'], nul_bytes: 'keep' }]) {
      const reference = await readAll(file, { columnWise: false, chunks: whole }, config);
      expectSame(await readAll(file, { columnWise: true, chunks: (b) => chunked(b, 5) }, config), reference);
    }
  });

  it('a quote never closed is rejected on its line, and the rows after it are read, across chunks', async () => {
    const lines = [HEADER];
    for (let i = 1; i <= 4000; i++) {
      if (i === 1500) lines.push(`${i},"never closed,1,1.00,2024-01-01,,true,`);
      else if (i % 300 === 0) lines.push(`${i},${'long '.repeat(20_000 + i)},${i},1.00,2024-01-01,,true,x`); // longer than a joined slice
      else lines.push(`${i},name ${i},${i},1.00,2024-01-01,,true,x`);
    }
    const file = Buffer.from(`${lines.join('\n')}\n`);
    // A small row limit, so that the open quote is given up on before the file ends.
    const config = { max_row_mb: 0.5 };
    const reference = await readAll(file, { columnWise: false, chunks: whole }, config);
    expect(reference.filter((m) => m.kind === 'rejected').map((m) => m.message)).toEqual([
      'mem.csv row 1500 (line 1501): unclosed quote: the quoted field opened on line 1501 is never closed; the line is rejected and reading continues on line 1502',
    ]);
    expect(reference.flatMap((m) => m.rows ?? [])).toHaveLength(3999);
    for (const seed of [3, 4, 5, 6]) expectSame(await readAll(file, { columnWise: true, chunks: (b) => chunked(b, seed) }, config), reference);

    // A small row limit: the rows after the rejected line are carried into the next chunk, where
    // the first of them end before a long row that the chunk boundary cuts.
    const mixed = [HEADER];
    for (let i = 1; i <= 3000; i++) {
      if (i === 1500) mixed.push(`${i},"never closed,1,1.00,2024-01-01,,true,`);
      else if (i > 2550 && i <= 2560) mixed.push(`${i},${'long '.repeat(20_000)},${i},1.00,2024-01-01,,true,x`);
      else mixed.push(`${i},name ${i},${i},1.00,2024-01-01,,true,x`);
    }
    const small = Buffer.from(`${mixed.join('\n')}\n`);
    const tight = { max_row_mb: 0.04 };
    const expected = await readAll(small, { columnWise: false, chunks: whole }, tight);
    for (let seed = 1; seed <= 40; seed++) expectSame(await readAll(small, { columnWise: true, chunks: (b) => chunked(b, seed) }, tight), expected);
  });
});
