import { bearerAuth, cappedSearchStateSchema, objectForStream, StreamBatches, HttpError, lowerHeaders, OAuth2RefreshAuth, planCappedSearch, readCappedSearch, type Auth, type CappedQuery } from '@dativo/api-kit';
import {
  DativoError,
  parseCheckpointState,
  RateLimiter,
  throwIfAborted,
  toDativoError,
  type ConfiguredStream,
  type DataType,
  type ExtractMessage,
  type Extractor,
  type FieldSpec,
  type JsonValue,
  type RunContext,
  type StreamDescriptor,
} from '@dativo/core';
import { Client } from '@hubspot/api-client';
import { z } from 'zod';
import { HUBSPOT_OBJECTS, type HubSpotConfig, type HubSpotObject } from './config.js';
import { hubspotHead } from './connector.js';

export const DELETED_COLUMN = '_deleted';
export const DELETED_AT_COLUMN = '_deleted_at';
/** The last-modified property each object type is searched by. */
export const LAST_MODIFIED: Record<HubSpotObject, string> = { contacts: 'lastmodifieddate', companies: 'hs_lastmodifieddate', deals: 'hs_lastmodifieddate', tickets: 'hs_lastmodifieddate' };
const SCOPES: Record<HubSpotObject, string> = { contacts: 'crm.objects.contacts.read', companies: 'crm.objects.companies.read', deals: 'crm.objects.deals.read', tickets: 'tickets' };

