import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { Bool, Dictionary, Float64, Int32, Int64, LargeUtf8, Table, Utf8, vectorFromArray, type RecordBatch } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchBuilder, clearBufferPool, parseDataType, pooledBufferBytes, type FieldSpec } from '@dativo/core';
import { ParquetEncoder, type ColumnStats, type StatsRequest } from './encoder.js';
import { hasSpareEncoderThread, warmEncoderThread } from './encoder-thread.js';

let dir: string;
let db: DuckDBConnection;
beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dativo-encoder-'));
  db = await (await DuckDBInstance.create(':memory:')).connect();
});
afterAll(() => {
  db?.closeSync();
  rmSync(dir, { recursive: true, force: true });
});

/** Encodes 3 batches of 20,000 rows with a fresh encoder thread; returns the file and who compressed. */
async function encode(name: string, compression: string, env: Record<string, string> = {}): Promise<{ file: string; zstd: string | undefined; bytes: number }> {
  const saved = { ...process.env };
  Object.assign(process.env, env); // the encoder thread takes the environment when it starts
  const encoder = new ParquetEncoder();
  Object.assign(process.env, saved);
  for (const key of Object.keys(env)) if (!(key in saved)) delete process.env[key];
  const chunks: Uint8Array[] = [];
  try {
    const file = encoder.open({ compression, rowGroupRows: 8192, dictionaryColumns: ['city'], encoding: 'auto', createdBy: 'dativo test' }, async (chunk) => {
      chunks.push(chunk);
    });
    for (let b = 0; b < 3; b++) {
      const ids = Array.from({ length: 20_000 }, (_, i) => b * 20_000 + i);
      const table = new Table({
        id: vectorFromArray(ids, new Int32()),
        city: vectorFromArray(ids.map((i) => (i % 17 === 0 ? null : `city ${i % 40}`)), new Utf8()),
        note: vectorFromArray(ids.map((i) => `note ${i * 7919} ${'z'.repeat(i % 30)}`), new Utf8()),
      });
      for (const batch of table.batches) await file.write(batch);
    }
    await file.finish();
    const out = path.join(dir, `${name}.parquet`);
    writeFileSync(out, Buffer.concat(chunks));
    return { file: out, zstd: file.zstd, bytes: chunks.reduce((n, c) => n + c.length, 0) };
  } finally {
    await encoder.terminate();
  }
}

const query = async (sql: string) => (await db.runAndReadAll(sql)).getRowObjectsJS();

describe('ParquetEncoder thread warm-up', () => {
  it('encodes on the thread warmed up ahead of the run (one spare at most), then on new threads', async () => {
    warmEncoderThread();
    expect(hasSpareEncoderThread()).toBe(true);
    warmEncoderThread(); // already one waiting: no second thread
    const warmed = await encode('warmed', 'zstd'); // takes the spare
    expect(hasSpareEncoderThread()).toBe(false);
    const fresh = await encode('fresh', 'zstd'); // no spare left: a new thread
    expect(warmed.zstd).toBe('native');
    for (const { file } of [warmed, fresh]) {
      expect(await query(`SELECT count(*)::INTEGER AS n, count(DISTINCT id)::INTEGER AS ids, max(id)::INTEGER AS last FROM '${file}'`)).toEqual([{ n: 60_000, ids: 60_000, last: 59_999 }]);
    }
    expect(await query(`SELECT count(*)::INTEGER AS n FROM (SELECT * FROM '${warmed.file}' EXCEPT ALL SELECT * FROM '${fresh.file}')`)).toEqual([{ n: 0 }]);
  });

  it('a spare thread does not keep the process alive', async () => {
    const { spawnSync } = await import('node:child_process');
    // The built entry (the CLI's): Node 20 cannot load the TypeScript source in a child process.
    const definition = new URL('../dist/definition.js', import.meta.url).pathname;
    // The CLI warms a thread up before validating the job: a run that then fails must still exit.
    // (A script file, not `-e`: the thread inherits the process's flags.) It reports once the spare is booted and listening.
    const script = path.join(dir, 'warm.mjs');
    writeFileSync(script, `const m = await import(${JSON.stringify(definition)}); m.warmEncoderThread(); setTimeout(() => console.log(m.hasSpareEncoderThread()), 3000);`);
    const child = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 60_000 });
    expect(child.error).toBeUndefined();
    expect({ status: child.status, out: child.stdout.trim(), err: child.stderr }).toEqual({ status: 0, out: 'true', err: '' });
  });
});

