import { textParse } from '@dativo/core';

const LF = 10;
const CR = 13;

/** Field flags set by {@link CsvScanner.scanRow}. */
export const FIELD_PLAIN = 0;
export const FIELD_QUOTED = 1;
/** Quoted and containing doubled quotes (`""`) that must be unescaped. */
export const FIELD_ESCAPED = 2;

/** Result codes of {@link CsvScanner.scanRow} besides a field count. */
export const NEED_MORE = -1;
export const BAD_QUOTE = -2;
/** A quoted field that is still open at the end of the input. */
export const UNCLOSED_QUOTE = -3;

/**
 * An RFC 4180 row tokenizer over UTF-8 bytes. It finds field boundaries without copying or
 * decoding: `starts[i]`/`ends[i]` delimit field i (quotes excluded), `flags[i]` says whether it
 * was quoted or needs unescaping. Quoted fields may contain delimiters, doubled quotes and line
 * breaks; rows end at LF, CRLF or CR.
 */
export class CsvScanner {
  starts: Int32Array = new Int32Array(64);
  ends: Int32Array = new Int32Array(64);
  flags: Uint8Array = new Uint8Array(64);
  /** Position just after the row terminator of the last complete row. */
  rowEnd = 0;
  /** Line breaks inside quoted fields of the last row (for line numbers). */
  innerLines = 0;
  private readonly delimiter: number;
  private readonly quote: number;
  /** Largest byte that can end an unquoted field: one comparison skips most bytes. */
  private readonly maxStop: number;
  /** The delimiter in each byte of a 32-bit word, for {@link skipPlain}'s four-bytes-at-a-time test. */
  private readonly delimiterWord: number;
  /** The buffer {@link words} views (re-made when `scanRow` is given another buffer). */
  private wordsOf: Uint8Array | undefined;
  /** `buf` as 32-bit words when its start is 4-byte aligned (chunks from disk are), else undefined. */
  private words: Int32Array | undefined;

  constructor(delimiter: number, quote: number) {
    this.delimiter = delimiter;
    this.quote = quote;
    this.maxStop = Math.max(delimiter, LF, CR);
    this.delimiterWord = Math.imul(delimiter, 0x01010101);
  }

  /**
   * The first byte at or after `j` (before `end`) that ends an unquoted field: a delimiter, LF or
   * CR, or `end`. Long fields (addresses, comments, e-mail addresses) are skipped four bytes at a
   * time: a word that holds no delimiter and no byte below 14 cannot hold a stop byte.
   */
  private skipPlain(buf: Uint8Array, j: number, end: number): number {
    const delimiter = this.delimiter;
    const maxStop = this.maxStop;
    const words = this.words;
    // Byte by byte up to a word boundary (and for short fields, which mostly end there).
    while (j < end && (words === undefined || (j & 3) !== 0)) {
      const c = buf[j] as number;
      if (c <= maxStop && (c === delimiter || c === LF || c === CR)) return j;
      j++;
    }
    if (words === undefined || j >= end) return j;
    const dw = this.delimiterWord;
    const lastWord = end >> 2;
    for (;;) {
      let w = j >> 2;
      while (w < lastWord) {
        const v = words[w] as number;
        const x = v ^ dw;
        // Standard SWAR tests: a zero byte in x (the delimiter in v), a byte below 14 in v (LF, CR).
        if (((((x - 0x01010101) & ~x) | ((v - 0x0e0e0e0e) & ~v)) & 0x80808080) !== 0) break;
        w++;
      }
      j = w << 2;
      const stop = Math.min(end, j + 4);
      for (; j < stop; j++) {
        const c = buf[j] as number;
        if (c <= maxStop && (c === delimiter || c === LF || c === CR)) return j;
      }
      if (j >= end) return end;
      // A byte below 14 that is not LF or CR (a tab, say): keep going from the next word.
    }
  }

  private grow(): void {
    const n = this.starts.length * 2;
    const s = new Int32Array(n);
    s.set(this.starts);
    this.starts = s;
    const e = new Int32Array(n);
    e.set(this.ends);
    this.ends = e;
    const f = new Uint8Array(n);
    f.set(this.flags);
    this.flags = f;
  }

  /**
   * Scans one row starting at `pos`. Returns the number of fields, {@link NEED_MORE} when the row
   * continues past `end` (and `final` is false), {@link BAD_QUOTE} for a stray character after a
   * closing quote, or {@link UNCLOSED_QUOTE} for a quote still open at the end of the input.
   * Field i is written at index `at + i` of `starts`, `ends` and `flags` (several rows side by side
   * for column-wise parsing).
   */
  scanRow(buf: Uint8Array, pos: number, end: number, final: boolean, at = 0): number {
    const delimiter = this.delimiter;
    const quote = this.quote;
    let field = at;
    let i = pos;
    this.innerLines = 0;
    if (buf !== this.wordsOf) {
      this.wordsOf = buf;
      this.words = (buf.byteOffset & 3) === 0 ? new Int32Array(buf.buffer, buf.byteOffset, buf.length >> 2) : undefined;
    }
    for (;;) {
      if (field >= this.starts.length) this.grow();
      if (i < end && buf[i] === quote) {
        const open = i + 1;
        let j = open;
        let escaped = false;
        for (;;) {
          j = buf.indexOf(quote, j);
          if (j === -1 || j >= end) {
            return final ? UNCLOSED_QUOTE : NEED_MORE;
          }
          if (j + 1 < end) {
            if (buf[j + 1] === quote) {
              escaped = true;
              j += 2;
              continue;
            }
            break;
          }
          if (!final) return NEED_MORE;
          break;
        }
        this.starts[field] = open;
        this.ends[field] = j;
        this.flags[field] = escaped ? FIELD_ESCAPED : FIELD_QUOTED;
        let nl = buf.indexOf(LF, open);
        while (nl !== -1 && nl < j) {
          this.innerLines++;
          nl = buf.indexOf(LF, nl + 1);
        }
        i = j + 1;
        if (i >= end) {
          if (!final) return NEED_MORE;
          this.rowEnd = end;
          return field + 1 - at;
        }
        const c = buf[i];
        if (c === delimiter) {
          field++;
          i++;
          continue;
        }
        if (c === LF) {
          this.rowEnd = i + 1;
          return field + 1 - at;
        }
        if (c === CR) {
          if (i + 1 >= end && !final) return NEED_MORE;
          this.rowEnd = buf[i + 1] === LF ? i + 2 : i + 1;
          return field + 1 - at;
        }
        this.rowEnd = i;
        return BAD_QUOTE;
      }
      const j = this.skipPlain(buf, i, end);
      const c = j < end ? (buf[j] as number) : 0;
      this.starts[field] = i;
      this.ends[field] = j;
      this.flags[field] = FIELD_PLAIN;
      if (j >= end) {
        if (!final) return NEED_MORE;
        this.rowEnd = end;
        return field + 1 - at;
      }
      if (c === delimiter) {
        field++;
        i = j + 1;
        continue;
      }
      if (c === LF) {
        this.rowEnd = j + 1;
        return field + 1 - at;
      }
      if (j + 1 >= end && !final) return NEED_MORE;
      this.rowEnd = buf[j + 1] === LF ? j + 2 : j + 1;
      return field + 1 - at;
    }
  }
}

/** Copies a quoted field's bytes with doubled quotes collapsed; returns the length written. */
export function unescapeQuotes(buf: Uint8Array, start: number, end: number, quote: number, out: Uint8Array): number {
  return textParse.collapseDoubledQuotes(buf, start, end, quote, out, 0);
}
