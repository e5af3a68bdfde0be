import type { BatchBuilder, FieldSpec } from '@dativo/core';
import { EventChannel, type ColumnInfo, type SelectStatement, type SqlSession, type StreamEvent, type TableInfo, type TableRef } from '@dativo/sql-kit';
import type { EventEmitter } from 'node:events';
import mysql, { type Connection, type FieldPacket } from 'mysql2';
import { MysqlRowParser, type RowPacket } from './row-parser.js';
import { mysqlColumnCodec, mysqlDataType, mysqlTraits, type MysqlColumnFacts } from './types.js';

/** What our row parser hands back to mysql2 for each row (the values went to the batch). */
const ROW = Symbol('dativo-row');

/** `mysql2.createQuery` exists at run time (used by `connection.query`) but is not in its typings. */
type CreateQuery = (sql: string, values: unknown, callback: unknown, config: object) => EventEmitter;
const createQuery = (mysql as unknown as { createQuery: CreateQuery }).createQuery;

export function quoteIdent(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

type TypeCastField = { string(): string | null };

/** Every value as text (catalog queries). */
const asText = (field: TypeCastField): string | null => field.string();

function columnOf(name: string, facts: MysqlColumnFacts, nullable: boolean): ColumnInfo {
  return { name, dbType: facts.columnType, type: mysqlDataType(facts), nullable, nativeType: facts.dataType.toLowerCase(), traits: mysqlTraits(facts) };
}

/** mysql2 field type codes (protocol `MYSQL_TYPE_*`) to information_schema data types. */
const FIELD_TYPES: Record<number, string> = {
  0: 'decimal', 1: 'tinyint', 2: 'smallint', 3: 'int', 4: 'float', 5: 'double', 7: 'timestamp', 8: 'bigint', 9: 'mediumint', 10: 'date', 11: 'time', 12: 'datetime', 13: 'year',
  15: 'varchar', 16: 'bit', 245: 'json', 246: 'decimal', 247: 'enum', 248: 'set', 249: 'tinyblob', 250: 'mediumblob', 251: 'longblob', 252: 'blob', 253: 'varchar', 254: 'char', 255: 'geometry',
};
const UNSIGNED_FLAG = 32;
const BINARY_FLAG = 128;
const BINARY_CHARSET = 63;

/** One mysql2 connection: catalog queries, and statements streamed row by row with backpressure. */
export class MysqlSession implements SqlSession {
  constructor(
    readonly connection: Connection,
    private readonly onClose: () => Promise<void>,
  ) {}

  queryBound(sql: string, params: unknown[]): Promise<Array<Record<string, string | null>>> {
    return this.query(sql, params);
  }

  query(sql: string, params: unknown[] = []): Promise<Array<Record<string, string | null>>> {
    return new Promise((resolve, reject) => {
      this.connection.query({ sql, values: params, typeCast: asText as never }, (error, rows) => (error ? reject(error) : resolve(rows as Array<Record<string, string | null>>)));
    });
  }

  async listTables(refs?: readonly TableRef[], schemas?: readonly string[]): Promise<TableInfo[]> {
    const base = `SELECT c.TABLE_SCHEMA AS s, c.TABLE_NAME AS t, t.TABLE_TYPE AS kind, c.COLUMN_NAME AS col, c.DATA_TYPE AS data_type, c.COLUMN_TYPE AS column_type,
        c.IS_NULLABLE AS nullable, c.ORDINAL_POSITION AS pos,
        (SELECT k.ORDINAL_POSITION FROM information_schema.KEY_COLUMN_USAGE k WHERE k.TABLE_SCHEMA = c.TABLE_SCHEMA AND k.TABLE_NAME = c.TABLE_NAME
           AND k.COLUMN_NAME = c.COLUMN_NAME AND k.CONSTRAINT_NAME = 'PRIMARY') AS pk
      FROM information_schema.COLUMNS c JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
      WHERE c.TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')`;
    const rows: Array<Record<string, string | null>> = [];
    if (!refs) {
      // The listed databases, else the connection's database, else every database the user can see.
      const scope = !schemas ? '(DATABASE() IS NULL OR c.TABLE_SCHEMA = DATABASE())' : schemas.length ? `c.TABLE_SCHEMA IN (${schemas.map(() => '?').join(', ')})` : 'FALSE';
      rows.push(...(await this.query(`${base} AND ${scope} ORDER BY c.TABLE_SCHEMA, c.TABLE_NAME, c.ORDINAL_POSITION`, schemas ? [...schemas] : [])));
    }
    for (const ref of refs ?? []) {
      rows.push(
        ...(await this.query(`${base} AND LOWER(c.TABLE_NAME) = LOWER(?) AND ${ref.schema ? 'LOWER(c.TABLE_SCHEMA) = LOWER(?)' : 'c.TABLE_SCHEMA = DATABASE()'} ORDER BY c.TABLE_SCHEMA, c.TABLE_NAME, c.ORDINAL_POSITION`, ref.schema ? [ref.name, ref.schema] : [ref.name])),
      );
    }
    const jsonColumns = await this.mariadbJsonColumns(rows);
    const tables = new Map<string, TableInfo & { pk: Array<[number, string]> }>();
    for (const row of rows) {
      const id = `${row.s}\u0000${row.t}`;
      let table = tables.get(id);
      if (!table) {
        table = { schema: row.s as string, name: row.t as string, kind: row.kind === 'VIEW' ? 'view' : 'table', columns: [], primaryKey: [], pk: [] };
        tables.set(id, table);
      }
      const name = row.col as string;
      const json = jsonColumns.has(`${id}\u0000${name}`);
      table.columns.push(columnOf(name, { dataType: row.data_type as string, columnType: row.column_type as string, json }, row.nullable === 'YES'));
      if (row.pk) table.pk.push([Number(row.pk), name]);
    }
    return [...tables.values()].map(({ pk, ...t }) => ({ ...t, primaryKey: pk.sort((a, b) => a[0] - b[0]).map((p) => p[1]) }));
  }

  /** MariaDB stores JSON as longtext with a `json_valid(col)` check: find those columns. */
  private async mariadbJsonColumns(rows: Array<Record<string, string | null>>): Promise<Set<string>> {
    const out = new Set<string>();
    if (!rows.some((r) => r.data_type === 'longtext')) return out;
    try {
      const checks = await this.query("SELECT CONSTRAINT_SCHEMA AS s, TABLE_NAME AS t, CHECK_CLAUSE AS clause FROM information_schema.CHECK_CONSTRAINTS WHERE CHECK_CLAUSE LIKE '%json_valid%'");
      for (const c of checks) {
        for (const m of (c.clause ?? '').matchAll(/json_valid\(`((?:[^`]|``)+)`\)/gi)) out.add(`${c.s}\u0000${c.t}\u0000${(m[1] as string).replace(/``/g, '`')}`);
      }
    } catch {
      // Servers without CHECK_CONSTRAINTS (MySQL before 8.0.16) report JSON as json anyway.
    }
    return out;
  }

  async describeQuery(sql: string): Promise<ColumnInfo[]> {
    const fields = await new Promise<FieldPacket[]>((resolve, reject) => {
      this.connection.query({ sql: `SELECT * FROM (${sql}) AS \`_dativo_q\` LIMIT 0` }, (error, _rows, f) => (error ? reject(error) : resolve(f as FieldPacket[])));
    });
    return fields.map((f) => {
      const code = Number(f.columnType ?? 253);
      const flags = Number(f.flags ?? 0);
      let dataType = FIELD_TYPES[code] ?? 'varchar';
      const binary = (flags & BINARY_FLAG) !== 0 && f.characterSet === BINARY_CHARSET;
      if (binary && ['varchar', 'char'].includes(dataType)) dataType = 'varbinary';
      if (binary && dataType === 'blob') dataType = 'blob';
      if (!binary && ['tinyblob', 'mediumblob', 'longblob', 'blob'].includes(dataType)) dataType = 'text';
      const unsigned = (flags & UNSIGNED_FLAG) !== 0 ? ' unsigned' : '';
      const columnType = dataType === 'decimal' ? `decimal(${Math.max(1, Number(f.columnLength ?? 10) - (Number(f.decimals) > 0 ? 2 : 1) - (unsigned ? -1 : 0))},${Number(f.decimals ?? 0)})` : dataType === 'tinyint' && Number(f.columnLength) === 1 ? 'tinyint(1)' : `${dataType}${unsigned}`;
      return columnOf(f.name, { dataType, columnType }, true);
    });
  }

  selectExpression(column: ColumnInfo, field: FieldSpec | undefined): string {
    return mysqlColumnCodec(quoteIdent(column.name), column, field).expression;
  }

  /**
   * Streams a statement's rows into the builder. The rows are parsed from mysql2's row packets by
   * our own parser (installed as the query's row parser), and the connection is paused while a
   * full batch waits for the consumer.
   */
  async *stream(statement: SelectStatement, builder: BatchBuilder, signal: AbortSignal): AsyncGenerator<StreamEvent> {
    const parser = new MysqlRowParser(statement, builder, quoteIdent);
    const connection = this.connection as Connection & { pause(): void; resume(): void };
    const channel = new EventChannel(signal);
    const rowParser = {
      next: (packet: RowPacket): typeof ROW => {
        parser.row(packet);
        channel.push(...parser.takeWarnings());
        const flush = parser.takeFlush();
        if (flush) {
          channel.push(flush);
          connection.pause();
        }
        return ROW;
      },
    };
    const query = createQuery(connection.format(statement.sql, statement.params), undefined, undefined, {});
    // mysql2 builds its row parser when the column definitions arrive; ours takes its place.
    Object.defineProperty(query, '_rowParser', { get: () => rowParser, set: () => undefined, configurable: true });
    query.on('result', (row: unknown) => {
      if (row !== ROW) channel.fail(new Error('unexpected mysql2 row handling: rows were not parsed by Dativo (mysql2 version mismatch)'));
    });
    query.once('end', () => channel.finish());
    query.once('error', (error: unknown) => channel.fail(error));
    // mysql2 reports a lost connection (KILL, network) on the connection, not on a query without a callback.
    const onConnectionError = (error: unknown): void => channel.fail(error);
    connection.on('error', onConnectionError);
    connection.query(query as never);
    try {
      yield* channel.drain(
        () => parser.end(),
        (event) => {
          if (event.kind === 'flush' && channel.pending === 0) connection.resume();
        },
      );
    } finally {
      connection.removeListener('error', onConnectionError);
      // A result cannot be abandoned half way on a connection: close it.
      if (!channel.completed) connection.destroy();
    }
  }

  destroy(): void {
    this.connection.destroy();
  }

  async close(): Promise<void> {
    await this.onClose();
  }
}
