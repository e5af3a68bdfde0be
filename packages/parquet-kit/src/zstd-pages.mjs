// Compresses the pages of an uncompressed Parquet file with zstd as the file streams by, and
// rewrites what points into it (page headers, column chunk metadata, offset indexes, footer), so
// the result is the file the writer would have written with zstd itself. The encoder thread uses it
// with a native zstd (about 2.5× faster than the writer's WebAssembly zstd, and run on libuv's
// thread pool beside the encoding). Plain JavaScript: the encoder worker loads it by path.
//
// Layout it expects (what parquet-rs writes): "PAR1", pages back to back, then the page indexes
// (column and offset indexes) and the footer. Chunks may be cut anywhere: `rewrite` compresses the
// whole pages it has and keeps the rest (a cut page, or what follows the last page) for the next
// call; `finish` checks the rest against the footer, so nothing is taken for a page that is not one. Anything else (bloom
// filters, encryption, an already compressed column) is refused with an error, never passed on
// half-rewritten.
import { availableParallelism } from 'node:os';
import { T, readStruct, writeStruct, field, setField, removeField } from './thrift-compact.mjs';

const MAGIC = [0x50, 0x41, 0x52, 0x31]; // PAR1
/**
 * Pages compressed at once, each a task on libuv's thread pool: one per core (at most 4, the pool's
 * size). More only competes with the threads that read and encode (measured: docs/benchmarks.md).
 */
const COMPRESS_CONCURRENCY = Math.max(1, Math.min(4, availableParallelism()));
const CODEC_UNCOMPRESSED = 0;
const CODEC_ZSTD = 6;
const PAGE_TYPES = { DATA: 0, INDEX: 1, DICTIONARY: 2, DATA_V2: 3 };
const PAGE_TYPE_SET = new Set(Object.values(PAGE_TYPES));

function layoutError(message) {
  return new Error(`zstd page rewrite: unexpected Parquet layout (${message})`);
}

