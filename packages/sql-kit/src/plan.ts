import { DativoError, type ConfiguredStream, type FieldSpec } from '@dativo/core';
import type { SqlSourceConfig, SqlTableConfig } from './config.js';
import type { ColumnInfo, SelectColumn, SelectStatement, SqlDialect, SqlSession, TableInfo, TableRef } from './dialect.js';
import { findColumn, formatTableRef, listNames, parseTableName } from './names.js';
import type { RangeState, SqlCheckpointState } from './checkpoint.js';

/** What one stream reads: a table or a custom query. */
export interface StreamTarget {
  entry: SqlTableConfig;
  /** Set for tables; undefined for custom queries. */
  table?: TableRef;
}

/** The stream names a job's `source` offers: one per `tables` entry (v1 `object`, else the table name), or the query. */
export function streamTargets(config: SqlSourceConfig): Array<{ name: string; target: StreamTarget }> {
  if (config.query && config.tables?.length) throw new DativoError('source: give either tables or query, not both', { kind: 'config' });
  if (config.query) return [{ name: 'query', target: { entry: { name: 'query', query: config.query } } }];
  return (config.tables ?? []).map((entry, i) => {
    if (entry.query) return { name: entry.object ?? entry.name, target: { entry } };
    const table = parseTableName(entry.name, `source.tables[${i}].name`);
    return { name: entry.object ?? table.name, target: { entry, table } };
  });
}

/** The table or query a requested stream reads: matched by name, or the only one configured. */
export function targetFor(config: SqlSourceConfig, stream: string, single: boolean): StreamTarget {
  const targets = streamTargets(config);
  if (targets.length === 0) throw new DativoError('source: no tables to read; list them in source.tables (or give source.query)', { kind: 'config' });
  const match = targets.find((t) => t.name === stream) ?? targets.find((t) => t.name.toLowerCase() === stream.toLowerCase());
  if (match) return match.target;
  if (single && targets.length === 1) return (targets[0] as { target: StreamTarget }).target;
  throw new DativoError(`source: no table for stream '${stream}' (streams: ${listNames(targets.map((t) => t.name))}); set the table's object: ${stream}`, { kind: 'config' });
}

/** A stream ready to be read: where from, which columns, and how positions are kept. */
export interface StreamPlan {
  /** `public.orders` or `query 'name'`, for messages. */
  source: string;
  /** The FROM clause: a quoted table or `(query) AS "_dativo_q"`. */
  from: string;
  select: SelectColumn[];
  /** Select-list indexes of the key columns (empty: no key). */
  key: number[];
  /** Select-list index of the cursor column (incremental). */
  cursor?: number;
}

export function quoteTable(dialect: SqlDialect, ref: TableRef): string {
  return ref.schema ? `${dialect.quote(ref.schema)}.${dialect.quote(ref.name)}` : dialect.quote(ref.name);
}

/** Resolves a table reference against the catalog (exact, then case-insensitive), or explains what exists. */
export async function describeTable(session: SqlSession, ref: TableRef, dialect: SqlDialect, where: string): Promise<TableInfo> {
  const found = await session.listTables([ref]);
  const exact = found.find((t) => t.name === ref.name && (!ref.schema || t.schema === ref.schema));
  const table = exact ?? (found.length === 1 ? found[0] : undefined);
  if (table) return table;
  if (found.length > 1) {
    throw new DativoError(`${where}: '${formatTableRef(ref)}' matches several tables (${listNames(found.map((t) => formatTableRef(t)))}); quote the exact name`, { kind: 'config', code: 'SQL_AMBIGUOUS_TABLE' });
  }
  const all = await session.listTables();
  throw new DativoError(
    `${where}: table '${formatTableRef(ref)}' not found in the ${dialect.displayName} database, or the job's user may not read it (grant SELECT)${all.length ? `; tables it can read: ${listNames(all.map((t) => formatTableRef(t)))}` : '; it can read no tables'}`,
    { kind: 'config', code: 'SQL_UNKNOWN_TABLE', details: { table: formatTableRef(ref) } },
  );
}

function resolveColumn(columns: readonly ColumnInfo[], name: string, what: string, source: string): ColumnInfo {
  const column = findColumn(columns, name);
  if (!column) {
    throw new DativoError(`${what}: column '${name}' is not in ${source} (columns: ${listNames(columns.map((c) => c.name))})`, { kind: 'config', code: 'SQL_UNKNOWN_COLUMN', details: { column: name, source } });
  }
  return column;
}

export interface PlanInput {
  dialect: SqlDialect;
  session: SqlSession;
  config: SqlSourceConfig;
  stream: ConfiguredStream;
  target: StreamTarget;
}

/**
 * Maps the asset's fields onto the table's columns (exact name, then case-insensitive), picks the
 * key (table entry, asset, then the table's primary key) and the cursor, and lists the extra
 * columns read only for positions.
 */
