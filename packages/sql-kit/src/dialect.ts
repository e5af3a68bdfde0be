import type { BatchBuilder, DataType, DativoError, FieldSpec, RunContext } from '@dativo/core';
import type { SqlSourceConfig } from './config.js';

/** A table or view, as `schema.name` (the schema may be absent: the dialect's default). */
export interface TableRef {
  schema?: string;
  name: string;
}

/** One column as the database describes it. */
export interface ColumnInfo {
  name: string;
  /** The database's type, usable in a CAST (`timestamp with time zone`, `bigint unsigned`). */
  dbType: string;
  /** The Dativo type the column maps to. */
  type: DataType;
  nullable: boolean;
  /** The database's own name of the (base) type (`int4`, `varchar`), for the dialect's codecs. */
  nativeType?: string;
  /** Dialect-specific facts the reader needs (array, enum, set, zero-date capable…). */
  traits?: ReadonlySet<string>;
}

export interface TableInfo extends TableRef {
  kind: 'table' | 'view';
  columns: ColumnInfo[];
  primaryKey: string[];
}

/** One column of a SELECT list: what it reads, and where its values go. */
export interface SelectColumn {
  column: ColumnInfo;
  /** The SQL expression selected (quoted identifier, or a conversion such as `array_to_json(...)`). */
  expression: string;
  /** Index of the builder column the values go to, or -1 (read for the position only). */
  target: number;
  /** The asset field written (when `target >= 0`). */
  field?: FieldSpec;
}

/** A statement to stream, with its parameters and how its columns map onto the batch. */
export interface SelectStatement {
  sql: string;
  params: unknown[];
  columns: SelectColumn[];
  /** Select-list indexes whose values, in the last row read, are the stream position (cursor, then key). */
  position: number[];
  /** Table or query, for messages and dead-letter context. */
  source: string;
}

/** A row the reader could not append, for the dead-letter queue. */
export interface RejectedRow {
  raw: Record<string, string | null>;
  column: string;
  message: string;
}

/**
 * What a session's `stream` yields: `flush` each time the builder is full (and at the end, when
 * rows are pending), with the position of the last row consumed (appended or rejected), as text.
 */
export type StreamEvent =
  | { kind: 'flush'; position: Array<string | null> | undefined; rejected: RejectedRow[]; rows: number }
  | { kind: 'warning'; message: string; context?: Record<string, unknown> };

/** An open connection (or pooled connection) to the database. */
export interface SqlSession {
  /** Small queries (introspection, min/max): rows as objects of text values. */
  query(sql: string, params?: unknown[]): Promise<Array<Record<string, string | null>>>;
  /** A small query written with the dialect's `param()` placeholders (a `COUNT(*)` of a read). */
  queryBound(sql: string, params: unknown[]): Promise<Array<Record<string, string | null>>>;
  /** Tables and views matching the references (all user tables when `refs` is undefined). */
  /** The given tables, or (without refs) every table and view in `schemas` (an empty list matches nothing; without it, the dialect's usual scope). */
  listTables(refs?: readonly TableRef[], schemas?: readonly string[]): Promise<TableInfo[]>;
  /** The columns a custom query returns. */
  describeQuery(sql: string): Promise<ColumnInfo[]>;
  /** The expression that selects a column as text the builder can parse into the field's type. */
  selectExpression(column: ColumnInfo, field: FieldSpec | undefined): string;
  /**
   * Streams a statement's rows into the builder, yielding a `flush` whenever it is full and once at
   * the end. Must stop (and release the statement) when `signal` aborts or the consumer returns.
   */
  stream(statement: SelectStatement, builder: BatchBuilder, signal: AbortSignal): AsyncIterable<StreamEvent>;
  close(): Promise<void>;
  /** Drops the connection at once, without a goodbye to the server (a stalled connection). */
  destroy?(): void;
}

/** How a database is reached and spoken to: the only part a new SQL source implements. */
export interface SqlDialect {
  /** Connector id: `postgres`, `mysql`. */
  readonly id: string;
  /** `PostgreSQL`, `MySQL / MariaDB`: for messages. */
  readonly displayName: string;
  /** Connections a parallel read may open when `connection.pool_size` is not set (none: no limit). */
  readonly defaultPoolSize?: number;
  /** Quotes an identifier (any case, spaces, quotes, reserved words). */
  quote(identifier: string): string;
  /**
   * Parameter number `index` (1-based) holding a text value, converted to the column's type so it
   * compares exactly (`CAST($1 AS bigint)`, `CAST(? AS UNSIGNED)`).
   */
  param(column: ColumnInfo, index: number): string;
  /** `value` (a typed parameter) minus `days` days, for incremental lookback; undefined when the column is not temporal. */
  minusDays(column: ColumnInfo, value: string, days: number): string | undefined;
  /** ORDER BY term that puts NULLs first. */
  nullsFirst(expression: string): string;
  /** `host:port/database` without credentials, for messages. */
  describeTarget(config: SqlSourceConfig): string;
  /** Opens one session. */
  connect(config: SqlSourceConfig, ctx: RunContext): Promise<SqlSession>;
  /**
   * Opens `count` sessions that all see one consistent snapshot of the database (for parallel
   * reads); the returned `release` ends the snapshot's bookkeeping session, if any.
   */
  snapshotSessions(config: SqlSourceConfig, ctx: RunContext, count: number): Promise<{ sessions: SqlSession[]; release(): Promise<void> }>;
  /**
   * Starts a read-only transaction on `session` whose queries all see one snapshot (REPEATABLE
   * READ), so a `COUNT(*)` and the read after it agree.
   */
  beginSnapshot(session: SqlSession): Promise<void>;
  /** Classifies a driver error (SQLSTATE, errno) and rewrites it into a clear message. */
  classify(error: unknown, config: SqlSourceConfig): DativoError;
}
