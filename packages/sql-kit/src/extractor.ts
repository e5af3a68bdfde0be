import { BatchBuilder, DativoError, isSensitiveField, type Checkpoint, type ConfiguredStream, type ExtractMessage, type Extractor, type RunContext, type StreamDescriptor } from '@dativo/core';
import { parseSqlCheckpoint, type RangeState, type SqlCheckpointState } from './checkpoint.js';
import { sqlSourceConfigSchema, type SqlSourceConfig } from './config.js';
import type { SqlDialect, SqlSession, TableInfo } from './dialect.js';
import { formatTableRef } from './names.js';
import { buildStatement, describeTable, planStream, quoteTable, streamTargets, targetFor, type ReadBounds, type StreamPlan } from './plan.js';
import { mergeIterators, splitRanges } from './ranges.js';
import { readSegment, rejectionMessage, type SegmentEvent } from './segment.js';
import { narrowingWarnings, orderableForCursor } from './types.js';

export interface SqlSourceOptions {
  /** Rows per Arrow batch (default 32 768; `source.batch_rows` overrides). */
  batchRows?: number;
  /** Approximate bytes per batch (default 4 MiB). */
  batchBytes?: number;
}

/** Opens a session, retrying transient failures (server starting, too many connections) through the run's resilience. */
export function connectWithRetry(dialect: SqlDialect, config: SqlSourceConfig, ctx: RunContext): Promise<SqlSession> {
  return ctx.resilience.retry(
    async () => {
      try {
        return await dialect.connect(config, ctx);
      } catch (error) {
        throw DativoError.isInstance(error) ? error : dialect.classify(error, config);
      }
    },
    { endpoint: `connect to ${dialect.displayName}`, signal: ctx.signal, policy: { maxRetries: config.max_retries } },
  );
}

function descriptor(table: TableInfo, name: string): StreamDescriptor {
  return {
    name,
    schema: table.columns.map((c) => ({ name: c.name, type: c.type, nullable: c.nullable })),
    ...(table.primaryKey.length ? { primaryKey: table.primaryKey } : {}),
    cursorFields: table.columns.filter((c) => orderableForCursor(c.type)).map((c) => c.name),
    syncModes: ['full_refresh', 'incremental'],
    description: `${table.kind} ${formatTableRef(table)}`,
  };
}

/**
 * A database source built from a dialect: `discover` from the catalog, full refresh and
 * incremental reads by a cursor column with lookback, positions checkpointed per batch (cursor and
 * key of the last row), reconnect-and-resume after transient errors, and parallel key-range reads
 * of a full refresh inside one consistent snapshot.
 */
export function createSqlSource(dialect: SqlDialect, meta: { version: string; description: string }, options: SqlSourceOptions = {}): Extractor<SqlSourceConfig> {
  return {
    specificationVersion: 'v1',
    spec: { id: dialect.id, version: meta.version, description: meta.description },
    configSchema: sqlSourceConfigSchema,

    async check(config, ctx) {
      const session = await connectWithRetry(dialect, config, ctx);
      try {
        await session.query('SELECT 1 AS ok');
        for (const { target } of streamTargets(config)) {
          if (target.table) {
            const table = await describeTable(session, target.table, dialect, `source.tables (${target.entry.name})`);
            // Seeing a table in the catalog does not mean it may be read: ask for no rows of it.
            await session.query(`SELECT 1 FROM ${quoteTable(dialect, table)} WHERE 1 = 0`);
          } else await session.describeQuery((target.entry.query as string).trim().replace(/;\s*$/, ''));
        }
      } catch (error) {
        throw DativoError.isInstance(error) ? error : dialect.classify(error, config);
      } finally {
        await session.close();
      }
    },

    async discover(config, ctx) {
      const session = await connectWithRetry(dialect, config, ctx);
      try {
        const targets = streamTargets(config);
        if (targets.length === 0) {
          const listed = await session.listTables(undefined, config.schemas);
          // A name that several schemas hold is qualified (`sales.orders`), so stream names stay unique.
          const seen = new Map<string, number>();
          for (const t of listed) seen.set(t.name, (seen.get(t.name) ?? 0) + 1);
          return listed.map((t) => descriptor(t, (seen.get(t.name) ?? 0) > 1 ? formatTableRef(t) : t.name));
        }
        const out: StreamDescriptor[] = [];
        for (const { name, target } of targets) {
          if (target.table) {
            out.push(descriptor(await describeTable(session, target.table, dialect, `source.tables (${target.entry.name})`), name));
          } else {
            const columns = await session.describeQuery((target.entry.query as string).trim().replace(/;\s*$/, ''));
            out.push(descriptor({ name, kind: 'view', columns, primaryKey: target.entry.primary_key ?? [] }, name));
          }
        }
        return out;
      } finally {
        await session.close();
      }
    },

    async *read(config, request, ctx) {
      for (const stream of request.streams) {
        yield* readStream(dialect, config, stream, request.streams.length === 1, ctx, options);
      }
    },
  };
}

