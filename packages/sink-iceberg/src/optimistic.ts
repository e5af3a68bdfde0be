import { abortableSleep, backoffDelay, DativoError, defaultRetryPolicy, type Logger } from '@dativo/core';
import type { Catalog, LoadedTable } from './catalog/catalog.js';
import { CommitConflictError, CommitStateUnknownError } from './metadata.js';
import { formatIdentifier, type TableIdentifier } from './types.js';

export interface ConflictRetryContext {
  catalog: Catalog;
  id: TableIdentifier;
  log: Logger;
  signal?: AbortSignal;
  /** Attempts in all (default 10). */
  maxAttempts?: number;
}

/** A conflict (another writer committed first), or a commit whose outcome is unknown (the caller checks). */
export function isConflict(error: unknown): boolean {
  return CommitConflictError.isInstance(error) || CommitStateUnknownError.isInstance(error) || (DativoError.isInstance(error) && error.code === 'ICEBERG_COMMIT_CONFLICT');
}

/**
 * Optimistic concurrency for every table commit of the sink (data snapshots, schema changes,
 * maintenance): `attempt` runs on the table as it is; when its commit conflicts, the table is
 * reloaded and `attempt` runs again on the new state, after a backoff with jitter, up to
 * `maxAttempts` times.
 */
export async function retryOnConflict<T>(ctx: ConflictRetryContext, table: LoadedTable, what: string, attempt: (current: LoadedTable, n: number) => Promise<T>): Promise<T> {
  const attempts = ctx.maxAttempts ?? 10;
  let current = table;
  for (let n = 1; ; n++) {
    try {
      return await attempt(current, n);
    } catch (error) {
      if (!isConflict(error)) throw error;
      if (n >= attempts) {
        throw new DativoError(`gave up trying to ${what} ${formatIdentifier(ctx.id)} after ${n} attempts: ${(error as Error).message}`, { kind: 'transient', code: 'ICEBERG_COMMIT_RETRIES', cause: error });
      }
      const wait = backoffDelay({ ...defaultRetryPolicy, baseDelayMs: 100, maxDelayMs: 5000, jitter: 'full' }, n);
      ctx.log.info('commit conflict: reloading the table and retrying', { table: formatIdentifier(ctx.id), attempt: n, waitMs: wait, reason: (error as Error).message });
      await abortableSleep(wait, ctx.signal);
      const reloaded = await ctx.catalog.loadTable(ctx.id);
      if (!reloaded) throw new DativoError(`table ${formatIdentifier(ctx.id)} disappeared while trying to ${what} it`, { kind: 'permanent', cause: error });
      current = reloaded;
    }
  }
}