const checkpointSchema = z.object({
  v: z.literal(1),
  /** `list`: a full read by the list endpoint; `search`: changes by last-modified time; `archived`: deletions since the last sync. */
  phase: z.enum(['list', 'search', 'archived', 'done']),
  /** The list cursor (`after`) of the list and archived phases. */
  after: z.string().nullable(),
  search: cappedSearchStateSchema.nullable(),
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
  createdAt: Date | string;
  updatedAt: Date | string;
  archived?: boolean;
  archivedAt?: Date | string;
}
interface HubSpotProperty {
  name: string;
  type: string;
  fieldType?: string;
}

/** The base fields every object has, around its properties. */
const BASE_FIELDS: FieldSpec[] = [
  { name: 'id', type: { kind: 'string' }, nullable: false },
  { name: 'createdAt', type: { kind: 'timestamp', withTimeZone: true }, nullable: true },
  { name: 'updatedAt', type: { kind: 'timestamp', withTimeZone: true }, nullable: true },
  { name: 'archived', type: { kind: 'boolean' }, nullable: true },
  { name: 'archivedAt', type: { kind: 'timestamp', withTimeZone: true }, nullable: true },
];
const MARK_FIELDS: FieldSpec[] = [
  { name: DELETED_COLUMN, type: { kind: 'boolean' }, nullable: true },
  { name: DELETED_AT_COLUMN, type: { kind: 'timestamp', withTimeZone: true }, nullable: true },
];

/** A HubSpot property type as a column type; property values arrive as strings. */
export function propertyType(p: HubSpotProperty): DataType {
  if (p.name === 'hs_object_id') return { kind: 'int64' };
  switch (p.type) {
    case 'number':
      return { kind: 'float64' };
    case 'bool':
      return { kind: 'boolean' };
    case 'date':
      return { kind: 'date' };
    case 'datetime':
      return { kind: 'timestamp', withTimeZone: true };
    default:
      return { kind: 'string' };
  }
}

function toTime(v: string): Date | null {
  const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  return Number.isNaN(ms) ? null : new Date(ms);
}

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

/** The object type a stream reads (v1's `hubspot_contacts` names `contacts`). */
export function objectFor(stream: string, config: HubSpotConfig): HubSpotObject {
  return objectForStream(stream, config.objects, HUBSPOT_OBJECTS, 'HubSpot', 'HUBSPOT_STREAM');
}

/** An SDK or HTTP failure as a classified DativoError; the message names the endpoint, never the token. */
export function hubspotError(error: unknown, endpoint: string, object?: HubSpotObject): DativoError {
  if (DativoError.isInstance(error)) return error;
  const e = error as { code?: number; body?: unknown; headers?: Record<string, string>; message?: string; name?: string };
  if (typeof e.code === 'number' && e.code >= 100) {
    const status = e.code;
    const body = (typeof e.body === 'object' && e.body ? e.body : {}) as { message?: string; category?: string; errors?: Array<{ context?: { requiredGrantedScopes?: string[] } }> };
    const message = body.message ?? (typeof e.body === 'string' ? e.body.slice(0, 200) : 'no message');
    const headers = lowerHeaders(e.headers);
    if (status === 401) return new DativoError(`${endpoint}: HubSpot refused the token (HTTP 401, ${body.category ?? 'unauthorized'}): ${message} — check access_token (or the oauth: section)`, { kind: 'config', statusCode: 401, code: 'HUBSPOT_AUTH', cause: error });
    if (status === 403) {
      const scopes = body.errors?.flatMap((x) => x.context?.requiredGrantedScopes ?? []) ?? [];
      const scope = scopes.length ? scopes.join(', ') : object ? SCOPES[object] : 'the object\'s read scope';
      return new DativoError(`${endpoint}: the token lacks the scope ${scope} (HTTP 403, ${body.category ?? 'forbidden'}); grant it to the private app or OAuth app`, { kind: 'config', statusCode: 403, code: 'HUBSPOT_SCOPE', cause: error });
    }
    if (status === 429 && (body as { policyName?: string }).policyName === 'DAILY') {
      return new DativoError(`${endpoint}: HubSpot's daily request limit is used up (resets at midnight in the account's time zone); the run stops rather than retry for hours`, { kind: 'permanent', statusCode: 429, code: 'HUBSPOT_DAILY_LIMIT', cause: error });
    }
    return new HttpError(`${endpoint} answered HTTP ${status}: ${message}`, { status, headers, code: body.category ? `HUBSPOT_${body.category}` : `HTTP_${status}`, cause: error });
  }
  if (typeof e.code === 'string' && /^(E[A-Z_]+|UND_ERR\w*)$/.test(e.code)) {
    return new DativoError(`${endpoint}: connection failed (${e.code})`, { kind: 'network', code: e.code, cause: error });
  }
  // A body the SDK cannot read (cut off, HTML from a proxy, no content type): a bad answer, retried.
  const text = (error as Error | undefined)?.message ?? '';
  if (error instanceof SyntaxError || /Cannot parse content|not supported by ObjectSerializer|Unexpected (token|end of JSON)|is not valid JSON/.test(text)) {
    return new DativoError(`${endpoint}: an answer HubSpot's SDK cannot read (${text.split('\n')[0]})`, { kind: 'transient', code: 'BAD_ANSWER', cause: error });
  }
  return toDativoError(error);
}

interface Api {
  call<T>(endpoint: string, fn: (client: Client) => Promise<T>, options?: { search?: boolean; object?: HubSpotObject }): Promise<T>;
}

/** The SDK behind the run's resilience (its own limiter and retries off), with a second limiter for search. */
function api(config: HubSpotConfig, ctx: RunContext): Api {
  const auth: Auth = config.oauth
    ? new OAuth2RefreshAuth({
        tokenUrl: config.oauth.token_url ?? `${config.api_base.replace(/\/$/, '')}/oauth/v1/token`,
        clientId: config.oauth.client_id,
        clientSecret: config.oauth.client_secret,
        refreshToken: config.oauth.refresh_token,
        field: 'oauth.refresh_token',
        ...(config.oauth.refresh_token_secret ? { secretName: config.oauth.refresh_token_secret } : {}),
      })
    : bearerAuth(config.access_token as string);
  const searchGate = new RateLimiter({ requestsPerSecond: config.search_rps, burst: Math.max(1, Math.floor(config.search_rps)) });
  let client: { token: string; sdk: Client } | undefined;
  const sdkFor = async (): Promise<Client> => {
    const token = ((await auth.headers(ctx)).authorization ?? '').replace(/^Bearer /, '');
    if (client?.token !== token) client = { token, sdk: new Client({ accessToken: token, basePath: config.api_base.replace(/\/$/, '') }) };
    return client.sdk;
  };
  return {
    call(endpoint, fn, options = {}) {
      const once = async (): Promise<ReturnType<typeof fn> extends Promise<infer R> ? R : never> => {
        // The SDK's fetch takes no timeout: a request that outlives timeout_seconds is given up
        // (a transient failure, retried) while the socket is left to close on its own.
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new DativoError(`${endpoint}: no answer within ${config.timeout_seconds} s (timeout_seconds)`, { kind: 'transient', code: 'TIMEOUT' })), config.timeout_seconds * 1000);
        });
        try {
          return (await Promise.race([fn(await sdkFor()), timeout])) as never;
        } catch (error) {
          throw hubspotError(error, endpoint, options.object);
        } finally {
          clearTimeout(timer);
        }
      };
      const attempt = async () => {
        try {
          return await once();
        } catch (error) {
          // An expired OAuth access token: renew it once, transparently.
          if (config.oauth && DativoError.isInstance(error) && error.statusCode === 401 && auth.refresh && (await auth.refresh(ctx))) return once();
          throw error;
        }
      };
      return ctx.resilience.call(() => (options.search ? searchGate.schedule(attempt) : attempt()), { endpoint, signal: ctx.signal }) as never;
    },
  };
}

