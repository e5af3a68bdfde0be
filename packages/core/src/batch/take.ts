import { DataType, makeData, RecordBatch, Struct, type Data } from 'apache-arrow';
import { markBuffersOwned } from './batch-builder.js';

function bitAt(bitmap: Uint8Array, i: number): boolean {
  return (((bitmap[i >> 3] as number) >> (i & 7)) & 1) === 1;
}

function takeValidity(data: Data, indices: ArrayLike<number>): { nullBitmap: Uint8Array | undefined; nullCount: number } {
  if (data.nullCount === 0 || !data.nullBitmap || data.nullBitmap.length === 0) return { nullBitmap: undefined, nullCount: 0 };
  const out = new Uint8Array(Math.ceil(indices.length / 8));
  let nulls = 0;
  for (let i = 0; i < indices.length; i++) {
    if (bitAt(data.nullBitmap, data.offset + (indices[i] as number))) (out[i >> 3] as number) |= 1 << (i & 7);
    else nulls++;
  }
  return { nullBitmap: nulls ? out : undefined, nullCount: nulls };
}

/** Copies the rows at `indices` of one column into new buffers. */
export function takeData(data: Data, indices: ArrayLike<number>): Data {
  const n = indices.length;
  const { nullBitmap, nullCount } = takeValidity(data, indices);
  const type = data.type;
  const base = data.offset;
  if (data.children.length > 0 && !data.valueOffsets) {
    // struct: children share the row positions
    // Struct children are sliced together with their parent: same row positions.
    const children = data.children.map((child) => takeData(child, indices));
    return makeData({ type, length: n, nullCount, nullBitmap, children } as Parameters<typeof makeData>[0]);
  }
  if (data.valueOffsets && data.children.length > 0) {
    // list: gather child ranges
    const src = data.valueOffsets as Int32Array;
    const offsets = new Int32Array(n + 1);
    const childRows: number[] = [];
    for (let i = 0; i < n; i++) {
      const idx = base + (indices[i] as number);
      for (let k = src[idx] as number; k < (src[idx + 1] as number); k++) childRows.push(k - (data.children[0] as Data).offset);
      offsets[i + 1] = childRows.length;
    }
    const child = takeData(data.children[0] as Data, childRows);
    return makeData({ type, length: n, nullCount, nullBitmap, valueOffsets: offsets, child } as Parameters<typeof makeData>[0]);
  }
  if (data.valueOffsets) {
    // utf8 / binary
    const src = data.valueOffsets as Int32Array;
    const bytes = data.values as Uint8Array;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const idx = base + (indices[i] as number);
      total += (src[idx + 1] as number) - (src[idx] as number);
    }
    const out = new Uint8Array(total);
    const offsets = new Int32Array(n + 1);
    let pos = 0;
    for (let i = 0; i < n; i++) {
      const idx = base + (indices[i] as number);
      const s = src[idx] as number;
      const e = src[idx + 1] as number;
      out.set(bytes.subarray(s, e), pos);
      pos += e - s;
      offsets[i + 1] = pos;
    }
    return makeData({ type, length: n, nullCount, nullBitmap, valueOffsets: offsets, data: out } as Parameters<typeof makeData>[0]);
  }
  if (DataType.isBool(type)) {
    const bits = data.values as Uint8Array;
    const out = new Uint8Array(Math.ceil(n / 8));
    for (let i = 0; i < n; i++) if (bitAt(bits, base + (indices[i] as number))) (out[i >> 3] as number) |= 1 << (i & 7);
    return makeData({ type, length: n, nullCount, nullBitmap, data: out } as Parameters<typeof makeData>[0]);
  }
  // fixed width: values per row = stride (Decimal128 has 4 words per row)
  const src = data.values as unknown as ArrayLike<number | bigint> & { constructor: new (n: number) => { [i: number]: number | bigint } };
  const stride = (data as unknown as { stride?: number }).stride ?? 1;
  const out = new src.constructor(n * stride);
  for (let i = 0; i < n; i++) {
    const from = (base + (indices[i] as number)) * stride;
    for (let s = 0; s < stride; s++) out[i * stride + s] = src[from + s] as number | bigint;
  }
  return makeData({ type, length: n, nullCount, nullBitmap, data: out } as Parameters<typeof makeData>[0]);
}

/** A new batch with only the rows at `indices` (in that order). Its buffers are its own. */
export function takeRows(batch: RecordBatch, indices: ArrayLike<number>): RecordBatch {
  const children = batch.data.children.map((c) => takeData(c, indices));
  const data = makeData({ type: new Struct(batch.schema.fields), length: indices.length, nullCount: 0, children });
  return markBuffersOwned(new RecordBatch(batch.schema, data));
}
