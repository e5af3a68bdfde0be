import path from 'node:path';
import { runPipeline, type ConfiguredStream } from '@dativo/core';
import { parquetSink } from '@dativo/sink-parquet';
import { expectRowsEqual, tempDir, testRunContext } from '@dativo/testing';
import { queryDuckDb, sqlString } from '@dativo/testing/duckdb';
import { tempPostgresDatabase, type TempDatabase } from '@dativo/testing/sql';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresSource } from './index.js';

/**
 * Every PostgreSQL type the issue lists, in a table with awkward identifiers, read through the
 * source into Parquet and compared value by value with what PostgreSQL itself says (DuckDB reads
 * the Parquet files).
 */
let db: TempDatabase;
const scratch = tempDir('dativo-pg-types-');

const SETUP = `
CREATE SCHEMA "Sales Dept";
CREATE TYPE "Sales Dept".mood AS ENUM ('sad', 'ok', 'happy ☺');
CREATE DOMAIN "Sales Dept".positive_int AS integer CHECK (VALUE > 0);
CREATE TABLE "Sales Dept"."Order Items" (
  "id" bigint PRIMARY KEY,
  "select" integer,
  "Mixed Case" smallint,
  "with space" text,
  "quote""d" varchar(20),
  "dot.ted" char(5),
  c_int8 bigint,
  c_numeric numeric(20,6),
  c_numeric_wide numeric(38,10),
  c_numeric_free numeric,
  c_real real,
  c_double double precision,
  c_bool boolean,
  c_uuid uuid,
  c_date date,
  c_time time,
  c_ts timestamp,
  c_tstz timestamptz,
  c_interval interval,
  c_json json,
  c_jsonb jsonb,
  c_bytea bytea,
  c_int_arr integer[],
  c_text_arr text[],
  c_mood "Sales Dept".mood,
  c_domain "Sales Dept".positive_int,
  c_money money,
  c_inet inet
);
INSERT INTO "Sales Dept"."Order Items" VALUES
 (1, 1, 1, 'plain', 'q"uote', 'abc', 9223372036854775807, 12345678901234.123456, 1234567890123456789012345678.0123456789, 1.5,
  1.5, 0.1, true, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2024-02-29', '23:59:59.999999', '2024-02-29 12:34:56.789012', '2024-02-29 12:34:56.789012+05:30',
  '1 year 2 months 3 days 04:05:06.5', '{"a": [1, 2, {"b": null}]}', '{"z": 1, "a": "é"}', '\\x00ff10', '{1,2,NULL,4}', '{"a","b c","d\\"e",NULL}', 'happy ☺', 7, 1234.56, '192.168.0.1/24'),
 (2, -2147483648, -32768, E'tab\\there, newline\\nthere, backslash \\\\ and emoji 😀', '', 'x', -9223372036854775808, -0.000001, -99999999999999999999999999.9999999999, 123456789.123456789,
  '-Infinity', 'NaN', false, '00000000-0000-0000-0000-000000000000', '0001-01-01', '00:00:00', '1900-01-01 00:00:00', '1969-12-31 23:59:59.999999+00',
  '-3 days -00:00:01', '[]', 'null', '\\x', '{}', '{}', 'sad', 1, -0.01, '::1'),
 (3, 2147483647, 32767, 'Ünïcödé ✓ 中文', 'twenty characters!!!', 'pad', 0, 0, 0, 0,
  'Infinity', -1.7976931348623157e308, true, 'ffffffff-ffff-ffff-ffff-ffffffffffff', '9999-12-31', '12:00:00', '9999-12-31 23:59:59.999999', '2262-04-11 23:47:16.854775+00',
  '0 seconds', '{"nested": {"deep": [true, false]}}', '[1, "two", 3.5]', '\\xdeadbeef', '{-1}', '{""}', 'ok', 2147483647, 0, '10.0.0.0/8'),
 (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
`;

/** Each column as canonical text in PostgreSQL and in DuckDB (reading our Parquet). */
const COMPARE: Array<[column: string, pgExpr: string, duckExpr: string]> = [
  ['select', '"select"::text', '"select"::VARCHAR'],
  ['Mixed Case', '"Mixed Case"::text', '"Mixed Case"::VARCHAR'],
  ['with space', '"with space"', '"with space"'],
  ['quote"d', '"quote""d"', '"quote""d"'],
  ['dot.ted', '"dot.ted"', '"dot.ted"'], // char(n) keeps its padding, as COPY and pg_dump do
  ['c_int8', 'c_int8::text', 'c_int8::VARCHAR'],
  ['c_numeric', 'c_numeric::text', 'c_numeric::VARCHAR'],
  ['c_numeric_wide', 'c_numeric_wide::text', 'c_numeric_wide::VARCHAR'],
  ['c_numeric_free', 'c_numeric_free::numeric(38,9)::text', 'c_numeric_free::VARCHAR'],
  ['c_real', 'c_real::text', 'c_real::VARCHAR'],
  ['c_double', 'c_double::text', 'c_double::VARCHAR'],
  ['c_bool', 'c_bool::text', 'c_bool::VARCHAR'],
  ['c_uuid', 'c_uuid::text', 'c_uuid'],
  ['c_date', 'c_date::text', 'c_date::VARCHAR'],
  ['c_time', 'c_time::text', 'c_time::VARCHAR'],
  ['c_ts', "to_char(c_ts, 'YYYY-MM-DD HH24:MI:SS.US')", "strftime(c_ts, '%Y-%m-%d %H:%M:%S.%f')"],
  ['c_tstz', '(extract(epoch FROM c_tstz) * 1000000)::bigint::text', 'epoch_us(c_tstz)::VARCHAR'],
  ['c_interval', 'c_interval::text', 'c_interval'],
  ['c_json', 'c_json::text', 'c_json'],
  ['c_jsonb', 'c_jsonb::text', 'c_jsonb'],
  ['c_bytea', "encode(c_bytea, 'hex')", 'lower(hex(c_bytea))'],
  ['c_int_arr', 'array_to_json(c_int_arr)::text', 'to_json(c_int_arr)::VARCHAR'],
  ['c_text_arr', 'array_to_json(c_text_arr)::text', 'to_json(c_text_arr)::VARCHAR'],
  ['c_mood', 'c_mood::text', 'c_mood'],
  ['c_domain', 'c_domain::text', 'c_domain::VARCHAR'],
  ['c_money', 'c_money::numeric::text', 'c_money::VARCHAR'],
  ['c_inet', 'c_inet::text', 'c_inet'],
];

