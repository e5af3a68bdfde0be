import { HttpError, lowerHeaders, objectForStream, pageQuery, StreamBatches, planWindows, readPage, readWindows, RecordShaper, shouldRetryHeader, windowStateSchema, type Page, type PageSpec, type WindowState } from '@dativo/api-kit';
import {
  DativoError,
  RUN_ID_HEADER,
  parseCheckpointState,
  throwIfAborted,
  toDativoError,
  type ConfiguredStream,
  type ExtractMessage,
  type Extractor,
  type FieldSpec,
  type JsonValue,
  type RunContext,
  type StreamDescriptor,
} from '@dativo/core';
import Stripe from 'stripe';
import { z } from 'zod';
import type { StripeConfig } from './config.js';
import { stripeHead } from './connector.js';
import { STRIPE_SCHEMAS } from './schemas.js';
import { DELETED_AT_COLUMN, DELETED_COLUMN, STRIPE_STREAMS, type StripeStreamInfo } from './streams.js';
import { VERSION } from './version.js';

/** Stripe keeps events for 30 days; a sync older than this (less an hour of margin) cannot catch up from them. */
const EVENT_RETENTION_SECONDS = 30 * 86_400 - 3_600;

const checkpointSchema = z.object({
  v: z.literal(1),
  /** Where the sync under way stands: reading objects by `created`, reading events, or finished. */
  phase: z.enum(['objects', 'events', 'done']),
  windows: windowStateSchema.nullable(),
  /** Events `[from, to)` still to read for updates and deletions, and the last event read. */
  events: z.object({ from: z.number(), to: z.number(), after: z.string().nullable() }).nullable(),
  /** The end (exclusive) of the `created` range of the last finished sync. */
  synced_to: z.number().nullable(),
  /** This sync's end: `created` and events before it. */
  run_to: z.number(),
});
type State = z.infer<typeof checkpointSchema>;

type StripeObject = Record<string, unknown> & { id: string; created?: number };
type StripeList = { data: StripeObject[]; has_more: boolean };

/** The SDK, pointed at `api_base`, its own retries off: every request goes through the run's resilience. */
export function stripeClient(config: StripeConfig): Stripe {
  const base = new URL(config.api_base);
  const https = base.protocol === 'https:';
  return new Stripe(config.api_key, {
    host: base.hostname,
    port: base.port || (https ? 443 : 80),
    protocol: https ? 'https' : 'http',
    maxNetworkRetries: 0,
    timeout: config.timeout_seconds * 1000,
    apiVersion: config.api_version as Stripe.LatestApiVersion,
    telemetry: false,
    appInfo: { name: 'dativo', version: VERSION },
  });
}

/** A Stripe SDK error as a classified DativoError; the message names the endpoint and the config field, never the key. */
export function stripeError(error: unknown, endpoint: string, config: StripeConfig, stream?: string): DativoError {
  if (DativoError.isInstance(error)) return error;
  const e = error as { type?: string; statusCode?: number; headers?: unknown; message?: string; code?: string };
  const message = (e.message ?? String(error)).split('\n')[0] as string;
  const status = e.statusCode;
  if (e.type === 'StripeAuthenticationError' || status === 401) {
    return new DativoError(`${endpoint}: Stripe refused the key in api_key (HTTP 401): ${message}`, { kind: 'config', statusCode: 401, code: 'STRIPE_AUTH', cause: error });
  }
  if (e.type === 'StripePermissionError' || status === 403) {
    return new DativoError(`${endpoint}: the key in api_key may not read ${stream ?? 'this list'} (HTTP 403): ${message}; give the restricted key read access to it`, {
      kind: 'config',
      statusCode: 403,
      code: 'STRIPE_PERMISSION',
      cause: error,
    });
  }
  if (e.type === 'StripeConnectionError') {
    return new DativoError(`${endpoint}: no answer from ${new URL(config.api_base).origin}: ${message}`, { kind: 'network', code: 'STRIPE_CONNECTION', cause: error });
  }
  if (status !== undefined) {
    const headers = lowerHeaders(e.headers);
    return new HttpError(`${endpoint} answered HTTP ${status}: ${message}`, { status, headers, shouldRetry: shouldRetryHeader(headers, 'stripe-should-retry'), code: e.code ? `STRIPE_${e.code.toUpperCase()}` : `HTTP_${status}`, cause: error });
  }
  if (e.type === 'StripeAPIError') return new DativoError(`${endpoint}: ${message}`, { kind: 'transient', code: 'STRIPE_API', cause: error });
  return toDativoError(error);
}

/** One page of a Stripe list, through the run's rate limiter, breaker and retries. */
async function listPage(sdk: Stripe, info: StripeStreamInfo, params: Record<string, unknown>, config: StripeConfig, ctx: RunContext, stream: string): Promise<StripeList> {
  const endpoint = `GET ${info.path}`;
  const resource = (sdk as unknown as Record<string, { list(p: unknown, o?: unknown): Promise<StripeList> }>)[info.resource];
  if (!resource) throw new DativoError(`the Stripe SDK has no resource '${info.resource}'`, { kind: 'permanent' });
  return ctx.resilience.call(
    async () => {
      try {
        return await resource.list(params, { headers: { [RUN_ID_HEADER]: ctx.runId }, ...(config.account ? { stripeAccount: config.account } : {}) });
      } catch (error) {
        throw stripeError(error, endpoint, config, stream);
      }
    },
    { endpoint, signal: ctx.signal },
  );
}

