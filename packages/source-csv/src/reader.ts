import { isUtf8 } from 'node:buffer';
import { appendTextFast, BatchBuilder, BuilderCode, DativoError, HIDDEN_VALUE, isSensitiveField, textParse, type ColumnBuilder, type ExtractMessage, type FieldSpec, type RejectedMessage, type StringBuilder } from '@dativo/core';
import type { CsvOptions } from './config.js';
import { openUtf8Chunks, utf8Chunks } from './input.js';
import { BAD_QUOTE, CsvScanner, FIELD_ESCAPED, FIELD_PLAIN, NEED_MORE, UNCLOSED_QUOTE, unescapeQuotes } from './scanner.js';

/** Where reading a file starts (resume) and where it got to. */
export interface FileProgress {
  /** Data rows consumed (appended, rejected or skipped). */
  rows: number;
  /** Physical line where the next row starts (1-based). */
  line: number;
  /** Byte offset of the next row, for seekable files. */
  offset?: number;
}

export interface ReadFileOptions {
  file: string;
  /** The file as shown in messages. */
  shown: string;
  stream: string;
  fields: readonly FieldSpec[];
  options: CsvOptions;
  builder: BatchBuilder;
  seekable: boolean;
  resume?: FileProgress;
  signal?: AbortSignal;
  /** The file's size when it was listed (a shorter read fails instead of delivering part of it). */
  size?: number;
  /** The checkpoint message to yield after each batch. */
  checkpoint: (progress: FileProgress) => ExtractMessage;
  /**
   * The file's bytes from `offset` (a download, an export) instead of reading `file` from disk;
   * decoded from the configured encoding, never decompressed.
   */
  open?: (offset: number | undefined) => AsyncIterable<Buffer>;
  /**
   * Parse plain rows in column-wise blocks (default): the same messages as row by row, and faster.
   * `false` reads every row on its own (tests compare the two).
   */
  columnWise?: boolean;
}

/** Column mapping decided from the header (or from the asset when there is none). */
interface Layout {
  /** For each CSV column: index of the asset field, or -1 when the column is ignored. */
  target: Int32Array;
  names: string[];
  /** Asset fields with no CSV column: filled with nulls. */
  missing: ColumnBuilder[];
}

const DECODER = new TextDecoder();
const ROW_OK = Symbol('row-ok');
const SKIPPED = Symbol('skipped');
/** Bytes of the next chunk joined to a row the chunk boundary cut, at first (×4 while the row goes on). */
const BOUNDARY_BYTES = 64 * 1024;

function fieldText(buf: Uint8Array, start: number, end: number, flag: number, quote: number): string {
  if (flag !== FIELD_ESCAPED) return DECODER.decode(buf.subarray(start, end));
  const out = new Uint8Array(end - start);
  return DECODER.decode(out.subarray(0, unescapeQuotes(buf, start, end, quote, out)));
}

function matchColumn(fields: readonly FieldSpec[], name: string): number {
  const exact = fields.findIndex((f) => f.name === name);
  if (exact >= 0) return exact;
  const lower = name.trim().toLowerCase();
  return fields.findIndex((f) => f.name.toLowerCase() === lower);
}

/**
 * Parses one CSV file into the batch builder and yields batches, checkpoints, rejected rows and
 * warnings. Values go from the file's bytes straight into Arrow buffers.
 */
export class CsvFileReader {
  private readonly o: ReadFileOptions;
  private readonly scanner: CsvScanner;
  private layout: Layout | undefined;
  private rows = 0;
  private line = 1;
  /** Data rows to skip when resuming a file that cannot be seeked (gzip, transcoded). */
  private skipUntil = 0;
  private rawRows = 0;
  private scratch = new Uint8Array(4096);
  private nulBuf: Uint8Array | undefined;
  private nulAt = -1;
  private checkRowsUtf8 = false;
  /** Non-empty texts read as null. */
  private readonly nullTokens: Uint8Array[];
  /** `nullLengths[n]` is 1 when some null token is n bytes long: most fields are ruled out by length alone. */
  private readonly nullLengths: Uint8Array;
  /** Whether an empty field, quoted or not, is null (`""` among the null values). */
  private readonly emptyIsNull: boolean;
  /** Warnings about the header (ignored or missing columns), yielded once per file. */
  private pendingWarnings: string[] = [];
  /** Whether an empty field in a text column is an empty string (`empty_as: empty_string`). */
  private readonly emptyString: boolean;
  /** File offset of `carry`'s first byte (of the current buffer's, while one is read). */
  private base = 0;
  /** The start of a row the last buffer cut, kept for the next chunk. */
  private carry: Buffer | undefined;
  /** Rows still to read one at a time (a column-wise block held a value that does not parse). */
  private rowWise = 0;

