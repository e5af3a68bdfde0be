import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BatchBuilder, parseDataType, type Checkpoint, type FieldSpec, type StreamDescriptor } from '@dativo/core';
import { parseJsonLossless } from './json.js';
import { describeSinkConformance, tempDir, testRunContext } from '@dativo/testing';
import { queryDuckDb, sqlString } from '@dativo/testing/duckdb';
import { icebergDataFiles, readIcebergTable, startRestCatalog, type RestCatalogServer } from '@dativo/testing/iceberg';
import { tempPostgresDatabase, type TempDatabase } from '@dativo/testing/sql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { icebergSink } from './connector.js';
import type { TableMetadata } from './types.js';

const FIELDS: FieldSpec[] = [
  { name: 'id', type: parseDataType('bigint'), nullable: false },
  { name: 'region', type: parseDataType('string'), nullable: true },
  { name: 'amount', type: parseDataType('decimal(12,2)'), nullable: true },
  { name: 'qty', type: parseDataType('int'), nullable: true },
  { name: 'at', type: parseDataType('timestamptz'), nullable: true },
  { name: 'day', type: parseDataType('date'), nullable: true },
  { name: 'ok', type: parseDataType('boolean'), nullable: true },
];
const STREAM: StreamDescriptor = { name: 'orders', schema: FIELDS, syncModes: ['full_refresh'], primaryKey: ['id'] };
const REGIONS = ['eu', 'us', 'apac'];

interface Row {
  id: number;
  region: string;
  amount: string;
  qty: number;
  at: string;
  version: number;
  /** The `ok` column; default: the id is even. */
  deleted?: boolean;
}

function row(id: number, version = 1): Row {
  return { id, region: REGIONS[id % 3] as string, amount: `${id * version}.${String(id % 100).padStart(2, '0')}`, qty: id * 10 + version, at: new Date(Date.UTC(2024, id % 12, 1 + (id % 27), 12)).toISOString(), version };
}

function batchOf(rows: Row[]) {
  const b = new BatchBuilder(FIELDS);
  for (const r of rows) b.appendRecord({ id: BigInt(r.id), region: r.region, amount: r.amount, qty: r.qty, at: new Date(r.at), day: new Date(r.at), ok: r.deleted ?? r.id % 2 === 0 });
  return b.flush()!;
}

const range = (from: number, to: number, version = 1): Row[] => Array.from({ length: to - from }, (_, i) => row(from + i, version));

const scratch = tempDir('dativo-iceberg-');
let rest: RestCatalogServer;
let pgdb: TempDatabase;

beforeAll(async () => {
  rest = await startRestCatalog({ warehouse: path.join(scratch.path, 'rest-warehouse'), prefix: 'main|warehouse', clients: { dativo: 's3cret' } });
  rest.createNamespace('acme');
  pgdb = await tempPostgresDatabase('dativo_iceberg');
});
afterAll(async () => {
  await rest?.stop();
  await pgdb?.drop();
  scratch.cleanup();
});

type CatalogKind = 'filesystem' | 'sql' | 'rest';

function config(kind: CatalogKind, table: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const warehouse = path.join(scratch.path, `${kind}-warehouse`);
  const catalog =
    kind === 'filesystem'
      ? { type: 'filesystem' }
      : kind === 'sql'
        ? { type: 'sql', uri: pgdb.uri, name: 'dativo_test' }
        : { type: 'rest', uri: rest.uri, credential: 'dativo:s3cret' };
  return { catalog, ...(kind === 'rest' ? {} : { warehouse }), namespace: 'acme', table, create_namespace: kind !== 'rest', partitioning: ['region', 'month(at)'], target_file_size_mb: 1, ...extra };
}

async function write(kind: CatalogKind, table: string, batches: Row[][], checkpoint: Checkpoint['state'], extra: Record<string, unknown> = {}, resumed = false) {
  const sink = icebergSink();
  const cfg = sink.configSchema.parse(config(kind, table, extra));
  const ctx = testRunContext({ tenant: 'acme', job: `job-${table}` });
  const writer = await sink.open(cfg, STREAM, ctx);
  await writer.begin?.({ resumed });
  for (const rows of batches) await writer.write(batchOf(rows));
  const result = await writer.commit({ stream: 'orders', state: checkpoint });
  const last = await writer.lastCommitted();
  await writer.close();
  return { result, last, ctx };
}