function pageSpec(config: StripeConfig): PageSpec {
  return { items: 'data', pagination: { kind: 'cursor', from: 'last_item', param: 'starting_after', idField: 'id', hasMoreField: 'has_more' }, pageSize: config.page_size, limitParam: 'limit' };
}

function epochSeconds(value: string | number, field: string): number {
  if (typeof value === 'number') return Math.floor(value);
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new DativoError(`${field}: expected an ISO date or epoch seconds, got '${value}'`, { kind: 'config', code: 'STRIPE_START_DATE' });
  return Math.floor(ms / 1000);
}

/** The Stripe list a stream reads (v1's `stripe_customers` names `customers`). */
export function objectFor(stream: string, config: StripeConfig): string {
  return objectForStream(stream, config.objects, Object.keys(STRIPE_STREAMS), 'Stripe', 'STRIPE_STREAM');
}

function schemaFor(object: string): FieldSpec[] {
  return [...(STRIPE_SCHEMAS[object] ?? []), { name: DELETED_COLUMN, type: { kind: 'boolean' }, nullable: true }, { name: DELETED_AT_COLUMN, type: { kind: 'timestamp', withTimeZone: true }, nullable: true }];
}

export function stripeExtractor(): Extractor<StripeConfig> {
  return {
    ...stripeHead,

    async check(config, ctx) {
      const sdk = stripeClient(config);
      epochSeconds(config.start_date, 'start_date');
      for (const object of config.objects) {
        const info = STRIPE_STREAMS[object] as StripeStreamInfo;
        await listPage(sdk, info, { limit: 1, ...info.listParams }, config, ctx, object);
      }
    },

    async discover(config) {
      return config.objects.map(
        (object): StreamDescriptor => ({ name: object, schema: schemaFor(object), primaryKey: ['id'], cursorFields: ['created'], syncModes: ['full_refresh', 'incremental'] }),
      );
    },

    async *read(config, request, ctx) {
      const sdk = stripeClient(config);
      for (const stream of request.streams) yield* readStream(sdk, config, stream, ctx);
    },
  };
}