async function* readStream(dialect: SqlDialect, config: SqlSourceConfig, requested: ConfiguredStream, single: boolean, ctx: RunContext, options: SqlSourceOptions): AsyncGenerator<ExtractMessage> {
  const target = targetFor(config, requested.name, single);
  let stream = requested;
  const cursor = target.entry.cursor_field !== undefined ? target.entry.cursor_field : config.incremental?.cursor_field;
  if (stream.syncMode === 'incremental' && cursor === null) {
    ctx.log.info('cursor_field is null: the table is read whole on every run (a full sync, as v1 does)', { stream: stream.name });
    stream = { ...stream, syncMode: 'full_refresh' };
  }
  const session = await connectWithRetry(dialect, config, ctx);
  let plan: StreamPlan;
  try {
    plan = await planStream({ dialect, session, config, stream, target });
  } catch (error) {
    await session.close().catch(() => undefined);
    throw error;
  }
  const incremental = stream.syncMode === 'incremental';
  const previous = parseSqlCheckpoint(stream.resumeFrom?.state, stream.name);
  // An incremental run continues from any checkpoint; a full refresh resumes only an unfinished run.
  const state = previous && (incremental || !previous.done) ? previous : undefined;
  yield { kind: 'start', stream: stream.name, resumed: state !== undefined };
  yield { kind: 'status', stream: stream.name, at: plan.source };
  for (const message of narrowingWarnings(plan)) yield { kind: 'warning', stream: stream.name, message, context: { source: plan.source } };
  const checkpoint = (s: SqlCheckpointState): ExtractMessage => ({ kind: 'checkpoint', checkpoint: { stream: stream.name, state: s as unknown as Checkpoint['state'] } });
  const keyNames = plan.key.map((i) => plan.select[i]?.column.name as string);
  // Values of columns the asset classifies PII are never shown in messages (they stay in the dead letter's raw record).
  const hidden = new Set(stream.schema.filter(isSensitiveField).map((f) => f.name));
  const toMessages = function* (event: SegmentEvent): Generator<ExtractMessage> {
    if (event.kind === 'warning') {
      yield { kind: 'warning', stream: stream.name, message: event.message, context: { source: plan.source, ...event.context } };
      return;
    }
    for (const row of event.rejected) {
      const key = Object.fromEntries(keyNames.map((k) => [k, row.raw[k] ?? null]));
      const context = { source: plan.source, column: row.column, ...(keyNames.length ? { key } : {}) };
      yield { kind: 'rejected', stream: stream.name, raw: row.raw, error: new DativoError(rejectionMessage(plan.source, row, keyNames, hidden), { kind: 'validation', code: 'SQL_BAD_VALUE', details: context }), context };
    }
    if (event.batch) yield { kind: 'batch', stream: stream.name, batch: event.batch };
  };
  const limits = { maxRows: config.batch_rows ?? options.batchRows ?? ctx.batchLimits.maxRows, maxBytes: options.batchBytes ?? ctx.batchLimits.maxBytes };
  const started = Date.now();
  let rows = 0;

  const keyColumn = plan.key.length === 1 ? plan.select[plan.key[0] as number]?.column : undefined;
  const parallel = !incremental && config.parallelism > 1;
  if (parallel && !(keyColumn && ['int16', 'int32', 'int64'].includes(keyColumn.type.kind))) {
    yield { kind: 'warning', stream: stream.name, message: `${plan.source}: parallelism ${config.parallelism} needs a single-column integer key; reading it in one statement`, context: { source: plan.source } };
  }
  if (parallel && keyColumn && ['int16', 'int32', 'int64'].includes(keyColumn.type.kind)) {
    await session.close();
    yield* readRanges(dialect, config, plan, stream.name, stream.schema, state, ctx, limits, checkpoint, toMessages, (n) => (rows += n));
  } else {
    let current: SqlCheckpointState | undefined = state;
    const bounds = (position: Array<string | null> | undefined): ReadBounds => {
      if (!incremental) return { kind: 'full', ...(position ? { after: position as string[] } : state?.key ? { after: state.key } : {}) };
      if (position) return { kind: 'incremental', state: { v: 1, done: false, cursor: position[0] as string | null, key: position.slice(1) as string[] }, lookbackDays: 0 };
      return { kind: 'incremental', ...(state ? { state } : {}), lookbackDays: config.incremental?.lookback_days ?? 0 };
    };
    const initial = buildStatement(dialect, plan, bounds(undefined));
    // The rows the read covers, counted in the snapshot the read then uses (one transaction).
    let expected: number | undefined;
    let reconnected = false;
    if ((config.incremental?.lookback_days ?? 0) > 0 && state?.done && !initial.lookbackApplied) {
      yield { kind: 'warning', stream: stream.name, message: `${plan.source}: lookback_days applies to date and timestamp cursors; '${plan.select[plan.cursor as number]?.column.name}' is not one, so reading continues after the last value`, context: { source: plan.source } };
    }
    ctx.log.info(state ? 'resuming' : 'reading', { stream: stream.name, source: plan.source, mode: stream.syncMode, ...(state?.cursor !== undefined ? { after: state.cursor } : {}) });
    const segment = readSegment({
      dialect,
      config,
      ctx,
      session,
      reconnect: () => connectWithRetry(dialect, config, ctx),
      builder: new BatchBuilder(stream.schema, limits),
      statement: (position) => (position ? buildStatement(dialect, plan, bounds(position)).statement : initial.statement),
      resumable: plan.key.length > 0,
      label: plan.source,
      onReconnect: () => (reconnected = true),
      // Counted on each session the read starts on before its first rows (a failure, such as a table
      // locked past lock_timeout_seconds, is retried like the read): count and rows share a snapshot.
      ...(config.verify_counts
        ? {
            prepare: async (s: SqlSession) => {
              await dialect.beginSnapshot(s);
              expected = await countRows(s, initial.count);
              // A session the read moved to before its first rows is counted anew: still one snapshot.
              reconnected = false;
            },
          }
        : {}),
    });
    let announced = false;
    for await (const event of segment) {
      if (!announced && expected !== undefined) {
        announced = true;
        yield { kind: 'status', stream: stream.name, at: plan.source, expected };
      }
      yield* toMessages(event);
      if (event.kind !== 'data') continue;
      rows += event.rows;
      if (!event.position) continue;
      current = incremental ? { v: 1, done: false, cursor: event.position[0] as string | null, key: event.position.slice(1) as string[] } : { v: 1, done: false, key: event.position as string[] };
      if (plan.key.length) yield checkpoint(current);
    }
    if (ctx.signal.aborted) return;
    if (expected !== undefined) yield* countMessage(stream.name, plan, expected, reconnected, ctx);
    const done: SqlCheckpointState = { v: 1, done: true, ...(incremental && current?.cursor !== undefined ? { cursor: current.cursor } : {}), ...(incremental && current?.key ? { key: current.key } : {}) };
    yield checkpoint(done);
  }
  ctx.log.info('finished reading', { stream: stream.name, source: plan.source, rows, seconds: Math.round((Date.now() - started) / 100) / 10 });
}

