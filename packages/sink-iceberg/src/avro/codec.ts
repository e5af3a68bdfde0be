import { randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';

/**
 * A small Avro implementation for Iceberg manifests and manifest lists: the binary encoding and
 * the object container file (null and deflate codecs). Schemas are plain JSON objects, so
 * attributes Iceberg needs (`field-id`, `element-id`, `logicalType: map`) are written as given.
 */
export type AvroSchema =
  | 'null'
  | 'boolean'
  | 'int'
  | 'long'
  | 'float'
  | 'double'
  | 'bytes'
  | 'string'
  | AvroSchema[]
  | { type: 'record'; name: string; fields: AvroField[]; [attr: string]: unknown }
  | { type: 'array'; items: AvroSchema; [attr: string]: unknown }
  | { type: 'map'; values: AvroSchema; [attr: string]: unknown }
  | { type: 'fixed'; name: string; size: number; [attr: string]: unknown }
  | { type: 'enum'; name: string; symbols: string[]; [attr: string]: unknown }
  | { type: 'null' | 'boolean' | 'int' | 'long' | 'float' | 'double' | 'bytes' | 'string'; [attr: string]: unknown };

export interface AvroField {
  name: string;
  type: AvroSchema;
  doc?: string;
  default?: unknown;
  'field-id'?: number;
  [attr: string]: unknown;
}

const MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]); // "Obj" 1

/** Growable byte buffer with Avro's primitive encodings. */
class ByteWriter {
  buf = Buffer.allocUnsafe(1024);
  pos = 0;