  constructor(options: ReadFileOptions) {
    this.o = options;
    this.scanner = new CsvScanner(options.options.delimiter, options.options.quote);
    this.nullTokens = options.options.nullValues.filter((v) => v !== '').map((v) => Buffer.from(v, 'utf8'));
    this.nullLengths = new Uint8Array(Math.max(0, ...this.nullTokens.map((t) => t.length)) + 1);
    for (const token of this.nullTokens) this.nullLengths[token.length] = 1;
    this.emptyIsNull = options.options.nullValues.includes('');
    this.emptyString = options.options.emptyAs === 'empty_string';
  }

  async *read(): AsyncGenerator<ExtractMessage> {
    const o = this.o;
    const resumeOffset = o.seekable ? o.resume?.offset : undefined;
    if (resumeOffset !== undefined && resumeOffset > 0 && o.options.header) {
      yield* this.readHeaderOnly();
    } else if (!o.options.header) {
      this.layout = this.positionalLayout();
    }
    if (resumeOffset !== undefined && o.resume) {
      this.rows = o.resume.rows;
      this.line = o.resume.line;
      this.rawRows = Number.MAX_SAFE_INTEGER; // skip_rows and the header lie before the offset
    } else {
      this.skipUntil = o.resume?.rows ?? 0;
    }
    this.base = resumeOffset ?? 0;
    this.carry = undefined;
    const chunks = this.chunks(resumeOffset);
    const utf8Input = o.options.encoding === 'utf-8';
    for await (const chunk of chunks) {
      let buf: Buffer = chunk;
      let pos = 0;
      if (this.carry && this.carry.length > 0) {
        const taken = yield* this.boundaryRows(chunk, utf8Input);
        if (o.signal?.aborted) return;
        if (taken < 0) buf = Buffer.concat([this.carry, chunk]);
        else {
          this.base += this.carry.length;
          pos = taken;
        }
      }
      if (utf8Input) this.checkUtf8(buf, pos);
      pos = yield* this.rowLoop(buf, pos, buf.length, 'chunk');
      if (o.signal?.aborted) return;
      // A quote that is never closed would make the rest of the file one field: past the limit,
      // give up on it (its line is rejected) instead of buffering without bound.
      if (buf.length - pos > o.options.maxRowBytes && this.scanner.scanRow(buf, pos, buf.length, true) === UNCLOSED_QUOTE) {
        const unclosed = this.unclosedQuote(buf, pos);
        if (unclosed.message) yield unclosed.message;
        pos = unclosed.next;
      }
      this.carry = buf.subarray(pos);
      this.base += pos;
    }
    // The end of the file: its last row may lack a line break, and a quote still open is rejected.
    const carry = this.carry;
    if (carry && carry.length > 0) {
      if (utf8Input) this.checkRowsUtf8 = !isUtf8(carry);
      yield* this.rowLoop(carry, 0, carry.length, 'final');
      if (o.signal?.aborted) return;
    }
    if (!this.layout && o.options.header) {
      throw new DativoError(`${o.shown}: the file is empty; expected a header row`, { kind: 'validation', code: 'CSV_EMPTY', details: { file: o.shown } });
    }
  }

  /** Whether the rows of `buf` from `from` on must each be checked for invalid UTF-8 (rare: a bulk check fails first). */
  private checkUtf8(buf: Buffer, from: number): void {
    const lastLf = buf.lastIndexOf(10);
    this.checkRowsUtf8 = lastLf >= from && !isUtf8(buf.subarray(from, lastLf + 1));
  }

