import path from 'node:path';
import { runPipeline, type ConfiguredStream } from '@dativo/core';
import { parquetSink } from '@dativo/sink-parquet';
import { expectRowsEqual, tempDir, testRunContext } from '@dativo/testing';
import { queryDuckDb, sqlString } from '@dativo/testing/duckdb';
import { tempMysqlDatabase, type TempMysqlDatabase } from '@dativo/testing/sql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mysqlSource } from './index.js';

/**
 * Every MySQL / MariaDB type the issue lists, in a table with awkward identifiers, read through the
 * source into Parquet and compared value by value with what the server itself says (DuckDB reads
 * the Parquet files).
 */
let db: TempMysqlDatabase;
const scratch = tempDir('dativo-mysql-types-');

const SETUP = `
CREATE TABLE \`Order Items\` (
  \`id\` int PRIMARY KEY,
  \`select\` tinyint,
  \`Mixed Case\` tinyint unsigned,
  \`with space\` smallint,
  \`back\`\`tick\` smallint unsigned,
  \`dot.ted\` mediumint,
  c_int int, c_int_u int unsigned, c_big bigint, c_big_u bigint unsigned,
  c_dec decimal(20,6), c_dec_wide decimal(38,10), c_float float, c_double double,
  c_bool tinyint(1), c_bit1 bit(1), c_bit bit(12),
  c_date date, c_datetime datetime(6), c_ts timestamp(3) NULL, c_time time(6), c_year year,
  c_char char(5), c_varchar varchar(50), c_text text,
  c_enum enum('small', 'medium', 'large ☺'), c_set set('a', 'b', 'c d'),
  c_json json, c_binary binary(4), c_varbinary varbinary(16), c_blob blob
) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
SET SESSION sql_mode = '';
INSERT INTO \`Order Items\` VALUES
 (1, -128, 255, -32768, 65535, -8388608, -2147483648, 4294967295, -9223372036854775808, 18446744073709551615,
  12345678901234.123456, 1234567890123456789012345678.0123456789, 1.5, 0.1, 1, b'1', b'101010101010',
  '2024-02-29', '2024-02-29 12:34:56.789012', '2024-02-29 12:34:56.789', '23:59:59.999999', 2024,
  'abc', 'q"uote', 'tab\there, newline\nthere, backslash \\\\ and emoji 😀', 'large ☺', 'a,c d', '{"a": [1, 2, {"b": null}]}', x'00ff1000', x'deadbeef', x'00'),
 (2, 127, 0, 32767, 0, 8388607, 2147483647, 0, 9223372036854775807, 9007199254740993,
  -0.000001, -99999999999999999999999999.9999999999, -3.4e38, -1.7976931348623157e308, 0, b'0', b'0',
  '1000-01-01', '1000-01-01 00:00:00', '1970-01-01 00:00:01', '00:00:00', 1901,
  '', '', 'Ünïcödé ✓ 中文', 'small', '', '[]', x'00000000', x'', x''),
 (3, 0, 1, 0, 1, 0, 0, 1, 0, 1,
  0, 0, 0, 0, 1, b'1', b'111111111111',
  '9999-12-31', '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.999', '12:00:00.5', 2155,
  'pad', 'twenty', '', 'medium', 'a,b,c d', '{"nested": {"deep": [true, false]}}', x'ffffffff', x'01', x'0102'),
 (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (5, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, b'1', b'1',
  '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '-01:00:00', 0,
  'x', 'y', 'z', 'small', 'b', 'null', x'01020304', x'05', x'06'),
 (6, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, b'1', b'1',
  '2024-00-10', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '01:00:00', 0,
  'x', 'y', 'z', 'small', 'b', 'null', x'01020304', x'05', x'06');
`;

