import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { encodeAvro, readAvroFile, writeAvroFile, type AvroSchema } from './codec.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '__fixtures__');

describe('Avro codec', () => {
  it('encodes primitives as the Avro spec says', () => {
    expect([...encodeAvro('long', 0)]).toEqual([0]);
    expect([...encodeAvro('long', -1)]).toEqual([1]);
    expect([...encodeAvro('long', 1)]).toEqual([2]);
    expect([...encodeAvro('long', -64)]).toEqual([0x7f]);
    expect([...encodeAvro('long', 64)]).toEqual([0x80, 0x01]);
    expect([...encodeAvro('string', 'foo')]).toEqual([6, 0x66, 0x6f, 0x6f]);
    expect([...encodeAvro(['null', 'string'], null)]).toEqual([0]);
    expect([...encodeAvro(['null', 'string'], 'a')]).toEqual([2, 2, 0x61]);
    expect([...encodeAvro({ type: 'array', items: 'int' }, [1, 2])]).toEqual([4, 2, 4, 0]);
  });

  it('round-trips records with 64-bit values, unions, arrays, maps and bytes through a deflate container', () => {
    const schema: AvroSchema = {
      type: 'record',
      name: 'r',
      fields: [
        { name: 'id', type: 'long', 'field-id': 1 },
        { name: 'big', type: ['null', 'long'] },
        { name: 'tags', type: { type: 'array', items: 'string', 'element-id': 3 } },
        { name: 'm', type: { type: 'map', values: 'int' } },
        { name: 'b', type: ['null', 'bytes'] },
        { name: 'f', type: 'double' },
        { name: 'ok', type: 'boolean' },
      ],
    };
    const records = Array.from({ length: 5000 }, (_, i) => ({
      id: i * 1_000_003,
      big: i % 2 === 0 ? null : 9_223_372_036_854_775_807n - BigInt(i),
      tags: i % 3 === 0 ? [] : [`t${i}`, 'é😀'],
      m: { a: i, b: 0 - i },
      b: i % 5 === 0 ? null : Uint8Array.from([i & 255, 0, 255]),
      f: i / 7,
      ok: i % 2 === 0,
    }));
    const file = writeAvroFile(schema, records, { metadata: { 'format-version': '2' }, blockSize: 700 });
    const back = readAvroFile(file);
    expect(back.metadata['format-version']).toBe('2');
    expect(back.metadata['avro.codec']).toBe('deflate');
    expect(back.schema).toEqual(schema);
    expect(back.records).toEqual(records);
  });

  it('reads manifest lists written by Iceberg Java', () => {
    const file = readAvroFile(readFileSync(path.join(fixtures, 'manifest-list-v2-1.avro')));
    expect(file.metadata['format-version']).toBe('2');
    expect(file.metadata['snapshot-id']).toBe('6653143792592159268');
    expect(file.records.length).toBeGreaterThan(0);
    const first = file.records[0] as Record<string, unknown>;
    expect(String(first.manifest_path)).toMatch(/\.avro$/);
    expect(first.added_snapshot_id).toBe(6653143792592159268n);
  });
});
