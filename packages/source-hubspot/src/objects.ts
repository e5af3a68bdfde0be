import { cappedSearchStateSchema, planCappedSearchWindows, planWindows, readCappedSearchWindows, readWindows, StreamBatches, windowStateSchema, type CappedQuery, type CappedSearchState, type TimeWindow, type WindowState } from '@dativo/api-kit';
import { DativoError, parseCheckpointState, throwIfAborted, type ConfiguredStream, type DataType, type ExtractMessage, type JsonValue, type RunContext } from '@dativo/core';
import { z } from 'zod';
import type { Api } from './api.js';
import { DELETED_AT_COLUMN, DELETED_COLUMN, HISTORY_COLUMN, type HubSpotProperty, type ObjectInfo } from './catalog.js';
import type { HubSpotConfig } from './config.js';

const checkpointSchema = z.object({
  v: z.literal(1),
  /** `list`: a full read by the list endpoint; `search`: changes by last-modified time; `archived`: deletions since the last sync. */
  phase: z.enum(['list', 'search', 'archived', 'done']),
  /** The list cursor (`after`) of a list read by one cursor, and of the archived phase. */
  after: z.string().nullable(),
  /** A list read as id ranges in parallel (its windows are ranges of object ids). */
  windows: windowStateSchema.nullable().default(null),
  /** Search ranges read in parallel, each a capped search whose state is its token. */
  search_windows: windowStateSchema.nullable().default(null),
  /** One capped search (checkpoints of 0.x, read on as one range). */
  search: cappedSearchStateSchema.nullable().default(null),
  /** End (exclusive, epoch ms) of the last finished sync. */
  synced_to: z.number().nullable(),
  /** This sync's end. */
  run_to: z.number(),
  /** Deletions are read from this time on (the last sync's end less the lookback). */
  since: z.number().nullable(),
});
type State = z.infer<typeof checkpointSchema>;

interface HubSpotRecord {
  id: string;
  properties: Record<string, string | null>;
  propertiesWithHistory?: Record<string, unknown[]>;
  createdAt: Date | string;
  updatedAt: Date | string;
  archived?: boolean;
  archivedAt?: Date | string;
}

function toTime(v: string): Date | null {
  const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  return Number.isNaN(ms) ? null : new Date(ms);
}

const toDate = (v: Date | string): Date => (v instanceof Date ? v : new Date(v));

/** A property's string value as the column's type wants it; '' is null. */
function convert(value: string | null | undefined, type: DataType): unknown {
  if (value === null || value === undefined || value === '') return null;
  switch (type.kind) {
    case 'int64':
      return /^-?\d+$/.test(value) ? BigInt(value) : value;
    case 'float64':
      return Number.isFinite(Number(value)) ? Number(value) : value;
    case 'boolean':
      return value === 'true' ? true : value === 'false' ? false : value;
    case 'date':
    case 'timestamp':
      return toTime(value) ?? value;
    default:
      return value;
  }
}

/**
 * Property names in chunks whose URL-encoded, comma-joined length stays within `maxChars`, so a
 * list request's URL and a search or batch body stay inside HubSpot's limits; `first` leads the
 * first chunk (the properties every page needs).
 */
export function chunkProperties(names: string[], maxChars: number, first: string[] = []): string[][] {
  const chunks: string[][] = [];
  let current = [...first];
  let length = first.reduce((n, p) => n + encodeURIComponent(p).length + 3, 0);
  for (const name of names) {
    if (first.includes(name)) continue;
    const cost = encodeURIComponent(name).length + 3; // the name and an encoded comma
    if (current.length > 0 && length + cost > maxChars) {
      chunks.push(current);
      current = [];
      length = 0;
    }
    current.push(name);
    length += cost;
  }
  if (current.length) chunks.push(current);
  return chunks;
}

function serialiseHistory(h: Record<string, unknown[]> | undefined): JsonValue | null {
  if (!h) return null;
  const out: Record<string, JsonValue> = {};
  for (const [name, list] of Object.entries(h)) {
    out[name] = list.map((x) => {
      const v = x as { value?: string; timestamp?: Date | string; sourceType?: string; sourceId?: string; sourceLabel?: string; updatedByUserId?: number };
      return {
        value: v.value ?? null,
        timestamp: v.timestamp ? toDate(v.timestamp).toISOString() : null,
        sourceType: v.sourceType ?? null,
        ...(v.sourceId !== undefined ? { sourceId: v.sourceId } : {}),
        ...(v.sourceLabel !== undefined ? { sourceLabel: v.sourceLabel } : {}),
        ...(v.updatedByUserId !== undefined ? { updatedByUserId: v.updatedByUserId } : {}),
      };
    });
  }
  return out;
}