async function properties(a: Api, object: HubSpotObject): Promise<HubSpotProperty[]> {
  const res = await a.call(`GET /crm/v3/properties/${object}`, (c) => c.crm.properties.coreApi.getAll(object), { object });
  return (res.results ?? []) as HubSpotProperty[];
}

function schemaOf(props: HubSpotProperty[]): FieldSpec[] {
  const base = new Set(BASE_FIELDS.map((f) => f.name));
  return [...BASE_FIELDS, ...props.filter((p) => !base.has(p.name)).map((p): FieldSpec => ({ name: p.name, type: propertyType(p), nullable: true })), ...MARK_FIELDS];
}

export function hubspotExtractor(): Extractor<HubSpotConfig> {
  return {
    ...hubspotHead,

    async check(config, ctx) {
      if (Number.isNaN(Date.parse(config.start_date))) throw new DativoError(`start_date: expected an ISO date, got '${config.start_date}'`, { kind: 'config', code: 'HUBSPOT_START_DATE' });
      const a = api(config, ctx);
      for (const object of config.objects) {
        await a.call(`GET /crm/v3/objects/${object}`, (c) => c.crm.objects.basicApi.getPage(object, 1), { object });
      }
    },

    async discover(config, ctx) {
      const a = api(config, ctx);
      const out: StreamDescriptor[] = [];
      for (const object of config.objects) {
        out.push({ name: object, schema: schemaOf(await properties(a, object)), primaryKey: ['id'], cursorFields: ['updatedAt'], syncModes: ['full_refresh', 'incremental'] });
      }
      return out;
    },

    async *read(config, request, ctx) {
      const a = api(config, ctx);
      for (const stream of request.streams) yield* readStream(a, config, stream, ctx);
    },
  };
}

