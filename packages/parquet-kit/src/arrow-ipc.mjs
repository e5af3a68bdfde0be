// Arrow IPC stream bytes for a slice of a transferred batch (batch-transfer.ts), written straight
// from its buffers into one reused buffer: what parquet-wasm's `Table.fromIPCStream` reads. Used by
// the encoding thread instead of Apache Arrow's `tableToIPC`, which rebuilt Data objects, copied
// each buffer into a fresh message per slice and made the thread load Arrow's ~150 modules.
//
// A stream is: the schema message (bytes the main thread wrote with Arrow's own writer), one
// record batch message, and the end-of-stream marker. The record batch message is encapsulated as
// the format says (https://arrow.apache.org/docs/format/Columnar.html#encapsulated-message-format):
// 0xFFFFFFFF, the metadata size, a `Message` flatbuffer whose header is a `RecordBatch` (its field
// nodes and buffer locations), then the body: every buffer, 8-byte aligned, in the order of a
// pre-order walk of the columns.
//
// Buffers follow Apache Arrow's JavaScript Data (what the main thread transfers): the validity
// bitmap and boolean values are read from bit `offset + i`; other values and value offsets are
// already sliced (element `i`); a struct's children are sliced like it, a list's child is indexed
// by the list's offsets. The layout of each column (`ipcLayout` in ipc-layout.ts) says which
// buffers it has.

/** @typedef {{ k: 'fixed', width: number } | { k: 'bool' } | { k: 'bytes' } | { k: 'list', child: Layout } | { k: 'fixedList', size: number, child: Layout } | { k: 'struct', children: Layout[] }} Layout */
/** @typedef {{ length: number, nullCount: number, offset: number, values?: ArrayBufferView, valueOffsets?: Int32Array, nullBitmap?: Uint8Array, children: Node[] }} Node */

/** How a buffer of the slice is written: bytes copied, bits moved to bit 0, value offsets moved to 0, zeros. */
const COPY = 0;
const BITS = 1;
const OFFSETS = 2;
const ZEROS = 3;

const CONTINUATION = 0xffffffff;
/** MetadataVersion.V5 */
const VERSION = 4;
/** MessageHeader.RecordBatch */
const RECORD_BATCH = 3;
const EOS_BYTES = 8;

const pad8 = (n) => (n + 7) & ~7;

/** The bytes of a typed array. */
const bytesOf = (view) => (view instanceof Uint8Array ? view : new Uint8Array(view.buffer, view.byteOffset, view.byteLength));

/** Null values among bits [from, from + count) of a validity bitmap. */
export function countNulls(bitmap, from, count) {
  let valid = 0;
  let i = from;
  const end = from + count;
  for (; i < end && (i & 7) !== 0; i++) valid += (bitmap[i >> 3] >> (i & 7)) & 1;
  for (; i + 8 <= end; i += 8) {
    let b = bitmap[i >> 3];
    b -= (b >> 1) & 0x55;
    b = (b & 0x33) + ((b >> 2) & 0x33);
    valid += (b + (b >> 4)) & 0x0f;
  }
  for (; i < end; i++) valid += (bitmap[i >> 3] >> (i & 7)) & 1;
  return count - valid;
}

/**
 * Writes Arrow IPC streams of one schema. `schemaStream` is the schema as an IPC stream with no
 * batches (its end-of-stream marker is dropped here); `layouts` has one entry per column.
 */
export class IpcStreamWriter {
  /**
   * @param {Uint8Array} schemaStream
   * @param {Layout[]} layouts
   */
  constructor(schemaStream, layouts) {
    const n = schemaStream.length;
    const eos = n >= EOS_BYTES && n % 8 === 0 ? new DataView(schemaStream.buffer, schemaStream.byteOffset + n - EOS_BYTES, EOS_BYTES) : undefined;
    if (!eos || eos.getUint32(0, true) !== CONTINUATION || eos.getUint32(4, true) !== 0) throw new Error('the schema is not an Arrow IPC stream');
    this.schema = schemaStream.slice(0, n - EOS_BYTES);
    this.layouts = layouts;
    this.out = new Uint8Array(1 << 20);
    this.view = new DataView(this.out.buffer);
    // The slice being written, gathered before any byte is: field nodes (length, null count), and
    // per buffer how to write it (no buffer is allocated for a slice; everything goes into `out`).
    this.nodes = [];
    /** @type {number[]} */
    this.kind = [];
    /** @type {(Uint8Array | Int32Array | undefined)[]} */
    this.src = [];
    /** @type {number[]} */
    this.from = [];
    /** @type {number[]} */
    this.size = [];
  }

