import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { parquetMetadata, parquetReadObjects, readOffsetIndex } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import * as P from 'parquet-wasm/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript module (loaded by path by the encoder worker)
import { ZstdPageRewriter } from './zstd-pages.mjs';
// @ts-expect-error plain JavaScript module
import { readStruct, writeStruct } from './thrift-compact.mjs';

const FIXTURES = fileURLToPath(new URL('../../testing/fixtures/parquet/', import.meta.url));
// The binding the encoder thread uses (the package's wrapper ignores the level).
const { compress } = createRequire(import.meta.url)('@mongodb-js/zstd/bindings.js') as { compress: (data: Buffer, level: number) => Promise<Buffer> };
const zstd = (bytes: Uint8Array, level: number): Promise<Uint8Array> => compress(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), level);

/** Rewrites `bytes` handed over in pieces cut at `cuts` (as a stream would cut them). */
async function rewrite(bytes: Uint8Array, cuts: number[]): Promise<Uint8Array> {
  const rewriter = new ZstdPageRewriter(zstd, 1);
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    parts.push(await rewriter.rewrite(bytes.subarray(at, cut)));
    at = cut;
  }
  parts.push(await rewriter.finish(new Uint8Array(0)));
  return Buffer.concat(parts);
}

/** Cut points: the first bytes one by one, then a seeded scatter (page headers and bodies get split). */
function cutsFor(length: number, seed: number): number[] {
  const cuts = new Set([1, 2, 3, 5, 8, 13]);
  let s = seed;
  for (let i = 0; i < 40; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    cuts.add(1 + (s % (length - 1)));
  }
  return [...cuts].filter((c) => c < length).sort((a, b) => a - b);
}

let dir: string;
let db: DuckDBConnection;
const rows = async (sql: string): Promise<Record<string, unknown>[]> => (await db.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dativo-zstd-pages-'));
  db = await (await DuckDBInstance.create(':memory:')).connect();
});
afterAll(() => {
  db?.closeSync();
  rmSync(dir, { recursive: true, force: true });
});

/** Rewrites a file and checks, with DuckDB and hyparquet, that it is the same data in zstd. */
async function checkRewrite(name: string, original: Uint8Array): Promise<{ before: string; after: string }> {
  const before = path.join(dir, `${name}.before.parquet`);
  const after = path.join(dir, `${name}.after.parquet`);
  writeFileSync(before, original);
  const rewritten = await rewrite(original, cutsFor(original.length, name.length));
  writeFileSync(after, rewritten);

  // DuckDB: same rows, both ways, and every column chunk zstd with its value counts and statistics kept.
  for (const [a, b] of [
    [before, after],
    [after, before],
  ]) {
    expect(await rows(`SELECT count(*)::INTEGER AS n FROM (SELECT * FROM read_parquet('${a}') EXCEPT ALL SELECT * FROM read_parquet('${b}'))`)).toEqual([{ n: 0 }]);
  }
  const meta = (file: string) =>
    rows(`SELECT row_group_id, column_id, num_values, compression, stats_min_value, stats_max_value, stats_null_count FROM parquet_metadata('${file}') ORDER BY 1, 2`);
  const [m0, m1] = [await meta(before), await meta(after)];
  expect(m1.map((r) => r.compression)).toEqual(m1.map(() => 'ZSTD'));
  const strip = (m: Record<string, unknown>[]) => m.map(({ compression: _, ...rest }) => rest);
  expect(strip(m1)).toEqual(strip(m0));

  // hyparquet (a second, independent reader): the same objects, and chunk sizes that add up.
  const ab = (bytes: Uint8Array) => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const file = ab(rewritten);
  // A row range from the middle (hyparquet plans it from the page locations); all of small files.
  const total = Number(parquetMetadata(file).num_rows);
  const range = total > 2_000 ? { rowStart: Math.floor(total / 2) - 250, rowEnd: Math.floor(total / 2) + 250 } : {};
  const read = async (buffer: ArrayBuffer) => parquetReadObjects({ file: buffer, compressors, ...range });
  expect(JSON.stringify(await read(file), (_, v) => (typeof v === 'bigint' ? v.toString() : v))).toEqual(
    JSON.stringify(await read(ab(original)), (_, v) => (typeof v === 'bigint' ? v.toString() : v)),
  );
  const firstRows: bigint[][] = [];
  const metadata = parquetMetadata(file);
  for (const group of metadata.row_groups) {
    let total = 0n;
    for (const chunk of group.columns) {
      const m = chunk.meta_data!;
      expect(m.codec).toBe('ZSTD');
      total += m.total_compressed_size;
      if (chunk.offset_index_offset !== undefined) {
        // The offset index lists the data pages back to back up to the chunk's end (a dictionary
        // page may come first), with the original first rows.
        const locations = readOffsetIndex({ view: new DataView(file, Number(chunk.offset_index_offset), chunk.offset_index_length), offset: 0 }).page_locations;
        const start = m.dictionary_page_offset && m.dictionary_page_offset > 0n ? m.dictionary_page_offset : m.data_page_offset;
        expect(locations[0]!.offset >= start).toBe(true);
        const gaps = locations.filter((l, i) => i > 0 && l.offset !== locations[i - 1]!.offset + BigInt(locations[i - 1]!.compressed_page_size));
        expect(gaps).toEqual([]);
        const last = locations.at(-1)!;
        expect(last.offset + BigInt(last.compressed_page_size)).toBe(start + m.total_compressed_size);
        firstRows.push(locations.map((l) => l.first_row_index));
      }
    }
    if (group.total_compressed_size !== undefined) expect(group.total_compressed_size).toBe(total);
  }
  const originalFile = ab(original);
  const originalFirstRows = parquetMetadata(originalFile).row_groups.flatMap((g) =>
    g.columns.filter((c) => c.offset_index_offset !== undefined).map((c) => readOffsetIndex({ view: new DataView(originalFile, Number(c.offset_index_offset), c.offset_index_length), offset: 0 }).page_locations.map((l) => l.first_row_index)),
  );
  expect(firstRows).toEqual(originalFirstRows);
  return { before, after };
}