function concat(a, b) {
  if (!a || a.length === 0) return b;
  if (b.length === 0) return a;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** The parts copied into one new buffer of their own (it is transferred to the main thread). */
function join(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const num = (f) => (f === undefined ? undefined : Number(f.value));

export class ZstdPageRewriter {
  /**
   * @param {(bytes: Uint8Array, level: number) => Promise<Uint8Array>} compress
   * @param {number} level
   */
  constructor(compress, level = 1) {
    this.compress = compress;
    this.level = level;
    /** Input bytes not yet rewritten (a page cut by the chunk boundary). */
    this.pending = new Uint8Array(0);
    /** Absolute input offset of pending[0], and bytes output so far. */
    this.inPos = 0;
    this.outPos = 0;
    /** Input offset of a page start or end → its output offset and the header growth before it. */
    this.offsets = new Map();
    this.headerGrowth = 0;
  }

  /** Rewrites a chunk that is not the file's last; returns the output bytes it completes. */
  async rewrite(chunk) {
    const bytes = concat(this.pending, chunk);
    const { out, used } = await this.pages(bytes, Infinity);
    this.pending = bytes.slice(used);
    return out;
  }

  /** Rewrites the file's last chunk (last pages, page indexes, footer). */
  async finish(chunk) {
    const bytes = concat(this.pending, chunk);
    this.pending = new Uint8Array(0);
    const base = this.inPos;
    const n = bytes.length;
    if (n < 8 || MAGIC.some((b, i) => bytes[n - 4 + i] !== b)) throw layoutError('no footer at the end');
    const footerLength = new DataView(bytes.buffer, bytes.byteOffset + n - 8, 4).getUint32(0, true);
    const footerAt = n - 8 - footerLength; // relative to bytes
    if (footerAt < 0) throw layoutError('footer longer than the tail');
    const { value: meta } = readStruct(bytes, footerAt);
    if (field(meta, 8)) throw layoutError('encrypted file');
    const rowGroups = field(meta, 4)?.value.items ?? [];

    // Where the last column chunk ends: everything before is pages.
    let pagesEnd = 4;
    for (const rowGroup of rowGroups) {
      for (const chunkFields of field(rowGroup, 1).value.items) {
        const meta3 = field(chunkFields, 3)?.value;
        if (!meta3) throw layoutError('column chunk without metadata');
        if (num(field(meta3, 4)) !== CODEC_UNCOMPRESSED) throw layoutError('column already compressed');
        if (field(meta3, 14)) throw layoutError('bloom filter');
        pagesEnd = Math.max(pagesEnd, chunkStart(meta3) + num(field(meta3, 7)));
      }
    }
    const pagesUsed = pagesEnd - base;
    if (pagesUsed < 0 || pagesUsed > footerAt) throw layoutError('pages end outside the tail');
    const { out: pageBytes, used } = await this.pages(bytes.subarray(0, pagesUsed), pagesEnd);
    if (used !== pagesUsed) throw layoutError('pages do not end where the footer says');

    // Page indexes between the pages and the footer, in file order.
    const indexes = [];
    for (const rowGroup of rowGroups) {
      for (const chunkFields of field(rowGroup, 1).value.items) {
        if (field(chunkFields, 6)) indexes.push({ chunk: chunkFields, at: num(field(chunkFields, 6)), length: num(field(chunkFields, 7)), offsetIndex: false });
        if (field(chunkFields, 4)) indexes.push({ chunk: chunkFields, at: num(field(chunkFields, 4)), length: num(field(chunkFields, 5)), offsetIndex: true });
      }
    }
    indexes.sort((a, b) => a.at - b.at);
    const parts = [pageBytes];
    let inAt = pagesEnd;
    let outAt = this.outPos; // pages() has advanced it past the last page
    for (const index of indexes) {
      if (index.at !== inAt) throw layoutError(`gap or overlap before a page index at ${index.at}`);
      const raw = bytes.subarray(index.at - base, index.at - base + index.length);
      const rewritten = index.offsetIndex ? this.offsetIndex(raw) : raw;
      setField(index.chunk, index.offsetIndex ? 4 : 6, T.I64, BigInt(outAt));
      setField(index.chunk, index.offsetIndex ? 5 : 7, T.I32, rewritten.length);
      parts.push(rewritten);
      inAt += index.length;
      outAt += rewritten.length;
    }
    if (inAt !== base + footerAt) throw layoutError('bytes between the page indexes and the footer');

    for (const rowGroup of rowGroups) {
      let compressed = 0;
      for (const chunkFields of field(rowGroup, 1).value.items) {
        const meta3 = field(chunkFields, 3).value;
        const start = chunkStart(meta3);
        const end = start + num(field(meta3, 7));
        const newStart = this.at(start).pos;
        const newSize = this.at(end).pos - newStart;
        compressed += newSize;
        setField(meta3, 4, T.I32, CODEC_ZSTD);
        setField(meta3, 6, T.I64, BigInt(num(field(meta3, 6)) + this.at(end).growth - this.at(start).growth));
        setField(meta3, 7, T.I64, BigInt(newSize));
        for (const id of [9, 10, 11]) {
          const f = field(meta3, id);
          if (f) setField(meta3, id, T.I64, BigInt(this.at(Number(f.value)).pos));
        }
        const fileOffset = field(chunkFields, 2);
        if (fileOffset && this.offsets.has(Number(fileOffset.value))) setField(chunkFields, 2, T.I64, BigInt(this.at(Number(fileOffset.value)).pos));
      }
      const rgOffset = field(rowGroup, 5);
      if (rgOffset && this.offsets.has(Number(rgOffset.value))) setField(rowGroup, 5, T.I64, BigInt(this.at(Number(rgOffset.value)).pos));
      if (field(rowGroup, 6)) setField(rowGroup, 6, T.I64, BigInt(compressed));
    }
    const footer = writeStruct(meta);
    const tail = new Uint8Array(8);
    new DataView(tail.buffer).setUint32(0, footer.length, true);
    tail.set(MAGIC, 4);
    parts.push(footer, tail);
    const out = join(parts);
    this.outPos += out.length;
    this.inPos = base + n;
    return out;
  }

  /** Compresses page bodies, at most `COMPRESS_CONCURRENCY` at a time (each one is a thread-pool task). */
  async compressAll(bodies) {
    const out = new Array(bodies.length);
    let next = 0;
    const lane = async () => {
      while (next < bodies.length) {
        const i = next++;
        out[i] = await this.compress(bodies[i], this.level);
      }
    };
    await Promise.all(Array.from({ length: Math.min(COMPRESS_CONCURRENCY, bodies.length) }, lane));
    return out;
  }

  at(inputOffset) {
    const entry = this.offsets.get(inputOffset);
    if (!entry) throw layoutError(`offset ${inputOffset} is not a page boundary`);
    return entry;
  }

  /** Re-encodes an offset index with the new page locations and sizes. */
  offsetIndex(raw) {
    const { value } = readStruct(raw);
    for (const location of field(value, 1)?.value.items ?? []) {
      const start = num(field(location, 1));
      const end = start + num(field(location, 2));
      setField(location, 1, T.I64, BigInt(this.at(start).pos));
      setField(location, 2, T.I32, this.at(end).pos - this.at(start).pos);
    }
    return writeStruct(value);
  }

  /**
   * Rewrites the whole pages at the start of `bytes` (which begins at input offset `inPos`), up to
   * absolute offset `limit`; returns the output and how many input bytes it used.
   */
  async pages(bytes, limit) {
    let at = 0;
    const head = [];
    if (this.inPos === 0) {
      if (bytes.length < 4) return { out: new Uint8Array(0), used: 0 };
      if (MAGIC.some((b, i) => bytes[i] !== b)) throw layoutError('no PAR1 magic');
      at = 4;
      head.push(bytes.subarray(0, 4));
      this.offsets.set(4, { pos: this.outPos + 4, growth: 0 });
    }
    const found = [];
    while (at < bytes.length && this.inPos + at < limit) {
      let header;
      let bodyAt;
      try {
        const read = readStruct(bytes, at);
        header = read.value;
        bodyAt = read.end;
      } catch (error) {
        // Open-ended: the header continues in the next chunk, or the pages ended (finish() checks).
        if (limit === Infinity) break;
        throw layoutError(`unreadable page header at ${this.inPos + at}`);
      }
      if (!isUncompressedPageHeader(header)) {
        if (limit === Infinity) break; // past the last page: the page indexes or the footer
        throw layoutError(`not an uncompressed page header at ${this.inPos + at}`);
      }
      const type = header[0].value;
      const size = header[2].value; // equal to the uncompressed size, checked above
      if (bodyAt + size > bytes.length) {
        if (limit === Infinity) break;
        throw layoutError(`page at ${this.inPos + at} runs past the pages`);
      }
      const body = bytes.subarray(bodyAt, bodyAt + size);
      let keep = new Uint8Array(0);
      let toCompress = body;
      const v2 = field(header, 8)?.value;
      if (type === PAGE_TYPES.DATA_V2 && v2) {
        const levels = (num(field(v2, 5)) ?? 0) + (num(field(v2, 6)) ?? 0);
        keep = body.subarray(0, levels);
        toCompress = body.subarray(levels);
        setField(v2, 7, T.TRUE, true);
      }
      found.push({ start: this.inPos + at, headerLength: bodyAt - at, header, keep, body: toCompress });
      at = bodyAt + size;
    }
    const bodies = await this.compressAll(found.map((p) => p.body));
    const parts = head;
    let pos = this.outPos + head.reduce((s, p) => s + p.length, 0);
    found.forEach((page, i) => {
      const body = bodies[i];
      const bodyLength = page.keep.length + body.length;
      setField(page.header, 3, T.I32, bodyLength);
      removeField(page.header, 4); // a CRC of the uncompressed page would be wrong now
      const header = writeStruct(page.header);
      this.offsets.set(page.start, { pos, growth: this.headerGrowth });
      parts.push(header, page.keep, body);
      pos += header.length + bodyLength;
      this.headerGrowth += header.length - page.headerLength;
      const oldEnd = page.start + page.headerLength + num(field(page.header, 2));
      this.offsets.set(oldEnd, { pos, growth: this.headerGrowth });
    });
    const out = join(parts);
    this.outPos = pos;
    this.inPos += at;
    return { out, used: at };
  }
}

/** A page header of an uncompressed page: type, and equal i32 sizes, first. */
function isUncompressedPageHeader(header) {
  const [type, uncompressed, compressed] = header;
  return (
    type?.id === 1 && type.type === T.I32 && PAGE_TYPE_SET.has(type.value) &&
    uncompressed?.id === 2 && uncompressed.type === T.I32 &&
    compressed?.id === 3 && compressed.type === T.I32 && compressed.value === uncompressed.value && compressed.value >= 0
  );
}

function chunkStart(meta) {
  const dictionary = num(field(meta, 11));
  const data = num(field(meta, 9));
  return dictionary !== undefined && dictionary > 0 && dictionary < data ? dictionary : data;
}
