import { buffersOwned, DativoError, markBuffersOwned } from '@dativo/core';
import { DataType, makeData, RecordBatch, Struct, Type, type Data, type Field, type Schema } from 'apache-arrow';

type AnyData = Data;
type MakeProps = Parameters<typeof makeData>[0];

/** An all-null column of an Arrow type (for table columns the source does not have). */
export function nullColumn(type: DataType, length: number): AnyData {
  const nullBitmap = new Uint8Array(Math.ceil(length / 8));
  const base = { type, length, nullCount: length, nullBitmap };
  if (DataType.isStruct(type)) return makeData({ ...base, children: type.children.map((f: Field) => nullColumn(f.type, length)) } as MakeProps);
  if (DataType.isList(type)) return makeData({ ...base, valueOffsets: new Int32Array(length + 1), child: nullColumn((type.children[0] as Field).type, 0) } as MakeProps);
  if (DataType.isUtf8(type) || DataType.isBinary(type)) return makeData({ ...base, valueOffsets: new Int32Array(length + 1), data: new Uint8Array(0) } as MakeProps);
  if (DataType.isBool(type)) return makeData({ ...base, data: new Uint8Array(Math.ceil(length / 8)) } as MakeProps);
  const stride = DataType.isDecimal(type) ? 4 : 1;
  const ArrayType = (type as unknown as { ArrayType: new (n: number) => ArrayBufferView }).ArrayType;
  return makeData({ ...base, data: new ArrayType(length * stride) } as MakeProps);
}

/** A date column holding one value (days since the epoch) in every row: `ingest_date`. */
export function constantDateColumn(type: DataType, length: number, days: number): AnyData {
  return makeData({ type, length, nullCount: 0, data: new Int32Array(length).fill(days) } as MakeProps);
}

function base(data: AnyData, type: DataType): { type: DataType; length: number; nullCount: number; nullBitmap: Uint8Array | undefined; offset: number } {
  return { type, length: data.length, nullCount: data.nullCount, nullBitmap: data.nullBitmap, offset: data.offset };
}

/** Widens 32-bit (or 16-bit) integers to 64-bit without creating a BigInt per value. */
function toInt64(data: AnyData, type: DataType): AnyData {
  const src = data.values as Int32Array | Int16Array;
  const words = new Int32Array(data.length * 2);
  for (let i = 0; i < data.length; i++) {
    const v = src[data.offset + i] as number;
    words[i * 2] = v;
    words[i * 2 + 1] = v < 0 ? -1 : 0;
  }
  return makeData({ ...base(data, type), offset: 0, nullBitmap: sliceBitmap(data), data: new BigInt64Array(words.buffer) } as MakeProps);
}

function sliceBitmap(data: AnyData): Uint8Array | undefined {
  if (!data.nullBitmap || data.nullCount === 0) return undefined;
  if (data.offset === 0) return data.nullBitmap;
  const out = new Uint8Array(Math.ceil(data.length / 8));
  for (let i = 0; i < data.length; i++) if ((((data.nullBitmap[(data.offset + i) >> 3] as number) >> ((data.offset + i) & 7)) & 1) === 1) (out[i >> 3] as number) |= 1 << (i & 7);
  return out;
}

/**
 * Re-types a column to the table's Arrow type: the same buffers when the layout matches (the table
 * type carries the field ids), or a widening copy (int → long, float → double, smallint → int).
 */
export function conformData(data: AnyData, target: DataType, column: string): AnyData {
  const from = data.type;
  const retag = (): AnyData => makeData({ ...base(data, target), ...(data.valueOffsets ? { valueOffsets: data.valueOffsets } : {}), data: data.values } as MakeProps);
  if (DataType.isInt(from) && DataType.isInt(target)) return from.bitWidth === target.bitWidth ? retag() : widenInt(data, target, column);
  if (DataType.isFloat(from) && DataType.isFloat(target)) {
    if (from.precision === target.precision) return retag();
    if (from.precision < target.precision) return makeData({ ...base(data, target), offset: 0, nullBitmap: sliceBitmap(data), data: Float64Array.from((data.values as Float32Array).subarray(data.offset, data.offset + data.length)) } as MakeProps);
  } else if (DataType.isDecimal(from) && DataType.isDecimal(target)) {
    if (from.scale === target.scale && from.precision <= target.precision) return retag(); // same 128-bit layout
  } else if (from.typeId === target.typeId) {
    if (DataType.isStruct(target)) {
      const children = (target.children as Field[]).map((f) => {
        const index = (from.children as Field[]).findIndex((c) => c.name === f.name);
        return index < 0 ? nullColumn(f.type, data.length) : conformData(data.children[index] as AnyData, f.type, `${column}.${f.name}`);
      });
      return makeData({ ...base(data, target), children } as MakeProps);
    }
    if (DataType.isList(target)) {
      const child = conformData(data.children[0] as AnyData, (target.children[0] as Field).type, `${column}.element`);
      return makeData({ ...base(data, target), valueOffsets: data.valueOffsets, child } as MakeProps);
    }
    return retag();
  }
  throw new DativoError(`column '${column}': cannot write ${String(from)} values into a ${String(target)} column`, { kind: 'validation', code: 'ICEBERG_INCOMPATIBLE_SCHEMA' });
}

function widenInt(data: AnyData, target: DataType, column: string): AnyData {
  const from = data.type as DataType<Type.Int> & { bitWidth: number };
  const to = target as DataType<Type.Int> & { bitWidth: number };
  if (to.bitWidth === 64 && from.bitWidth <= 32) return toInt64(data, target);
  if (to.bitWidth === 32 && from.bitWidth === 16) return makeData({ ...base(data, target), offset: 0, nullBitmap: sliceBitmap(data), data: Int32Array.from((data.values as Int16Array).subarray(data.offset, data.offset + data.length)) } as MakeProps);
  throw new DativoError(`column '${column}': cannot narrow ${String(data.type)} to ${String(target)}`, { kind: 'validation', code: 'ICEBERG_INCOMPATIBLE_SCHEMA' });
}

/**
 * Shapes a source batch as the table's schema: columns in table order with the table's types
 * (carrying field ids), missing columns as nulls, and constant columns (ingest_date) filled in.
 */
export function conformBatch(batch: RecordBatch, schema: Schema, constants: ReadonlyMap<string, number> = new Map()): RecordBatch {
  const children = schema.fields.map((field) => {
    const constant = constants.get(field.name);
    if (constant !== undefined) return constantDateColumn(field.type, batch.numRows, constant);
    const index = batch.schema.fields.findIndex((f) => f.name === field.name);
    return index < 0 ? nullColumn(field.type, batch.numRows) : conformData(batch.data.children[index] as AnyData, field.type, field.name);
  });
  const data = makeData({ type: new Struct(schema.fields), length: batch.numRows, nullCount: 0, children });
  const out = new RecordBatch(schema, data);
  return buffersOwned(batch) ? markBuffersOwned(out) : out;
}