  /**
   * The rows the chunk boundary cut, read from the carry joined with just enough of `chunk` to end
   * them (joining the whole chunk would copy every byte of the file once more). Returns how many
   * bytes of `chunk` they took (`this.carry` is then read), or -1 when the rows do not end well
   * inside the chunk: the caller joins it whole, as for any long row.
   */
  private *boundaryRows(chunk: Buffer, utf8Input: boolean): Generator<ExtractMessage, number> {
    for (let take = BOUNDARY_BYTES; ; take *= 4) {
      const carry = this.carry as Buffer;
      if (take >= chunk.length || carry.length > take) return -1;
      const joined = Buffer.concat([carry, chunk.subarray(0, take)]);
      if (utf8Input) this.checkUtf8(joined, 0);
      const end = yield* this.rowLoop(joined, 0, carry.length, 'partial');
      if (end >= carry.length || this.o.signal?.aborted) return end - carry.length;
      // Rows that lay wholly in the carry were read (it may hold several after an unclosed quote).
      this.carry = carry.subarray(end);
      this.base += end;
    }
  }

  /**
   * Reads the rows of `buf` that start before `stopAt` (and end in `buf`): appended to the batch,
   * rejected, or skipped; yields batches and checkpoints as the batch fills. Returns the position of
   * the first row not read. `mode`: `chunk` for a chunk of the file; `partial` when `buf` is not all
   * there is before the next chunk; `final` for the end of the file (its last row needs no line
   * break, and a quote still open there is rejected).
   */
  private *rowLoop(buf: Buffer, pos: number, stopAt: number, mode: 'chunk' | 'partial' | 'final'): Generator<ExtractMessage, number> {
    const o = this.o;
    const builder = o.builder;
    const final = mode === 'final';
    while (pos < stopAt) {
      const rowStart = pos;
      const blocks = this.rowWise === 0 && o.columnWise !== false && this.layout && !this.checkRowsUtf8 && this.rows >= this.skipUntil && this.rawRows >= o.options.skipRows;
      if (blocks) pos = this.readBlock(buf, pos, stopAt);
      if (pos === rowStart) {
        // One row on its own.
        const n = this.scanner.scanRow(buf, pos, buf.length, final);
        if (n === NEED_MORE) break;
        if (n === UNCLOSED_QUOTE) {
          const unclosed = this.unclosedQuote(buf, pos);
          if (unclosed.message) yield unclosed.message;
          pos = unclosed.next;
          continue;
        }
        if (n === BAD_QUOTE) {
          pos = this.skipBadRow(buf, pos);
          // Its line goes on past this buffer: it is rejected whole once the rest is read (up to the row limit).
          if (!final && buf[pos - 1] !== 10 && buf.length - rowStart <= o.options.maxRowBytes) return rowStart;
        } else pos = this.scanner.rowEnd;
        if (this.rowWise > 0) this.rowWise--;
        const message = this.handleRow(buf, rowStart, n);
        if (message !== undefined && message !== ROW_OK && message !== SKIPPED) yield message;
      }
      if (builder.full) {
        yield* this.batchDone(pos);
        if (o.signal?.aborted) return pos;
      }
      if (pos === rowStart) break;
    }
    return pos;
  }

  /** The batch is full: it goes out, with the checkpoint of the row it ends at (`pos` in the current buffer). */
  private *batchDone(pos: number): Generator<ExtractMessage> {
    const o = this.o;
    const batch = o.builder.flush();
    if (batch) yield { kind: 'batch', stream: o.stream, batch };
    yield o.checkpoint({ rows: this.rows, line: this.line, ...(o.seekable ? { offset: this.base + pos } : {}) });
  }

