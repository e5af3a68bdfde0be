import { DativoError, throwIfAborted } from '@dativo/core';
import { z } from 'zod';
import { planWindows, readWindows, type WindowState } from './windows.js';

/**
 * Reading everything a search API returns when one query may page through at most `cap` results
 * (HubSpot's CRM search: 10,000) — without ever truncating in silence.
 *
 * The range `[from, to)` of a sortable time axis (epoch milliseconds of the last-modified
 * property) is read as consecutive windows, each sorted ascending. A window whose `total` passes
 * the cap is halved until it fits; a window one unit wide that still passes it (more records than
 * the cap share one timestamp) is read by ascending id ranges (`id > last id read`), each query
 * again capped. After each window the number delivered is compared with the query's `total`: when
 * fewer arrived, the total is asked again (records modified during the run leave the window for a
 * later time, which the next run reads) and a shortfall that remains fails the run.
 *
 * The state is small and bounded whatever the volume: where the current window starts, its width,
 * the page cursor and the last id of an id-range read.
 */
export const cappedSearchStateSchema = z.object({
  v: z.literal(1),
  /** Everything before `from` is read. */
  from: z.number(),
  to: z.number(),
  /** Width of the window being read (adapts: halved past the cap, doubled when windows are sparse). */
  width: z.number().int().positive(),
  /** Cursor of the next page inside the current window (null: its first page). */
  after: z.string().nullable(),
  /** Id-range mode inside a one-unit window: the last id read, '' before the first (null: not in id-range mode). */
  idAfter: z.string().nullable(),
  /** Records delivered so far by the current query (for the total check). */
  delivered: z.number().int().nonnegative(),
  /** The width before halving began, taken up again after a window read by id ranges. */
  width_before: z.number().int().positive().optional(),
});
export type CappedSearchState = z.infer<typeof cappedSearchStateSchema>;

/**
 * One query: a half-open time window; with `idAfter` set, only ids above it ('' = all), sorted by
 * id ascending.
 */
export interface CappedQuery {
  from: number;
  to: number;
  idAfter: string | null;
}

export interface CappedPage<T> {
  items: T[];
  /** How many records the query matches in all (the API's `total`). */
  total: number;
  /** Cursor of the next page, null on the last. */
  next: string | null;
}

export interface CappedSearchOptions<T> {
  state: CappedSearchState;
  /** Results one query can page through (HubSpot: 10,000). */
  cap: number;
  /** One page of a query, sorted ascending by time (by id when `idAfter` is set). */
  search: (query: CappedQuery, after: string | null) => Promise<CappedPage<T>>;
  /** The record's id, for id-range reads (compared as decimal integers when numeric). */
  idOf: (item: T) => string;
  /** Names the records in errors (`HubSpot contacts`). */
  what: string;
  signal: AbortSignal;
  /** Widest window (default: the whole range). */
  maxWidth?: number;
}

export function planCappedSearch(from: number, to: number, width: number): CappedSearchState {
  return { v: 1, from, to, width: Math.max(1, Math.floor(width)), after: null, idAfter: null, delivered: 0 };
}

export function cappedSearchDone(state: CappedSearchState): boolean {
  return state.from >= state.to;
}

const fmt = (n: number): string => (n > 946_684_800_000 && n < 4_102_444_800_000 ? new Date(n).toISOString() : String(n));

/**
 * Yields each page's items with the state that covers them: a run resumed from a yielded state
 * reads exactly what follows.
 */
