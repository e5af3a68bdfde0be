import { describe, expect, it } from 'vitest';
import { parseDataType, type FieldSpec } from '../schema/types.js';
import { BatchBuilder, buffersOwned } from './batch-builder.js';
import { appendTextFast, createColumnBuilder, type StringBuilder } from './builders/index.js';
import { readRows } from './read-rows.js';

const field = (name: string, type: string, nullable = true): FieldSpec => ({ name, type: parseDataType(type), nullable });

const ALL: FieldSpec[] = [
  field('s', 'string'),
  field('i', 'int'),
  field('l', 'bigint'),
  field('sm', 'smallint'),
  field('d', 'double'),
  field('r', 'real'),
  field('dec', 'decimal(20,4)'),
  field('b', 'boolean'),
  field('dt', 'date'),
  field('tm', 'time'),
  field('ts', 'timestamp'),
  field('tz', 'timestamptz'),
  field('bin', 'binary'),
  field('j', 'json'),
  field('arr', 'array<int>'),
  field('st', 'struct<a:string,b:array<date>>'),
];

describe('column builders', () => {
  it('append text and JS values of every type and read them back exactly', () => {
    const builder = new BatchBuilder(ALL, { maxRows: 10 });
    const text: Record<string, string> = {
      s: 'héllo, 世界 🎉', i: '-2147483648', l: '9223372036854775807', sm: '32767', d: '3.5', r: '0.25', dec: '-1234567890123456.7891',
      b: 'yes', dt: '2024-02-29', tm: '12:34:56.789', ts: '2024-01-15 09:30:00.000001', tz: '2024-06-02T08:15:30+02:00',
      bin: '\\x00ff10', j: '{"a":[1,2]}', arr: '[1,2,null]', st: '{"a":"x","b":["2020-01-01"]}',
    };
    for (const [i, c] of builder.columns.entries()) {
      const t = Buffer.from(text[ALL[i]!.name]!, 'utf8');
      expect(appendTextFast(c, t, 0, t.length), ALL[i]!.name).toBeUndefined();
    }
    builder.endRow();
    expect(
      builder.appendRecord({ s: 'x', i: 7, l: 2n ** 62n, sm: -1, d: 1e-300, r: 1.5, dec: 0.5, b: false, dt: new Date(Date.UTC(2000, 0, 1)), tm: null, ts: new Date(Date.UTC(2001, 1, 2, 3, 4, 5, 6)), tz: 0, bin: new Uint8Array([1, 2]), j: { k: [true, null] }, arr: [], st: { a: null, b: [] } }),
    ).toBeUndefined();
    expect(builder.appendRecord({})).toBeUndefined(); // all nulls
    const batch = builder.flush();
    expect(batch?.numRows).toBe(3);
    expect(buffersOwned(batch!)).toBe(true);
    const rows = [...readRows(batch!, ALL)];
    expect(rows[0]).toEqual({
      s: 'héllo, 世界 🎉', i: -2147483648, l: 9223372036854775807n, sm: 32767, d: 3.5, r: 0.25, dec: '-1234567890123456.7891',
      b: true, dt: '2024-02-29', tm: '12:34:56.789000', ts: '2024-01-15T09:30:00.000001', tz: '2024-06-02T06:15:30.000000Z',
      bin: new Uint8Array([0, 255, 16]), j: '{"a":[1,2]}', arr: [1, 2, null], st: { a: 'x', b: ['2020-01-01'] },
    });
    expect(rows[1]).toMatchObject({ l: 2n ** 62n, dec: '0.5000', dt: '2000-01-01', tm: null, ts: '2001-02-02T03:04:05.006000', tz: '1970-01-01T00:00:00.000000Z', j: '{"k":[true,null]}', arr: [], st: { a: null, b: [] } });
    expect(Object.values(rows[2]!).every((v) => v === null)).toBe(true);
    expect(batch!.schema.fields.map((f) => String(f.type))).toEqual([
      'Utf8', 'Int32', 'Int64', 'Int16', 'Float64', 'Float32', 'Decimal[20e+4]', 'Bool', 'Date32<DAY>', 'Time64<MICROSECOND>',
      'Timestamp<MICROSECOND>', 'Timestamp<MICROSECOND, UTC>', 'Binary', 'Utf8', 'List<Int32>', 'Struct<{a:Utf8, b:List<Date32<DAY>>}>',
    ]);
  });

  it('explains rejected values and leaves nothing appended', () => {
    const cases: Array<[string, string, string]> = [
      ['int', 'abc', 'is not an integer'],
      ['int', '2147483648', 'is out of range for integer (-2147483648..2147483647)'],
      ['bigint', '9223372036854775808', 'is out of range for bigint (64-bit)'],
      ['double', '1,5', 'is not a number'],
      ['decimal(5,2)', '1.234', 'has more than 2 digits after the decimal point'],
      ['boolean', 'maybe', 'is not a boolean'],
      ['date', '2024-02-30', 'is not a date (YYYY-MM-DD)'],
      ['timestamp', 'noon', 'is not a timestamp'],
      ['json', '{bad', 'is not valid JSON'],
      ['json', `${'['.repeat(501)}${']'.repeat(501)}`, 'is nested more than 500 levels deep (arrays and objects within each other), more than readers such as BigQuery accept'],
      ['double', '1e400', 'is out of range for double (magnitude above 1.797693e+308)'],
      ['double', '-1e309', 'is out of range for double (magnitude above 1.797693e+308)'],
      ['real', '1e39', 'is out of range for real (magnitude above 3.402823e+38)'],
      ['binary', '@@', 'is not valid base64'],
    ];
    for (const [type, value, message] of cases) {
      const c = createColumnBuilder(field('c', type), 4);
      const t = Buffer.from(value);
      expect(c.appendText(t, 0, t.length), `${type} ${value}`).toBe(message);
      expect(c.length).toBe(0);
    }
  });

  it('keeps written infinities, deep-but-allowed JSON (brackets in strings do not count) and the largest finite doubles', () => {
    const ok: Array<[string, string]> = [
      ['double', 'inf'],
      ['double', '-Infinity'],
      ['double', '1.7976931348623157e308'],
      ['real', '3.4e38'],
      ['json', `${'['.repeat(500)}${']'.repeat(500)}`],
      ['json', JSON.stringify({ text: '['.repeat(10_000) })],
    ];
    for (const [type, value] of ok) {
      const c = createColumnBuilder(field('c', type), 4);
      const t = Buffer.from(value);
      expect(c.appendText(t, 0, t.length), `${type} ${value.slice(0, 20)}`).toBeUndefined();
    }
  });

  it('reports missing required values and rolls back the whole row', () => {
    const builder = new BatchBuilder([field('a', 'int'), field('b', 'string', false)]);
    expect(builder.appendRecord({ a: 1 })).toEqual({ column: 'b', message: 'is required but missing' });
    expect(builder.appendRecord({ a: 'x', b: 'ok' })).toEqual({ column: 'a', message: 'is not an integer' });
    expect(builder.rows).toBe(0);
    expect(builder.columns.every((c) => c.length === 0)).toBe(true);
    expect(builder.appendRecord({ a: 2, b: 'ok' })).toBeUndefined();
    expect([...readRows(builder.flush()!, builder.fields)]).toEqual([{ a: 2, b: 'ok' }]);
  });

  it('grows past its initial capacity and closes batches at the row and byte limits', () => {
    const builder = new BatchBuilder([field('s', 'string')], { maxRows: 100, maxBytes: 2000 });
    let rows = 0;
    while (!builder.full) {
      builder.appendRecord({ s: 'x'.repeat(10) });
      rows++;
    }
    expect(rows).toBe(100);
    const wide = new BatchBuilder([field('s', 'string')], { maxRows: 100_000, maxBytes: 10_000 });
    let n = 0;
    while (!wide.full) {
      wide.appendRecord({ s: 'y'.repeat(100) });
      n++;
    }
    expect(n).toBe(256); // checked every 256 rows
    expect(wide.flush()!.numRows).toBe(256);
  });

  it('copy values of every length exactly, through the copy loop and the native copy', () => {
    const builder = new BatchBuilder([field('s', 'string')], { maxRows: 20 });
    const lengths = [0, 1, 23, 24, 255, 256, 257, 5000];
    const texts = lengths.map((n) => Array.from({ length: n }, (_, i) => String.fromCharCode(97 + ((i * 7 + n) % 26))).join(''));
    const buf = Buffer.from(`|${texts.join('|')}|`);
    let at = 1;
    for (const text of texts) {
      expect(appendTextFast(builder.columns[0]!, buf, at, at + text.length)).toBeUndefined();
      builder.endRow();
      at += text.length + 1;
    }
    expect([...readRows(builder.flush()!, builder.fields)].map((r) => r.s)).toEqual(texts);
  });

  it('collapse doubled quotes while appending, growing the value buffer as needed', () => {
    const builder = new BatchBuilder([field('s', 'string')], { maxRows: 10 });
    const column = builder.columns[0] as StringBuilder;
    const inside = (text: string): [Buffer, number, number] => {
      const buf = Buffer.from(`x"${text}"y`);
      return [buf, 2, buf.length - 2];
    };
    const long = `${'word ""quoted"" '.repeat(300)}é""`; // past the initial 1 KiB value buffer
    for (const text of ['say ""hi""', '""', '""""', 'no quotes', long]) {
      column.appendUnescaped(...inside(text), 34);
      builder.endRow();
    }
    column.appendNull();
    builder.endRow();
    expect([...readRows(builder.flush()!, builder.fields)].map((r) => r.s)).toEqual(['say "hi"', '"', '""', 'no quotes', long.replaceAll('""', '"'), null]);
  });

  it('truncate recounts nulls after lazily created validity', () => {
    const c = createColumnBuilder(field('x', 'int'), 8);
    c.appendValue(1);
    c.appendValue(null);
    c.appendValue(3);
    c.appendValue(null);
    c.truncate(2);
    expect(c.nullCount).toBe(1);
    c.appendValue(5);
    const data = c.finish();
    expect(data.length).toBe(3);
    expect(data.nullCount).toBe(1);
  });
});