  /**
   * Column-wise parsing: scans rows from `pos` up to the next point where the batch may close (a
   * multiple of 256 rows, or its row limit), then appends them one column at a time, each in a
   * loop of one value type. Only plain data rows qualify (the expected field count, no stray quote,
   * no NUL byte, no oversized field): a row that does not ends the block and is read on its own.
   * A value that does not parse undoes the block, whose rows are then read one at a time, so that
   * rejections, line numbers and checkpoints are exactly those of row-by-row reading. Returns the
   * position after the block (`pos` when no row qualified).
   */
  private readBlock(buf: Buffer, pos: number, stopAt: number): number {
    const o = this.o;
    const builder = o.builder;
    const s = this.scanner;
    const width = (this.layout as Layout).target.length;
    const next = Math.min(builder.limits.maxRows, (builder.rows & ~255) + 256);
    const room = next - builder.rows;
    if (room <= 1 || width === 0) return pos;
    // A row no longer than the field limit cannot hold an oversized field.
    const fieldLimit = o.options.maxFieldBytes;
    const nul = o.options.rejectNul ? this.nextNul(buf, pos) : -1;
    const nulAt = nul === -1 ? Number.MAX_SAFE_INTEGER : nul;
    let rows = 0;
    let at = pos;
    let lines = 0;
    while (rows < room && at < stopAt) {
      const n = s.scanRow(buf, at, buf.length, false, rows * width);
      if (n !== width || s.rowEnd - at > fieldLimit || s.rowEnd > nulAt) break;
      if (n === 1 && s.flags[rows * width] === FIELD_PLAIN && s.starts[rows * width] === s.ends[rows * width]) break; // blank line
      lines += 1 + s.innerLines;
      at = s.rowEnd;
      rows++;
    }
    if (rows < 2) return pos; // not worth it: read on its own
    if (!this.appendBlock(buf, rows, width)) {
      this.rowWise = rows;
      return pos;
    }
    builder.endRows(rows);
    this.rows += rows;
    this.line += lines;
    return at;
  }

  /** Appends `rows` scanned rows column by column; false (and nothing appended) when a value does not parse. */
  private appendBlock(buf: Uint8Array, rows: number, width: number): boolean {
    const builder = this.o.builder;
    const columns = builder.columns;
    const target = (this.layout as Layout).target;
    const s = this.scanner;
    const starts = s.starts;
    const ends = s.ends;
    const flags = s.flags;
    for (let k = 0; k < width; k++) {
      const col = target[k] as number;
      if (col < 0) continue;
      const column = columns[col] as ColumnBuilder;
      for (let i = k, last = rows * width; i < last; i += width) {
        if (this.appendField(column, buf, starts[i] as number, ends[i] as number, flags[i] as number) !== undefined) {
          builder.rollbackRow();
          return false;
        }
      }
    }
    for (const column of (this.layout as Layout).missing) for (let r = 0; r < rows; r++) column.appendNull();
    return true;
  }

  /**
   * Appends one field's text to its column: an empty field or a null token is a null (or an empty
   * string, or a problem for a required column), a quoted field has its doubled quotes collapsed.
   * Returns the problem when the value does not fit the column.
   */
  private appendField(column: ColumnBuilder, buf: Uint8Array, start: number, end: number, flag: number): string | undefined {
    if (start === end) {
      // An empty field is null (v1); with `""` left out of null_values a quoted one is an empty
      // string, and empty_as: empty_string makes every empty field in a text column one.
      const kind = column.field.type.kind;
      const text = kind === 'string' || kind === 'binary';
      if (text && (this.emptyString || (flag !== FIELD_PLAIN && !this.emptyIsNull))) return appendTextFast(column, buf, start, end);
      if (!column.field.nullable) return 'is required but empty';
      column.appendNull();
      return undefined;
    }
    if (flag !== FIELD_ESCAPED) {
      if (this.nullLengths.length > 1 && this.matchesNullToken(buf, start, end)) {
        if (!column.field.nullable) return 'is required but null';
        column.appendNull();
        return undefined;
      }
      return appendTextFast(column, buf, start, end);
    }
    if (column.code === BuilderCode.STRING) {
      (column as StringBuilder).appendUnescaped(buf, start, end, this.o.options.quote);
      return undefined;
    }
    if (this.scratch.length < end - start) this.scratch = new Uint8Array((end - start) * 2);
    return appendTextFast(column, this.scratch, 0, unescapeQuotes(buf, start, end, this.o.options.quote, this.scratch));
  }