export async function* readCappedSearch<T>(options: CappedSearchOptions<T>): AsyncGenerator<{ items: T[]; state: CappedSearchState }> {
  const { cap, search, idOf, what, signal } = options;
  const maxWidth = options.maxWidth ?? Number.MAX_SAFE_INTEGER;
  let s: CappedSearchState = { ...options.state };
  while (!cappedSearchDone(s)) {
    throwIfAborted(signal);
    const windowTo = Math.min(s.from + s.width, s.to);
    const query: CappedQuery = { from: s.from, to: windowTo, idAfter: s.idAfter };
    const page = await search(query, s.after);
    const where = `${what} modified in [${fmt(query.from)}, ${fmt(query.to)})${query.idAfter !== null ? ` with id above ${query.idAfter}` : ''}`;
    if (s.after === null && page.total > cap && s.idAfter === null) {
      if (windowTo - s.from > 1) {
        // Too many for one query: halve the window and ask again (nothing was delivered from it).
        s = { ...s, width: Math.max(1, Math.floor((windowTo - s.from) / 2)), width_before: s.width_before ?? s.width };
        continue;
      }
      // One unit of time holds more than the cap: read it by id ranges.
      s = { ...s, idAfter: '' };
      continue;
    }
    const delivered = s.delivered + page.items.length;
    if (s.idAfter !== null && delivered >= cap && page.items.length > 0) {
      // The id-range query reached the cap: go on with the ids above the last one read.
      s = { ...s, after: null, idAfter: idOf(page.items.at(-1) as T), delivered: 0 };
      yield { items: page.items, state: s };
      continue;
    }
    if (page.next !== null) {
      if (page.items.length === 0) throw new DativoError(`${where}: a page with a next cursor holds no records; the search cannot be read to its end`, { kind: 'permanent', code: 'SEARCH_EMPTY_PAGE' });
      s = { ...s, after: page.next, delivered };
      yield { items: page.items, state: s };
      continue;
    }
    // The query's last page: every matching record must have arrived, and no more than it said
    // (records only leave a window during a run, by being modified after its end).
    if (delivered > page.total) {
      throw new DativoError(`${where}: the search reports ${page.total} records and delivered ${delivered}; its totals cannot be trusted to detect truncation, so the run stops`, {
        kind: 'permanent',
        code: 'SEARCH_TOTAL',
      });
    }
    if (delivered < page.total) {
      const again = await search(query, null);
      if (delivered < again.total) {
        throw new DativoError(`${where}: the search reports ${again.total} records and delivered ${delivered}; the rest would be lost, so the run stops (rerun it; if it persists the API is truncating results)`, {
          kind: 'permanent',
          code: 'SEARCH_TRUNCATED',
        });
      }
    }
    // Past a spot so dense it was read by id ranges (one unit of time), the width in use before it
    // is taken up again rather than grown back from one unit a doubling at a time.
    const sparse = s.idAfter === null && page.total < cap / 4;
    const resumeWidth = s.idAfter !== null ? s.width_before : undefined;
    const width = resumeWidth ?? (sparse ? Math.min(maxWidth, s.width * 2) : s.width);
    s = { v: 1, from: windowTo, to: s.to, width, after: null, idAfter: null, delivered: 0, ...(resumeWidth === undefined && s.width_before !== undefined ? { width_before: s.width_before } : {}) };
    yield { items: page.items, state: s };
  }
}

/**
 * Plans `[from, to)` for {@link readCappedSearchWindows}: ranges of `width` (wider when the span
 * would need more than `maxWindows`), each read as its own capped search.
 */
export function planCappedSearchWindows(from: number, to: number, width: number, maxWindows = 256): WindowState {
  return planWindows(from, to, Math.max(1, Math.floor(width)), maxWindows);
}

export interface CappedSearchWindowsOptions<T> extends Omit<CappedSearchOptions<T>, 'state'> {
  state: WindowState;
  /** Queries in flight at once (requests still pass the rate limiters: this hides latency). */
  concurrency: number;
}

/**
 * {@link readCappedSearch} over consecutive ranges read in parallel: each range is a capped search
 * of its own (split past the cap, id ranges in a crowded unit, totals checked), whose state rides
 * as the range's page token; yields each page with a state that covers every page yielded so far,
 * so a run resumed from it reads exactly the rest.
 */
export async function* readCappedSearchWindows<T>(options: CappedSearchWindowsOptions<T>): AsyncGenerator<{ items: T[]; state: WindowState }> {
  const { state, concurrency, ...search } = options;
  const fetch = async (range: { from: number; to: number }, token: string | null) => {
    const start = token ? cappedSearchStateSchema.parse(JSON.parse(token)) : planCappedSearch(range.from, range.to, range.to - range.from);
    // One page of the range's capped search (the queries that only halve a window yield nothing).
    const step = await readCappedSearch({ ...search, state: start, maxWidth: range.to - range.from }).next();
    if (step.done) return { items: [] as T[], next: null };
    return { items: step.value.items, next: cappedSearchDone(step.value.state) ? null : JSON.stringify(step.value.state) };
  };
  yield* readWindows({ state, concurrency, fetch, signal: options.signal });
}