/** Each column as canonical text in MySQL and in DuckDB (reading our Parquet). */
const COMPARE: Array<[column: string, sqlExpr: string, duckExpr: string]> = [
  ['select', 'CAST(`select` AS CHAR)', '"select"::VARCHAR'],
  ['Mixed Case', 'CAST(`Mixed Case` AS CHAR)', '"Mixed Case"::VARCHAR'],
  ['with space', 'CAST(`with space` AS CHAR)', '"with space"::VARCHAR'],
  ['back`tick', 'CAST(`back``tick` AS CHAR)', '"back`tick"::VARCHAR'],
  ['dot.ted', 'CAST(`dot.ted` AS CHAR)', '"dot.ted"::VARCHAR'],
  ['c_int', 'CAST(c_int AS CHAR)', 'c_int::VARCHAR'],
  ['c_int_u', 'CAST(c_int_u AS CHAR)', 'c_int_u::VARCHAR'],
  ['c_big', 'CAST(c_big AS CHAR)', 'c_big::VARCHAR'],
  ['c_big_u', 'CAST(c_big_u AS CHAR)', 'c_big_u::VARCHAR'],
  ['c_dec', 'CAST(c_dec AS CHAR)', 'c_dec::VARCHAR'],
  ['c_dec_wide', 'CAST(c_dec_wide AS CHAR)', 'c_dec_wide::VARCHAR'],
  ['c_float', 'CAST(c_float AS CHAR)', 'c_float::VARCHAR'],
  ['c_double', 'CAST(c_double AS CHAR)', 'c_double::VARCHAR'],
  ['c_bool', "IF(c_bool IS NULL, NULL, IF(c_bool, 'true', 'false'))", 'c_bool::VARCHAR'],
  ['c_bit1', "IF(c_bit1 IS NULL, NULL, IF(c_bit1 = 1, 'true', 'false'))", 'c_bit1::VARCHAR'],
  ['c_bit', 'CAST(CAST(c_bit AS UNSIGNED) AS CHAR)', 'c_bit::VARCHAR'],
  ['c_date', "IF(MONTH(c_date) = 0 OR DAY(c_date) = 0, NULL, CAST(c_date AS CHAR))", 'c_date::VARCHAR'],
  ['c_datetime', "IF(c_datetime = '0000-00-00', NULL, DATE_FORMAT(c_datetime, '%Y-%m-%d %H:%i:%s.%f'))", "strftime(c_datetime, '%Y-%m-%d %H:%M:%S.%f')"],
  ['c_ts', "IF(c_ts = '0000-00-00', NULL, CAST(ROUND(UNIX_TIMESTAMP(c_ts) * 1000000) AS CHAR))", 'epoch_us(c_ts)::VARCHAR'],
  ['c_time', "IF(c_time < 0, NULL, DATE_FORMAT(c_time, '%H:%i:%s.%f'))", 'c_time::VARCHAR'],
  ['c_year', 'CAST(c_year + 0 AS CHAR)', 'c_year::VARCHAR'],
  ['c_char', 'c_char', 'c_char'],
  ['c_varchar', 'c_varchar', 'c_varchar'],
  ['c_text', 'c_text', 'c_text'],
  ['c_enum', 'c_enum', 'c_enum'],
  ['c_set', 'c_set', "array_to_string(c_set, ',')"],
  ['c_json', 'CAST(c_json AS CHAR)', 'c_json'],
  ['c_binary', 'LOWER(HEX(c_binary))', 'lower(hex(c_binary))'],
  ['c_varbinary', 'LOWER(HEX(c_varbinary))', 'lower(hex(c_varbinary))'],
  ['c_blob', 'LOWER(HEX(c_blob))', 'lower(hex(c_blob))'],
];

function canonical(column: string, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  const text = String(value);
  if (column === 'c_float' || column === 'c_double') return Number(text);
  if (column === 'c_json') return JSON.parse(text);
  if (column === 'c_datetime' || column === 'c_time') return text.replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
  return text;
}

beforeAll(async () => {
  db = await tempMysqlDatabase('dativo_my_types');
  await db.exec(SETUP);
});
afterAll(async () => {
  await db?.drop();
  scratch.cleanup();
});

