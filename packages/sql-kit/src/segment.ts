import { abortableSleep, AbortedError, BatchBuilder, DativoError, defaultRetryPolicy, HIDDEN_VALUE, retryDelay, textParse, type RunContext } from '@dativo/core';
import type { RecordBatch } from 'apache-arrow';
import type { SqlSourceConfig } from './config.js';
import type { RejectedRow, SelectStatement, SqlDialect, SqlSession } from './dialect.js';

/** What reading one statement (with reconnects) produces, batch by batch. */
export type SegmentEvent =
  | { kind: 'data'; batch: RecordBatch | undefined; rejected: RejectedRow[]; rows: number; position: Array<string | null> | undefined }
  | { kind: 'warning'; message: string; context?: Record<string, unknown> };

export interface SegmentOptions {
  dialect: SqlDialect;
  config: SqlSourceConfig;
  ctx: RunContext;
  /** The open session to read with; the segment closes it (and any replacement) when done. */
  session: SqlSession;
  /** Opens a new session after a transient error. */
  reconnect: () => Promise<SqlSession>;
  builder: BatchBuilder;
  /** The statement that reads from a position (the last row read so far, or undefined: the start). */
  statement: (position: Array<string | null> | undefined) => SelectStatement;
  /** Whether a position can restart the read exactly (the stream has a key). */
  resumable: boolean;
  /** Label for logs: `public.orders` or `public.orders [range 2/4]`. */
  label: string;
  /** Called when the read continues on a new session (outside the first session's snapshot). */
  onReconnect?: () => void;
  /**
   * Run on a session before its statement while no rows have been handed out (a snapshot and a
   * count): a failure is retried on a new session like a failed read.
   */
  prepare?: (session: SqlSession) => Promise<void>;
}

/**
 * Streams one statement into batches. After a transient error (dropped connection, server
 * restart, failover) it reconnects and continues after the last row of the last batch it handed
 * out, so nothing is read twice or skipped; rows of the unfinished batch are discarded and read
 * again. Without a key it can only start over, which is safe only before the first batch.
 */
export async function* readSegment(o: SegmentOptions): AsyncGenerator<SegmentEvent> {
  let session = o.session;
  let position: Array<string | null> | undefined;
  let handedOut = false;
  let attempt = 0;
  const readTimeoutMs = Math.round(o.config.connection.read_timeout_seconds * 1000);
  try {
    for (;;) {
      const statement = o.statement(position);
      let stalled = false;
      try {
        if (!handedOut) await o.prepare?.(session);
        const rows = session.stream(statement, o.builder, o.ctx.signal)[Symbol.asyncIterator]();
        try {
          for (;;) {
            const next = await nextWithin(rows, readTimeoutMs, () => {
              stalled = true;
              session.destroy?.();
            }, o.label);
            if (next.done) break;
            const event = next.value;
            if (event.kind === 'warning') {
              yield event;
              continue;
            }
            const batch = o.builder.flush();
            if (event.position) position = event.position;
            handedOut = true;
            attempt = 0;
            yield { kind: 'data', batch, rejected: event.rejected, rows: event.rows, position: event.position };
            if (o.ctx.signal.aborted) return;
          }
        } finally {
          // Ends the statement when the read stops early (abort, the consumer returned); a stalled
          // read's iterator is left to fail with its destroyed connection.
          if (!stalled) await rows.return?.(undefined);
        }
        return;
      } catch (error) {
        o.builder.truncate(0);
        if (o.ctx.signal.aborted) throw new AbortedError(o.ctx.signal.reason);
        const e = DativoError.isInstance(error) ? error : o.dialect.classify(error, o.config);
        if (!e.retryable || attempt >= o.config.max_retries) throw e;
        if (handedOut && !o.resumable) {
          throw new DativoError(`${e.message} — while reading ${o.label}, which has no key to resume from, so the run stops here (nothing after the last commit is kept); rerun it, or declare a primary_key`, {
            kind: 'permanent',
            code: e.code ?? 'SQL_READ_FAILED',
            cause: e,
          });
        }
        attempt++;
        const delayMs = retryDelay(defaultRetryPolicy, attempt, e);
        o.ctx.log.warn('read failed; reconnecting and resuming after the last batch', { source: o.label, attempt, delayMs, error: e.message });
        await closeWithin(session, 2_000);
        await abortableSleep(delayMs, o.ctx.signal);
        session = await o.reconnect();
        o.onReconnect?.();
      }
    }
  } finally {
    await closeWithin(session, 2_000);
  }
}

/**
 * The iterator's next value, or a retryable `SQL_READ_TIMEOUT` when none comes within `ms` (the
 * connection is then dropped by `onTimeout`). Only time spent waiting on the server counts: while
 * the pipeline is busy with the last batch, nothing is asked for.
 */
function nextWithin<T>(iterator: AsyncIterator<T>, ms: number, onTimeout: () => void, label: string): Promise<IteratorResult<T>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      onTimeout();
      reject(
        new DativoError(`${label}: no rows from the server for ${ms / 1000} s (source.connection.read_timeout_seconds): the connection looks stalled; dropping it`, {
          kind: 'network',
          retryable: true,
          code: 'SQL_READ_TIMEOUT',
        }),
      );
    }, ms);
    iterator.next().then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Closes a session politely, or drops it when the goodbye itself hangs (a stalled peer). */
async function closeWithin(session: SqlSession, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const closed = await Promise.race([
    session.close().then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
  ]);
  clearTimeout(timer);
  if (!closed) session.destroy?.();
}

/** A rejected row as a dead-letter message's error text: where, which column, what was wrong. */
export function rejectionMessage(label: string, row: RejectedRow, key: readonly string[], hidden: ReadonlySet<string> = new Set()): string {
  const where = key.length ? ` row (${key.map((k) => `${k}=${hidden.has(k) ? HIDDEN_VALUE : (row.raw[k] ?? 'null')}`).join(', ')})` : ' row';
  const value = row.raw[row.column];
  const shown = value === null || value === undefined ? 'null' : hidden.has(row.column) ? HIDDEN_VALUE : `'${textParse.previewText(Buffer.from(value), 0, Buffer.byteLength(value))}'`;
  return `${label}${where}, column '${row.column}': ${shown} ${row.message}`;
}