async function* readStream(a: Api, config: HubSpotConfig, stream: ConfiguredStream, ctx: RunContext): AsyncGenerator<ExtractMessage> {
  throwIfAborted(ctx.signal);
  const object = objectFor(stream.name, config);
  const previous = parseCheckpointState(checkpointSchema, stream.resumeFrom?.state, { connector: 'hubspot', stream: stream.name });
  const incremental = stream.syncMode === 'incremental';
  let state: State;
  if (previous && previous.phase !== 'done') state = previous;
  else {
    const now = Date.now();
    const syncedTo = incremental ? (previous?.synced_to ?? null) : null;
    if (syncedTo === null) state = { v: 1, phase: 'list', after: null, search: null, synced_to: null, run_to: now, since: null };
    else {
      const from = Math.max(Date.parse(config.start_date), syncedTo - Math.round((config.incremental?.lookback_days ?? 0) * 86_400_000));
      state = { v: 1, phase: 'search', after: null, search: planCappedSearch(from, now, config.window_days * 86_400_000), synced_to: syncedTo, run_to: now, since: from };
    }
  }
  yield { kind: 'start', stream: stream.name, resumed: previous !== undefined && previous.phase !== 'done' };

  // Only the properties the stream's schema names are requested (all of them for a discovered schema).
  const known = new Map((await properties(a, object)).map((p) => [p.name, p]));
  const wanted = stream.schema.map((f) => f.name).filter((n) => known.has(n));
  const lastModified = LAST_MODIFIED[object];
  const requested = [...new Set([...wanted, 'hs_object_id', lastModified])];
  const types = new Map(stream.schema.map((f) => [f.name, f.type]));
  const undeclared = [...known.keys()].filter((n) => !types.has(n));
  if (undeclared.length) ctx.log.debug(`${undeclared.length} HubSpot ${object} properties are not in the asset and are not read`, { stream: stream.name });

  const batches = new StreamBatches(stream.name, stream.schema, ctx.batchLimits);
  const append = function* (r: HubSpotRecord, deleted = false): Generator<ExtractMessage> {
    const row: Record<string, unknown> = { id: r.id, createdAt: toDate(r.createdAt), updatedAt: toDate(r.updatedAt), archived: r.archived ?? false, archivedAt: r.archivedAt ? toDate(r.archivedAt) : null };
    for (const name of wanted) {
      const type = types.get(name);
      if (type && !(name in row)) row[name] = convert(r.properties[name], type);
    }
    if (deleted) Object.assign(row, { [DELETED_COLUMN]: true, [DELETED_AT_COLUMN]: r.archivedAt ? toDate(r.archivedAt) : null });
    const problem = batches.append(row);
    if (problem) {
      yield {
        kind: 'rejected',
        stream: stream.name,
        raw: { id: r.id, properties: r.properties } as unknown as JsonValue,
        error: new DativoError(`${object} ${r.id}: '${problem.column}' ${problem.message}`, { kind: 'validation', code: 'HUBSPOT_BAD_RECORD' }),
        context: { id: r.id },
      };
    }
  };

  const listEndpoint = `GET /crm/v3/objects/${object}`;
  const listAll = async function* (archived: boolean): AsyncGenerator<{ records: HubSpotRecord[]; next: string | null }> {
    let after = state.after;
    for (;;) {
      throwIfAborted(ctx.signal);
      const page = await a.call(listEndpoint, (c) => c.crm.objects.basicApi.getPage(object, config.page_size, after ?? undefined, requested, undefined, undefined, archived), { object });
      const next = page.paging?.next?.after ?? null;
      const records = (page.results ?? []) as unknown as HubSpotRecord[];
      if (next !== null && records.length === 0) throw new DativoError(`${listEndpoint}: a page with a next cursor holds no records; the list cannot be read to its end`, { kind: 'permanent', code: 'HUBSPOT_EMPTY_PAGE' });
      yield { records, next };
      if (next === null) return;
      after = next;
    }
  };

  if (state.phase === 'list') {
    for await (const page of listAll(false)) {
      for (const r of page.records) yield* append(r);
      state = { ...state, after: page.next };
      if (page.next !== null && batches.due) yield* batches.checkpoint(state);
    }
    state = { ...state, phase: 'done', after: null, synced_to: state.run_to };
    yield* batches.checkpoint(state);
  }

  if (state.phase === 'search' && state.search) {
    const endpoint = `POST /crm/v3/objects/${object}/search`;
    const search = async (q: CappedQuery, after: string | null) => {
      const filters = [
        { propertyName: lastModified, operator: 'GTE', value: String(q.from) },
        { propertyName: lastModified, operator: 'LT', value: String(q.to) },
        ...(q.idAfter ? [{ propertyName: 'hs_object_id', operator: 'GT', value: q.idAfter }] : []),
      ];
      const body = {
        filterGroups: [{ filters }],
        sorts: [q.idAfter !== null ? 'hs_object_id' : lastModified],
        properties: requested,
        limit: config.search_page_size,
        after: after ?? '0',
      };
      const res = await a.call(endpoint, (c) => c.crm.objects.searchApi.doSearch(object, body as never), { search: true, object });
      return { items: (res.results ?? []) as unknown as HubSpotRecord[], total: res.total, next: res.paging?.next?.after ?? null };
    };
    for await (const page of readCappedSearch<HubSpotRecord>({ state: state.search, cap: config.search_cap, search, idOf: (r) => r.id, what: `HubSpot ${object}`, signal: ctx.signal })) {
      for (const r of page.items) yield* append(r);
      state = { ...state, search: page.state };
      if (batches.due) yield* batches.checkpoint(state);
    }
    state = config.archived ? { ...state, phase: 'archived', search: null, after: null } : { ...state, phase: 'done', search: null, synced_to: state.run_to };
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
      const message = `${marked} ${object} archived in HubSpot were not written: the asset has no '${DELETED_COLUMN}' column (add '${DELETED_COLUMN}: boolean' and '${DELETED_AT_COLUMN}: timestamp' to mark deletions)`;
      ctx.log.warn(message, { stream: stream.name });
      yield { kind: 'warning', stream: stream.name, message };
    }
    state = { ...state, phase: 'done', after: null, synced_to: state.run_to };
    yield* batches.checkpoint(state);
  }
}

function toDate(v: Date | string): Date {
  return v instanceof Date ? v : new Date(v);
}
