import { BatchBuilder, DativoError, parseCheckpointState, throwIfAborted, type ConfiguredStream, type ExtractMessage, type Extractor, type FieldSpec, type JsonValue, type RunContext } from '@dativo/core';
import { z } from 'zod';
import type { ExampleConfig } from './config.js';
import { exampleHead } from './connector.js';

/** The one stream this API offers, with the types Dativo writes. */
export const ITEMS_SCHEMA: FieldSpec[] = [
  { name: 'id', type: { kind: 'int64' }, nullable: false },
  { name: 'name', type: { kind: 'string' }, nullable: true },
  { name: 'price', type: { kind: 'float64' }, nullable: true },
  { name: 'updated_at', type: { kind: 'timestamp', withTimeZone: true }, nullable: false },
];

/** One page of `GET /items`, checked: an API that changes shape fails clearly, not silently. */
const pageSchema = z.object({
  data: z.array(z.record(z.string(), z.unknown())),
  next_cursor: z.string().nullable(),
});

/**
 * The checkpoint: where the current sync stands (`cursor`, the next page) and, for incremental
 * syncs, the newest `updated_at` of the last finished one (`since`). Small JSON, parsed by a
 * schema when a run resumes.
 */
const checkpointSchema = z.object({
  v: z.literal(1),
  cursor: z.string().nullable(),
  since: z.string().nullable(),
  /** The newest `updated_at` seen so far in the sync under way. */
  newest: z.string().nullable(),
  done: z.boolean(),
});
type State = z.infer<typeof checkpointSchema>;

class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    readonly headers: Headers,
    message: string,
  ) {
    super(message);
  }
}

async function getJson(config: ExampleConfig, path: string, query: Record<string, string>, ctx: RunContext): Promise<unknown> {
  const url = new URL(`${config.base_url.replace(/\/$/, '')}${path}`);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  // Through the run's resilience service: rate limit, breaker, retries (429 honours Retry-After;
  // 401 is an auth error, not retried).
  return ctx.resilience.call(
    async () => {
      const res = await fetch(url, { headers: { authorization: `Bearer ${config.api_key}`, accept: 'application/json' }, signal: ctx.signal });
      // A refused key will not be accepted on a retry: a configuration error naming the field.
      if (res.status === 401 || res.status === 403) throw new DativoError(`api_key was refused by ${config.base_url} (HTTP ${res.status})`, { kind: 'config', code: 'EXAMPLE_AUTH' });
      // Anything else is classified by Dativo (429 rate limit with Retry-After, 5xx transient, other 4xx permanent).
      if (!res.ok) throw new HttpStatusError(res.status, res.headers, `GET ${path} answered ${res.status} ${res.statusText}`);
      return (await res.json()) as unknown;
    },
    { endpoint: `GET ${path}`, signal: ctx.signal },
  );
}

export function exampleExtractor(): Extractor<ExampleConfig> {
  return {
    ...exampleHead,

    async check(config, ctx) {
      // The cheapest request that proves the URL and the key: one item.
      await getJson(config, '/items', { limit: '1' }, ctx);
    },

    async discover() {
      return [{ name: 'items', schema: ITEMS_SCHEMA, primaryKey: ['id'], cursorFields: ['updated_at'], syncModes: ['full_refresh', 'incremental'] }];
    },

    async *read(config, request, ctx) {
      for (const stream of request.streams) {
        if (stream.name !== 'items') throw new DativoError(`stream '${stream.name}' is not offered by this API (it offers: items)`, { kind: 'config', code: 'EXAMPLE_STREAM' });
        yield* readItems(config, stream, ctx);
      }
    },
  };
}

async function* readItems(config: ExampleConfig, stream: ConfiguredStream, ctx: RunContext): AsyncGenerator<ExtractMessage> {
  throwIfAborted(ctx.signal);
  const previous = parseCheckpointState(checkpointSchema, stream.resumeFrom?.state, { connector: 'example', stream: stream.name });
  const incremental = stream.syncMode === 'incremental';
  // An unfinished sync continues at its page; a finished one starts over (full refresh) or asks
  // for what changed since it (incremental).
  let state: State =
    previous && !previous.done
      ? previous
      : { v: 1, cursor: null, since: incremental ? (previous?.since ?? null) : null, newest: null, done: false };
  yield { kind: 'start', stream: stream.name, resumed: previous !== undefined && !previous.done };
  const builder = new BatchBuilder(stream.schema, ctx.batchLimits);
  const checkpoint = (s: State): ExtractMessage => ({ kind: 'checkpoint', checkpoint: { stream: stream.name, state: s as unknown as JsonValue } });
  for (;;) {
    throwIfAborted(ctx.signal);
    const query: Record<string, string> = { limit: String(config.page_size) };
    if (state.cursor) query.cursor = state.cursor;
    if (state.since) query.updated_since = state.since;
    const parsed = pageSchema.safeParse(await getJson(config, '/items', query, ctx));
    if (!parsed.success) throw new DativoError(`GET /items answered an unexpected page: ${parsed.error.issues[0]?.message ?? 'bad shape'}`, { kind: 'permanent', code: 'EXAMPLE_BAD_PAGE' });
    let newest = state.newest;
    for (const item of parsed.data.data) {
      const problem = builder.appendRecord(item);
      if (problem) {
        yield { kind: 'rejected', stream: stream.name, raw: item, error: new DativoError(`item ${String(item.id)}: '${problem.column}' ${problem.message}`, { kind: 'validation', code: 'EXAMPLE_BAD_ITEM' }), context: { id: item.id ?? null } };
        continue;
      }
      const at = typeof item.updated_at === 'string' ? item.updated_at : null;
      if (at && (!newest || Date.parse(at) > Date.parse(newest))) newest = at;
    }
    // A page is the unit of progress: its rows and the cursor after it travel together.
    const batch = builder.flush();
    if (batch) yield { kind: 'batch', stream: stream.name, batch };
    const next = parsed.data.next_cursor;
    state = next ? { ...state, cursor: next, newest } : { v: 1, cursor: null, since: incremental ? (newest ?? state.since) : null, newest: null, done: true };
    yield checkpoint(state);
    if (!next) return;
  }
}
