import type { BatchBuilder, FieldSpec } from '@dativo/core';
import { type ColumnInfo, type SelectStatement, type SqlSession, type StreamEvent, type TableInfo, type TableRef } from '@dativo/sql-kit';
import type pg from 'pg';
import { CopyBinaryDecoder } from './binary-parser.js';
import { copyOut } from './copy-out.js';
import { pgColumnCodec } from './codec.js';
import { pgDataType, pgTraits, type PgTypeFacts } from './types.js';

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Columns of the type facts, with domains resolved to their base type and array elements described. */
const TYPE_FACTS = `
  bt.typname AS typname, bt.typtype::text AS typtype, bt.typcategory::text AS typcategory,
  format_type(bt.oid, CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE %TYPMOD% END) AS formatted,
  et.typname AS el_typname, et.typtype::text AS el_typtype, et.typcategory::text AS el_typcategory,
  format_type(et.oid, NULL) AS el_formatted`;

const TYPE_JOINS = `
  JOIN pg_type t ON t.oid = %TYPEOID%
  JOIN pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
  LEFT JOIN pg_type et ON et.oid = bt.typelem AND bt.typcategory = 'A'`;

const TABLES_SQL = `
SELECT n.nspname AS schema, c.relname AS name, c.relkind::text AS relkind, a.attname AS column_name,
  (NOT a.attnotnull)::text AS nullable, format_type(a.atttypid, a.atttypmod) AS db_type,
  ${TYPE_FACTS.replace('%TYPMOD%', 'a.atttypmod')},
  COALESCE((SELECT k.n FROM pg_index i, unnest(i.indkey) WITH ORDINALITY AS k(att, n) WHERE i.indrelid = c.oid AND i.indisprimary AND k.att = a.attnum), 0) AS pk_position
FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  ${TYPE_JOINS.replace('%TYPEOID%', 'a.atttypid')}
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
  AND has_table_privilege(c.oid, 'SELECT')
  %FILTER%
ORDER BY n.nspname, c.relname, a.attnum`;

function facts(row: Record<string, string | null>, prefix = ''): PgTypeFacts {
  const f: PgTypeFacts = { typname: row[`${prefix}typname`] as string, typtype: row[`${prefix}typtype`] as string, typcategory: row[`${prefix}typcategory`] as string, formatted: row[`${prefix}formatted`] as string };
  if (!prefix && row.el_typname) f.element = facts(row, 'el_');
  return f;
}

function columnOf(row: Record<string, string | null>, name: string, nullable: boolean, dbType: string): ColumnInfo {
  const f = facts(row);
  return { name, dbType, type: pgDataType(f), nullable, nativeType: f.typname, traits: pgTraits(f) };
}

/** Settings every session uses, so COPY text has one shape whatever the server's defaults. */
export const SESSION_SETTINGS = "SET DateStyle = 'ISO, YMD'; SET TimeZone = 'UTC'; SET IntervalStyle = 'iso_8601'; SET extra_float_digits = 1; SET bytea_output = 'hex'; SET client_encoding = 'UTF8'";

/** One pg client: catalog queries, and statements streamed through binary COPY TO STDOUT. */
export class PgSession implements SqlSession {
  constructor(
    readonly client: pg.Client,
    private readonly onClose: () => Promise<void>,
  ) {}

  async query(sql: string, params: unknown[] = []): Promise<Array<Record<string, string | null>>> {
    const result = await this.client.query({ text: sql, values: params, types: { getTypeParser: () => (v: string) => v } as never });
    return result.rows as Array<Record<string, string | null>>;
  }

  async listTables(refs?: readonly TableRef[], schemas?: readonly string[]): Promise<TableInfo[]> {
    const rows: Array<Record<string, string | null>> = [];
    if (!refs) rows.push(...(await this.query(TABLES_SQL.replace('%FILTER%', schemas ? 'AND n.nspname = ANY($1::text[])' : ''), schemas ? [[...schemas]] : [])));
    for (const ref of refs ?? []) {
      const filter = ref.schema ? 'AND lower(c.relname) = lower($1) AND lower(n.nspname) = lower($2)' : 'AND lower(c.relname) = lower($1) AND pg_table_is_visible(c.oid)';
      rows.push(...(await this.query(TABLES_SQL.replace('%FILTER%', filter), ref.schema ? [ref.name, ref.schema] : [ref.name])));
    }
    const tables = new Map<string, TableInfo & { pk: Array<[number, string]> }>();
    for (const row of rows) {
      const id = `${row.schema}\u0000${row.name}`;
      let table = tables.get(id);
      if (!table) {
        table = { schema: row.schema as string, name: row.name as string, kind: row.relkind === 'v' || row.relkind === 'm' ? 'view' : 'table', columns: [], primaryKey: [], pk: [] };
        tables.set(id, table);
      }
      const name = row.column_name as string;
      table.columns.push(columnOf(row, name, row.nullable === 'true', row.db_type as string));
      const pkPos = Number(row.pk_position ?? 0);
      if (pkPos > 0) table.pk.push([pkPos, name]);
    }
    return [...tables.values()].map(({ pk, ...t }) => ({ ...t, primaryKey: pk.sort((a, b) => a[0] - b[0]).map((p) => p[1]) }));
  }

  async describeQuery(sql: string): Promise<ColumnInfo[]> {
    const result = await this.client.query({ text: `SELECT * FROM (${sql}) AS "_dativo_q" LIMIT 0` });
    if (result.fields.length === 0) return [];
    const oids = result.fields.map((f) => f.dataTypeID);
    const mods = result.fields.map((f) => f.dataTypeModifier);
    const types = await this.query(
      `SELECT q.ord::text AS ord, ${TYPE_FACTS.replace('%TYPMOD%', 'q.mod')}, format_type(q.oid, q.mod) AS db_type
       FROM unnest($1::oid[], $2::int4[]) WITH ORDINALITY AS q(oid, mod, ord) ${TYPE_JOINS.replace('%TYPEOID%', 'q.oid')} ORDER BY q.ord`,
      [oids, mods],
    );
    return result.fields.map((f, i) => columnOf(types[i] as Record<string, string | null>, f.name, true, types[i]?.db_type as string));
  }

  selectExpression(column: ColumnInfo, field: FieldSpec | undefined): string {
    return pgColumnCodec(quoteIdent(column.name), column, field).expression;
  }

  async *stream(statement: SelectStatement, builder: BatchBuilder, signal: AbortSignal): AsyncGenerator<StreamEvent> {
    await this.bind(statement.params);
    yield* copyOut(this.client, statement.sql, new CopyBinaryDecoder(statement, builder), signal);
  }

  async queryBound(sql: string, params: unknown[]): Promise<Array<Record<string, string | null>>> {
    await this.bind(params);
    return this.query(sql);
  }

  /**
   * COPY takes no bind parameters: values travel as session settings read back by
   * current_setting(...) in the statement (see PostgresDialect.param), never spliced into SQL.
   */
  private async bind(params: unknown[]): Promise<void> {
    if (!params.length) return;
    await this.client.query({
      text: `SELECT ${params.map((_, i) => `set_config('dativo.p${i + 1}', $${i + 1}, false)`).join(', ')}`,
      values: params.map((v) => (v === null || v === undefined ? null : String(v))),
    });
  }

  destroy(): void {
    (this.client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  }

  async close(): Promise<void> {
    await this.onClose();
  }
}
