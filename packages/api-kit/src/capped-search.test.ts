import { describe, expect, it } from 'vitest';
import { planCappedSearch, planCappedSearchWindows, readCappedSearch, readCappedSearchWindows, type CappedPage, type CappedQuery, type CappedSearchState } from './capped-search.js';
import type { WindowState } from './windows.js';

interface Rec {
  id: string;
  t: number;
}

/**
 * A search API as HubSpot's behaves: sorted ascending by time (by id for id-range queries), pages
 * of `pageSize`, and no page past `cap` results; `total` counts every match.
 */
function searchApi(records: Rec[], options: { cap: number; pageSize: number; totalBias?: number; drop?: (r: Rec) => boolean }) {
  const calls: CappedQuery[] = [];
  const search = async (q: CappedQuery, after: string | null): Promise<CappedPage<Rec>> => {
    calls.push(q);
    const matches = records
      .filter((r) => r.t >= q.from && r.t < q.to && (q.idAfter === null || q.idAfter === '' || Number(r.id) > Number(q.idAfter)))
      .sort((a, b) => (q.idAfter !== null ? Number(a.id) - Number(b.id) : a.t - b.t || Number(a.id) - Number(b.id)));
    const visible = options.drop ? matches.filter((r) => !options.drop?.(r)) : matches;
    const offset = after === null ? 0 : Number(after);
    const end = Math.min(offset + options.pageSize, options.cap, visible.length);
    return { items: visible.slice(offset, end), total: matches.length + (options.totalBias ?? 0), next: end < Math.min(options.cap, visible.length) ? String(end) : null };
  };
  return { search, calls };
}

/** 8,000 records: 1,300 share one millisecond, 2,500 crowd one minute, the rest spread over a day. */
function dataset(): Rec[] {
  const out: Rec[] = [];
  const day = Date.UTC(2025, 0, 1);
  let id = 100;
  for (let i = 0; i < 1_300; i++) out.push({ id: String(id++), t: day + 3_600_000 });
  for (let i = 0; i < 2_500; i++) out.push({ id: String(id++), t: day + 7_200_000 + (i % 60_000) });
  for (let i = 0; i < 4_200; i++) out.push({ id: String(id++), t: day + Math.floor((i * 86_400_000) / 4_200) });
  return out;
}

async function readAll(state: CappedSearchState, search: ReturnType<typeof searchApi>['search'], cap = 1_000) {
  const items: Rec[] = [];
  const states: CappedSearchState[] = [];
  for await (const page of readCappedSearch({ state, cap, search, idOf: (r) => r.id, what: 'contacts', signal: new AbortController().signal })) {
    items.push(...page.items);
    states.push(page.state);
  }
  return { items, states };
}

const day = Date.UTC(2025, 0, 1);