  /**
   * A row whose quoted field is never closed: only the line the quote opened on is rejected (with
   * its complete text, naming that line), and reading continues on the next line, so the rows
   * after it are read as rows rather than swallowed into one field.
   */
  private unclosedQuote(buf: Uint8Array, rowStart: number): { message: RejectedMessage | undefined; next: number } {
    const nl = buf.indexOf(10, rowStart);
    const next = nl === -1 ? buf.length : nl + 1;
    const line = this.line;
    this.line++;
    if (!this.layout) throw new DativoError(`${this.o.shown} line ${line}: malformed header (a quote opened on line ${line} is never closed)`, { kind: 'validation', code: 'CSV_BAD_HEADER' });
    this.rows++;
    if (this.rows <= this.skipUntil) return { message: undefined, next };
    const text = DECODER.decode(buf.subarray(rowStart, next)).replace(/\r?\n$/, '');
    const context = { file: this.o.shown, row: this.rows, line };
    const message: RejectedMessage = {
      kind: 'rejected',
      stream: this.o.stream,
      raw: text,
      error: new DativoError(`${this.o.shown} row ${this.rows} (line ${line}): unclosed quote: the quoted field opened on line ${line} is never closed; the line is rejected and reading continues on line ${line + 1}`, {
        kind: 'validation',
        code: 'CSV_UNCLOSED_QUOTE',
        details: context,
      }),
      context,
    };
    return { message, next };
  }

  /** Positions after a row with a stray quote: the next line break. */
  private skipBadRow(buf: Uint8Array, from: number): number {
    const nl = buf.indexOf(10, Math.max(from, this.scanner.rowEnd));
    return nl === -1 ? buf.length : nl + 1;
  }

  /** The file as UTF-8 chunks from `offset`: from disk, or from the `open` the caller gave (a download). */
  private chunks(offset: number | undefined): AsyncIterable<Buffer> {
    const o = this.o;
    if (o.open) return utf8Chunks(o.open(offset), o.options.encoding, !offset);
    return openUtf8Chunks(o.file, { encoding: o.options.encoding, compression: o.options.compression, shown: o.shown, ...(offset ? { offset } : {}), ...(o.signal ? { signal: o.signal } : {}), ...(o.size !== undefined ? { size: o.size } : {}) });
  }

  private async *readHeaderOnly(): AsyncGenerator<ExtractMessage> {
    const o = this.o;
    let carry: Buffer | undefined;
    for await (const chunk of this.chunks(undefined)) {
      const buf = carry ? Buffer.concat([carry, chunk]) : chunk;
      let pos = 0;
      while (!this.layout) {
        const n = this.scanner.scanRow(buf, pos, buf.length, false);
        if (n === NEED_MORE) break;
        const start = pos;
        pos = this.scanner.rowEnd;
        const message = this.handleRow(buf, start, n);
        if (message && message !== ROW_OK && message !== SKIPPED) yield message;
      }
      if (this.layout) break;
      carry = buf.subarray(pos);
    }
  }

  private positionalLayout(): Layout {
    const fields = this.o.fields;
    const target = new Int32Array(fields.length);
    for (let i = 0; i < fields.length; i++) target[i] = i;
    return { target, names: fields.map((f) => f.name), missing: [] };
  }