/** The table's current metadata, read from the catalog's storage (not through the sink). */
function currentMetadataFile(kind: CatalogKind, table: string): string {
  if (kind === 'rest') return rest.metadataLocation('acme', table) as string;
  const dir = path.join(scratch.path, `${kind}-warehouse`, 'acme', table, 'metadata');
  if (kind === 'filesystem') return `file://${path.join(dir, `v${readFileSync(path.join(dir, 'version-hint.text'), 'utf8').trim()}.metadata.json`)}`;
  return '';
}

/** Whether the table has been created yet (the conformance suite counts rows before the first write). */
function existsTable(kind: CatalogKind, table: string): boolean {
  if (kind === 'rest') return rest.metadataLocation('acme', table) !== undefined;
  if (kind === 'filesystem') return existsSync(path.join(scratch.path, `${kind}-warehouse`, 'acme', table, 'metadata', 'version-hint.text'));
  return existsSync(path.join(scratch.path, `${kind}-warehouse`, 'acme', table, 'metadata'));
}

async function metadataFile(kind: CatalogKind, table: string): Promise<string> {
  if (kind !== 'sql') return currentMetadataFile(kind, table);
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: pgdb.uri });
  await client.connect();
  try {
    const r = await client.query('SELECT metadata_location FROM iceberg_tables WHERE catalog_name = $1 AND table_namespace = $2 AND table_name = $3', ['dativo_test', 'acme', table]);
    return r.rows[0].metadata_location as string;
  } finally {
    await client.end();
  }
}

type Back = Array<{ id: number; region: string; amount: string; qty: number }>;

/** The table's rows as icebird reads them, checked equal to DuckDB over the data files the manifests list. */
async function readBack(kind: CatalogKind, table: string): Promise<Back> {
  const metadataLocation = await metadataFile(kind, table);
  const rows = (await readIcebergTable({ metadataLocation }))
    .map((r) => ({ id: Number(r.id), region: String(r.region), amount: Number(r.amount).toFixed(2), qty: Number(r.qty) }))
    .sort((a, b) => a.id - b.id);
  const files = await icebergDataFiles({ metadataLocation });
  const duck = files.length
    ? await queryDuckDb(`SELECT id::INTEGER AS id, region, amount::VARCHAR AS amount, qty FROM read_parquet([${files.map((f) => sqlString(f.path)).join(', ')}], hive_partitioning = false) ORDER BY id`)
    : [];
  expect(duck.map((r) => ({ id: r.id, region: r.region, amount: Number(r.amount).toFixed(2), qty: r.qty }))).toEqual(rows);
  return rows;
}

const expected = (rows: Row[]) => rows.map((r) => ({ id: r.id, region: r.region, amount: Number(r.amount).toFixed(2), qty: r.qty })).sort((a, b) => a.id - b.id);

async function snapshots(kind: CatalogKind, table: string): Promise<NonNullable<TableMetadata['snapshots']>> {
  const file = await metadataFile(kind, table);
  const text = readFileSync(fileURLToPath(file), 'utf8');
  return (parseJsonLossless(text) as TableMetadata).snapshots ?? [];
}

