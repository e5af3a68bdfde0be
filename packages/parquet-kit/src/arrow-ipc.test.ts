import {
  Binary,
  Bool,
  DateDay,
  DateMillisecond,
  Decimal,
  Dictionary,
  Field,
  FixedSizeBinary,
  FixedSizeList,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  Int8,
  List,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  tableFromIPC,
  tableToIPC,
  TimeMillisecond,
  TimestampMicrosecond,
  Uint8,
  Utf8,
  vectorFromArray,
  type DataType,
  type Vector,
} from 'apache-arrow';
import * as P from 'parquet-wasm/node';
import { describe, expect, it } from 'vitest';
import { countNulls, IpcStreamWriter } from './arrow-ipc.mjs';
import { serializeBatch } from './batch-transfer.js';
import { schemaLayout } from './ipc-layout.js';

const ROWS = 203;

/** Values for row i of each column: nulls scattered differently per column, every type the writer lays out. */
const columns: [string, DataType, (i: number) => unknown][] = [
  ['i8', new Int8(), (i) => (i % 7 === 0 ? null : (i % 250) - 125)],
  ['i16', new Int16(), (i) => i * 100 - 9000],
  ['i32', new Int32(), (i) => (i % 5 === 3 ? null : i * 1_000_003)],
  ['i64', new Int64(), (i) => (i % 9 === 1 ? null : BigInt(i) * 10_000_000_000n - 7n)],
  ['u8', new Uint8(), (i) => i % 256],
  ['f32', new Float32(), (i) => (i % 4 === 0 ? null : i / 8)],
  ['f64', new Float64(), (i) => (i % 13 === 0 ? Number.NaN : i * 1.5 - 100)],
  ['flag', new Bool(), (i) => (i % 6 === 0 ? null : i % 3 === 0)],
  ['day', new DateDay(), (i) => (i % 8 === 2 ? null : new Date(Date.UTC(2020, 0, 1 + i)))],
  ['ms_date', new DateMillisecond(), (i) => new Date(Date.UTC(2021, 5, 1 + (i % 28)))],
  ['time', new TimeMillisecond(), (i) => (i * 37_000) % 86_400_000],
  ['ts', new TimestampMicrosecond(), (i) => (i % 10 === 0 ? null : 1_700_000_000_000 + i * 1001)],
  ['text', new Utf8(), (i) => (i % 11 === 0 ? null : `row ${i} ${'é'.repeat(i % 5)}`)],
  ['empty_text', new Utf8(), (i) => (i % 3 === 0 ? '' : `t${i}`)],
  ['blob', new Binary(), (i) => (i % 17 === 0 ? null : Uint8Array.from({ length: i % 6 }, (_, k) => (i + k) & 0xff))],
  ['fixed', new FixedSizeBinary(3), (i) => (i % 19 === 0 ? null : Uint8Array.of(i & 0xff, (i >> 8) & 0xff, 7))],
  ['list', new List(new Field('item', new Int32(), true)), (i) => (i % 12 === 0 ? null : Array.from({ length: i % 4 }, (_, k) => (k === 1 && i % 5 === 0 ? null : i * 10 + k)))],
  ['list_text', new List(new Field('item', new Utf8(), true)), (i) => Array.from({ length: (i * 7) % 3 }, (_, k) => `${i}:${k}`)],
  ['pair', new FixedSizeList(2, new Field('item', new Float64(), true)), (i) => (i % 15 === 0 ? null : [i, i % 4 === 0 ? null : -i])],
  [
    'point',
    new Struct([new Field('x', new Int32(), true), new Field('label', new Utf8(), true), new Field('tags', new List(new Field('item', new Utf8(), true)), true)]),
    (i) => (i % 14 === 0 ? null : { x: i % 3 === 0 ? null : i, label: `p${i}`, tags: i % 2 === 0 ? [`a${i}`] : [] }),
  ],
];

function sampleBatch(): RecordBatch {
  const vectors: Record<string, Vector> = {};
  for (const [name, type, value] of columns) vectors[name] = vectorFromArray(Array.from({ length: ROWS }, (_, i) => value(i)), type) as Vector;
  // Decimal(12, 2): 128-bit little-endian words, built from the raw buffer (vectorFromArray takes no decimals).
  const words = new Uint32Array(ROWS * 4);
  for (let i = 0; i < ROWS; i++) {
    const v = BigInt.asUintN(128, BigInt(i * 12_345 - 1_000_000));
    for (let k = 0; k < 4; k++) words[i * 4 + k] = Number((v >> BigInt(32 * k)) & 0xffffffffn);
  }
  const table = new Table(vectors);
  const decimal = new Field('amount', new Decimal(2, 12, 128), true);
  const schema = new Schema([...table.schema.fields, decimal]);
  const amount = makeData({ type: decimal.type, length: ROWS, data: words });
  const children = [...table.batches[0]!.data.children, amount];
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: ROWS, nullCount: 0, children }));
}