  /**
   * The IPC stream of rows [start, start + count) of a batch's columns. The bytes are a view of a
   * buffer the next call overwrites: read (or copy) them before writing again.
   * @param {Node[]} columns
   */
  write(columns, start, count) {
    this.nodes.length = 0;
    this.kind.length = 0;
    this.src.length = 0;
    this.from.length = 0;
    this.size.length = 0;
    for (let i = 0; i < this.layouts.length; i++) this.visit(this.layouts[i], columns[i], start, count);
    const nodes = this.nodes.length / 2;
    const buffers = this.kind.length;
    const metaBytes = 96 + 16 * nodes + 16 * buffers;
    let body = 0;
    for (let i = 0; i < buffers; i++) body += pad8(this.bytes(i));
    const total = this.schema.length + 8 + metaBytes + body + EOS_BYTES;
    if (total > this.out.length) {
      this.out = new Uint8Array(Math.max(total, Math.ceil(this.out.length * 1.5)));
      this.view = new DataView(this.out.buffer);
    }
    const out = this.out;
    const v = this.view;
    out.set(this.schema, 0);
    let at = this.schema.length;
    v.setUint32(at, CONTINUATION, true);
    v.setInt32(at + 4, metaBytes, true);
    at += 8;
    this.header(at, count, nodes, buffers, body);
    const locations = at + 88 + 16 * nodes + 8;
    at += metaBytes;
    let offset = 0;
    for (let i = 0; i < buffers; i++) {
      const length = this.bytes(i);
      v.setBigInt64(locations + 16 * i, BigInt(offset), true);
      v.setBigInt64(locations + 16 * i + 8, BigInt(length), true);
      this.put(i, at + offset);
      const padded = pad8(length);
      out.fill(0, at + offset + length, at + offset + padded);
      offset += padded;
    }
    at += body;
    v.setUint32(at, CONTINUATION, true);
    v.setUint32(at + 4, 0, true);
    return out.subarray(0, at + EOS_BYTES);
  }

  /** Bytes of buffer `i`. */
  bytes(i) {
    const size = this.size[i];
    switch (this.kind[i]) {
      case BITS:
        return (size + 7) >> 3;
      case OFFSETS:
        return 4 * (size + 1);
      default:
        return size;
    }
  }

  /** Writes buffer `i` at `at` in `out`. */
  put(i, at) {
    const out = this.out;
    const src = this.src[i];
    const from = this.from[i];
    const size = this.size[i];
    if (size === 0 && this.kind[i] !== OFFSETS) return;
    switch (this.kind[i]) {
      case COPY:
        out.set(src.subarray(from, from + size), at);
        return;
      case ZEROS:
        out.fill(0, at, at + size);
        return;
      case BITS: {
        // Bits [from, from + size) moved to start at bit 0.
        const bytes = (size + 7) >> 3;
        const first = from >> 3;
        const shift = from & 7;
        if (shift === 0 && first + bytes <= src.length) out.set(src.subarray(first, first + bytes), at);
        else for (let k = 0; k < bytes; k++) out[at + k] = (((src[first + k] ?? 0) >> shift) | ((src[first + k + 1] ?? 0) << (8 - shift))) & 0xff;
        return;
      }
      case OFFSETS: {
        // Value offsets [from, from + size] moved to begin at 0 (`at` is 8-byte aligned).
        const target = new Int32Array(out.buffer, out.byteOffset + at, size + 1);
        const base = src[from];
        for (let k = 0; k <= size; k++) target[k] = src[from + k] - base;
        return;
      }
    }
  }

  /** Adds a buffer to the slice. */
  add(kind, src, from, size) {
    this.kind.push(kind);
    this.src.push(src);
    this.from.push(from);
    this.size.push(size);
  }