for (const kind of ['filesystem', 'sql', 'rest'] as const) {
  describeSinkConformance(`iceberg (${kind} catalog)`, {
    create: () => icebergSink(),
    config: () => config(kind, 'conformance'),
    stream: STREAM,
    batches: () => [batchOf(range(0, 300)), batchOf(range(300, 500))],
    visibleRows: async () => (existsTable(kind, 'conformance') ? (await readBack(kind, 'conformance')).length : 0),
    invalidConfigs: () => [{ config: config(kind, 'conformance', { target_file_size_mb: -1 }), field: 'target_file_size_mb' }],
    failurePoints: ['iceberg:data-written', 'iceberg:manifests-written', 'iceberg:committed'],
  });

  describe(`Iceberg sink through the ${kind} catalog`, () => {
    it('appends to a partitioned table: rows, files, partitions and snapshot summaries are right', async () => {
      const first = await write(kind, 'append_t', [range(0, 300), range(300, 600)], { offset: 600 });
      expect(first.result.rows).toBe(600);
      expect(first.last).toEqual({ stream: 'orders', state: { offset: 600 } });
      await write(kind, 'append_t', [range(600, 900)], { offset: 900 });
      expect(await readBack(kind, 'append_t')).toEqual(expected(range(0, 900)));
      const snaps = await snapshots(kind, 'append_t');
      expect(snaps).toHaveLength(2);
      expect(typeof snaps[0]?.['snapshot-id']).toBe('bigint');
      expect(snaps[1]?.['parent-snapshot-id']).toBe(snaps[0]?.['snapshot-id']);
      expect(snaps[1]?.summary).toMatchObject({ operation: 'append', 'added-records': '300', 'total-records': '900', 'total-delete-files': '0', 'dativo.checkpoint': JSON.stringify({ stream: 'orders', state: { offset: 900 } }), 'dativo.stream': 'orders', 'dativo.job': 'job-append_t' });
      const files = await icebergDataFiles({ metadataLocation: await metadataFile(kind, 'append_t') });
      expect(files.reduce((n, f) => n + f.records, 0)).toBe(900);
      expect(Number(snaps[1]?.summary['total-data-files'])).toBe(files.length);
      // Every data file holds one partition (region, month), as DuckDB sees it too.
      for (const f of files.slice(0, 5)) {
        const [r] = await queryDuckDb(`SELECT count(DISTINCT region)::INTEGER AS regions, count(DISTINCT date_trunc('month', "at"))::INTEGER AS months FROM read_parquet(${sqlString(f.path)}, hive_partitioning = false)`);
        expect(r).toEqual({ regions: 1, months: 1 });
        expect(f.path).toMatch(/\/data\/region=(eu|us|apac)\/at_month=2024-\d\d\//);
      }
      const [duck] = await queryDuckDb(`SELECT count(*)::INTEGER AS n, sum(qty)::BIGINT::VARCHAR AS q FROM read_parquet([${files.map((f) => sqlString(f.path)).join(', ')}], hive_partitioning = false)`);
      expect(duck).toEqual({ n: 900, q: String(range(0, 900).reduce((n, r) => n + r.qty, 0)) });
    });

    it('overwrites the whole table, once per run even when the run resumes', async () => {
      await write(kind, 'overwrite_t', [range(0, 200)], { v: 1 });
      const run1 = await write(kind, 'overwrite_t', [range(1000, 1100)], { v: 2 }, { mode: 'overwrite' });
      expect(await readBack(kind, 'overwrite_t')).toEqual(expected(range(1000, 1100)));
      // A resumed run continues its session: it appends instead of replacing again.
      const sink = icebergSink();
      const ctx = testRunContext({ tenant: 'acme', job: 'job-overwrite_t' });
      const w = await sink.open(sink.configSchema.parse(config(kind, 'overwrite_t', { mode: 'overwrite' })), STREAM, ctx);
      void run1;
      await w.begin?.({ resumed: true });
      await w.write(batchOf(range(1100, 1150)));
      await w.commit({ stream: 'orders', state: { v: 3 } });
      await w.close();
      expect(await readBack(kind, 'overwrite_t')).toEqual(expected(range(1000, 1150)));
      const snaps = await snapshots(kind, 'overwrite_t');
      expect(snaps.map((s) => s.summary.operation)).toEqual(['append', 'overwrite', 'append']);
      expect(snaps[1]?.summary).toMatchObject({ 'deleted-records': '200', 'added-records': '100', 'total-records': '100' });
    });

    it('overwrites only the partitions a run touches', async () => {
      await write(kind, 'dynamic_t', [range(0, 90)], { v: 1 });
      const eu = range(0, 90, 2).filter((r) => r.region === 'eu');
      await write(kind, 'dynamic_t', [eu], { v: 2 }, { mode: 'overwrite_partitions' });
      const want = [...range(0, 90).filter((r) => r.region !== 'eu' || !eu.some((e) => e.at.slice(0, 7) === r.at.slice(0, 7))), ...eu];
      expect(await readBack(kind, 'dynamic_t')).toEqual(expected(want));
    });

    it('merges by primary key: updates replace rows, new keys are added, duplicates in one commit keep the last', async () => {
      await write(kind, 'merge_t', [range(0, 500)], { v: 1 }, { mode: 'merge' });
      const updates = [...range(100, 150, 3), ...range(500, 520, 3)];
      const dup = [row(7, 5), row(7, 9)];
      await write(kind, 'merge_t', [updates, dup], { v: 2 }, { mode: 'merge' });
      const want = [...range(0, 500).filter((r) => !(r.id >= 100 && r.id < 150) && r.id !== 7), ...updates, row(7, 9)];
      expect(await readBack(kind, 'merge_t')).toEqual(expected(want));
      const snaps = await snapshots(kind, 'merge_t');
      expect(snaps.at(-1)?.summary).toMatchObject({ operation: 'overwrite', 'total-records': String(want.length) });
    });

    it('merge removes keys whose rows carry the delete marker, in older files and in the same commit; deletes: mark keeps them', async () => {
      // `ok` stands in for an API source's `_deleted` column.
      const live = (rows: Row[]) => rows.map((r) => ({ ...r, deleted: false }));
      const gone = (r: Row): Row => ({ ...r, deleted: true });
      await write(kind, 'merge_del', [live(range(0, 200))], { v: 1 }, { mode: 'merge', delete_marker: 'ok' });
      // 10 and 20 are deleted; 300 arrives and is deleted in the same commit; 21 is updated; 301 is new.
      const { result } = await write(kind, 'merge_del', [[...live([row(300, 1), row(21, 5)]), gone(row(10))], [gone(row(20)), gone(row(300)), ...live([row(301, 1)])]], { v: 2 }, { mode: 'merge', delete_marker: 'ok' });
      expect(result).toMatchObject({ rows: 2, deleted: 2 });
      const want = [...range(0, 200).filter((r) => ![10, 20, 21].includes(r.id)), row(21, 5), row(301, 1)];
      expect(await readBack(kind, 'merge_del')).toEqual(expected(want));
      await write(kind, 'merge_del', [[gone(row(40, 2))]], { v: 3 }, { mode: 'merge', delete_marker: 'ok', deletes: 'mark' });
      expect(await readBack(kind, 'merge_del')).toEqual(expected([...want.filter((r) => r.id !== 40), row(40, 2)]));
    });
  });
}

describe('Iceberg REST catalog with a named warehouse', () => {
  it('lets the server place new tables (the warehouse name only selects the prefix); an explicit location URI is sent', async () => {
    const named = await startRestCatalog({ warehouse: path.join(scratch.path, 'named-warehouse'), warehouseNames: { analytics: 'wh-analytics' } });
    try {
      named.createNamespace('acme');
      const sink = icebergSink();
      const writeTo = async (table: string, extra: Record<string, unknown>): Promise<string> => {
        const cfg = sink.configSchema.parse({ catalog: { type: 'rest', uri: named.uri, warehouse: 'analytics' }, namespace: 'acme', table, partitioning: [], ...extra });
        const writer = await sink.open(cfg, STREAM, testRunContext({ tenant: 'acme', job: table }));
        await writer.write(batchOf(range(0, 50)));
        await writer.commit({ stream: 'orders', state: 1 });
        await writer.close();
        const metadataLocation = named.metadataLocation('acme', table) as string;
        expect((await readIcebergTable({ metadataLocation })).length).toBe(50);
        return (JSON.parse(readFileSync(fileURLToPath(metadataLocation), 'utf8')) as { location: string }).location;
      };
      // Before: the name was sent as a relative location ('analytics/acme/orders').
      expect(await writeTo('orders', {})).toBe(pathToFileURL(path.join(scratch.path, 'named-warehouse', 'acme', 'orders')).href);
      expect([...named.prefixesUsed]).toEqual(['wh-analytics']);
      const explicit = pathToFileURL(path.join(scratch.path, 'elsewhere', 'orders_here')).href;
      expect(await writeTo('orders_here', { location: explicit })).toBe(explicit);
      expect(named.violations).toEqual([]);
      // A warehouse the server does not have is named in the error.
      const unknown = sink.configSchema.parse({ catalog: { type: 'rest', uri: named.uri, warehouse: 'nope' }, namespace: 'acme', table: 'x', partitioning: [] });
      await expect(sink.open(unknown, STREAM, testRunContext({ tenant: 'acme', job: 'x' }))).rejects.toThrow(/unknown warehouse 'nope'/);
    } finally {
      await named.stop();
    }
  });
});

describe('Iceberg sink request validation', () => {
  it('sent only requests the Iceberg REST OpenAPI document allows', () => {
    expect(rest.violations).toEqual([]);
    expect(rest.requests.some((r) => r.startsWith('POST /v1/main%7Cwarehouse/namespaces/acme/tables/'))).toBe(true);
  });
});

describe('Iceberg column metrics', () => {
  const fields: FieldSpec[] = [
    { name: 'id', type: parseDataType('bigint'), nullable: false },
    { name: 'name', type: parseDataType('string'), nullable: true },
    { name: 'score', type: parseDataType('double'), nullable: true },
    { name: 'amount', type: parseDataType('decimal(12,2)'), nullable: true },
    { name: 'qty', type: parseDataType('int'), nullable: true },
    { name: 'at', type: parseDataType('timestamptz'), nullable: true },
    { name: 'ok', type: parseDataType('boolean'), nullable: true },
  ];
  // Decoders of the spec's single-value serialization (Appendix D), written from the spec.
  const le = (b: Uint8Array) => Buffer.from(b);
  const decode: Record<string, (b: Uint8Array) => string> = {
    id: (b) => le(b).readBigInt64LE().toString(),
    name: (b) => Buffer.from(b).toString('utf8'),
    score: (b) => String(le(b).readDoubleLE()),
    amount: (b) => {
      let v = 0n;
      for (const byte of b) v = (v << 8n) | BigInt(byte);
      if (b.length && (b[0] as number) & 0x80) v -= 1n << BigInt(8 * b.length);
      return v.toString();
    },
    qty: (b) => String(le(b).readInt32LE()),
    at: (b) => le(b).readBigInt64LE().toString(),
    ok: (b) => String(b[0] === 1),
  };

  it('records value, null and NaN counts and lower/upper bounds that match the data DuckDB reads', async () => {
    const sink = icebergSink();
    const stream: StreamDescriptor = { name: 'metrics', schema: fields, syncModes: ['full_refresh'] };
    const cfg = sink.configSchema.parse({ catalog: { type: 'filesystem' }, warehouse: path.join(scratch.path, 'metrics-warehouse'), namespace: 'acme', table: 'metrics_t', create_namespace: true, partitioning: [] });
    const writer = await sink.open(cfg, stream, testRunContext({ tenant: 'acme', job: 'metrics' }));
    await writer.begin?.({ resumed: false });
    for (const part of [0, 1]) {
      const b = new BatchBuilder(fields);
      for (let i = part * 500; i < part * 500 + 500; i++) {
        b.appendRecord({
          id: BigInt(i) - 400n - (i === 999 ? 9_007_199_254_740_993n : 0n),
          name: i % 10 === 0 ? null : i === 3 ? 'zzzzzzzzzzzzzzzzzzzz-longer-than-sixteen-bytes' : `name-${String(i).padStart(4, '0')}`,
          score: i % 7 === 0 ? null : i === 11 ? Number.NaN : i === 12 ? -0 : (i - 250) / 8,
          amount: i % 9 === 0 ? null : `${i - 600}.${String(i % 100).padStart(2, '0')}`,
          qty: i % 5 === 0 ? null : i * 3 - 1000,
          at: i % 11 === 0 ? null : new Date(Date.UTC(2020, 0, 1) + i * 3_600_000),
          ok: i % 13 === 0 ? null : i % 3 === 1,
        });
      }
      await writer.write(b.flush()!);
    }
    await writer.commit({ stream: 'metrics', state: { done: true } });
    await writer.close();
    const dir = path.join(scratch.path, 'metrics-warehouse', 'acme', 'metrics_t', 'metadata');
    const metadataLocation = `file://${path.join(dir, `v${readFileSync(path.join(dir, 'version-hint.text'), 'utf8').trim()}.metadata.json`)}`;
    const text = readFileSync(fileURLToPath(metadataLocation), 'utf8');
    const schema = (parseJsonLossless(text) as TableMetadata).schemas.at(-1)!;
    const ids = Object.fromEntries(schema.fields.map((f) => [f.name, f.id]));
    const [file] = await icebergDataFiles({ metadataLocation });
    expect(file?.records).toBe(1000);
    const src = `read_parquet(${sqlString(file!.path)})`;
    const [duck] = await queryDuckDb(
      `SELECT min(id)::VARCHAR AS id_min, max(id)::VARCHAR AS id_max, count(name)::INTEGER AS name_n, min(name) AS name_min, max(name) AS name_max,
        min(score) FILTER (WHERE NOT isnan(score))::VARCHAR AS score_min, max(score) FILTER (WHERE NOT isnan(score))::VARCHAR AS score_max, count(score) FILTER (WHERE isnan(score))::INTEGER AS score_nan,
        (min(amount) * 100)::BIGINT::VARCHAR AS amount_min, (max(amount) * 100)::BIGINT::VARCHAR AS amount_max,
        min(qty)::VARCHAR AS qty_min, max(qty)::VARCHAR AS qty_max, epoch_us(min("at"))::VARCHAR AS at_min, epoch_us(max("at"))::VARCHAR AS at_max,
        min(ok)::VARCHAR AS ok_min, max(ok)::VARCHAR AS ok_max,
        count(*) FILTER (WHERE name IS NULL)::INTEGER AS name_nulls, count(*) FILTER (WHERE "at" IS NULL)::INTEGER AS at_nulls
       FROM ${src}`,
    );
    const d = duck as Record<string, string | number>;
    const bound = (col: string, which: 'lowerBounds' | 'upperBounds') => decode[col]!(file![which].get(ids[col] as number)!);
    for (const col of ['id', 'amount', 'qty', 'at', 'ok']) {
      expect([col, bound(col, 'lowerBounds'), bound(col, 'upperBounds')]).toEqual([col, d[`${col}_min`], d[`${col}_max`]]);
    }
    expect(Number(bound('score', 'lowerBounds'))).toBe(Number(d.score_min));
    expect(Number(bound('score', 'upperBounds'))).toBe(Number(d.score_max));
    // Strings: bounds keep 16 bytes; a truncated upper bound is rounded up so it stays ≥ every value.
    expect(bound('name', 'lowerBounds')).toBe(String(d.name_min).slice(0, 16));
    expect(String(d.name_max).startsWith('zzzzzzzzzzzzzzz')).toBe(true);
    expect(bound('name', 'upperBounds')).toBe('zzzzzzzzzzzzzzz{');
    expect(file!.valueCounts.get(ids.name as number)).toBe(1000);
    expect(file!.nullValueCounts.get(ids.name as number)).toBe(d.name_nulls);
    expect(file!.nullValueCounts.get(ids.at as number)).toBe(d.at_nulls);
    expect(d.score_nan).toBe(1);
    expect(file!.nanValueCounts.get(ids.score as number)).toBe(1);
  });
});

describe('Iceberg data file layout', () => {
  it('closes row groups at row_group_mb of Arrow data, as the Parquet sink does', async () => {
    const fields: FieldSpec[] = [
      { name: 'id', type: parseDataType('bigint'), nullable: false },
      { name: 'body', type: parseDataType('string'), nullable: false },
    ];
    const stream: StreamDescriptor = { name: 'docs', schema: fields, syncModes: ['full_refresh'] };
    const filler = 'lorem ipsum dolor sit amet '.repeat(80); // ~2 KiB a row
    const groupsOf = async (table: string, extra: Record<string, unknown>): Promise<number[]> => {
      const sink = icebergSink();
      const warehouse = path.join(scratch.path, 'layout-warehouse');
      const cfg = sink.configSchema.parse({ catalog: { type: 'filesystem' }, warehouse, namespace: 'acme', table, create_namespace: true, partitioning: [], ...extra });
      const writer = await sink.open(cfg, stream, testRunContext({ tenant: 'acme', job: table }));
      await writer.begin?.({ resumed: false });
      const b = new BatchBuilder(fields, { maxRows: 3000, maxBytes: 64 * 1024 * 1024 });
      for (let i = 0; i < 3000; i++) b.appendRecord({ id: BigInt(i), body: `${i} ${filler}` });
      await writer.write(b.flush()!);
      await writer.commit({ stream: 'docs', state: { done: true } });
      await writer.close();
      const dir = path.join(warehouse, 'acme', table, 'metadata');
      const metadataLocation = `file://${path.join(dir, `v${readFileSync(path.join(dir, 'version-hint.text'), 'utf8').trim()}.metadata.json`)}`;
      const [file] = await icebergDataFiles({ metadataLocation });
      expect(file?.records).toBe(3000);
      const groups = await queryDuckDb(`SELECT DISTINCT row_group_id, row_group_num_rows::INTEGER AS n FROM parquet_metadata(${sqlString(file!.path)}) ORDER BY 1`);
      return groups.map((g) => g.n as number);
    };
    // Default 8 MiB: 3,072-row groups for ~2,170-byte rows, so 3,000 rows make one.
    expect(await groupsOf('layout_default', {})).toEqual([3000]);
    // 1 MiB: the 1,024-row floor.
    expect(await groupsOf('layout_small', { row_group_mb: 1 })).toEqual([1024, 1024, 952]);
  });
});
