import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { BatchBuilder, parseDataType, type FieldSpec, type StreamDescriptor } from '@dativo/core';
import { describeSinkConformance, tempDir, testRunContext } from '@dativo/testing';
import { queryDuckDb, sqlString } from '@dativo/testing/duckdb';
import { startS3Server, type TestS3Server } from '@dativo/testing/s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMITS_DIR } from '@dativo/parquet-kit';
import { parquetSink } from './connector.js';

const FIELDS: FieldSpec[] = [
  { name: 'id', type: parseDataType('bigint'), nullable: false },
  { name: 'name', type: parseDataType('string'), nullable: true },
  { name: 'amount', type: parseDataType('decimal(12,2)'), nullable: true },
  { name: 'at', type: parseDataType('timestamptz'), nullable: true },
];
const STREAM: StreamDescriptor = { name: 'orders', schema: FIELDS, syncModes: ['full_refresh'] };

function batches(count: number, rows: number, start = 0) {
  const out = [];
  for (let b = 0; b < count; b++) {
    const builder = new BatchBuilder(FIELDS, { maxRows: rows });
    for (let i = 0; i < rows; i++) {
      const id = start + b * rows + i;
      builder.appendRecord({ id: BigInt(id), name: `order ${id} ${'x'.repeat(id % 50)}`, amount: `${id}.${String(id % 100).padStart(2, '0')}`, at: new Date(Date.UTC(2024, 0, 1) + id * 1000) });
    }
    out.push(builder.flush()!);
  }
  return out;
}

const dir = tempDir('dativo-parquet-');
let s3: TestS3Server;
beforeAll(async () => {
  s3 = await startS3Server({ buckets: ['lake'] });
});
afterAll(async () => {
  await s3?.stop();
  dir.cleanup();
});

async function localRows(root: string): Promise<number> {
  const hasFiles = readdirSync(root, { recursive: true }).some((f) => String(f).endsWith('.parquet') && !String(f).includes('_dativo'));
  if (!hasFiles) return 0;
  const [row] = await queryDuckDb(`SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlString(path.join(root, '**', '*.parquet'))}, filename = true) WHERE filename NOT LIKE '%/_dativo/%'`);
  return Number(row?.n ?? 0);
}

function s3Client(): S3Client {
  return new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
}