describe('ParquetEncoder zstd', () => {
  it('compresses zstd with the native library by default, with parquet-wasm when asked, the same values either way', async () => {
    const native = await encode('native', 'zstd');
    const wasm = await encode('wasm', 'zstd', { DATIVO_PARQUET_ZSTD: 'wasm' });
    const snappy = await encode('snappy', 'snappy');
    expect(native.zstd).toBe('native');
    expect(wasm.zstd).toBe('wasm');
    expect(snappy.zstd).toBe('wasm');
    for (const { file } of [native, wasm]) {
      expect(await query(`SELECT DISTINCT compression FROM parquet_metadata('${file}')`)).toEqual([{ compression: 'ZSTD' }]);
      expect(await query(`SELECT count(*)::INTEGER AS n, count(DISTINCT id)::INTEGER AS ids, count(city)::INTEGER AS cities FROM '${file}'`)).toEqual([{ n: 60_000, ids: 60_000, cities: 56_470 }]);
    }
    for (const [a, b] of [
      [native.file, wasm.file],
      [wasm.file, native.file],
      [native.file, snappy.file],
    ]) {
      expect(await query(`SELECT count(*)::INTEGER AS n FROM (SELECT * FROM '${a}' EXCEPT ALL SELECT * FROM '${b}')`)).toEqual([{ n: 0 }]);
    }
    // Rows around the encoder's 8,192-row slices of each 20,000-row batch (and batch edges) hold what was written.
    const edges = [0, 8191, 8192, 8193, 16383, 16384, 16385, 19999, 20000, 20001, 28192, 59999];
    const expected = edges.map((i) => ({ id: i, city: i % 17 === 0 ? null : `city ${i % 40}`, note: `note ${i * 7919} ${'z'.repeat(i % 30)}` }));
    for (const { file } of [native, wasm]) {
      expect(await query(`SELECT id, city, note FROM '${file}' WHERE id IN (${edges.join(', ')}) ORDER BY id`)).toEqual(expected);
    }
    const layout = (file: string) => query(`SELECT row_group_id, column_id, row_group_num_rows, num_values, encodings, stats_min_value, stats_max_value, stats_null_count FROM parquet_metadata('${file}') ORDER BY 1, 2`);
    expect(await layout(native.file)).toEqual(await layout(wasm.file));
  });
});

describe('ParquetEncoder buffer reuse', () => {
  it("hands a builder's buffers back once a batch is encoded; batches built in reused buffers keep every value", async () => {
    clearBufferPool();
    const fields: FieldSpec[] = [
      { name: 'id', type: parseDataType('bigint'), nullable: false },
      { name: 'score', type: parseDataType('double'), nullable: true },
      { name: 'note', type: parseDataType('string'), nullable: true },
    ];
    const builder = new BatchBuilder(fields, { maxRows: 4096 });
    const encoder = new ParquetEncoder();
    const chunks: Uint8Array[] = [];
    let pooledSeen = 0;
    try {
      const file = encoder.open({ compression: 'zstd', rowGroupRows: 10_000, dictionaryColumns: [], encoding: 'plain', createdBy: 'dativo test' }, async (chunk) => {
        chunks.push(chunk);
      });
      const rows = 30 * 4096;
      for (let i = 0; i < rows; i++) {
        // Later batches write shorter notes and more nulls than earlier ones: stale bytes of a reused buffer would show.
        const batchNo = Math.floor(i / 4096);
        expect(builder.appendRecord({ id: i, score: i % (batchNo + 2) === 0 ? null : i / 4, note: i % 11 === 0 ? null : `n${i}-${'x'.repeat(40 - batchNo)}` })).toBeUndefined();
        if (builder.full) {
          await file.write(builder.flush()!);
          pooledSeen = Math.max(pooledSeen, pooledBufferBytes());
        }
      }
      const tail = builder.flush();
      if (tail) await file.write(tail);
      await file.finish();
    } finally {
      await encoder.terminate();
    }
    expect(pooledSeen).toBeGreaterThan(0);
    const out = path.join(dir, 'reuse.parquet');
    writeFileSync(out, Buffer.concat(chunks));
    const expected = (i: number) => {
      const batchNo = Math.floor(i / 4096);
      return { id: i, score: i % (batchNo + 2) === 0 ? null : i / 4, note: i % 11 === 0 ? null : `n${i}-${'x'.repeat(40 - batchNo)}` };
    };
    const got = await query(`SELECT id::INTEGER AS id, score, note FROM '${out}' ORDER BY id`);
    expect(got.length).toBe(30 * 4096);
    for (let i = 0; i < got.length; i++) if (JSON.stringify(got[i]) !== JSON.stringify(expected(i))) expect(got[i]).toEqual(expected(i));
  });
});