  private headerLayout(buf: Uint8Array, n: number): Layout | RejectedMessage {
    const s = this.scanner;
    const names: string[] = [];
    for (let k = 0; k < n; k++) names.push(fieldText(buf, s.starts[k] as number, s.ends[k] as number, s.flags[k] as number, this.o.options.quote).trim());
    const fields = this.o.fields;
    const target = new Int32Array(n).fill(-1);
    const used = new Set<number>();
    const ignored: string[] = [];
    names.forEach((name, k) => {
      const idx = matchColumn(fields, name);
      if (idx >= 0 && !used.has(idx)) {
        target[k] = idx;
        used.add(idx);
      } else ignored.push(name || `(column ${k + 1})`);
    });
    const missingFields = fields.filter((_, i) => !used.has(i));
    const required = missingFields.filter((f) => !f.nullable);
    if (required.length) {
      throw new DativoError(
        `${this.o.shown}: the header has no column ${required.map((f) => `'${f.name}'`).join(', ')} required by the asset (header: ${names.join(', ')})`,
        { kind: 'validation', code: 'CSV_MISSING_COLUMN', details: { file: this.o.shown, columns: required.map((f) => f.name) } },
      );
    }
    this.pendingWarnings = [];
    if (ignored.length) this.pendingWarnings.push(`${this.o.shown}: columns not in the asset schema are ignored: ${ignored.join(', ')}`);
    if (missingFields.length) this.pendingWarnings.push(`${this.o.shown}: asset columns missing from the file are written as null: ${missingFields.map((f) => f.name).join(', ')}`);
    return { target, names, missing: missingFields.map((f) => this.o.builder.columns[fields.indexOf(f)] as ColumnBuilder) };
  }

  private matchesNullToken(buf: Uint8Array, start: number, end: number): boolean {
    const length = end - start;
    if (length >= this.nullLengths.length || this.nullLengths[length] === 0) return false;
    const tokens = this.nullTokens;
    for (let t = 0; t < tokens.length; t++) {
      const token = tokens[t] as Uint8Array;
      if (token.length !== length) continue;
      let same = true;
      for (let i = 0; i < token.length; i++) {
        if (buf[start + i] !== token[i]) {
          same = false;
          break;
        }
      }
      if (same) return true;
    }
    return false;
  }

  /**
   * Handles one scanned row: header, blank line, skip, or data appended to the builder. Returns
   * {@link ROW_OK} for an appended data row, {@link SKIPPED} for a data row skipped on resume, a
   * rejected message for a bad data row, or undefined for rows that are not data.
   */
  private handleRow(buf: Uint8Array, rowStart: number, n: number): ExtractMessage | typeof ROW_OK | typeof SKIPPED | undefined {
    const s = this.scanner;
    const line = this.line;
    this.line += 1 + s.innerLines;
    if (this.rawRows < this.o.options.skipRows) {
      this.rawRows++;
      return undefined;
    }
    if (n === 1 && s.flags[0] === FIELD_PLAIN && s.starts[0] === s.ends[0]) return undefined; // blank line
    if (!this.layout) {
      if (n === BAD_QUOTE) throw new DativoError(`${this.o.shown} line ${line}: malformed header (stray quote)`, { kind: 'validation', code: 'CSV_BAD_HEADER' });
      const layout = this.headerLayout(buf, n);
      if ('kind' in layout) return layout;
      this.layout = layout;
      return this.pendingWarnings.length ? { kind: 'warning', stream: this.o.stream, message: this.pendingWarnings.join('; '), context: { file: this.o.shown } } : undefined;
    }
    this.rows++;
    if (this.rows <= this.skipUntil) return SKIPPED;
    const row = this.rows;
    if (n === BAD_QUOTE) return this.reject(buf, rowStart, s.rowEnd, `row ${row} (line ${line}): unexpected character after a closing quote`, line, undefined, 'CSV_BAD_QUOTE');
    const layout = this.layout;
    if (n !== layout.target.length) {
      return this.reject(buf, rowStart, s.rowEnd, `row ${row} (line ${line}): expected ${layout.target.length} fields, found ${n}`, line, undefined, 'CSV_RAGGED_ROW');
    }
    if (this.checkRowsUtf8 && !isUtf8(buf.subarray(rowStart, s.rowEnd))) {
      return this.reject(buf, rowStart, s.rowEnd, `row ${row} (line ${line}): invalid UTF-8 bytes; set source.engine.options.encoding to the file's encoding`, line, undefined, 'CSV_ENCODING');
    }
    const malformed = this.malformedField(buf, rowStart, n);
    if (malformed) return this.reject(buf, rowStart, s.rowEnd, `row ${row} (line ${line}), column '${malformed.column}': ${malformed.problem}`, line, malformed.column, malformed.code);
    const builder = this.o.builder;
    const columns = builder.columns;
    const target = layout.target;
    for (let k = 0; k < n; k++) {
      const col = target[k] as number;
      if (col < 0) continue;
      const column = columns[col] as ColumnBuilder;
      const start = s.starts[k] as number;
      const end = s.ends[k] as number;
      const problem = this.appendField(column, buf, start, end, s.flags[k] as number);
      if (problem !== undefined) {
        builder.rollbackRow();
        const shown = isSensitiveField(column.field) ? HIDDEN_VALUE : `'${textParse.previewText(buf, start, end)}'`;
        return this.reject(buf, rowStart, s.rowEnd, `row ${row} (line ${line}), column '${column.field.name}': ${shown} ${problem}`, line, column.field.name, 'CSV_BAD_VALUE');
      }
    }
    for (const column of layout.missing) column.appendNull();
    builder.endRow();
    return ROW_OK;
  }

