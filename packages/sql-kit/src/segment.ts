import { abortableSleep, AbortedError, BatchBuilder, DativoError, defaultRetryPolicy, retryDelay, textParse, type RunContext } from '@dativo/core';
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
  try {
    for (;;) {
      const statement = o.statement(position);
      try {
        for await (const event of session.stream(statement, o.builder, o.ctx.signal)) {
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
        await session.close().catch(() => undefined);
        await abortableSleep(delayMs, o.ctx.signal);
        session = await o.reconnect();
        o.onReconnect?.();
      }
    }
  } finally {
    await session.close().catch(() => undefined);
  }
}

/** A rejected row as a dead-letter message's error text: where, which column, what was wrong. */
export function rejectionMessage(label: string, row: RejectedRow, key: readonly string[]): string {
  const where = key.length ? ` row (${key.map((k) => `${k}=${row.raw[k] ?? 'null'}`).join(', ')})` : ' row';
  const value = row.raw[row.column];
  const shown = value === null || value === undefined ? 'null' : `'${textParse.previewText(Buffer.from(value), 0, Buffer.byteLength(value))}'`;
  return `${label}${where}, column '${row.column}': ${shown} ${row.message}`;
}