/** Reads one object type: list (full refresh, first sync), search windows (incremental), archived (deletions). */
export async function* readObjectStream(a: Api, config: HubSpotConfig, object: ObjectInfo, known: Map<string, HubSpotProperty>, stream: ConfiguredStream, ctx: RunContext): AsyncGenerator<ExtractMessage> {
  throwIfAborted(ctx.signal);
  const previous = parseCheckpointState(checkpointSchema, stream.resumeFrom?.state, { connector: 'hubspot', stream: stream.name });
  const incremental = stream.syncMode === 'incremental';
  let state: State;
  if (previous && previous.phase !== 'done') state = previous;
  else {
    const now = Date.now();
    const syncedTo = incremental ? (previous?.synced_to ?? null) : null;
    const empty = { v: 1 as const, after: null, windows: null, search: null, search_windows: null, run_to: now };
    if (syncedTo === null) state = { ...empty, phase: 'list', synced_to: null, since: null };
    else {
      const from = Math.max(Date.parse(config.start_date), syncedTo - Math.round((config.incremental?.lookback_days ?? 0) * 86_400_000));
      // Ranges of window_days (at most 32: each adapts its own width inside), and at least two per
      // query in flight so that a short span is searched in parallel too.
      const size = Math.min(config.window_days * 86_400_000, Math.max(1, Math.ceil((now - from) / (2 * config.search_concurrency))));
      state = { ...empty, phase: 'search', search_windows: planCappedSearchWindows(from, now, size, 32), synced_to: syncedTo, since: from };
    }
  }
  yield { kind: 'start', stream: stream.name, resumed: previous !== undefined && previous.phase !== 'done' };

  // Only the properties the stream's schema names are requested (all of them for a discovered schema).
  const types = new Map(stream.schema.map((f) => [f.name, f.type]));
  const wanted = stream.schema.map((f) => f.name).filter((n) => known.has(n));
  const { lastModified } = object;
  const chunks = chunkProperties(wanted, config.max_property_chars, ['hs_object_id', lastModified]);
  const [head, ...rest] = chunks as [string[], ...string[][]];
  const history = types.has(HISTORY_COLUMN) ? config.properties_with_history.filter((n) => known.has(n)) : [];
  const historyChunks = history.length ? chunkProperties(history, config.max_property_chars) : [];
  const unknownHistory = config.properties_with_history.filter((n) => !known.has(n));
  if (unknownHistory.length) throw new DativoError(`properties_with_history: ${unknownHistory.join(', ')} ${unknownHistory.length > 1 ? 'are not properties' : 'is not a property'} of HubSpot ${object.name}`, { kind: 'config', code: 'HUBSPOT_PROPERTY' });
  const undeclared = [...known.keys()].filter((n) => !types.has(n));
  if (undeclared.length) ctx.log.debug(`${undeclared.length} HubSpot ${object.name} properties are not in the asset and are not read`, { stream: stream.name });
  if (rest.length) ctx.log.debug(`${wanted.length} properties of HubSpot ${object.name} are read in ${chunks.length} chunks`, { stream: stream.name });

  const batchRead = (ids: string[], archived: boolean, properties: string[], withHistory: string[]) =>
    a.call(
      `POST /crm/v3/objects/${object.path}/batch/read`,
      (c, o) => c.crm.objects.batchApi.read(object.path, { inputs: ids.map((id) => ({ id })), properties, propertiesWithHistory: withHistory }, archived, o),
      { scope: object.scope },
    );
  /** The page's records with the properties of the other chunks and their history, merged by id. */
  const complete = async (records: HubSpotRecord[], archived: boolean): Promise<HubSpotRecord[]> => {
    if (!records.length || (!rest.length && !historyChunks.length)) return records;
    const byId = new Map(records.map((r) => [r.id, r]));
    let missing = 0;
    const merge = (found: Array<{ id: string; properties?: Record<string, string | null>; propertiesWithHistory?: Record<string, unknown[]> }>, asked: number, history: boolean) => {
      missing += asked - found.length;
      for (const f of found) {
        const r = byId.get(f.id);
        if (!r) continue;
        Object.assign(r.properties, f.properties ?? {});
        if (history) r.propertiesWithHistory = { ...(r.propertiesWithHistory ?? {}), ...(f.propertiesWithHistory ?? {}) };
      }
    };
    const ids = [...byId.keys()];
    for (const chunk of rest) {
      const res = await batchRead(ids, archived, chunk, []);
      merge(res.results as never, ids.length, false);
    }
    for (const chunk of historyChunks) {
      for (let i = 0; i < ids.length; i += 50) {
        const part = ids.slice(i, i + 50);
        const res = await batchRead(part, archived, ['hs_object_id'], chunk);
        merge(res.results as never, part.length, true);
      }
    }
    if (missing) ctx.log.warn(`${missing} HubSpot ${object.name} were deleted while their properties were read in chunks; their remaining properties are empty this run (the next run marks them deleted)`, { stream: stream.name });
    return records;
  };

  const batches = new StreamBatches(stream.name, stream.schema, ctx.batchLimits);
  const append = function* (r: HubSpotRecord, deleted = false): Generator<ExtractMessage> {
    const row: Record<string, unknown> = { id: r.id, createdAt: toDate(r.createdAt), updatedAt: toDate(r.updatedAt), archived: r.archived ?? false, archivedAt: r.archivedAt ? toDate(r.archivedAt) : null };
    for (const name of wanted) {
      const type = types.get(name);
      if (type && !(name in row)) row[name] = convert(r.properties[name], type);
    }
    if (history.length) row[HISTORY_COLUMN] = serialiseHistory(r.propertiesWithHistory);
    if (deleted) Object.assign(row, { [DELETED_COLUMN]: true, [DELETED_AT_COLUMN]: r.archivedAt ? toDate(r.archivedAt) : null });
    const problem = batches.append(row);
    if (problem) {
      yield {
        kind: 'rejected',
        stream: stream.name,
        raw: { id: r.id, properties: r.properties } as unknown as JsonValue,
        error: new DativoError(`${object.name} ${r.id}: '${problem.column}' ${problem.message}`, { kind: 'validation', code: 'HUBSPOT_BAD_RECORD' }),
        context: { id: r.id },
      };
    }
  };

  const listEndpoint = `GET /crm/v3/objects/${object.path}`;
  const listPage = async (after: string | null, archived: boolean) => {
    const page = await a.call(listEndpoint, (c, o) => c.crm.objects.basicApi.getPage(object.path, config.page_size, after ?? undefined, head, undefined, undefined, archived, o), { scope: object.scope });
    const next = page.paging?.next?.after ?? null;
    const records = (page.results ?? []) as unknown as HubSpotRecord[];
    if (next !== null && records.length === 0) throw new DativoError(`${listEndpoint}: a page with a next cursor holds no records; the list cannot be read to its end`, { kind: 'permanent', code: 'HUBSPOT_EMPTY_PAGE' });
    return { records, next };
  };
  const listAll = async function* (archived: boolean): AsyncGenerator<{ records: HubSpotRecord[]; next: string | null }> {
    let after = state.after;
    for (;;) {
      throwIfAborted(ctx.signal);
      const page = await listPage(after, archived);
      yield { records: await complete(page.records, archived), next: page.next };
      if (page.next === null) return;
      after = page.next;
    }
  };

  if (state.phase === 'list') {
    if (state.windows === null && state.after === null && config.list_concurrency > 1) {
      // The first page by the cursor; when its `after` is the next object id (as HubSpot's is),
      // the rest of the ids are split into ranges read in parallel.
      const first = await listPage(null, false);
      for (const r of await complete(first.records, false)) yield* append(r);
      const last = first.records.at(-1);
      const idCursor = first.next !== null && last !== undefined && /^\d+$/.test(first.next) && /^\d+$/.test(last.id) && Number(first.next) > Number(last.id);
      if (first.next === null) state = { ...state, phase: 'done', after: null, synced_to: state.run_to };
      else if (!idCursor) state = { ...state, after: first.next };
      else {
        const top = await highestId(a, object);
        const from = Number(first.next);
        const to = Math.max(from, top) + 1;
        state = { ...state, windows: planWindows(from, to, Math.ceil((to - from) / (config.list_concurrency * 8)), config.list_concurrency * 8) };
      }
      if (state.phase === 'list') yield* batches.checkpoint(state);
    }
    if (state.phase === 'list' && state.windows) {
      const end = state.windows.to;
      const fetch = async (w: TimeWindow, token: string | null) => {
        const after = token ?? String(w.from);
        const page = await listPage(after, false);
        // The last range is open-ended: objects created since the run began are read too.
        const open = w.to >= end;
        const below = page.records.find((r) => Number(r.id) < Number(after));
        if (below) throw new DativoError(`${listEndpoint}: asked for ids from ${after}, got ${below.id}; the list cursor is not an object id here, so id ranges cannot be read in parallel (set list_concurrency: 1)`, { kind: 'permanent', code: 'HUBSPOT_LIST_CURSOR' });
        const items = open ? page.records : page.records.filter((r) => Number(r.id) < w.to);
        const next = page.next === null || (!open && (items.length < page.records.length || Number(page.next) >= w.to)) ? null : page.next;
        return { items: await complete(items, false), next };
      };
      for await (const page of readWindows({ state: state.windows, concurrency: config.list_concurrency, fetch, signal: ctx.signal })) {
        for (const r of page.items) yield* append(r);
        state = { ...state, windows: page.state };
        if (batches.due) yield* batches.checkpoint(state);
      }
      state = { ...state, phase: 'done', windows: null, synced_to: state.run_to };
    } else if (state.phase === 'list') {
      for await (const page of listAll(false)) {
        for (const r of page.records) yield* append(r);
        state = { ...state, after: page.next };
        if (page.next !== null && batches.due) yield* batches.checkpoint(state);
      }
      state = { ...state, phase: 'done', after: null, synced_to: state.run_to };
    }
    yield* batches.checkpoint(state);
  }

  if (state.phase === 'search') {
    const windows = state.search_windows ?? (state.search ? oneRange(state.search) : null);
    if (!windows) throw new DativoError(`the checkpoint of ${stream.name} is in its search phase without search state; reset the stream's state`, { kind: 'permanent', code: 'HUBSPOT_STATE' });
    const endpoint = `POST /crm/v3/objects/${object.path}/search`;
    const search = async (q: CappedQuery, after: string | null) => {
      const filters = [
        { propertyName: lastModified, operator: 'GTE', value: String(q.from) },
        { propertyName: lastModified, operator: 'LT', value: String(q.to) },
        ...(q.idAfter ? [{ propertyName: 'hs_object_id', operator: 'GT', value: q.idAfter }] : []),
      ];
      const body = { filterGroups: [{ filters }], sorts: [q.idAfter !== null ? 'hs_object_id' : lastModified], properties: head, limit: config.search_page_size, after: after ?? '0' };
      const res = await a.call(endpoint, (c, o) => c.crm.objects.searchApi.doSearch(object.path, body as never, o), { search: true, scope: object.scope });
      return { items: await complete((res.results ?? []) as unknown as HubSpotRecord[], false), total: res.total, next: res.paging?.next?.after ?? null };
    };
    const pages = readCappedSearchWindows<HubSpotRecord>({ state: windows, concurrency: config.search_concurrency, cap: config.search_cap, search, idOf: (r) => r.id, what: `HubSpot ${object.name}`, signal: ctx.signal });
    for await (const page of pages) {
      for (const r of page.items) yield* append(r);
      state = { ...state, search: null, search_windows: page.state };
      if (batches.due) yield* batches.checkpoint(state);
    }
    state = { ...state, search: null, search_windows: null, ...(config.archived ? { phase: 'archived' as const, after: null } : { phase: 'done' as const, synced_to: state.run_to }) };
    yield* batches.checkpoint(state);
  }

  if (state.phase === 'archived') {
    const since = state.since ?? 0;
    let marked = 0;
    const marks = stream.schema.some((f) => f.name === DELETED_COLUMN);
    for await (const page of listAll(true)) {
      for (const r of page.records) {
        const at = r.archivedAt ? toDate(r.archivedAt).getTime() : 0;
        if (at < since || at >= state.run_to) continue;
        marked++;
        if (marks) yield* append(r, true);
      }
      state = { ...state, after: page.next };
      if (page.next !== null && batches.due) yield* batches.checkpoint(state);
    }
    if (marked && !marks) {
      const message = `${marked} ${object.name} archived in HubSpot were not written: the asset has no '${DELETED_COLUMN}' column (add '${DELETED_COLUMN}: boolean' and '${DELETED_AT_COLUMN}: timestamp' to mark deletions)`;
      ctx.log.warn(message, { stream: stream.name });
      yield { kind: 'warning', stream: stream.name, message };
    }
    state = { ...state, phase: 'done', after: null, synced_to: state.run_to };
    yield* batches.checkpoint(state);
  }
}

/** The highest live object id (one search sorted by id, descending). */
async function highestId(a: Api, object: ObjectInfo): Promise<number> {
  const res = await a.call(
    `POST /crm/v3/objects/${object.path}/search`,
    (c, o) => c.crm.objects.searchApi.doSearch(object.path, { sorts: [{ propertyName: 'hs_object_id', direction: 'DESCENDING' }], properties: ['hs_object_id'], limit: 1, after: '0', filterGroups: [] } as never, o),
    { search: true, scope: object.scope },
  );
  const top = res.results?.[0]?.id;
  return top !== undefined && /^\d+$/.test(top) ? Number(top) : 0;
}

/** A single capped search (a checkpoint written before searches ran in parallel) as one range of a parallel read. */
function oneRange(search: CappedSearchState): WindowState {
  const plan = planCappedSearchWindows(search.from, search.to, Math.max(1, search.to - search.from), 1);
  return { ...plan, next: 1, active: [{ i: 0, token: JSON.stringify(search), done: false }] };
}
