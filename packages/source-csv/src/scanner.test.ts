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
});