/** Rows of a table as plain values (bigints, NaN and bytes compared as they are). */
const rowsOf = (table: Table): unknown[] => table.toArray().map((row) => JSON.parse(JSON.stringify(row.toJSON(), (_, v) => (typeof v === 'bigint' ? `${v}n` : Number.isNaN(v) ? 'NaN' : v instanceof Uint8Array ? [...v] : v))));

describe('IpcStreamWriter', () => {
  const batch = sampleBatch();
  const layout = schemaLayout(batch.schema);
  const schemaStream = tableToIPC(new Table(batch.schema), 'stream');

  it('lays out every column type the sources build', () => {
    expect(layout.columns).toHaveLength(columns.length + 1);
    expect(layout.fields.find((f) => f.name === 'text')).toEqual({ name: 'text', string: true, integerLike: false });
    expect(layout.fields.find((f) => f.name === 'ts')).toEqual({ name: 'ts', string: false, integerLike: true });
  });

  // Slices at byte-aligned and unaligned rows, of a whole batch and of batches that are themselves
  // slices (Arrow's offsets: bitmaps by bit, values already sliced, struct children sliced too).
  const cases: [string, () => RecordBatch, [number, number][]][] = [
    ['a whole batch', () => batch, [[0, ROWS], [0, 64], [64, 64], [3, 50], [13, 1], [200, 3], [ROWS, 0]]],
    ['a sliced batch (rows 5 to 149)', () => batch.slice(5, 150), [[0, 145], [0, 8], [3, 100], [141, 4]]],
    ['a slice of a slice (rows 16 to 109)', () => batch.slice(9, 190).slice(7, 101), [[0, 94], [1, 92], [8, 16], [90, 4]]],
  ];
  for (const [what, source, ranges] of cases) {
    it(`writes streams Arrow (JS and Rust) read back value for value: ${what}`, () => {
      const input = source();
      const { payload } = serializeBatch(input);
      const writer = new IpcStreamWriter(schemaStream, layout.columns!);
      for (const [start, count] of ranges) {
        const bytes = writer.write(payload.columns, start, count).slice();
        const expected = rowsOf(new Table([input.slice(start, start + count)]));
        const js = tableFromIPC(bytes);
        expect(js.numRows).toBe(count);
        expect(js.schema.fields.map((f) => String(f.type))).toEqual(batch.schema.fields.map((f) => String(f.type)));
        expect(rowsOf(js)).toEqual(expected);
        // parquet-wasm (arrow-rs, flatbuffer verifier included) reads it too, and writes back the same values.
        const wasm = P.Table.fromIPCStream(bytes);
        expect(rowsOf(tableFromIPC(wasm.intoIPCStream()))).toEqual(expected);
      }
    });
  }

  it('reuses its buffer: a stream is a view the next write overwrites, grown when a slice needs more', () => {
    const { payload } = serializeBatch(batch);
    const writer = new IpcStreamWriter(schemaStream, layout.columns!);
    const small = writer.write(payload.columns, 0, 10);
    const again = writer.write(payload.columns, 10, 10);
    expect(again.buffer).toBe(small.buffer);
    expect(tableFromIPC(again.slice()).getChild('i32')!.toArray()).toEqual(batch.getChild('i32')!.slice(10, 20).toArray());
  });

  it('refuses a schema that is not an IPC stream', () => {
    expect(() => new IpcStreamWriter(new Uint8Array(16), layout.columns!)).toThrow(/not an Arrow IPC stream/);
  });
});

describe('schemaLayout', () => {
  it('leaves types the writer does not lay out to Arrow (dictionaries)', () => {
    const table = new Table({ city: vectorFromArray(['a', 'b', 'a'], new Dictionary(new Utf8(), new Int32())), n: vectorFromArray([1, 2, 3], new Int32()) });
    const layout = schemaLayout(table.schema);
    expect(layout.columns).toBeUndefined();
    expect(layout.fields).toEqual([
      { name: 'city', string: false, integerLike: false },
      { name: 'n', string: false, integerLike: true },
    ]);
  });
});

describe('countNulls', () => {
  it('counts the zero bits of any range of a bitmap', () => {
    const bitmap = Uint8Array.from({ length: 40 }, (_, i) => (i * 73 + 11) & 0xff);
    const naive = (from: number, count: number) => {
      let n = 0;
      for (let i = from; i < from + count; i++) n += ((bitmap[i >> 3]! >> (i & 7)) & 1) === 0 ? 1 : 0;
      return n;
    };
    for (const [from, count] of [[0, 320], [3, 5], [3, 300], [8, 64], [13, 0], [250, 70], [7, 1]] as const) {
      expect(countNulls(bitmap, from, count)).toBe(naive(from, count));
    }
  });
});
