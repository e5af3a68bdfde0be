import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BatchBuilder, parseDataType, type FieldSpec, type StreamDescriptor } from '@dativo/core';
import { parseJsonLossless } from './json.js';
import { tempDir, testRunContext } from '@dativo/testing';
import { readIcebergTable, startRestCatalog, type RestCatalogServer } from '@dativo/testing/iceberg';
import { tempPostgresDatabase } from '@dativo/testing/sql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { icebergSink } from './connector.js';
import type { TableMetadata } from './types.js';

const scratch = tempDir('dativo-iceberg-table-');
afterAll(() => scratch.cleanup());
const warehouse = path.join(scratch.path, 'wh');

const f = (name: string, type: string, nullable = true): FieldSpec => ({ name, type: parseDataType(type), nullable });

function stream(fields: FieldSpec[], name = 'events'): StreamDescriptor {
  return { name, schema: fields, syncModes: ['full_refresh'] };
}

function batch(fields: FieldSpec[], rows: Array<Record<string, unknown>>) {
  const b = new BatchBuilder(fields);
  for (const r of rows) expect(b.appendRecord(r)).toBeUndefined();
  return b.flush()!;
}

async function write(table: string, fields: FieldSpec[], rows: Array<Record<string, unknown>>, cp: number, extra: Record<string, unknown> = {}) {
  const sink = icebergSink();
  const cfg = sink.configSchema.parse({ catalog: { type: 'filesystem' }, warehouse, namespace: 'lake', table, partitioning: [], ...extra });
  const ctx = testRunContext({ tenant: 'acme', job: table });
  const writer = await sink.open(cfg, stream(fields), ctx);
  await writer.write(batch(fields, rows));
  await writer.commit({ stream: 'events', state: cp });
  await writer.close();
  return ctx;
}

function metadata(table: string): { file: string; m: TableMetadata } {
  const dir = path.join(warehouse, 'lake', table, 'metadata');
  const v = readFileSync(path.join(dir, 'version-hint.text'), 'utf8').trim();
  const file = path.join(dir, `v${v}.metadata.json`);
  return { file: `file://${file}`, m: parseJsonLossless(readFileSync(file, 'utf8')) as TableMetadata };
}

describe('schema evolution', () => {
  it('adds new source columns as optional fields with new ids; old rows read as null', async () => {
    const v1 = [f('id', 'bigint', false), f('name', 'string')];
    await write('add_col', v1, [{ id: 1n, name: 'a' }], 1);
    const before = metadata('add_col').m;
    const v2 = [...v1, f('score', 'double'), f('tags', 'array<string>')];
    const ctx = await write('add_col', v2, [{ id: 2n, name: 'b', score: 2.5, tags: ['x', 'y'] }], 2);
    const { m, file } = metadata('add_col');
    const schema = m.schemas.find((s) => s['schema-id'] === m['current-schema-id']);
    expect(m.schemas).toHaveLength(2);
    expect(schema?.fields.map((x) => [x.id, x.name, x.required])).toEqual([
      [1, 'id', true],
      [2, 'name', false],
      [3, 'score', false],
      [4, 'tags', false],
    ]);
    expect(schema?.fields[3]?.type).toEqual({ type: 'list', 'element-id': 5, element: 'string', 'element-required': false });
    expect(m['last-column-id']).toBe(5);
    expect(before.schemas[0]?.fields.map((x) => x.id)).toEqual([1, 2]);
    expect(ctx.logs.records().find((r) => r.msg === 'evolved the Iceberg table schema')?.changes).toEqual(['added column score (double)', 'added column tags (list<string>)']);
    const rows = (await readIcebergTable({ metadataLocation: file })).sort((a, b) => Number(a.id) - Number(b.id));
    expect(rows.map((r) => [Number(r.id), r.name, r.score ?? null])).toEqual([
      [1, 'a', null],
      [2, 'b', 2.5],
    ]);
  });

  it('widens int to long, float to double and decimal precision, keeping field ids', async () => {
    const v1 = [f('id', 'integer', false), f('ratio', 'real'), f('price', 'decimal(9,2)')];
    await write('widen', v1, [{ id: 1, ratio: 0.5, price: '1.25' }], 1);
    const v2 = [f('id', 'bigint', false), f('ratio', 'double'), f('price', 'decimal(18,2)')];
    await write('widen', v2, [{ id: 3_000_000_000n, ratio: 0.1, price: '1234567890123.45' }], 2);
    const { m, file } = metadata('widen');
    const schema = m.schemas.find((s) => s['schema-id'] === m['current-schema-id']);
    expect(schema?.fields.map((x) => [x.id, x.name, x.type])).toEqual([
      [1, 'id', 'long'],
      [2, 'ratio', 'double'],
      [3, 'price', 'decimal(18, 2)'],
    ]);
    const rows = (await readIcebergTable({ metadataLocation: file })).map((r) => Number(r.id)).sort((a, b) => a - b);
    expect(rows).toEqual([1, 3_000_000_000]);
    // Narrower sources keep writing into the wider columns.
    await write('widen', v1, [{ id: 5, ratio: 0.25, price: '2.00' }], 3);
    expect((await readIcebergTable({ metadataLocation: metadata('widen').file })).length).toBe(3);
  });

  it('refuses an incompatible change naming the column and both types, and commits nothing', async () => {
    await write('incompatible', [f('id', 'bigint', false), f('amount', 'decimal(10,2)')], [{ id: 1n, amount: '1.00' }], 1);
    const before = metadata('incompatible');
    await expect(write('incompatible', [f('id', 'bigint', false), f('amount', 'string')], [{ id: 2n, amount: 'x' }], 2)).rejects.toThrow(
      "table lake.incompatible: column 'amount' cannot change from decimal(10, 2) (table) to string (source, string); Iceberg allows int → long, float → double and larger decimal precision only",
    );
    await expect(write('incompatible', [f('id', 'bigint', false), f('amount', 'decimal(12,3)')], [{ id: 2n, amount: '1.000' }], 2)).rejects.toThrow("column 'amount' cannot change from decimal(10, 2) (table) to decimal(12, 3)");
    expect(metadata('incompatible').file).toBe(before.file);
  });
});

