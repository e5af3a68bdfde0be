import { parseDataType } from '@dativo/core';
import { describe, expect, it } from 'vitest';
import type { ColumnInfo, SqlDialect } from './dialect.js';
import { parseTableName } from './names.js';
import { buildStatement, type StreamPlan } from './plan.js';
import { mergeIterators, splitRanges } from './ranges.js';

const column = (name: string, type: string, temporal = false): ColumnInfo => ({ name, dbType: type, type: parseDataType(type === 'timestamp' ? 'timestamp' : 'bigint'), nullable: true, ...(temporal ? { traits: new Set(['temporal']) } : {}) });

/** A dialect that writes parameters as `$n::type` so statements are easy to read in tests. */
const dialect = {
  id: 'test',
  displayName: 'Test',
  quote: (s: string) => `"${s.replace(/"/g, '""')}"`,
  param: (c: ColumnInfo, i: number) => `$${i}::${c.dbType}`,
  minusDays: (c: ColumnInfo, v: string, days: number) => (c.traits?.has('temporal') ? `(${v} - ${days}d)` : undefined),
  nullsFirst: (e: string) => `${e} NULLS FIRST`,
} as unknown as SqlDialect;

const id = column('id', 'bigint');
const at = column('updated at', 'timestamp', true);
const plan: StreamPlan = {
  source: 'public.t',
  from: '"public"."t"',
  select: [
    { column: id, expression: '"id"', target: 0 },
    { column: at, expression: '"updated at"', target: 1 },
  ],
  key: [0],
  cursor: 1,
};

describe('buildStatement', () => {
  it('full refresh: ordered by key; resumed after the last key', () => {
    expect(buildStatement(dialect, plan, { kind: 'full' }).statement).toMatchObject({ sql: 'SELECT "id", "updated at" FROM "public"."t" ORDER BY "id"', params: [], position: [0] });
    expect(buildStatement(dialect, plan, { kind: 'full', after: ['42'] }).statement).toMatchObject({ sql: 'SELECT "id", "updated at" FROM "public"."t" WHERE "id" > $1::bigint ORDER BY "id"', params: ['42'] });
    const range = buildStatement(dialect, plan, { kind: 'full', range: { lo: '10', hi: '20' }, after: ['12'] }).statement;
    expect(range.sql).toBe('SELECT "id", "updated at" FROM "public"."t" WHERE "id" >= $1::bigint AND "id" < $2::bigint AND "id" > $3::bigint ORDER BY "id"');
    expect(range.params).toEqual(['10', '20', '12']);
  });

  it('composite keys compare as tuples, written out for every dialect', () => {
    const two: StreamPlan = { ...plan, key: [0, 1] };
    expect(buildStatement(dialect, two, { kind: 'full', after: ['1', '2024-01-01 00:00:00'] }).statement.sql).toContain('WHERE ("id" > $1::bigint OR ("id" = $2::bigint AND "updated at" > $3::timestamp)) ORDER BY "id", "updated at"');
  });

  it('incremental: the first run reads NULL cursors first; later runs continue after the cursor, with lookback', () => {
    expect(buildStatement(dialect, plan, { kind: 'incremental', lookbackDays: 0 }).statement).toMatchObject({ sql: 'SELECT "id", "updated at" FROM "public"."t" ORDER BY "updated at" NULLS FIRST, "id"', position: [1, 0] });
    const next = buildStatement(dialect, plan, { kind: 'incremental', state: { v: 1, done: true, cursor: '2024-05-01 00:00:00', key: ['9'] }, lookbackDays: 0 });
    expect(next.statement.sql).toBe('SELECT "id", "updated at" FROM "public"."t" WHERE "updated at" > $1::timestamp ORDER BY "updated at", "id"');
    const back = buildStatement(dialect, plan, { kind: 'incremental', state: { v: 1, done: true, cursor: '2024-05-01 00:00:00' }, lookbackDays: 2 });
    expect(back.statement.sql).toContain('WHERE "updated at" >= ($1::timestamp - 2d)');
    expect(back.lookbackApplied).toBe(true);
  });

  it('incremental resume: after (cursor, key), including inside the NULL-cursor rows', () => {
    const mid = buildStatement(dialect, plan, { kind: 'incremental', state: { v: 1, done: false, cursor: '2024-05-01 00:00:00', key: ['9'] }, lookbackDays: 3 });
    expect(mid.statement.sql).toBe('SELECT "id", "updated at" FROM "public"."t" WHERE ("updated at" > $1::timestamp OR ("updated at" = $2::timestamp AND "id" > $3::bigint)) ORDER BY "updated at", "id"');
    expect(mid.lookbackApplied).toBe(false);
    const nulls = buildStatement(dialect, plan, { kind: 'incremental', state: { v: 1, done: false, cursor: null, key: ['9'] }, lookbackDays: 0 });
    expect(nulls.statement.sql).toBe('SELECT "id", "updated at" FROM "public"."t" WHERE (("updated at" IS NULL AND "id" > $1::bigint) OR "updated at" IS NOT NULL) ORDER BY "updated at" NULLS FIRST, "id"');
  });
});

describe('parseTableName', () => {
  it('reads plain, qualified and quoted names', () => {
    expect(parseTableName('orders', 'x')).toEqual({ name: 'orders' });
    expect(parseTableName('public.Orders', 'x')).toEqual({ schema: 'public', name: 'Orders' });
    expect(parseTableName('"my.schema"."Order ""Items"""', 'x')).toEqual({ schema: 'my.schema', name: 'Order "Items"' });
    expect(parseTableName('`db`.`select`', 'x')).toEqual({ schema: 'db', name: 'select' });
  });

  it('explains names it cannot read', () => {
    expect(() => parseTableName('a.b.c', 'source.tables[0].name')).toThrow("source.tables[0].name: 'a.b.c' is not a table name; expected table or schema.table");
    expect(() => parseTableName('"open', 'w')).toThrow("w: unterminated quoted name in '\"open'");
  });
});

describe('ranges', () => {
  it('splits an integer key span into equal ranges, open at both ends', () => {
    expect(splitRanges(1n, 1000n, 4).map((r) => [r.lo, r.hi])).toEqual([
      [null, '251'],
      ['251', '501'],
      ['501', '751'],
      ['751', null],
    ]);
    expect(splitRanges(5n, 6n, 8)).toHaveLength(2);
    expect(splitRanges(-(2n ** 63n), 2n ** 63n - 1n, 2)[1]?.lo).toBe('0');
  });

  it('merges iterators as values come, and stops the others when the consumer stops', async () => {
    let stopped = 0;
    async function* gen(label: string, n: number, delay: number) {
      try {
        for (let i = 0; i < n; i++) {
          await new Promise((r) => setTimeout(r, delay));
          yield `${label}${i}`;
        }
      } finally {
        stopped++;
      }
    }
    const seen: string[] = [];
    for await (const { value } of mergeIterators([gen('a', 3, 1), gen('b', 3, 2)])) seen.push(value);
    expect(seen.sort()).toEqual(['a0', 'a1', 'a2', 'b0', 'b1', 'b2']);
    stopped = 0;
    for await (const { value } of mergeIterators([gen('a', 100, 1), gen('b', 100, 1)])) if (value === 'a2') break;
    expect(stopped).toBe(2);
  });
});