async function* readStream(sdk: Stripe, config: StripeConfig, stream: ConfiguredStream, ctx: RunContext): AsyncGenerator<ExtractMessage> {
  throwIfAborted(ctx.signal);
  const object = objectFor(stream.name, config);
  const info = STRIPE_STREAMS[object] as StripeStreamInfo;
  const previous = parseCheckpointState(checkpointSchema, stream.resumeFrom?.state, { connector: 'stripe', stream: stream.name });
  const incremental = stream.syncMode === 'incremental';
  let state: State;
  if (previous && previous.phase !== 'done') {
    state = previous;
  } else {
    const now = Math.floor(Date.now() / 1000);
    const start = epochSeconds(config.start_date, 'start_date');
    const syncedTo = incremental ? (previous?.synced_to ?? null) : null;
    let from = start;
    let events: State['events'] = null;
    if (syncedTo !== null) {
      const lookback = Math.round((config.incremental?.lookback_days ?? 0) * 86_400);
      if (now - syncedTo > EVENT_RETENTION_SECONDS) {
        const message = `the last sync of ${object} ended ${new Date(syncedTo * 1000).toISOString()}, longer ago than Stripe keeps events (30 days): updates and deletions since then cannot be read from events, so every object is read again`;
        ctx.log.warn(message, { stream: stream.name });
        yield { kind: 'warning', stream: stream.name, message };
      } else {
        from = Math.max(start, syncedTo - lookback);
        if (config.events && info.updated.length + info.deleted.length > 0) events = { from: syncedTo - lookback, to: now, after: null };
      }
    }
    state = { v: 1, phase: 'objects', windows: planWindows(from, now, config.window_days * 86_400), events, synced_to: previous?.synced_to ?? null, run_to: now };
  }
  yield { kind: 'start', stream: stream.name, resumed: previous !== undefined && previous.phase !== 'done' };

  const batches = new StreamBatches(stream.name, stream.schema, ctx.batchLimits);
  const catchAll = stream.schema.find((f) => f.name === '_extra' && f.type.kind === 'json')?.name;
  const shaper = new RecordShaper(stream.schema, { log: ctx.log, stream: stream.name, epochUnit: 's', own: [DELETED_COLUMN, DELETED_AT_COLUMN], catchAll });
  const marksDeletions = stream.schema.some((f) => f.name === DELETED_COLUMN);
  let unmarkedDeletions = 0;
  const append = function* (record: StripeObject, extra?: Record<string, unknown>): Generator<ExtractMessage> {
    const problem = batches.append(shaper.shape(extra ? { ...record, ...extra } : record));
    if (problem) {
      yield {
        kind: 'rejected',
        stream: stream.name,
        raw: record as unknown as JsonValue,
        error: new DativoError(`${object} ${record.id}: '${problem.column}' ${problem.message}`, { kind: 'validation', code: 'STRIPE_BAD_OBJECT' }),
        context: { id: record.id },
      };
    }
  };
  const spec = pageSpec(config);
  const expand = (config.expand[object] ?? []).map((f) => (f.startsWith('data.') ? f : `data.${f}`));

  // Objects by `created`, in parallel half-open windows.
  if (state.phase === 'objects' && state.windows) {
    const fetch = async (w: { from: number; to: number }, token: string | null): Promise<Page<StripeObject>> => {
      const params = { ...pageQuery(spec, token), created: { gte: w.from, lt: w.to }, ...info.listParams, ...(expand.length ? { expand } : {}) };
      return readPage<StripeObject>(spec, await listPage(sdk, info, params, config, ctx, stream.name), token, `GET ${info.path}`);
    };
    let shown: number | undefined;
    for await (const page of readWindows<StripeObject>({ state: state.windows, concurrency: config.concurrency, fetch, signal: ctx.signal })) {
      // Where the read is, for the progress display: the created-time window of the latest page.
      if (page.window.from !== shown) {
        shown = page.window.from;
        yield { kind: 'status', stream: stream.name, at: `${info.path} created ${isoSeconds(page.window.from)} → ${isoSeconds(page.window.to)}` };
      }
      for (const record of page.items) yield* append(record);
      state = { ...state, windows: page.state };
      if (batches.due) yield* batches.checkpoint(state);
    }
    state = state.events ? { ...state, phase: 'events', windows: null } : { ...state, phase: 'done', windows: null, events: null, synced_to: state.run_to };
    yield* batches.checkpoint(state);
  }

  // Updated and deleted objects from the Events API (newest first: the first event of an object is its latest state).
  if (state.phase === 'events' && state.events) {
    const range = state.events;
    const objectsFrom = range.from;
    const seen = new Set<string>();
    const types = [...info.updated, ...info.deleted].slice(0, 20);
    let after = range.after;
    const endpoint = 'GET /v1/events';
    const eventsPage = async (cursor: string | null) =>
      readPage<StripeObject>(spec, await listPage(sdk, STRIPE_STREAMS.events as StripeStreamInfo, { ...pageQuery(spec, cursor), types, created: { gte: range.from, lt: range.to } }, config, ctx, stream.name), cursor, endpoint);
    if (after !== null) {
      // Resumed mid-pass: the objects of the events before `after` (newer ones) were written in
      // their latest state. Learn which they were, so an older event of one is not written over it.
      // The range is closed (`lt: to`), so the list before `after` is the one the crashed run read.
      let cursor: string | null = null;
      for (let found = false; !found; ) {
        throwIfAborted(ctx.signal);
        const page = await eventsPage(cursor);
        for (const event of page.items) {
          const id = (event.data as { object?: StripeObject } | undefined)?.object?.id;
          if (id) seen.add(id);
          if (event.id === after) {
            found = true;
            break;
          }
        }
        cursor = page.next;
        if (!found && cursor === null) {
          throw new DativoError(`${endpoint}: the event ${after} the last run stopped at is no longer listed; reset the stream's state to read ${object} again`, { kind: 'permanent', code: 'STRIPE_EVENTS_CURSOR' });
        }
      }
    }
    for (;;) {
      throwIfAborted(ctx.signal);
      const page = await eventsPage(after);
      for (const event of page.items) {
        const data = (event.data as { object?: StripeObject } | undefined)?.object;
        if (!data?.id || seen.has(data.id)) continue;
        seen.add(data.id);
        // Objects created since the last sync were read whole by the windows above.
        if (typeof data.created === 'number' && data.created >= objectsFrom) continue;
        if (info.deleted.includes(String(event.type))) {
          if (!marksDeletions) {
            unmarkedDeletions++;
            continue;
          }
          yield* append(data, { [DELETED_COLUMN]: true, [DELETED_AT_COLUMN]: event.created });
        } else yield* append(data);
      }
      after = page.next;
      state = { ...state, events: { ...range, after } };
      if (after === null) break;
      if (batches.due) yield* batches.checkpoint(state);
    }
    state = { ...state, phase: 'done', events: null, synced_to: state.run_to };
    yield* batches.checkpoint(state);
  }
  if (unmarkedDeletions > 0) {
    const message = `${unmarkedDeletions} ${object} deleted in Stripe were not written: the asset has no '${DELETED_COLUMN}' column (add '${DELETED_COLUMN}: boolean' and '${DELETED_AT_COLUMN}: timestamp' to mark deletions)`;
    ctx.log.warn(message, { stream: stream.name });
    yield { kind: 'warning', stream: stream.name, message };
  }
}

export type { WindowState };

/** An epoch-seconds time as `2026-11-29T08:00:00Z`. */
function isoSeconds(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
