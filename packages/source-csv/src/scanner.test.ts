import { describe, expect, it } from 'vitest';
import { BAD_QUOTE, UNCLOSED_QUOTE, CsvScanner, FIELD_ESCAPED, NEED_MORE, unescapeQuotes } from './scanner.js';

function rows(text: string, delimiter = ','): string[][] {
  const buf = Buffer.from(text, 'utf8');
  const s = new CsvScanner(delimiter.charCodeAt(0), 34);
  const out: string[][] = [];
  let pos = 0;
  while (pos < buf.length) {
    const n = s.scanRow(buf, pos, buf.length, true);
    if (n < 0) throw new Error(`scan failed: ${n}`);
    const row: string[] = [];
    for (let k = 0; k < n; k++) {
      if (s.flags[k] === FIELD_ESCAPED) {
        const out2 = new Uint8Array(buf.length);
        row.push(Buffer.from(out2.subarray(0, unescapeQuotes(buf, s.starts[k]!, s.ends[k]!, 34, out2))).toString());
      } else row.push(buf.subarray(s.starts[k]!, s.ends[k]!).toString());
    }
    out.push(row);
    pos = s.rowEnd;
  }
  return out;
}

describe('CsvScanner (RFC 4180)', () => {
  it('splits plain, quoted and escaped fields with LF, CRLF and CR line ends', () => {
    expect(rows('a,b,c\n1,"x, y","say ""hi"""\r\n"",,end\rlast,row,"n"')).toEqual([
      ['a', 'b', 'c'],
      ['1', 'x, y', 'say "hi"'],
      ['', '', 'end'],
      ['last', 'row', 'n'],
    ]);
  });

  it('keeps line breaks inside quoted fields and counts them', () => {
    const buf = Buffer.from('1,"line one\nline two\r\nthree",x\n');
    const s = new CsvScanner(44, 34);
    expect(s.scanRow(buf, 0, buf.length, false)).toBe(3);
    expect(s.innerLines).toBe(2);
    expect(buf.subarray(s.starts[1]!, s.ends[1]!).toString()).toBe('line one\nline two\r\nthree');
  });

  it('asks for more data when a row may continue past the buffer', () => {
    const s = new CsvScanner(44, 34);
    for (const partial of ['a,b', 'a,"b', 'a,"b"', 'a,b\r', 'a,"x""']) {
      const buf = Buffer.from(partial);
      expect(s.scanRow(buf, 0, buf.length, false), partial).toBe(NEED_MORE);
    }
  });

  it('flags stray characters after a closing quote and unterminated quotes at the end', () => {
    const s = new CsvScanner(44, 34);
    const stray = Buffer.from('"abc"x,1\n');
    expect(s.scanRow(stray, 0, stray.length, false)).toBe(BAD_QUOTE);
    const open = Buffer.from('1,"never closed');
    expect(s.scanRow(open, 0, open.length, true)).toBe(UNCLOSED_QUOTE);
  });

  it('handles other delimiters, wide rows and multi-byte text', () => {
    expect(rows('a\tb\n😀\t"é\t"\n', '\t')).toEqual([
      ['a', 'b'],
      ['😀', 'é\t'],
    ]);
    const wide = Array.from({ length: 300 }, (_, i) => `c${i}`).join(';');
    expect(rows(`${wide}\n`, ';')[0]).toHaveLength(300);
  });

  it('finds the same boundaries four bytes at a time as byte by byte, at every alignment and cut', () => {
    // Unquoted fields of 0–40 bytes with bytes that look like stops to a word test (tab, \x01, \x0b,
    // \x0c) but are not, multi-byte text, and CR / CRLF / LF row ends. Expected rows come from a
    // plain split; the scanner must agree whatever the buffer's alignment (words on 4-byte
    // boundaries or none) and wherever the input is cut.
    let seed = 7;
    const next = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const alphabet = ['a', 'b', 'Z', '0', ' ', '\t', '\x01', '\x0b', '\x0c', 'é', '😀', '.', '-'];
    const expected: string[][] = [];
    let text = '';
    for (let r = 0; r < 300; r++) {
      const row = Array.from({ length: 1 + next(6) }, () => Array.from({ length: next(41) }, () => alphabet[next(alphabet.length)]).join(''));
      expected.push(row);
      text += row.join(',') + ['\n', '\r\n', '\r'][next(3)];
    }
    const bytes = Buffer.from(text, 'utf8');
    for (let shift = 0; shift < 8; shift++) {
      const backing = new Uint8Array(bytes.length + 8);
      backing.set(bytes, shift);
      const buf = backing.subarray(shift, shift + bytes.length);
      const s = new CsvScanner(44, 34);
      const got: string[][] = [];
      let pos = 0;
      while (pos < buf.length) {
        const n = s.scanRow(buf, pos, buf.length, true);
        expect(n).toBeGreaterThan(0);
        got.push(Array.from({ length: n }, (_, k) => Buffer.from(buf.subarray(s.starts[k]!, s.ends[k]!)).toString()));
        pos = s.rowEnd;
      }
      expect(got, `shift ${shift}`).toEqual(expected);
    }
    // Cut anywhere inside a row: more data is needed; scanning up to an `end` before the buffer's
    // end never looks past it.
    const s = new CsvScanner(44, 34);
    const aligned = new Uint8Array(bytes);
    s.scanRow(aligned, 0, aligned.length, true);
    const firstRowEnd = s.rowEnd; // just past its LF, CR or CRLF
    for (let cut = 1; cut < firstRowEnd; cut++) {
      const n = s.scanRow(aligned, 0, cut, false);
      if (aligned[cut - 1] !== 10) expect(n, `cut ${cut}`).toBe(NEED_MORE);
      const last = s.scanRow(aligned, 0, cut, true);
      expect(last).toBeGreaterThan(0);
      expect(s.ends[last - 1]).toBeLessThanOrEqual(cut);
    }
  });
});