describe('capped search', () => {
  it('splits windows past the cap, reads a crowded millisecond by id ranges: every record exactly once', async () => {
    const records = dataset();
    const api = searchApi(records, { cap: 1_000, pageSize: 100 });
    const { items, states } = await readAll(planCappedSearch(day, day + 86_400_000, 86_400_000), api.search);
    expect(items.length).toBe(records.length);
    expect(new Set(items.map((r) => r.id)).size).toBe(records.length);
    expect(api.calls.some((c) => c.idAfter !== null && c.idAfter !== '')).toBe(true);
    expect(Math.max(...states.map((s) => JSON.stringify(s).length))).toBeLessThan(200);
    expect(states.at(-1)).toMatchObject({ from: day + 86_400_000, after: null, idAfter: null });
  });

  it('after a crowded millisecond read by id ranges, takes up the width in use before it', async () => {
    // 1,200 records in one millisecond, then 30 sparse days: the window after the crowded spot is
    // as wide as the one before it, not one millisecond growing back a doubling at a time.
    const records: Rec[] = Array.from({ length: 1_200 }, (_, i) => ({ id: String(100 + i), t: day + 1_000 }));
    for (let i = 0; i < 300; i++) records.push({ id: String(2_000 + i), t: day + 2_000 + i * 8_640_000 });
    const api = searchApi(records, { cap: 1_000, pageSize: 200 });
    const width = 7 * 86_400_000;
    const { items } = await readAll(planCappedSearch(day, day + 31 * 86_400_000, width), api.search);
    expect(new Set(items.map((r) => r.id)).size).toBe(records.length);
    const afterSpot = api.calls.find((c) => c.idAfter === null && c.from > day + 1_000);
    expect(afterSpot && afterSpot.to - afterSpot.from).toBeGreaterThanOrEqual(width - 2_000);
    // Halving 7 days down to 1 ms takes ~29 queries; growing back by doubling would take as many more.
    expect(api.calls.length).toBeLessThan(60);
  });

  it('resumed from any state it yielded, reads exactly the rest', async () => {
    const records = dataset();
    const api = searchApi(records, { cap: 1_000, pageSize: 100 });
    const { items, states } = await readAll(planCappedSearch(day, day + 86_400_000, 86_400_000), api.search);
    let seen = 0;
    const order = items.map((r) => r.id);
    for (const [i, state] of states.entries()) {
      if (i % 7 !== 3) continue;
      const rest = await readAll(state, api.search);
      const prefix = order.length - rest.items.length;
      expect(rest.items.map((r) => r.id)).toEqual(order.slice(prefix));
      seen++;
    }
    expect(seen).toBeGreaterThan(5);
  });

  it('fails loudly when the API delivers fewer records than its total, or more', async () => {
    const records = dataset();
    const truncating = searchApi(records, { cap: 1_000, pageSize: 100, drop: (r) => r.id === '4000' });
    await expect(readAll(planCappedSearch(day, day + 86_400_000, 86_400_000), truncating.search)).rejects.toThrow(/the search reports \d+ records and delivered \d+; the rest would be lost/);
    const underReporting = searchApi(records, { cap: 1_000, pageSize: 100, totalBias: -1 });
    await expect(readAll(planCappedSearch(day, day + 86_400_000, 86_400_000), underReporting.search)).rejects.toThrow(/its totals cannot be trusted/);
  });

  it('records modified during the run leave their window without failing it (the next run reads them)', async () => {
    const records = dataset().slice(3_800); // the spread-out ones
    const api = searchApi(records, { cap: 1_000, pageSize: 50 });
    let moved = false;
    const search: typeof api.search = async (q, after) => {
      const page = await api.search(q, after);
      if (!moved && after !== null) {
        // A record of this window not yet read is modified now: it moves past the run's end.
        const later = records.find((r) => r.t >= q.from && r.t < q.to && !page.items.includes(r) && Number(r.id) > Number(page.items.at(-1)?.id));
        if (later) {
          later.t = day + 2 * 86_400_000;
          moved = true;
        }
      }
      return page;
    };
    const { items } = await readAll(planCappedSearch(day, day + 86_400_000, 86_400_000), search);
    expect(moved).toBe(true);
    expect(items.length).toBe(records.length - 1);
    expect(new Set(items.map((r) => r.id)).size).toBe(items.length);
  });

  it('in parallel ranges (each a capped search of its own): every record once, and exactly the rest when resumed from any state', async () => {
    const records = dataset();
    const api = searchApi(records, { cap: 1_000, pageSize: 100 });
    const read = async (state: WindowState) => {
      const items: Rec[] = [];
      const states: Array<{ state: WindowState; at: number }> = [];
      let inFlight = 0;
      let most = 0;
      const search = async (q: CappedQuery, after: string | null) => {
        most = Math.max(most, ++inFlight);
        await new Promise((r) => setTimeout(r, 1));
        try {
          return await api.search(q, after);
        } finally {
          inFlight--;
        }
      };
      for await (const page of readCappedSearchWindows({ state, concurrency: 4, cap: 1_000, search, idOf: (r) => r.id, what: 'contacts', signal: new AbortController().signal })) {
        items.push(...page.items);
        states.push({ state: page.state, at: items.length });
      }
      return { items, states, most };
    };
    const full = await read(planCappedSearchWindows(day, day + 86_400_000, 3 * 3_600_000));
    expect(full.items.length).toBe(records.length);
    expect(new Set(full.items.map((r) => r.id)).size).toBe(records.length);
    expect(full.most).toBeGreaterThan(1);
    expect(Math.max(...full.states.map((s) => JSON.stringify(s.state).length))).toBeLessThan(64 * 1024);
    for (const pick of [full.states[3], full.states[Math.floor(full.states.length / 2)], full.states.at(-2)]) {
      if (!pick) continue;
      const rest = await read(pick.state);
      const ids = [...full.items.slice(0, pick.at), ...rest.items].map((r) => r.id);
      expect(ids.length).toBe(records.length);
      expect(new Set(ids).size).toBe(records.length);
    }
  });
});
