// Thrift compact protocol, generic: a struct is read into a list of fields that keeps every field
// (known or not) and is written back byte-for-byte the same unless a field was changed. Enough to
// rewrite Parquet page headers and footers (see zstd-pages.mjs). Plain JavaScript: the encoder
// worker loads it by path.
//
// Values: BOOL → boolean, I8/I16/I32 → number, I64 → bigint, DOUBLE → its 8 bytes, BINARY →
// Uint8Array (a view of the input), LIST/SET → { elemType, items }, MAP → { keyType, valueType,
// entries: [key, value][] }, STRUCT → Field[] where Field = { id, type, value }.

export const T = {
  STOP: 0,
  TRUE: 1,
  FALSE: 2,
  I8: 3,
  I16: 4,
  I32: 5,
  I64: 6,
  DOUBLE: 7,
  BINARY: 8,
  LIST: 9,
  SET: 10,
  MAP: 11,
  STRUCT: 12,
};

/** Reads compact-protocol values from `bytes` starting at `pos`. */
export class ThriftReader {
  constructor(bytes, pos = 0) {
    this.bytes = bytes;
    this.pos = pos;
  }

  byte() {
    if (this.pos >= this.bytes.length) throw new RangeError('thrift: read past the end');
    return this.bytes[this.pos++];
  }

  varint() {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 70n) throw new RangeError('thrift: varint too long');
    }
  }

  smallVarint() {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 5; i++) {
      const b = this.byte();
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return result;
      mul *= 128;
    }
    throw new RangeError('thrift: 32-bit varint too long');
  }

  zigzag32() {
    const n = this.smallVarint();
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }

  zigzag64() {
    const n = this.varint();
    return (n >> 1n) ^ -(n & 1n);
  }

  value(type) {
    switch (type) {
      case T.TRUE:
        return true;
      case T.FALSE:
        return false;
      case T.I8: {
        const b = this.byte();
        return b > 127 ? b - 256 : b;
      }
      case T.I16:
      case T.I32:
        return this.zigzag32();
      case T.I64:
        return this.zigzag64();
      case T.DOUBLE:
        return this.take(8);
      case T.BINARY:
        return this.take(this.smallVarint());
      case T.LIST:
      case T.SET: {
        const header = this.byte();
        const elemType = header & 0x0f;
        const size = header >> 4 === 15 ? this.smallVarint() : header >> 4;
        const items = new Array(size);
        // A boolean element is one byte (its raw value is kept).
        for (let i = 0; i < size; i++) items[i] = elemType === T.TRUE || elemType === T.FALSE ? this.byte() : this.value(elemType);
        return { elemType, items };
      }
      case T.MAP: {
        const size = this.smallVarint();
        if (size === 0) return { keyType: 0, valueType: 0, entries: [] };
        const types = this.byte();
        const keyType = types >> 4;
        const valueType = types & 0x0f;
        const entries = [];
        for (let i = 0; i < size; i++) entries.push([this.value(keyType), this.value(valueType)]);
        return { keyType, valueType, entries };
      }
      case T.STRUCT:
        return this.struct();
      default:
        throw new RangeError(`thrift: unknown type ${type}`);
    }
  }

  take(n) {
    if (this.pos + n > this.bytes.length) throw new RangeError('thrift: read past the end');
    const view = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return view;
  }

  struct() {
    const fields = [];
    let lastId = 0;
    for (;;) {
      const header = this.byte();
      const type = header & 0x0f;
      if (type === T.STOP) return fields;
      const delta = header >> 4;
      const id = delta === 0 ? this.zigzag32() : lastId + delta;
      lastId = id;
      fields.push({ id, type, value: this.value(type) });
    }
  }
}

/** Writes compact-protocol values into a growing buffer. */
export class ThriftWriter {
  constructor(capacity = 256) {
    this.bytes = new Uint8Array(capacity);
    this.pos = 0;
  }

  ensure(n) {
    if (this.pos + n <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.pos + n));
    grown.set(this.bytes.subarray(0, this.pos));
    this.bytes = grown;
  }

  byte(b) {
    this.ensure(1);
    this.bytes[this.pos++] = b;
  }

  varint(n) {
    let v = BigInt(n);
    do {
      let b = Number(v & 0x7fn);
      v >>= 7n;
      if (v > 0n) b |= 0x80;
      this.byte(b);
    } while (v > 0n);
  }

  smallVarint(n) {
    let v = n;
    while (v >= 0x80) {
      this.byte((v % 128) | 0x80);
      v = Math.floor(v / 128);
    }
    this.byte(v);
  }

  zigzag32(n) {
    this.smallVarint(n >= 0 ? n * 2 : -n * 2 - 1);
  }

  zigzag64(n) {
    const v = BigInt(n);
    this.varint((v << 1n) ^ (v >> 63n));
  }

  raw(bytes) {
    this.ensure(bytes.length);
    this.bytes.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  value(type, value) {
    switch (type) {
      case T.TRUE:
      case T.FALSE:
        return; // the value is the field type
      case T.I8:
        return this.byte(value & 0xff);
      case T.I16:
      case T.I32:
        return this.zigzag32(value);
      case T.I64:
        return this.zigzag64(value);
      case T.DOUBLE:
        return this.raw(value);
      case T.BINARY:
        this.smallVarint(value.length);
        return this.raw(value);
      case T.LIST:
      case T.SET: {
        const size = value.items.length;
        if (size < 15) this.byte((size << 4) | value.elemType);
        else {
          this.byte(0xf0 | value.elemType);
          this.smallVarint(size);
        }
        for (const item of value.items) {
          if (value.elemType === T.TRUE || value.elemType === T.FALSE) this.byte(item);
          else this.value(value.elemType, item);
        }
        return;
      }
      case T.MAP:
        this.smallVarint(value.entries.length);
        if (value.entries.length === 0) return;
        this.byte((value.keyType << 4) | value.valueType);
        for (const [k, v] of value.entries) {
          this.value(value.keyType, k);
          this.value(value.valueType, v);
        }
        return;
      case T.STRUCT:
        return this.struct(value);
      default:
        throw new RangeError(`thrift: unknown type ${type}`);
    }
  }

  struct(fields) {
    let lastId = 0;
    for (const field of fields) {
      const delta = field.id - lastId;
      if (delta > 0 && delta <= 15) this.byte((delta << 4) | field.type);
      else {
        this.byte(field.type);
        this.zigzag32(field.id);
      }
      lastId = field.id;
      this.value(field.type, field.value);
    }
    this.byte(T.STOP);
  }

  /** The bytes written so far. */
  finish() {
    return this.bytes.subarray(0, this.pos);
  }
}

export function readStruct(bytes, pos = 0) {
  const reader = new ThriftReader(bytes, pos);
  const value = reader.struct();
  return { value, end: reader.pos };
}

export function writeStruct(fields) {
  const writer = new ThriftWriter();
  writer.struct(fields);
  return writer.finish();
}

/** The field with this id, or undefined. */
export function field(fields, id) {
  return fields.find((f) => f.id === id);
}

/** Sets (or adds, keeping ids in order) a field. */
export function setField(fields, id, type, value) {
  const at = fields.findIndex((f) => f.id === id);
  if (at >= 0) {
    fields[at] = { id, type, value };
    return;
  }
  const before = fields.findIndex((f) => f.id > id);
  fields.splice(before < 0 ? fields.length : before, 0, { id, type, value });
}

export function removeField(fields, id) {
  const at = fields.findIndex((f) => f.id === id);
  if (at >= 0) fields.splice(at, 1);
}