/** A parallel full refresh: one statement per key range, all in one snapshot, merged as they come. */
async function* readRanges(
  dialect: SqlDialect,
  config: SqlSourceConfig,
  plan: StreamPlan,
  streamName: string,
  fields: ConfiguredStream['schema'],
  state: SqlCheckpointState | undefined,
  ctx: RunContext,
  limits: { maxRows: number },
  checkpoint: (s: SqlCheckpointState) => ExtractMessage,
  toMessages: (event: SegmentEvent) => Generator<ExtractMessage>,
  count: (rows: number) => void,
): AsyncGenerator<ExtractMessage> {
  let ranges: RangeState[];
  if (state?.ranges) {
    ranges = state.ranges.map((r) => ({ ...r }));
  } else {
    const probe = await connectWithRetry(dialect, config, ctx);
    try {
      const k = dialect.quote(plan.select[plan.key[0] as number]?.column.name as string);
      const [row] = await probe.query(`SELECT MIN(${k}) AS lo, MAX(${k}) AS hi FROM ${plan.from}`);
      ranges = row?.lo === null || row?.lo === undefined ? [{ lo: null, hi: null, done: false }] : splitRanges(BigInt(row.lo), BigInt(row.hi as string), parallelReaders(dialect, config, plan, ctx));
    } finally {
      await probe.close();
    }
  }
  const open = ranges.map((r, i) => ({ r, i })).filter(({ r }) => !r.done);
  ctx.log.info(state ? 'resuming key ranges' : 'reading key ranges in parallel', { source: plan.source, ranges: ranges.length, open: open.length });
  if (open.length) {
    const pool = poolLimit(dialect, config);
    if (pool !== undefined && open.length > pool) {
      throw new DativoError(`parallel reads need ${open.length} connections but source.connection.pool_size is ${pool} (a resumed read keeps the ranges it started with; raise pool_size or reset the state)`, { kind: 'config' });
    }
    const snapshot = await dialect.snapshotSessions(config, ctx, open.length);
    let expected: number | undefined;
    let reconnected = false;
    try {
      if (config.verify_counts) {
        // Each range counted in its reader's snapshot, before it reads.
        const counts = await Promise.all(
          open.map(({ r }, n) => countRows(snapshot.sessions[n] as SqlSession, buildStatement(dialect, plan, { kind: 'full', range: r, ...(r.after ? { after: r.after } : {}) }).count)),
        ).catch((error: unknown) => {
          throw DativoError.isInstance(error) ? error : dialect.classify(error, config);
        });
        expected = counts.reduce((a, b) => a + b, 0);
      }
      const iterators = open.map(({ r, i }, n) =>
        readSegment({
          dialect,
          config,
          ctx,
          session: snapshot.sessions[n] as SqlSession,
          reconnect: () => connectWithRetry(dialect, config, ctx),
          builder: new BatchBuilder(fields, limits),
          statement: (position) => buildStatement(dialect, plan, { kind: 'full', range: r, ...(position ? { after: position as string[] } : r.after ? { after: r.after } : {}) }).statement,
          resumable: true,
          label: `${plan.source} [range ${i + 1}/${ranges.length}]`,
          onReconnect: () => (reconnected = true),
        })[Symbol.asyncIterator](),
      );
      // Each range is marked done when its iterator ends (an END marker after its last batch).
      const merged = mergeIterators(iterators.map((it) => withEnd(it)));
      for await (const { index, value } of merged) {
        const range = (open[index] as { r: RangeState }).r;
        if (value === END) {
          range.done = true;
          delete range.after;
          yield checkpoint({ v: 1, done: false, ranges: snapshotRanges(ranges) });
          continue;
        }
        yield* toMessages(value);
        if (value.kind !== 'data') continue;
        count(value.rows);
        if (value.position) {
          range.after = value.position as string[];
          yield checkpoint({ v: 1, done: false, ranges: snapshotRanges(ranges) });
        }
      }
      if (!ctx.signal.aborted && expected !== undefined) yield* countMessage(streamName, plan, expected, reconnected, ctx);
    } finally {
      await snapshot.release();
    }
  }
  if (ctx.signal.aborted) return;
  yield checkpoint({ v: 1, done: true });
}