  private ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + extra) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  /** Zig-zag varint of a 64-bit integer (number when safe, else bigint). */
  long(value: number | bigint): void {
    if (typeof value === 'number' && Number.isSafeInteger(value) && Math.abs(value) < 2 ** 31) {
      let n = ((value << 1) ^ (value >> 31)) >>> 0;
      while (n > 0x7f) {
        this.byte((n & 0x7f) | 0x80);
        n >>>= 7;
      }
      this.byte(n);
      return;
    }
    let n = BigInt(value);
    n = n >= 0n ? n << 1n : (-n << 1n) - 1n;
    while (n > 0x7fn) {
      this.byte(Number(n & 0x7fn) | 0x80);
      n >>= 7n;
    }
    this.byte(Number(n));
  }

  bytes(data: Uint8Array): void {
    this.long(data.length);
    this.raw(data);
  }

  raw(data: Uint8Array): void {
    this.ensure(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  float(v: number): void {
    this.ensure(4);
    this.buf.writeFloatLE(v, this.pos);
    this.pos += 4;
  }

  double(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  result(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/** Reads Avro primitives from a buffer. */
class ByteReader {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  long(): number | bigint {
    let shift = 0;
    let result = 0;
    let b: number;
    do {
      b = this.buf[this.pos++] as number;
      if (b === undefined) throw new RangeError('Avro data ends inside a number');
      if (shift >= 28) return this.longSlow(result, shift, b);
      result |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    return (result >>> 1) ^ -(result & 1);
  }

  private longSlow(low: number, shift: number, first: number): number | bigint {
    let n = BigInt(low >>> 0) | (BigInt(first & 0x7f) << BigInt(shift));
    let b = first;
    let s = BigInt(shift + 7);
    while (b & 0x80) {
      b = this.buf[this.pos++] as number;
      n |= BigInt(b & 0x7f) << s;
      s += 7n;
    }
    const v = (n >> 1n) ^ -(n & 1n);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }

  int(): number {
    return Number(this.long());
  }

  bytes(): Buffer {
    const len = this.int();
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  string(): string {
    return this.bytes().toString('utf8');
  }
}

type Named = Map<string, AvroSchema>;

function typeName(schema: AvroSchema): string {
  if (typeof schema === 'string') return schema;
  if (Array.isArray(schema)) return 'union';
  return schema.type;
}

function resolve(schema: AvroSchema, named: Named): AvroSchema {
  if (typeof schema === 'string' && !['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string'].includes(schema)) {
    const found = named.get(schema);
    if (!found) throw new Error(`unknown Avro type '${schema}'`);
    return found;
  }
  if (typeof schema === 'object' && !Array.isArray(schema) && 'name' in schema && typeof schema.name === 'string') named.set(schema.name, schema);
  return schema;
}

function matches(schema: AvroSchema, value: unknown): boolean {
  switch (typeName(schema)) {
    case 'null':
      return value === null || value === undefined;
    case 'boolean':
      return typeof value === 'boolean';
    case 'int':
    case 'long':
      return typeof value === 'number' || typeof value === 'bigint';
    case 'float':
    case 'double':
      return typeof value === 'number';
    case 'bytes':
    case 'fixed':
      return value instanceof Uint8Array;
    case 'string':
    case 'enum':
      return typeof value === 'string';
    case 'array':
      return Array.isArray(value);
    case 'map':
    case 'record':
      return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
    default:
      return false;
  }
}

function write(w: ByteWriter, schema: AvroSchema, value: unknown, named: Named, path: string): void {
  const s = resolve(schema, named);
  if (Array.isArray(s)) {
    const index = s.findIndex((branch) => matches(resolve(branch, named), value));
    if (index < 0) throw new TypeError(`${path}: ${JSON.stringify(value)} matches no branch of union ${JSON.stringify(s.map(typeName))}`);
    w.long(index);
    write(w, s[index] as AvroSchema, value, named, path);
    return;
  }
  switch (typeName(s)) {
    case 'null':
      return;
    case 'boolean':
      w.byte(value ? 1 : 0);
      return;
    case 'int':
    case 'long':
      if (typeof value !== 'number' && typeof value !== 'bigint') throw new TypeError(`${path}: expected an integer, got ${String(value)}`);
      w.long(value);
      return;
    case 'float':
      w.float(value as number);
      return;
    case 'double':
      w.double(value as number);
      return;
    case 'bytes':
      w.bytes(value as Uint8Array);
      return;
    case 'fixed':
      w.raw(value as Uint8Array);
      return;
    case 'string':
      w.bytes(Buffer.from(String(value), 'utf8'));
      return;
    case 'enum': {
      const symbols = (s as { symbols: string[] }).symbols;
      w.long(symbols.indexOf(value as string));
      return;
    }
    case 'array': {
      const items = value as unknown[];
      if (items.length > 0) {
        w.long(items.length);
        const itemSchema = (s as { items: AvroSchema }).items;
        items.forEach((item, i) => write(w, itemSchema, item, named, `${path}[${i}]`));
      }
      w.long(0);
      return;
    }
    case 'map': {
      const entries = Object.entries(value as Record<string, unknown>);
      if (entries.length > 0) {
        w.long(entries.length);
        for (const [k, v] of entries) {
          w.bytes(Buffer.from(k, 'utf8'));
          write(w, (s as { values: AvroSchema }).values, v, named, `${path}.${k}`);
        }
      }
      w.long(0);
      return;
    }
    case 'record': {
      const record = value as Record<string, unknown>;
      for (const field of (s as { fields: AvroField[] }).fields) write(w, field.type, record[field.name] ?? null, named, `${path}.${field.name}`);
      return;
    }
    default:
      throw new TypeError(`${path}: unsupported Avro type ${typeName(s)}`);
  }
}

function read(r: ByteReader, schema: AvroSchema, named: Named): unknown {
  const s = resolve(schema, named);
  if (Array.isArray(s)) return read(r, s[r.int()] as AvroSchema, named);
  switch (typeName(s)) {
    case 'null':
      return null;
    case 'boolean':
      return r.buf[r.pos++] !== 0;
    case 'int':
      return r.int();
    case 'long':
      return r.long();
    case 'float': {
      const v = r.buf.readFloatLE(r.pos);
      r.pos += 4;
      return v;
    }
    case 'double': {
      const v = r.buf.readDoubleLE(r.pos);
      r.pos += 8;
      return v;
    }
    case 'bytes':
      return Uint8Array.from(r.bytes());
    case 'fixed': {
      const size = (s as { size: number }).size;
      const out = Uint8Array.from(r.buf.subarray(r.pos, r.pos + size));
      r.pos += size;
      return out;
    }
    case 'string':
      return r.string();
    case 'enum':
      return (s as { symbols: string[] }).symbols[r.int()];
    case 'array': {
      const out: unknown[] = [];
      for (;;) {
        let count = r.int();
        if (count === 0) break;
        if (count < 0) {
          count = -count;
          r.long(); // block size in bytes
        }
        for (let i = 0; i < count; i++) out.push(read(r, (s as { items: AvroSchema }).items, named));
      }
      return out;
    }
    case 'map': {
      const out: Record<string, unknown> = {};
      for (;;) {
        let count = r.int();
        if (count === 0) break;
        if (count < 0) {
          count = -count;
          r.long();
        }
        for (let i = 0; i < count; i++) {
          const key = r.string();
          out[key] = read(r, (s as { values: AvroSchema }).values, named);
        }
      }
      return out;
    }
    case 'record': {
      const out: Record<string, unknown> = {};
      for (const field of (s as { fields: AvroField[] }).fields) out[field.name] = read(r, field.type, named);
      return out;
    }
    default:
      throw new TypeError(`unsupported Avro type ${typeName(s)}`);
  }
}

/** Encodes one value (no container), e.g. for tests. */
export function encodeAvro(schema: AvroSchema, value: unknown): Buffer {
  const w = new ByteWriter();
  write(w, schema, value, new Map(), '$');
  return w.result();
}

export interface AvroFileOptions {
  /** `deflate` (default, as Iceberg writes) or `null`. */
  codec?: 'deflate' | 'null';
  /** Extra key-value metadata in the file header (Iceberg: schema, partition-spec, …). */
  metadata?: Record<string, string>;
  /** Records per block. */
  blockSize?: number;
}

/** Writes records as an Avro object container file. */
export function writeAvroFile(schema: AvroSchema, records: readonly unknown[], options: AvroFileOptions = {}): Buffer {
  const codec = options.codec ?? 'deflate';
  const sync = randomBytes(16);
  const header = new ByteWriter();
  header.raw(MAGIC);
  const meta: Record<string, Uint8Array> = { 'avro.schema': Buffer.from(JSON.stringify(schema), 'utf8'), 'avro.codec': Buffer.from(codec, 'utf8') };
  for (const [k, v] of Object.entries(options.metadata ?? {})) meta[k] = Buffer.from(v, 'utf8');
  write(header, { type: 'map', values: 'bytes' }, meta, new Map(), 'header');
  header.raw(sync);
  const blockSize = options.blockSize ?? 4096;
  const named: Named = new Map();
  for (let start = 0; start < records.length; start += blockSize) {
    const block = new ByteWriter();
    const slice = records.slice(start, start + blockSize);
    slice.forEach((record, i) => write(block, schema, record, named, `record ${start + i}`));
    const body = codec === 'deflate' ? deflateRawSync(block.result()) : block.result();
    header.long(slice.length);
    header.long(body.length);
    header.raw(body);
    header.raw(sync);
  }
  return Buffer.from(header.result());
}

export interface AvroFile {
  schema: AvroSchema;
  metadata: Record<string, string>;
  records: unknown[];
}

/** Reads an Avro object container file (null and deflate codecs) with its writer schema. */
export function readAvroFile(data: Uint8Array): AvroFile {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf.length < 4 || !buf.subarray(0, 4).equals(MAGIC)) throw new Error('not an Avro object container file (bad magic)');
  const r = new ByteReader(buf);
  r.pos = 4;
  const raw = read(r, { type: 'map', values: 'bytes' }, new Map()) as Record<string, Uint8Array>;
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) metadata[k] = Buffer.from(v).toString('utf8');
  const schema = JSON.parse(metadata['avro.schema'] ?? 'null') as AvroSchema;
  const codec = metadata['avro.codec'] ?? 'null';
  if (codec !== 'null' && codec !== 'deflate') throw new Error(`Avro codec '${codec}' is not supported (null and deflate are)`);
  const sync = buf.subarray(r.pos, r.pos + 16);
  r.pos += 16;
  const records: unknown[] = [];
  const named: Named = new Map();
  while (r.pos < buf.length) {
    const count = r.int();
    const size = r.int();
    const body = buf.subarray(r.pos, r.pos + size);
    r.pos += size;
    const block = new ByteReader(codec === 'deflate' ? inflateRawSync(body) : body);
    for (let i = 0; i < count; i++) records.push(read(block, schema, named));
    if (!buf.subarray(r.pos, r.pos + 16).equals(sync)) throw new Error('Avro file is corrupt (sync marker mismatch)');
    r.pos += 16;
  }
  return { schema, metadata, records };
}