  /** The next NUL byte of `buf` at or after `from` (-1: none left), searched once per stretch of the buffer. */
  private nextNul(buf: Uint8Array, from: number): number {
    if (this.nulBuf !== buf || (this.nulAt !== -1 && this.nulAt < from)) {
      this.nulBuf = buf;
      this.nulAt = buf.indexOf(0, from);
    }
    return this.nulAt;
  }

  /** The first field of the row that is too large or holds a NUL byte (both rare: checked in bulk first). */
  private malformedField(buf: Uint8Array, rowStart: number, n: number): { column: string; problem: string; code: string } | undefined {
    const s = this.scanner;
    const options = this.o.options;
    const names = this.layout?.names ?? [];
    const name = (k: number): string => names[k] ?? `(column ${k + 1})`;
    if (s.rowEnd - rowStart > options.maxFieldBytes) {
      for (let k = 0; k < n; k++) {
        const size = (s.ends[k] as number) - (s.starts[k] as number);
        if (size > options.maxFieldBytes) {
          return { column: name(k), problem: `the field is ${mib(size)} MiB, over the ${mib(options.maxFieldBytes)} MiB limit (source.engine.options.max_field_mb)`, code: 'CSV_FIELD_TOO_LARGE' };
        }
      }
    }
    if (!options.rejectNul) return undefined;
    const nulAt = this.nextNul(buf, rowStart);
    if (nulAt === -1 || nulAt >= s.rowEnd) return undefined;
    for (let k = 0; k < n; k++) {
      if (nulAt >= (s.starts[k] as number) && nulAt < (s.ends[k] as number)) {
        return { column: name(k), problem: 'contains a NUL byte (binary data, or a file in another encoding such as UTF-16: set source.engine.options.encoding; nul_bytes: keep loads it as it is)', code: 'CSV_NUL_BYTE' };
      }
    }
    return undefined;
  }

  private reject(buf: Uint8Array, start: number, end: number, what: string, line: number, column: string | undefined, code: string): RejectedMessage {
    const raw = this.rawRecord(buf, start, end, this.layout?.names ?? []);
    const context = { file: this.o.shown, row: this.rows, line, ...(column ? { column } : {}) };
    return {
      kind: 'rejected',
      stream: this.o.stream,
      raw,
      error: new DativoError(`${this.o.shown} ${what}`, { kind: 'validation', code, details: context }),
      context,
    };
  }

  /** The rejected row as `{column: text}` (or the raw line when it could not be split). */
  private rawRecord(buf: Uint8Array, start: number, end: number, names: string[]): Record<string, string> | string {
    const s = this.scanner;
    const n = s.scanRow(buf, start, end, true);
    if (n < 0) return DECODER.decode(buf.subarray(start, end)).replace(/\r?\n$/, '');
    const out: Record<string, string> = {};
    for (let k = 0; k < n; k++) out[names[k] ?? `_extra_${k + 1}`] = fieldText(buf, s.starts[k] as number, s.ends[k] as number, s.flags[k] as number, this.o.options.quote);
    return out;
  }
}

const mib = (bytes: number): string => (bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, '');