/** `COUNT(*)` of a read's rows (in the session's current transaction). */
async function countRows(session: SqlSession, count: { sql: string; params: unknown[] }): Promise<number> {
  const [row] = await session.queryBound(count.sql, count.params);
  const n = Number(row?.n);
  if (!Number.isSafeInteger(n)) throw new DativoError(`unexpected COUNT(*) result: ${JSON.stringify(row)}`, { kind: 'permanent' });
  return n;
}

/** The source's total for the runner to check, unless a reconnect moved the read out of the counted snapshot. */
function* countMessage(stream: string, plan: StreamPlan, expected: number, reconnected: boolean, ctx: RunContext): Generator<ExtractMessage> {
  if (reconnected) {
    ctx.log.info('the row count is not checked: the read reconnected, so it continued outside the snapshot that was counted', { stream, source: plan.source, counted: expected });
    return;
  }
  yield { kind: 'total', stream, records: expected, basis: `COUNT(*) in the read's snapshot of ${plan.source}` };
}

/** `parallelism`, capped by the connection pool size (with a warning when that lowers it). */
/** Connections a parallel read may open: `connection.pool_size`, else the dialect's default (none: no limit). */
function poolLimit(dialect: SqlDialect, config: SqlSourceConfig): number | undefined {
  return config.connection.pool_size ?? dialect.defaultPoolSize;
}

function parallelReaders(dialect: SqlDialect, config: SqlSourceConfig, plan: StreamPlan, ctx: RunContext): number {
  const pool = poolLimit(dialect, config);
  if (pool === undefined || config.parallelism <= pool) return config.parallelism;
  ctx.log.warn(`${plan.source}: parallelism ${config.parallelism} is above source.connection.pool_size ${pool}${config.connection.pool_size === undefined ? ' (the default)' : ''}; reading ${pool} key ranges at once`, { source: plan.source });
  return pool;
}

const END = Symbol('end');

/** A copy of the range states: checkpoints must not change after they are yielded. */
function snapshotRanges(ranges: readonly RangeState[]): RangeState[] {
  return ranges.map((r) => ({ lo: r.lo, hi: r.hi, ...(r.after ? { after: [...r.after] } : {}), done: r.done }));
}

/** Appends an END marker when the iterator finishes, so the merger's consumer learns which one ended. */
async function* withEnd<T>(iterator: AsyncIterator<T>): AsyncGenerator<T | typeof END> {
  try {
    for (;;) {
      const r = await iterator.next();
      if (r.done) break;
      yield r.value;
    }
    yield END;
  } finally {
    await iterator.return?.(undefined);
  }
}