describe('MySQL / MariaDB types and identifiers', () => {
  const source = mysqlSource();
  const config = () => source.configSchema.parse({ connection: { uri: db.uri }, tables: [{ name: '`Order Items`', object: 'items' }] });

  it('discovers every column with a type that holds all its values', async () => {
    const [stream] = await source.discover(config(), testRunContext());
    expect(stream?.primaryKey).toEqual(['id']);
    expect(Object.fromEntries((stream?.schema ?? []).map((f) => [f.name, f.type]))).toMatchObject({
      select: { kind: 'int16' },
      'Mixed Case': { kind: 'int16' },
      'with space': { kind: 'int16' },
      'back`tick': { kind: 'int32' },
      'dot.ted': { kind: 'int32' },
      c_int: { kind: 'int32' },
      c_int_u: { kind: 'int64' },
      c_big: { kind: 'int64' },
      c_big_u: { kind: 'decimal', precision: 20, scale: 0 },
      c_dec: { kind: 'decimal', precision: 20, scale: 6 },
      c_dec_wide: { kind: 'decimal', precision: 38, scale: 10 },
      c_float: { kind: 'float32' },
      c_double: { kind: 'float64' },
      c_bool: { kind: 'boolean' },
      c_bit1: { kind: 'boolean' },
      c_bit: { kind: 'int64' },
      c_date: { kind: 'date' },
      c_datetime: { kind: 'timestamp', withTimeZone: false },
      c_ts: { kind: 'timestamp', withTimeZone: true },
      c_time: { kind: 'time' },
      c_year: { kind: 'int16' },
      c_enum: { kind: 'string' },
      c_set: { kind: 'list', element: { kind: 'string' } },
      c_json: { kind: 'json' },
      c_binary: { kind: 'binary' },
      c_blob: { kind: 'binary' },
    });
  });

  it('lands every value exactly: zero dates as null with a warning, durations rejected to the dead-letter queue', async () => {
    const cfg = config();
    const [descriptor] = await source.discover(cfg, testRunContext());
    const stream: ConfiguredStream = { name: 'items', schema: descriptor?.schema ?? [], syncMode: 'full_refresh', primaryKey: ['id'] };
    const out = path.join(scratch.path, 'types');
    const sink = parquetSink();
    const ctx = testRunContext();
    const result = await runPipeline({ extractor: source, sourceConfig: cfg, sink, sinkConfig: sink.configSchema.parse({ path: out, partitioning: [] }), streams: [stream], ctx, validationMode: 'warn' });
    expect(result.status).toBe('partial');
    expect(result.rows, JSON.stringify(ctx.dlq.entries.map((e) => e.error.message))).toBe(5);
    // Row 5 holds a TIME of -01:00:00 (a duration): rejected with its key and column.
    const dead = ctx.dlq.entries;
    expect(dead).toHaveLength(1);
    expect(dead[0]?.error.message).toContain("row (id=5), column 'c_time': '-01:00:00.000000' is a duration outside 00:00:00–23:59:59");
    const warnings = ctx.logs.records().filter((r) => String(r.msg).includes('zero dates'));
    expect(warnings.length).toBeGreaterThanOrEqual(1);

    // Compare the four clean rows; for row 5 compare with the zero dates read as null.
    const duck = await queryDuckDb(`SELECT id::INTEGER AS id, ${COMPARE.map(([c, , e]) => `${e} AS "${c.replace(/"/g, '""')}"`).join(', ')} FROM read_parquet(${sqlString(`${out}/**/*.parquet`)}) ORDER BY id`);
    const expected = (await db.exec(`SELECT id, ${COMPARE.map(([c, e]) => `${e} AS \`${c.replace(/`/g, '``')}\``).join(', ')} FROM \`Order Items\` WHERE id <> 5 ORDER BY id`)) as Array<Record<string, unknown>>;
    expect(duck.map((r) => r.id)).toEqual([1, 2, 3, 4, 6]);
    expectRowsEqual(expected, duck, COMPARE.map(([c]) => c), canonical);
  });
});