describe('ParquetEncoder batches that are slices, and types only Arrow lays out', () => {
  /** Encodes the batches into one file with statistics on every column; the file and its statistics. */
  async function encodeBatches(name: string, batches: RecordBatch[], stats: StatsRequest[]): Promise<{ file: string; stats: ColumnStats[] }> {
    const encoder = new ParquetEncoder();
    const chunks: Uint8Array[] = [];
    try {
      const file = encoder.open({ compression: 'zstd', rowGroupRows: 4096, dictionaryColumns: ['city'], encoding: 'auto', createdBy: 'dativo test', stats }, async (chunk) => {
        chunks.push(chunk);
      });
      for (const batch of batches) await file.write(batch);
      await file.finish();
      const out = path.join(dir, `${name}.parquet`);
      writeFileSync(out, Buffer.concat(chunks));
      return { file: out, stats: file.stats };
    } finally {
      await encoder.terminate();
    }
  }

  const ROWS = 30_000;
  const value = (i: number) => ({
    id: BigInt(i) * 3n - 40_000n,
    score: i % 7 === 0 ? null : (i % 1000) / 8 - 20,
    flag: i % 5 === 0 ? null : i % 3 === 0,
    note: i % 11 === 0 ? null : `note ${String(i).padStart(6, '0')}`,
  });
  const table = new Table({
    id: vectorFromArray(Array.from({ length: ROWS }, (_, i) => value(i).id), new Int64()),
    score: vectorFromArray(Array.from({ length: ROWS }, (_, i) => value(i).score), new Float64()),
    flag: vectorFromArray(Array.from({ length: ROWS }, (_, i) => value(i).flag), new Bool()),
    note: vectorFromArray(Array.from({ length: ROWS }, (_, i) => value(i).note), new Utf8()),
  });
  const statsRequests: StatsRequest[] = [
    { column: 0, kind: 'long' },
    { column: 1, kind: 'double' },
    { column: 2, kind: 'boolean' },
    { column: 3, kind: 'string' },
  ];

  it('writes and measures the rows of sliced batches, not the rows around them', async () => {
    const whole = table.batches[0]!;
    // Rows 1,003 to 28,996 in three slices of the one batch; the rows outside hold the extremes.
    const slices = [whole.slice(1003, 9000), whole.slice(9000, 20_001), whole.slice(20_001, 28_997)];
    const { file, stats } = await encodeBatches('slices', slices, statsRequests);
    const rows = Array.from({ length: 28_997 - 1003 }, (_, k) => value(k + 1003));
    expect(await query(`SELECT count(*)::INTEGER AS n, min(id)::BIGINT AS lo, max(id)::BIGINT AS hi, count(score)::INTEGER AS scores, count(note)::INTEGER AS notes FROM '${file}'`)).toEqual([
      { n: rows.length, lo: rows[0]!.id, hi: rows.at(-1)!.id, scores: rows.filter((r) => r.score !== null).length, notes: rows.filter((r) => r.note !== null).length },
    ]);
    const edges = [1003, 1004, 8999, 9000, 9001, 20_000, 20_001, 28_996];
    expect(await query(`SELECT id::BIGINT AS id, score, flag, note FROM '${file}' WHERE id IN (${edges.map((i) => value(i).id).join(', ')}) ORDER BY id`)).toEqual(edges.map(value));
    const scores = rows.map((r) => r.score).filter((s): s is number => s !== null);
    const notes = rows.map((r) => r.note).filter((s): s is string => s !== null).sort();
    expect(stats[0]).toMatchObject({ values: rows.length, nulls: 0, min: rows[0]!.id, max: rows.at(-1)!.id });
    expect(stats[1]).toMatchObject({ values: rows.length, nulls: rows.length - scores.length, min: Math.min(...scores), max: Math.max(...scores) });
    expect(stats[2]).toMatchObject({ nulls: rows.filter((r) => r.flag === null).length, min: false, max: true });
    expect(Buffer.from(stats[3]!.min as Uint8Array).toString()).toBe(notes[0]);
    expect(Buffer.from(stats[3]!.max as Uint8Array).toString()).toBe(notes.at(-1)!.slice(0, 16));
  });

  it('refuses dictionary-encoded columns with an error that names them', async () => {
    const cities = new Table({ city: vectorFromArray(['a', 'b', 'a'], new Dictionary(new Utf8(), new Int32())), n: vectorFromArray([1, 2, 3], new Int32()) });
    await expect(encodeBatches('dictionary', cities.batches, [])).rejects.toThrow(/dictionary-encoded Arrow columns are not supported: city \(Dictionary<Int32, Utf8>\)/);
  });

  it("encodes columns only Arrow's IPC writer lays out (64-bit offsets) with it, value for value, with statistics and a dictionary", async () => {
    const text = (i: number) => (i % 13 === 0 ? null : `city ${String(i % 40).padStart(2, '0')}`);
    const wide = new Table({
      city: vectorFromArray(Array.from({ length: 10_000 }, (_, i) => text(i)), new LargeUtf8()),
      n: vectorFromArray(Array.from({ length: 10_000 }, (_, i) => i), new Int32()),
    });
    const batch = wide.batches[0]!;
    const { file, stats } = await encodeBatches('large-utf8', [batch.slice(0, 6000), batch.slice(6000, 10_000)], [{ column: 0, kind: 'string' }]);
    const got = await query(`SELECT city, n::INTEGER AS n FROM '${file}' ORDER BY n`);
    expect(got).toHaveLength(10_000);
    for (const [i, row] of got.entries()) if (row.city !== text(i) || row.n !== i) expect(row).toEqual({ city: text(i), n: i });
    expect(stats[0]).toMatchObject({ values: 10_000, nulls: Math.ceil(10_000 / 13), truncated: false });
    expect(Buffer.from(stats[0]!.min as Uint8Array).toString()).toBe('city 00');
    expect(Buffer.from(stats[0]!.max as Uint8Array).toString()).toBe('city 39');
    expect(await query(`SELECT DISTINCT encodings FROM parquet_metadata('${file}') WHERE path_in_schema = 'city'`)).toEqual([{ encodings: expect.stringContaining('DICTIONARY') }]);
  });
});