/** Spellings that differ between the engines for the same value. */
function canonical(column: string, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  const text = String(value);
  if (column === 'c_real' || column === 'c_double') {
    const special: Record<string, string> = { nan: 'NaN', inf: 'Infinity', '-inf': '-Infinity', infinity: 'Infinity', '-infinity': '-Infinity' };
    return special[text.toLowerCase()] ?? String(Number(text));
  }
  if (column.includes('arr') || column === 'c_json' || column === 'c_jsonb') return JSON.parse(text);
  return text;
}

async function pgRows(): Promise<Array<Record<string, unknown>>> {
  const client = new pg.Client({ connectionString: db.uri });
  await client.connect();
  try {
    await client.query("SET TimeZone = 'UTC'; SET IntervalStyle = 'iso_8601'; SET extra_float_digits = 1");
    const r = await client.query(`SELECT id::int AS id, ${COMPARE.map(([c, e]) => `${e} AS "${c.replace(/"/g, '""')}"`).join(', ')} FROM "Sales Dept"."Order Items" ORDER BY id`);
    return r.rows;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  db = await tempPostgresDatabase('dativo_pg_types');
  const client = new pg.Client({ connectionString: db.uri });
  await client.connect();
  await client.query(SETUP);
  await client.end();
});
afterAll(async () => {
  await db?.drop();
  scratch.cleanup();
});

describe('PostgreSQL types and identifiers', () => {
  const source = postgresSource();
  const config = () => source.configSchema.parse({ connection: { uri: db.uri }, tables: [{ name: '"Sales Dept"."Order Items"', object: 'items' }] });

  it('discovers every column with its exact type, nullability and the primary key', async () => {
    const [stream] = await source.discover(config(), testRunContext());
    expect(stream?.name).toBe('items');
    expect(stream?.primaryKey).toEqual(['id']);
    const types = Object.fromEntries((stream?.schema ?? []).map((f) => [f.name, f.type]));
    expect(types).toMatchObject({
      id: { kind: 'int64' },
      select: { kind: 'int32' },
      'Mixed Case': { kind: 'int16' },
      'quote"d': { kind: 'string' },
      c_numeric: { kind: 'decimal', precision: 20, scale: 6 },
      c_numeric_wide: { kind: 'decimal', precision: 38, scale: 10 },
      c_numeric_free: { kind: 'decimal', precision: 38, scale: 9 },
      c_real: { kind: 'float32' },
      c_double: { kind: 'float64' },
      c_bool: { kind: 'boolean' },
      c_uuid: { kind: 'string' },
      c_date: { kind: 'date' },
      c_time: { kind: 'time' },
      c_ts: { kind: 'timestamp', withTimeZone: false },
      c_tstz: { kind: 'timestamp', withTimeZone: true },
      c_interval: { kind: 'string' },
      c_json: { kind: 'json' },
      c_jsonb: { kind: 'json' },
      c_bytea: { kind: 'binary' },
      c_int_arr: { kind: 'list', element: { kind: 'int32' } },
      c_text_arr: { kind: 'list', element: { kind: 'string' } },
      c_mood: { kind: 'string' },
      c_domain: { kind: 'int32' },
      c_money: { kind: 'decimal', precision: 19, scale: 2 },
      c_inet: { kind: 'string' },
    });
    expect(stream?.schema.find((f) => f.name === 'id')?.nullable).toBe(false);
    expect(stream?.schema.find((f) => f.name === 'select')?.nullable).toBe(true);
  });

  it('lands every value exactly: DuckDB over the Parquet output equals PostgreSQL, value by value', async () => {
    const cfg = config();
    const [descriptor] = await source.discover(cfg, testRunContext());
    const stream: ConfiguredStream = { name: 'items', schema: descriptor?.schema ?? [], syncMode: 'full_refresh', primaryKey: ['id'] };
    const out = path.join(scratch.path, 'types');
    const sink = parquetSink();
    const ctx = testRunContext();
    const result = await runPipeline({ extractor: source, sourceConfig: cfg, sink, sinkConfig: sink.configSchema.parse({ path: out, partitioning: [] }), streams: [stream], ctx });
    expect(result.status, JSON.stringify(result)).toBe('succeeded');
    expect(result.rows).toBe(4);
    const duck = await queryDuckDb(`SELECT id::INTEGER AS id, ${COMPARE.map(([c, , e]) => `${e} AS "${c.replace(/"/g, '""')}"`).join(', ')} FROM read_parquet(${sqlString(`${out}/**/*.parquet`)}) ORDER BY id`);
    const expected = await pgRows();
    expectRowsEqual(expected, duck, COMPARE.map(([c]) => c), canonical);
  });
});