/** Downloads the published objects under a prefix and counts their rows with DuckDB. */
async function s3Rows(prefix: string): Promise<number> {
  const client = s3Client();
  const listed = await client.send(new ListObjectsV2Command({ Bucket: 'lake', Prefix: `${prefix}/` }));
  const keys = (listed.Contents ?? []).map((o) => o.Key as string).filter((k) => k.endsWith('.parquet') && !k.includes('/_dativo/'));
  const local = path.join(dir.path, 'download', prefix.replace(/\//g, '_'));
  mkdirSync(local, { recursive: true });
  let total = 0;
  for (const key of keys) {
    const body = await (await client.send(new GetObjectCommand({ Bucket: 'lake', Key: key }))).Body!.transformToByteArray();
    const file = path.join(local, key.replace(/\//g, '_'));
    writeFileSync(file, body);
    const [row] = await queryDuckDb(`SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlString(file)})`);
    total += Number(row?.n ?? 0);
  }
  client.destroy();
  return total;
}

const s3Config = (prefix: string) => ({ connection: { s3: { bucket: 'lake', prefix, endpoint: s3.endpoint, access_key_id: s3.accessKeyId, secret_access_key: s3.secretAccessKey, path_style_access: true } } });

describeSinkConformance('parquet (local directory)', {
  create: () => parquetSink(),
  config: () => ({ path: path.join(dir.path, 'conformance') }),
  stream: STREAM,
  batches: () => batches(3, 1000),
  visibleRows: async () => localRows(path.join(dir.path, 'conformance')),
  invalidConfigs: () => [{ config: { path: path.join(dir.path, 'conformance'), compression: 'lz77' }, field: 'compression' }],
  failurePoints: ['parquet:intent-written', 'parquet:file-moved'],
});

describeSinkConformance('parquet (S3)', {
  create: () => parquetSink(),
  config: () => s3Config('conformance/orders'),
  stream: STREAM,
  batches: () => batches(2, 500),
  visibleRows: async () => s3Rows('conformance/orders'),
  invalidConfigs: () => [{ config: { connection: { s3: { prefix: 'conformance/orders', endpoint: 'http://127.0.0.1:1' } } }, field: 'connection.s3.bucket' }],
  failurePoints: ['parquet:intent-written', 'parquet:file-moved'],
});

describe('parquet sink', () => {
  it('writes every value so that DuckDB reads it back equal, with each codec', async () => {
    for (const compression of ['zstd', 'snappy', 'gzip', 'none']) {
      const root = path.join(dir.path, `codec-${compression}`);
      const sink = parquetSink();
      const writer = await sink.open(sink.configSchema.parse({ path: root, compression }), STREAM, testRunContext());
      for (const b of batches(2, 100)) await writer.write(b);
      await writer.commit({ stream: 'orders', state: { done: true } });
      await writer.close();
      const rows = await queryDuckDb(`SELECT id::VARCHAR AS sid, name, amount::VARCHAR AS amount, strftime("at" AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S') AS "at", ingest_date::VARCHAR AS d FROM read_parquet(${sqlString(`${root}/ingest_date=*/*.parquet`)}, hive_partitioning = true) ORDER BY id::BIGINT`);
      expect(rows).toHaveLength(200);
      expect(rows[123]).toEqual({ sid: '123', name: `order 123 ${'x'.repeat(23)}`, amount: '123.23', at: '2024-01-01T00:02:03', d: new Date().toISOString().slice(0, 10) });
      const [meta] = await queryDuckDb(`SELECT compression FROM parquet_metadata(${sqlString(`${root}/ingest_date=*/*.parquet`)}) LIMIT 1`);
      expect(String(meta?.compression).toUpperCase()).toBe(compression === 'none' ? 'UNCOMPRESSED' : compression.toUpperCase());
    }
  });

  it('dictionary-encodes only repetitive string columns, uses delta encodings under auto, and DuckDB reads the same values either way', async () => {
    const fields: FieldSpec[] = [
      { name: 'id', type: parseDataType('bigint'), nullable: false },
      { name: 'state', type: parseDataType('string'), nullable: true },
      { name: 'email', type: parseDataType('string'), nullable: true },
      { name: 'qty', type: parseDataType('integer'), nullable: true },
      { name: 'day', type: parseDataType('date'), nullable: true },
      { name: 'at', type: parseDataType('timestamp'), nullable: true },
      { name: 'price', type: parseDataType('double'), nullable: true },
    ];
    const stream: StreamDescriptor = { name: 'people', schema: fields, syncModes: ['full_refresh'] };
    const STATES = ['CA', 'NY', 'TX', 'WA', 'ÖSTERREICH'];
    const write = async (root: string, encoding: string) => {
      const sink = parquetSink();
      const writer = await sink.open(sink.configSchema.parse({ path: root, partitioning: [], encoding, row_group_rows: 4000 }), stream, testRunContext());
      for (let b = 0; b < 3; b++) {
        const builder = new BatchBuilder(fields, { maxRows: 5000 });
        for (let i = b * 5000; i < (b + 1) * 5000; i++) {
          const gap = i % 97 === 0;
          builder.appendRecord({
            id: BigInt(i),
            state: gap ? null : (STATES[i % STATES.length] as string),
            email: gap ? null : `user.${i}.${(i * 7919) % 10007}@example.com`,
            qty: gap ? null : (i * 31) % 1000 - 500,
            day: gap ? null : new Date(Date.UTC(2020, 0, 1) + (i % 900) * 86_400_000),
            at: gap ? null : new Date(Date.UTC(2024, 0, 1) + i * 1500),
            price: gap ? null : i / 7,
          });
        }
        await writer.write(builder.flush()!);
      }
      await writer.commit({ stream: 'people', state: encoding });
      await writer.close();
      return `${root}/*.parquet`;
    };
    const auto = await write(path.join(dir.path, 'enc-auto'), 'auto');
    const plain = await write(path.join(dir.path, 'enc-plain'), 'plain');
    const encodings = async (glob: string) =>
      Object.fromEntries(
        (await queryDuckDb(`SELECT path_in_schema AS col, string_agg(DISTINCT encodings, ',' ORDER BY encodings) AS enc FROM parquet_metadata(${sqlString(glob)}) GROUP BY ALL`)).map((r) => [
          String(r.col),
          String(r.enc),
        ]),
      );
    const a = await encodings(auto);
    const p = await encodings(plain);
    // 5 distinct states: a dictionary; unique e-mail addresses: none, in both modes.
    expect(a.state).toContain('RLE_DICTIONARY');
    expect(p.state).toContain('RLE_DICTIONARY');
    expect(a.email).not.toContain('DICTIONARY');
    expect(p.email).not.toContain('DICTIONARY');
    expect(a.email).toContain('DELTA_BYTE_ARRAY');
    expect(p.email).toContain('PLAIN');
    for (const column of ['id', 'qty', 'day', 'at']) {
      expect(a[column], column).toContain('DELTA_BINARY_PACKED');
      expect(p[column], column).not.toContain('DELTA');
    }
    // Same values, types and statistics through an independent reader.
    const select = (glob: string) => `SELECT * FROM read_parquet(${sqlString(glob)}) ORDER BY id`;
    const [left, right] = [await queryDuckDb(select(auto)), await queryDuckDb(select(plain))];
    expect(left).toHaveLength(15_000);
    expect(left).toEqual(right);
    expect(left[97]).toEqual({ id: '97', state: null, email: null, qty: null, day: null, at: null, price: null });
    expect(left[98]?.email).toBe(`user.98.${(98 * 7919) % 10007}@example.com`);
    const stats = (glob: string) =>
      queryDuckDb(`SELECT path_in_schema AS col, min(stats_min_value) AS lo, max(stats_max_value) AS hi, sum(stats_null_count)::INTEGER AS nulls FROM parquet_metadata(${sqlString(glob)}) GROUP BY ALL ORDER BY col`);
    const [statsAuto, statsPlain] = [await stats(auto), await stats(plain)];
    expect(statsAuto).toEqual(statsPlain);
    expect(statsAuto.find((r) => r.col === 'qty')).toMatchObject({ nulls: 155 });
    const types = (glob: string) => queryDuckDb(`SELECT column_name, column_type FROM (DESCRIBE ${select(glob)})`);
    expect(await types(auto)).toEqual(await types(plain));

    // zstd by the native library (default) and by parquet-wasm's own (DATIVO_PARQUET_ZSTD=wasm): the
    // same codec, values, statistics and encodings.
    process.env.DATIVO_PARQUET_ZSTD = 'wasm';
    let wasm: string;
    try {
      wasm = await write(path.join(dir.path, 'enc-auto-wasm-zstd'), 'auto');
    } finally {
      delete process.env.DATIVO_PARQUET_ZSTD;
    }
    const codecs = async (glob: string) => (await queryDuckDb(`SELECT DISTINCT compression FROM parquet_metadata(${sqlString(glob)})`)).map((r) => r.compression);
    expect(await codecs(auto)).toEqual(['ZSTD']);
    expect(await codecs(wasm)).toEqual(['ZSTD']);
    expect(await queryDuckDb(select(wasm))).toEqual(left);
    expect(await stats(wasm)).toEqual(statsAuto);
    expect(await encodings(wasm)).toEqual(a);
  });

  it('closes row groups of wide rows by size (8 MiB of Arrow data), not only by row count', async () => {
    const fields: FieldSpec[] = [
      { name: 'id', type: parseDataType('bigint'), nullable: false },
      { name: 'body', type: parseDataType('string'), nullable: false },
    ];
    const stream: StreamDescriptor = { name: 'docs', schema: fields, syncModes: ['full_refresh'] };
    const root = path.join(dir.path, 'wide-rows');
    const sink = parquetSink();
    const filler = 'lorem ipsum dolor sit amet '.repeat(80); // ~2 KiB a row
    const groupsOf = async (where: string, config: Record<string, unknown>): Promise<number[]> => {
      const writer = await sink.open(sink.configSchema.parse({ path: where, partitioning: [], ...config }), stream, testRunContext());
      for (let b = 0; b < 3; b++) {
        const builder = new BatchBuilder(fields, { maxRows: 5000, maxBytes: 64 * 1024 * 1024 });
        for (let i = b * 5000; i < (b + 1) * 5000; i++) builder.appendRecord({ id: BigInt(i), body: `${i} ${filler}` });
        await writer.write(builder.flush()!);
      }
      await writer.commit({ stream: 'docs', state: 'wide' });
      await writer.close();
      const [count] = await queryDuckDb(`SELECT count(*)::INTEGER AS n, count(DISTINCT id)::INTEGER AS ids FROM read_parquet(${sqlString(`${where}/*.parquet`)})`);
      expect(count).toEqual({ n: 15_000, ids: 15_000 });
      const groups = await queryDuckDb(`SELECT DISTINCT row_group_id, row_group_num_rows::INTEGER AS n FROM parquet_metadata(${sqlString(`${where}/*.parquet`)}) ORDER BY 1`);
      return groups.map((g) => g.n as number);
    };
    // 8 MiB (the default) / ~2,170 bytes a row, in whole 1,024-row steps: 3,072 rows, well under row_group_rows (131,072).
    expect(await groupsOf(root, {})).toEqual([3072, 3072, 3072, 3072, 2712]);
    // row_group_mb: 12 → 5,120-row groups.
    expect(await groupsOf(`${root}-12`, { row_group_mb: 12 })).toEqual([5120, 5120, 4760]);
  });

  it('rolls over to a new file past the target size and commits them together', async () => {
    const root = path.join(dir.path, 'rollover');
    const sink = parquetSink();
    const writer = await sink.open(sink.configSchema.parse({ path: root, target_file_size_mb: 0.02, row_group_rows: 1000, partitioning: [] }), STREAM, testRunContext());
    for (const b of batches(10, 1000)) await writer.write(b);
    const result = await writer.commit({ stream: 'orders', state: 1 });
    await writer.close();
    expect(result.files).toBeGreaterThan(3);
    expect(result.rows).toBe(10_000);
    const files = readdirSync(root).filter((f) => f.endsWith('.parquet'));
    expect(files).toHaveLength(result.files);
    const [row] = await queryDuckDb(`SELECT count(*)::INTEGER AS n, count(DISTINCT id)::INTEGER AS d FROM read_parquet(${sqlString(`${root}/*.parquet`)})`);
    expect(row).toEqual({ n: 10_000, d: 10_000 });
  });

  it('rolls an interrupted commit forward and removes staged files no commit names', async () => {
    const root = path.join(dir.path, 'recover');
    const sink = parquetSink();
    const config = sink.configSchema.parse({ path: root, partitioning: [] });
    // A run that crashed after writing its intent record but before moving its files…
    const w1 = await sink.open(config, STREAM, testRunContext());
    for (const b of batches(1, 100)) await w1.write(b);
    await w1.commit({ stream: 'orders', state: 'first' });
    await w1.close();
    const published = readdirSync(root).filter((f) => f.endsWith('.parquet'))[0] as string;
    // (the records and staging area of tenant 'test', job 'job', stream 'orders': the test context)
    mkdirSync(path.join(root, '_dativo', 'staging', 'test', 'job', 'orders', 'crashed-run'), { recursive: true });
    const staged = '_dativo/staging/test/job/orders/crashed-run/pending.parquet';
    const { renameSync } = await import('node:fs');
    renameSync(path.join(root, published), path.join(root, staged));
    const owner = { tenant: 'test', job: 'job', stream: 'orders' };
    writeFileSync(path.join(root, COMMITS_DIR, 'test', 'job', 'orders', '00000000000000000002.json'), JSON.stringify({ version: 2, seq: 2, owner, runId: 'crashed-run', time: new Date().toISOString(), status: 'pending', checkpoint: { stream: 'orders', state: 'second' }, files: [{ staged, final: 'part-crashed.parquet', rows: 100, bytes: 1 }] }));
    // …and a staged file of a run that never got to commit.
    writeFileSync(path.join(root, '_dativo', 'staging', 'test', 'job', 'orders', 'crashed-run', 'orphan.parquet'), 'partial');
    // Another job's staged file in the same location is its own business: left alone.
    mkdirSync(path.join(root, '_dativo', 'staging', 'test', 'other', 'orders', 'running'), { recursive: true });
    writeFileSync(path.join(root, '_dativo', 'staging', 'test', 'other', 'orders', 'running', 'busy.parquet'), 'in progress');
    const ctx = testRunContext();
    const w2 = await sink.open(config, STREAM, ctx);
    expect(await w2.lastCommitted()).toEqual({ stream: 'orders', state: 'second' });
    await w2.close();
    expect(readdirSync(root).filter((f) => f.endsWith('.parquet'))).toEqual(['part-crashed.parquet']);
    expect(readdirSync(path.join(root, '_dativo', 'staging'), { recursive: true }).filter((f) => String(f).endsWith('.parquet'))).toEqual([path.join('test', 'other', 'orders', 'running', 'busy.parquet')]);
    expect(ctx.logs.records().map((r) => r.msg)).toContain('rolling forward an unfinished commit from a previous run');
  });

  it('names the endpoint when S3 is unreachable and the bucket when it is missing', async () => {
    const sink = parquetSink();
    const unreachable = sink.configSchema.parse({ connection: { s3: { bucket: 'lake', prefix: 'x', endpoint: 'http://127.0.0.1:1', access_key_id: 'AKIAEXAMPLE', secret_access_key: 'very-secret-key', path_style_access: true } } });
    const error = await sink.check(unreachable, testRunContext()).catch((e: unknown) => e as Error);
    expect((error as Error).message).toBe("S3 endpoint http://127.0.0.1:1 is unreachable while trying to reach bucket 'lake' (ECONNREFUSED); check target.connection.s3.endpoint and the network");
    expect((error as Error).message).not.toContain('very-secret-key');
    const missing = sink.configSchema.parse(s3Config('x'));
    missing.connection!.s3!.bucket = 'no-such-bucket';
    await expect(sink.check(missing, testRunContext())).rejects.toThrow(`S3 bucket 'no-such-bucket' does not exist at ${s3.endpoint} (while trying to reach bucket 'no-such-bucket')`);
  });

  it('uploads large files to S3 in multipart uploads and publishes them whole', async () => {
    const sink = parquetSink();
    const config = sink.configSchema.parse({ ...s3Config('multipart/orders'), compression: 'none', partitioning: [] });
    config.connection!.s3!.part_size_mb = 5;
    const writer = await sink.open(config, STREAM, testRunContext());
    const builder = new BatchBuilder(FIELDS, { maxRows: 200_000 });
    let seed = 1;
    for (let i = 0; i < 120_000; i++) {
      seed = (seed * 48271) % 2147483647;
      builder.appendRecord({ id: BigInt(i), name: `${seed.toString(36)}-${(seed * 7).toString(36)}-${'r'.repeat(i % 90)}`, amount: '1.00', at: null });
    }
    await writer.write(builder.flush()!);
    const result = await writer.commit({ stream: 'orders', state: 'big' });
    await writer.close();
    expect(result.bytes).toBeGreaterThan(6 * 1024 * 1024); // more than one 5 MiB part
    expect(await s3Rows('multipart/orders')).toBe(120_000);
  });
});