  /**
   * The `Message` flatbuffer at `base` (8-byte aligned in the stream), laid out front to back:
   * root offset · Message vtable · Message table · RecordBatch vtable · RecordBatch table · nodes
   * vector · buffers vector (the buffer locations are filled in by `write`). Every offset points
   * forward, every field sits at its natural alignment.
   */
  header(base, length, nodes, buffers, bodyLength) {
    const v = this.view;
    const u16 = (at, x) => v.setUint16(base + at, x, true);
    const u32 = (at, x) => v.setUint32(base + at, x, true);
    const i64 = (at, x) => v.setBigInt64(base + at, BigInt(x), true);
    u32(0, 16); // root: the Message table
    // Message vtable (4..16): 4 fields (version, header_type, header, bodyLength)
    u16(4, 12);
    u16(6, 24);
    u16(8, 4);
    u16(10, 6);
    u16(12, 8);
    u16(14, 16);
    // Message table (16..40)
    v.setInt32(base + 16, 16 - 4, true);
    v.setInt16(base + 20, VERSION, true);
    v.setUint8(base + 22, RECORD_BATCH);
    v.setUint8(base + 23, 0);
    u32(24, 56 - 24); // header → RecordBatch table
    u32(28, 0);
    i64(32, bodyLength);
    // RecordBatch vtable (40..52): length, nodes, buffers
    u16(40, 10);
    u16(42, 24);
    u16(44, 8);
    u16(46, 4);
    u16(48, 16);
    u16(50, 0);
    u32(52, 0);
    // RecordBatch table (56..80)
    v.setInt32(base + 56, 56 - 40, true);
    u32(60, 84 - 60); // nodes vector
    i64(64, length);
    const buffersAt = 88 + 16 * nodes + 4;
    u32(72, buffersAt - 72); // buffers vector
    u32(76, 0);
    u32(80, 0);
    // nodes: [FieldNode { length: long, null_count: long }]
    u32(84, nodes);
    for (let i = 0; i < nodes; i++) {
      i64(88 + 16 * i, this.nodes[2 * i]);
      i64(88 + 16 * i + 8, this.nodes[2 * i + 1]);
    }
    // buffers: [Buffer { offset: long, length: long }], written with the body
    u32(buffersAt - 4, 0);
    u32(buffersAt, buffers);
  }

  /**
   * Adds the field node and buffers of rows [start, start + count) of one column (and its children).
   * @param {Layout} layout
   * @param {Node} node
   */
  visit(layout, node, start, count) {
    const nulls = node.nullBitmap && node.nullCount > 0 ? countNulls(node.nullBitmap, node.offset + start, count) : 0;
    this.nodes.push(count, nulls);
    if (nulls > 0) this.add(BITS, node.nullBitmap, node.offset + start, count);
    else this.add(COPY, undefined, 0, 0);
    switch (layout.k) {
      case 'fixed':
        if (node.values) this.add(COPY, bytesOf(node.values), start * layout.width, count * layout.width);
        else this.add(ZEROS, undefined, 0, count * layout.width);
        return;
      case 'bool':
        if (node.values) this.add(BITS, bytesOf(node.values), node.offset + start, count);
        else this.add(ZEROS, undefined, 0, (count + 7) >> 3);
        return;
      case 'bytes': {
        const offsets = node.valueOffsets;
        const from = offsets[start];
        this.add(OFFSETS, offsets, start, count);
        this.add(COPY, bytesOf(node.values), from, offsets[start + count] - from);
        return;
      }
      case 'list': {
        const offsets = node.valueOffsets;
        const from = offsets[start];
        this.add(OFFSETS, offsets, start, count);
        this.visit(layout.child, node.children[0], from, offsets[start + count] - from);
        return;
      }
      case 'fixedList':
        this.visit(layout.child, node.children[0], start * layout.size, count * layout.size);
        return;
      case 'struct':
        for (let i = 0; i < layout.children.length; i++) this.visit(layout.children[i], node.children[i], start, count);
        return;
      default:
        throw new Error(`no Arrow IPC layout '${layout.k}'`);
    }
  }
}