export async function planStream(input: PlanInput): Promise<StreamPlan> {
  const { dialect, session, config, stream, target } = input;
  const entry = target.entry;
  let columns: ColumnInfo[];
  let tablePk: string[] = [];
  let source: string;
  let from: string;
  if (target.table) {
    const info = await describeTable(session, target.table, dialect, `source.tables (${entry.name})`);
    columns = info.columns;
    tablePk = info.primaryKey;
    source = formatTableRef(info);
    from = quoteTable(dialect, info);
  } else {
    const query = (entry.query as string).trim().replace(/;\s*$/, '');
    columns = await session.describeQuery(query);
    source = `query '${entry.object ?? entry.name}'`;
    from = `(${query}) AS ${dialect.quote('_dativo_q')}`;
  }
  const select: SelectColumn[] = stream.schema.map((field: FieldSpec, i) => {
    const column = resolveColumn(columns, field.name, `asset column '${field.name}'`, source);
    return { column, expression: session.selectExpression(column, field), target: i, field };
  });
  const indexOf = (column: ColumnInfo): number => {
    const at = select.findIndex((s) => s.column === column);
    if (at >= 0) return at;
    select.push({ column, expression: session.selectExpression(column, undefined), target: -1 });
    return select.length - 1;
  };
  const keyNames = entry.primary_key ?? stream.primaryKey ?? tablePk;
  const key = keyNames.map((name) => indexOf(resolveColumn(columns, name, 'primary key', source)));
  const plan: StreamPlan = { source, from, select, key };
  if (stream.syncMode === 'incremental') {
    const cursorName = entry.cursor_field ?? config.incremental?.cursor_field ?? stream.cursorField;
    if (!cursorName) {
      throw new DativoError(`incremental reads of ${source} need a cursor column: set source.tables[].cursor_field or source.incremental.cursor_field (e.g. updated_at; columns: ${listNames(columns.map((c) => c.name))})`, {
        kind: 'config',
        code: 'SQL_NO_CURSOR',
      });
    }
    plan.cursor = indexOf(resolveColumn(columns, cursorName, 'cursor_field', source));
  }
  return plan;
}

/** Where a statement starts reading. */
export type ReadBounds =
  | { kind: 'full'; after?: string[]; range?: Pick<RangeState, 'lo' | 'hi'> }
  | { kind: 'incremental'; state?: SqlCheckpointState; lookbackDays: number };

/**
 * The SELECT for a stream from a position: every identifier quoted, every value a parameter,
 * ordered so that a position (cursor, key) splits the rows into read and unread exactly.
 */
export function buildStatement(dialect: SqlDialect, plan: StreamPlan, bounds: ReadBounds): { statement: SelectStatement; lookbackApplied: boolean; count: { sql: string; params: unknown[] } } {
  const params: unknown[] = [];
  const where: string[] = [];
  const ref = (i: number): string => dialect.quote((plan.select[i] as SelectColumn).column.name);
  const param = (i: number, value: string): string => {
    params.push(value);
    return dialect.param((plan.select[i] as SelectColumn).column, params.length);
  };
  /** (k1, k2) > (v1, v2), written out so every dialect and index handles it. */
  const keyAfter = (values: readonly string[]): string => {
    const terms: string[] = [];
    for (let n = 0; n < plan.key.length; n++) {
      const parts: string[] = [];
      for (let m = 0; m < n; m++) parts.push(`${ref(plan.key[m] as number)} = ${param(plan.key[m] as number, values[m] as string)}`);
      parts.push(`${ref(plan.key[n] as number)} > ${param(plan.key[n] as number, values[n] as string)}`);
      terms.push(parts.length === 1 ? (parts[0] as string) : `(${parts.join(' AND ')})`);
    }
    return terms.length === 1 ? (terms[0] as string) : `(${terms.join(' OR ')})`;
  };
  const order: string[] = [];
  let position: number[] = [...plan.key];
  let lookbackApplied = false;
  if (bounds.kind === 'full') {
    const k = plan.key[0];
    if (bounds.range && k !== undefined) {
      if (bounds.range.lo !== null) where.push(`${ref(k)} >= ${param(k, bounds.range.lo)}`);
      if (bounds.range.hi !== null) where.push(`${ref(k)} < ${param(k, bounds.range.hi)}`);
    }
    if (bounds.after && plan.key.length) where.push(keyAfter(bounds.after));
    for (const i of plan.key) order.push(ref(i));
  } else {
    const c = plan.cursor as number;
    const state = bounds.state;
    const cursor = ref(c);
    position = [c, ...plan.key];
    const midRun = state && !state.done && state.cursor !== undefined && state.key !== undefined && plan.key.length > 0;
    if (midRun && state.cursor === null) {
      where.push(`((${cursor} IS NULL AND ${keyAfter(state.key as string[])}) OR ${cursor} IS NOT NULL)`);
    } else if (midRun) {
      const v = state.cursor as string;
      where.push(`(${cursor} > ${param(c, v)} OR (${cursor} = ${param(c, v)} AND ${keyAfter(state.key as string[])}))`);
    } else if (state && state.cursor !== undefined && state.cursor !== null) {
      const typed = param(c, state.cursor);
      const back = bounds.lookbackDays > 0 ? dialect.minusDays((plan.select[c] as SelectColumn).column, typed, bounds.lookbackDays) : undefined;
      lookbackApplied = back !== undefined;
      where.push(back ? `${cursor} >= ${back}` : `${cursor} > ${typed}`);
    }
    // The first run reads rows whose cursor is NULL first; later runs only move forward.
    order.push(state && state.cursor !== undefined && !(midRun && state.cursor === null) ? cursor : dialect.nullsFirst(cursor));
    for (const i of plan.key) order.push(ref(i));
  }
  const filter = where.length ? ` WHERE ${where.join(' AND ')}` : '';
  const sql = `SELECT ${plan.select.map((s) => s.expression).join(', ')} FROM ${plan.from}${filter}${order.length ? ` ORDER BY ${order.join(', ')}` : ''}`;
  return { statement: { sql, params, columns: plan.select, position, source: plan.source }, lookbackApplied, count: { sql: `SELECT COUNT(*) AS ${dialect.quote('n')} FROM ${plan.from}${filter}`, params } };
}