describe('thrift compact protocol', () => {
  it('reads and writes back a footer byte for byte', () => {
    for (const name of ['alltypes_tiny_pages', 'nullable.impala', 'plain-dict-uncompressed-checksum']) {
      const bytes = readFileSync(path.join(FIXTURES, `${name}.parquet`));
      const length = bytes.readUInt32LE(bytes.length - 8);
      const footer = bytes.subarray(bytes.length - 8 - length, bytes.length - 8);
      const { value, end } = readStruct(footer);
      expect(end).toBe(footer.length);
      expect(Buffer.from(writeStruct(value)).equals(footer)).toBe(true);
    }
  });
});

describe('ZstdPageRewriter', () => {
  it.each(['alltypes_tiny_pages', 'nullable.impala', 'plain-dict-uncompressed-checksum', 'delta_byte_array'])(
    'compresses the pages of %s (parquet-testing) with every value, statistic and index intact',
    async (name) => {
      const original = readFileSync(path.join(FIXTURES, `${name}.parquet`));
      await checkRewrite(name, original);
    },
  );

  it.each([
    ['data page v1', P.WriterVersion.V1],
    ['data page v2', P.WriterVersion.V2],
  ])('matches the values of parquet-wasm writing zstd itself (%s)', async (label, version) => {
    const n = 30_000;
    const table = tableFromArrays({
      id: Int32Array.from({ length: n }, (_, i) => i),
      state: Array.from({ length: n }, (_, i) => (i % 11 === 0 ? null : `state-${i % 50}`)),
      email: Array.from({ length: n }, (_, i) => `user${i * 7919}@example${i % 13}.com`),
      amount: Float64Array.from({ length: n }, (_, i) => i / 7),
    });
    const write = (compression: P.Compression) =>
      P.writeParquet(
        P.Table.fromIPCStream(tableToIPC(table, 'stream')),
        new P.WriterPropertiesBuilder()
          .setCompression(compression)
          .setWriterVersion(version)
          .setMaxRowGroupSize(7_000)
          .setDictionaryEnabled(false)
          .setColumnDictionaryEnabled('state', true)
          .setColumnEncoding('id', P.Encoding.DELTA_BINARY_PACKED)
          .build(),
      );
    const { after } = await checkRewrite(`wasm-${label.replaceAll(' ', '-')}`, write(P.Compression.UNCOMPRESSED));
    const zstdByWasm = path.join(dir, `wasm-zstd-${version}.parquet`);
    const wasmBytes = write(P.Compression.ZSTD);
    writeFileSync(zstdByWasm, wasmBytes);
    expect(await rows(`SELECT count(*)::INTEGER AS n FROM (SELECT * FROM read_parquet('${after}') EXCEPT ALL SELECT * FROM read_parquet('${zstdByWasm}'))`)).toEqual([{ n: 0 }]);
    expect(await rows(`SELECT count(*)::INTEGER AS n FROM read_parquet('${after}')`)).toEqual([{ n }]);
    // Same codec and level as the writer's own zstd: a size of the same order (docs/benchmarks.md
    // has the sizes at scale, where the native path's files are smaller).
    const size = readFileSync(after).length;
    expect(Math.abs(size - wasmBytes.length) / wasmBytes.length).toBeLessThan(0.25);
  });

  it('refuses layouts it cannot rewrite, with the reason', async () => {
    // Column metadata written inline after each chunk (old writers): not pages back to back.
    await expect(rewrite(readFileSync(path.join(FIXTURES, 'alltypes_plain.parquet')), [100])).rejects.toThrow(/unexpected Parquet layout/);
    // A file that is already compressed.
    const table = tableFromArrays({ id: Int32Array.from({ length: 100 }, (_, i) => i) });
    const compressed = P.writeParquet(P.Table.fromIPCStream(tableToIPC(table, 'stream')), new P.WriterPropertiesBuilder().setCompression(P.Compression.SNAPPY).build());
    await expect(rewrite(compressed, [])).rejects.toThrow(/unexpected Parquet layout \((column already compressed|not an uncompressed page header)/);
    // Not Parquet at all.
    await expect(rewrite(new TextEncoder().encode('id,name\n1,a\n'), [])).rejects.toThrow(/unexpected Parquet layout/);
  });
});