describe('concurrent writers', () => {
  let rest: RestCatalogServer;
  beforeAll(async () => {
    rest = await startRestCatalog({ warehouse: path.join(scratch.path, 'rest') });
    rest.createNamespace('lake');
  });
  afterAll(async () => rest?.stop());

  for (const kind of ['filesystem', 'rest', 'sql'] as const) {
    it(`two writers appending at once both land (${kind} catalog)`, async () => {
      const fields = [f('id', 'bigint', false), f('writer', 'string')];
      const pg = kind === 'sql' ? await tempPostgresDatabase('dativo_concurrent') : undefined;
      try {
        const catalog = kind === 'filesystem' ? { type: 'filesystem' } : kind === 'rest' ? { type: 'rest', uri: rest.uri } : { type: 'sql', uri: pg?.uri };
        const cfg = { catalog, ...(kind === 'rest' ? {} : { warehouse: path.join(scratch.path, `c-${kind}`) }), namespace: 'lake', table: 'shared', partitioning: [], create_namespace: kind !== 'rest' };
        // Create the table first so both writers race on commits, not on creation.
        const sink = icebergSink();
        const first = await sink.open(sink.configSchema.parse(cfg), stream(fields), testRunContext({ tenant: 'acme', job: 'setup' }));
        await first.close();
        const writers = await Promise.all(
          ['a', 'b'].map(async (name) => {
            const s = icebergSink();
            const w = await s.open(s.configSchema.parse(cfg), stream(fields), testRunContext({ tenant: 'acme', job: `writer-${name}` }));
            await w.write(batch(fields, Array.from({ length: 500 }, (_, i) => ({ id: BigInt(i + (name === 'a' ? 0 : 1000)), writer: name }))));
            return w;
          }),
        );
        await Promise.all(writers.map((w, i) => w.commit({ stream: 'events', state: i })));
        for (const w of writers) await w.close();
        const table = await sink.open(sink.configSchema.parse(cfg), stream(fields), testRunContext({ tenant: 'acme', job: 'check' }));
        await table.close();
        const loc =
          kind === 'rest'
            ? (rest.metadataLocation('lake', 'shared') as string)
            : kind === 'filesystem'
              ? `file://${path.join(scratch.path, 'c-filesystem', 'lake', 'shared', 'metadata', `v${readFileSync(path.join(scratch.path, 'c-filesystem', 'lake', 'shared', 'metadata', 'version-hint.text'), 'utf8').trim()}.metadata.json`)}`
              : await sqlLocation(pg?.uri as string);
        const rows = await readIcebergTable({ metadataLocation: loc });
        expect(rows.length).toBe(1000);
        expect(new Set(rows.map((r) => Number(r.id))).size).toBe(1000);
        const m = parseJsonLossless(readFileSync(new URL(loc), 'utf8')) as TableMetadata;
        expect(m.snapshots?.map((s) => s.summary['total-records'])).toEqual(['500', '1000']);
      } finally {
        await pg?.drop();
      }
    });
  }
});

async function sqlLocation(uri: string): Promise<string> {
  const pg = (await import('pg')).default;
  const c = new pg.Client({ connectionString: uri });
  await c.connect();
  try {
    return (await c.query("SELECT metadata_location FROM iceberg_tables WHERE table_name = 'shared'")).rows[0].metadata_location as string;
  } finally {
    await c.end();
  }
}
