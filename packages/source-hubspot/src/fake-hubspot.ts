// A HubSpot CRM API server for tests (not part of the package's entry points), written from the
// protocol facts in ../shared/reference/hubspot/facts.md (HubSpot's own spec files are not licensed
// for copying): CRM v3 objects (list with the `after` cursor, search with filter groups, sorts,
// `total` and the 10,000-result cap, batch read), properties and `propertiesWithHistory`, custom
// object types (the schemas API), owners, pipelines with their stages, v4 associations with labels,
// bearer auth with scopes, the `X-HubSpot-RateLimit-*` headers and 429s of a rolling ten-second
// window and of the search API's per-second limit, and HubSpot's error body (`status`, `message`,
// `correlationId`, `category`).
//
// Where the facts are silent the fake picks a limit and says so here: request URLs longer than
// 8,192 characters are refused with 414, and a search or batch body whose property names add up to
// more than 8,192 characters with a 400 (a client must chunk long property lists); a list page with
// `propertiesWithHistory` holds at most 50 objects, and so does a batch read with it.
import { randomUUID } from 'node:crypto';
import { recordSecret, startHttpServer, type FakeHttpServer, type FakeOAuth, type HttpReply, type RecordedRequest } from '@dativo/testing/http';

export type HubSpotObjectType = 'contacts' | 'companies' | 'deals' | 'tickets';

export const MAX_URL_LENGTH = 8_192;
export const MAX_BODY_PROPERTY_CHARS = 8_192;

/** The last-modified property of each standard type (contacts have their own name for it). */
export const LAST_MODIFIED: Record<HubSpotObjectType, string> = { contacts: 'lastmodifieddate', companies: 'hs_lastmodifieddate', deals: 'hs_lastmodifieddate', tickets: 'hs_lastmodifieddate' };

export interface FakeProperty {
  name: string;
  label: string;
  type: 'string' | 'number' | 'bool' | 'date' | 'datetime' | 'enumeration' | 'phone_number';
  fieldType: string;
  groupName: string;
  options?: Array<{ label: string; value: string }>;
}

const BASE_PROPERTIES: Record<HubSpotObjectType, FakeProperty[]> = {
  contacts: [
    { name: 'email', label: 'Email', type: 'string', fieldType: 'text', groupName: 'contactinformation' },
    { name: 'firstname', label: 'First Name', type: 'string', fieldType: 'text', groupName: 'contactinformation' },
    { name: 'lastname', label: 'Last Name', type: 'string', fieldType: 'text', groupName: 'contactinformation' },
    { name: 'lifecyclestage', label: 'Lifecycle Stage', type: 'enumeration', fieldType: 'radio', groupName: 'contactinformation', options: [{ label: 'Lead', value: 'lead' }, { label: 'Customer', value: 'customer' }] },
    { name: 'num_employees', label: 'Employees', type: 'number', fieldType: 'number', groupName: 'contactinformation' },
  ],
  companies: [
    { name: 'name', label: 'Name', type: 'string', fieldType: 'text', groupName: 'companyinformation' },
    { name: 'domain', label: 'Domain', type: 'string', fieldType: 'text', groupName: 'companyinformation' },
  ],
  deals: [
    { name: 'dealname', label: 'Deal Name', type: 'string', fieldType: 'text', groupName: 'dealinformation' },
    { name: 'amount', label: 'Amount', type: 'number', fieldType: 'number', groupName: 'dealinformation' },
    { name: 'closedate', label: 'Close Date', type: 'datetime', fieldType: 'date', groupName: 'dealinformation' },
    { name: 'hs_is_closed', label: 'Is Closed', type: 'bool', fieldType: 'booleancheckbox', groupName: 'dealinformation' },
  ],
  tickets: [
    { name: 'subject', label: 'Subject', type: 'string', fieldType: 'text', groupName: 'ticketinformation' },
    { name: 'hs_pipeline_stage', label: 'Stage', type: 'enumeration', fieldType: 'select', groupName: 'ticketinformation' },
  ],
};

/** An object type the fake serves: a standard one, or a custom one created with `addObjectType`. */
interface TypeDef {
  name: string;
  objectTypeId: string;
  fullyQualifiedName: string;
  scope: string;
  lastModified: string;
  properties: FakeProperty[];
  custom: boolean;
  defaults: string[];
  make: (id: number) => Record<string, string | null>;
}

const DAY0 = Date.UTC(2025, 0, 1);
const iso = (ms: number): string => new Date(ms).toISOString();

function standardType(name: HubSpotObjectType, objectTypeId: string, scope: string): TypeDef {
  const make: Record<HubSpotObjectType, (id: number) => Record<string, string | null>> = {
    contacts: (id) => ({ email: `contact${id}@example.com`, firstname: `First${id}`, lastname: `Last${id}`, lifecyclestage: id % 2 ? 'lead' : 'customer', num_employees: String(id % 500) }),
    companies: (id) => ({ name: `Company ${id}`, domain: `company${id}.example.com` }),
    deals: (id) => ({ dealname: `Deal ${id}`, amount: `${id}.50`, closedate: iso(DAY0 + id * 1000), hs_is_closed: id % 3 === 0 ? 'true' : 'false' }),
    tickets: (id) => ({ subject: `Ticket ${id}`, hs_pipeline_stage: '1' }),
  };
  return {
    name,
    objectTypeId,
    fullyQualifiedName: name,
    scope,
    lastModified: LAST_MODIFIED[name],
    properties: [...systemProperties(LAST_MODIFIED[name]), ...BASE_PROPERTIES[name]],
    custom: false,
    defaults: ['hs_object_id', 'createdate', LAST_MODIFIED[name], ...BASE_PROPERTIES[name].slice(0, 3).map((p) => p.name)],
    make: make[name],
  };
}

function systemProperties(lastModified: string): FakeProperty[] {
  return [
    { name: 'hs_object_id', label: 'Record ID', type: 'number', fieldType: 'number', groupName: 'system' },
    { name: 'createdate', label: 'Create Date', type: 'datetime', fieldType: 'date', groupName: 'system' },
    { name: lastModified, label: 'Last Modified Date', type: 'datetime', fieldType: 'date', groupName: 'system' },
  ];
}

/** HubSpot-defined association type ids, both directions (facts.md). */
const DEFINED_TYPES: Record<string, number> = {
  'contacts>companies': 279, 'companies>contacts': 280, 'deals>contacts': 3, 'contacts>deals': 4, 'deals>companies': 341, 'companies>deals': 342,
  'tickets>contacts': 16, 'contacts>tickets': 15, 'tickets>companies': 339, 'companies>tickets': 340, 'deals>tickets': 27, 'tickets>deals': 28,
};

interface StoredObject {
  id: number;
  /** Numeric values of properties, parsed once (dates as epoch ms); cleared on update. */
  numeric?: Map<string, number>;
  properties: Record<string, string | null>;
  createdAt: number;
  updatedAt: number;
  archived: boolean;
  archivedAt?: number;
  /** Earlier values of properties changed by `update`, oldest first. */
  history?: Map<string, Array<{ value: string | null; at: number }>>;
}

export interface AssociationType {
  category: 'HUBSPOT_DEFINED' | 'USER_DEFINED' | 'INTEGRATOR_DEFINED' | 'WORK';
  typeId: number;
  label: string | null;
}

export interface FakeOwner {
  id: string;
  email: string;
  firstName: string;
  lastName: string;
  userId: number;
  archived?: boolean;
  teams?: Array<{ id: string; name: string; primary: boolean }>;
}

export interface FakeHubSpot {
  url: string;
  http: FakeHttpServer;
  /** The private-app token accepted, with every scope. */
  token: string;
  /** Tokens accepted with only some scopes (a missing one answers 403). */
  scoped: Map<string, string[]>;
  /** Results one search query can page through (HubSpot: 10,000). */
  searchCap: number;
  /** Added to the `total` of every search that matches anything (a negative value under-reports it). */
  totalBias: number;
  /** OAuth: access tokens this endpoint issued are accepted with every scope (401 once expired). */
  oauth: FakeOAuth | undefined;
  /** Called with each API request before it is answered (to script expiry mid-run). */
  onRequest: ((request: RecordedRequest) => void) | undefined;
  /** The general limit (HubSpot: 100 per rolling 10 s for private apps), with the X-HubSpot-RateLimit-* headers; none when unset. */
  rateLimit: { max: number; intervalMs: number } | undefined;
  /** Search requests allowed per second (HubSpot: 5); none when unset. */
  searchPerSecond: number | undefined;
  /** Requests left today (`X-HubSpot-RateLimit-Daily-Remaining`); at 0 every request is a 429 of the daily policy. */
  dailyRemaining: number;
  /** When each 429 of the two limits was sent (ms since the epoch), with the endpoint kind. */
  throttled: Array<{ at: number; search: boolean }>;
  /** Adds objects; `modified(i)` gives each one's last-modified time (ms), default spread over a day. */
  add(type: string, count: number, options?: { modified?: (i: number) => number; make?: (i: number, id: number) => Record<string, string | null> }): Array<{ id: string; updatedAt: number }>;
  /** `count` objects made on demand for the list endpoint (ids from 1,000, modified one second apart): memory tests. */
  generate(type: HubSpotObjectType, count: number): void;
  /** Changes properties and sets the last-modified time (the old values go to the property history). */
  update(type: string, id: string, properties: Record<string, string | null>, at: number): void;
  /** Archives (deletes) an object at `at`. */
  archive(type: string, id: string, at: number): void;
  /** Adds a custom property to a type. */
  addProperty(type: string, property: FakeProperty): void;
  /** Creates a custom object type (the schemas API lists it; its scope is `crm.objects.custom.read`). */
  addObjectType(definition: { name: string; objectTypeId: string; portalId?: number; properties: FakeProperty[]; make?: (id: number) => Record<string, string | null> }): void;
  /** Associates two objects with the given types; the reverse direction is stored too. */
  associate(fromType: string, fromId: string, toType: string, toId: string, types?: AssociationType[]): void;
  owners: FakeOwner[];
  /** Pipelines of deals and tickets, each with stages. */
  pipelines: Map<string, Array<{ id: string; label: string; displayOrder: number; archived?: boolean; stages: Array<{ id: string; label: string; displayOrder: number; metadata: Record<string, string> }> }>>;
  /** Live (unarchived) objects' ids. */
  ids(type: string, archived?: boolean): string[];
  close(): Promise<void>;
}

function error(status: number, category: string, message: string, extra: Record<string, unknown> = {}, headers?: Record<string, string>): HttpReply {
  return { status, body: { status: 'error', message, correlationId: randomUUID(), category, ...extra }, ...(headers ? { headers } : {}) };
}

interface Filter {
  propertyName: string;
  operator: string;
  value?: string;
  highValue?: string;
  values?: string[];
}

const asNumber = (v: string): number => (/^-?\d+(\.\d+)?$/.test(v) ? Number(v) : Date.parse(v));

/** A stored property as a number (dates as epoch ms), parsed once. */
function numericOf(o: StoredObject, name: string): number {
  o.numeric ??= new Map();
  let n = o.numeric.get(name);
  if (n === undefined) {
    const v = o.properties[name];
    n = v === null || v === undefined ? Number.NaN : asNumber(v);
    o.numeric.set(name, n);
  }
  return n;
}

/** Compares a stored value with a filter value: numerically when both are numbers or dates. */
function compare(stored: string | null | undefined, value: string, storedNumber?: number): number | undefined {
  if (stored === null || stored === undefined) return undefined;
  const a = storedNumber ?? asNumber(stored);
  const b = asNumber(value);
  if (Number.isNaN(a) || Number.isNaN(b)) return stored < value ? -1 : stored > value ? 1 : 0;
  return a - b;
}

function matches(o: StoredObject, f: Filter): boolean {
  const v = o.properties[f.propertyName];
  const c = f.value !== undefined ? compare(v, f.value, numericOf(o, f.propertyName)) : undefined;
  switch (f.operator) {
    case 'EQ':
      return c === 0;
    case 'NEQ':
      return c !== 0;
    case 'LT':
      return c !== undefined && c < 0;
    case 'LTE':
      return c !== undefined && c <= 0;
    case 'GT':
      return c !== undefined && c > 0;
    case 'GTE':
      return c !== undefined && c >= 0;
    case 'BETWEEN': {
      const hi = f.highValue !== undefined ? compare(v, f.highValue) : undefined;
      return c !== undefined && hi !== undefined && c >= 0 && hi <= 0;
    }
    case 'IN':
      return (f.values ?? []).includes(String(v));
    case 'NOT_IN':
      return !(f.values ?? []).includes(String(v));
    case 'HAS_PROPERTY':
      return v !== null && v !== undefined && v !== '';
    case 'NOT_HAS_PROPERTY':
      return v === null || v === undefined || v === '';
    default:
      throw new Error(`operator ${f.operator}`);
  }
}

const OPERATORS = new Set(['EQ', 'NEQ', 'LT', 'LTE', 'GT', 'GTE', 'BETWEEN', 'IN', 'NOT_IN', 'HAS_PROPERTY', 'NOT_HAS_PROPERTY', 'CONTAINS_TOKEN', 'NOT_CONTAINS_TOKEN']);

/** Property names of a query parameter: a comma list, or the parameter repeated (as the SDK sends arrays). */
const namesOf = (query: URLSearchParams, name: string): string[] => query.getAll(name).flatMap((v) => v.split(',')).filter(Boolean);

export async function startFakeHubSpot(options: { token?: string } = {}): Promise<FakeHubSpot> {
  const http = await startHttpServer();
  const token = options.token ?? 'pat-na1-00000000-fake-4c7e-9d2b-dativo0test';
  recordSecret(token, 'HubSpot private app token');
  const types = new Map<string, TypeDef>();
  for (const t of [standardType('contacts', '0-1', 'crm.objects.contacts.read'), standardType('companies', '0-2', 'crm.objects.companies.read'), standardType('deals', '0-3', 'crm.objects.deals.read'), standardType('tickets', '0-5', 'tickets')]) types.set(t.name, t);
  const stores = new Map<string, StoredObject[]>([...types.keys()].map((k) => [k, []]));
  const generated = new Map<string, number>();
  /** `${fromType}:${fromId}` → `toType` → associated objects with their types. */
  const associations = new Map<string, Map<string, Map<string, AssociationType[]>>>();
  let nextId = 1000;
  const typeOf = (raw: string): TypeDef | undefined => types.get(raw) ?? [...types.values()].find((t) => t.objectTypeId === raw || t.fullyQualifiedName === raw);
  const storeOf = (type: string): StoredObject[] => {
    const t = typeOf(type);
    if (!t) throw new Error(`no object type ${type}`);
    return stores.get(t.name) as StoredObject[];
  };
  const find = (type: string, id: string): StoredObject => {
    const o = storeOf(type).find((x) => String(x.id) === id);
    if (!o) throw new Error(`no ${type} ${id}`);
    return o;
  };
  // The general limit's accepted requests (a rolling window) and the search limit's second.
  const window: number[] = [];
  const second = { at: 0, count: 0 };

  const fake: FakeHubSpot = {
    url: http.url,
    http,
    token,
    scoped: new Map(),
    searchCap: 10_000,
    totalBias: 0,
    oauth: undefined,
    onRequest: undefined,
    rateLimit: undefined,
    searchPerSecond: undefined,
    dailyRemaining: 500_000,
    throttled: [],
    owners: [],
    pipelines: new Map([
      ['deals', [{ id: 'default', label: 'Sales Pipeline', displayOrder: 0, stages: ['appointmentscheduled', 'qualifiedtobuy', 'closedwon', 'closedlost'].map((id, i) => ({ id, label: id, displayOrder: i, metadata: { isClosed: String(i >= 2), probability: ['0.2', '0.4', '1.0', '0.0'][i] as string } })) }]],
      ['tickets', [{ id: '0', label: 'Support Pipeline', displayOrder: 0, stages: ['1', '2', '3', '4'].map((id, i) => ({ id, label: ['New', 'Waiting on contact', 'Waiting on us', 'Closed'][i] as string, displayOrder: i, metadata: { ticketState: i === 3 ? 'CLOSED' : 'OPEN' } })) }]],
    ]),
    add(type, count, opts = {}) {
      const t = typeOf(type);
      if (!t) throw new Error(`no object type ${type}`);
      const out: Array<{ id: string; updatedAt: number }> = [];
      for (let i = 0; i < count; i++) {
        const id = nextId++;
        const modified = opts.modified?.(i) ?? DAY0 + Math.floor((i * 86_400_000) / Math.max(1, count));
        const created = Math.min(modified, DAY0);
        const properties = { ...t.make(id), ...(opts.make?.(i, id) ?? {}), hs_object_id: String(id), createdate: iso(created), [t.lastModified]: iso(modified) };
        storeOf(type).push({ id, properties, createdAt: created, updatedAt: modified, archived: false });
        out.push({ id: String(id), updatedAt: modified });
      }
      return out;
    },
    generate(type, count) {
      generated.set(type, count);
    },
    update(type, id, properties, at) {
      const o = find(type, id);
      const t = typeOf(type) as TypeDef;
      o.history ??= new Map();
      for (const [name, value] of Object.entries(properties)) {
        const h = o.history.get(name) ?? [{ value: o.properties[name] ?? null, at: o.createdAt }];
        h.push({ value, at });
        o.history.set(name, h);
      }
      Object.assign(o.properties, properties, { [t.lastModified]: iso(at) });
      o.updatedAt = at;
      o.numeric = undefined;
    },
    archive(type, id, at) {
      const o = find(type, id);
      o.archived = true;
      o.archivedAt = at;
      o.updatedAt = at;
      o.numeric = undefined;
    },
    addProperty(type, property) {
      (typeOf(type) as TypeDef).properties.push(property);
    },
    addObjectType(d) {
      const portal = d.portalId ?? 4_711;
      const t: TypeDef = {
        name: d.name,
        objectTypeId: d.objectTypeId,
        fullyQualifiedName: `p${portal}_${d.name}`,
        scope: 'crm.objects.custom.read',
        lastModified: 'hs_lastmodifieddate',
        properties: [...systemProperties('hs_lastmodifieddate'), ...d.properties],
        custom: true,
        defaults: ['hs_object_id', 'createdate', 'hs_lastmodifieddate'],
        make: d.make ?? (() => ({})),
      };
      types.set(t.name, t);
      stores.set(t.name, []);
    },
    associate(fromType, fromId, toType, toId, given) {
      const from = (typeOf(fromType) as TypeDef).name;
      const to = (typeOf(toType) as TypeDef).name;
      const put = (a: string, aid: string, b: string, bid: string, list: AssociationType[]) => {
        const key = `${a}:${aid}`;
        const byType = associations.get(key) ?? new Map<string, Map<string, AssociationType[]>>();
        associations.set(key, byType);
        const targets = byType.get(b) ?? new Map<string, AssociationType[]>();
        byType.set(b, targets);
        const have = targets.get(bid) ?? [];
        for (const x of list) if (!have.some((h) => h.typeId === x.typeId && h.category === x.category)) have.push(x);
        targets.set(bid, have);
      };
      const defined = (a: string, b: string): AssociationType[] => [{ category: 'HUBSPOT_DEFINED', typeId: DEFINED_TYPES[`${a}>${b}`] ?? 1, label: null }];
      put(from, fromId, to, toId, given ?? defined(from, to));
      put(to, toId, from, fromId, given ? given.map((x) => (x.category === 'HUBSPOT_DEFINED' && x.label === null ? defined(to, from)[0] as AssociationType : x)) : defined(to, from));
    },
    ids: (type, archived = false) => storeOf(type).filter((o) => o.archived === archived).map((o) => String(o.id)),
    close: () => http.close(),
  };

  const view = (o: StoredObject, t: TypeDef, wanted: string[] | undefined, withHistory: string[] = []): Record<string, unknown> => {
    const names = wanted?.length ? wanted : t.defaults;
    const properties: Record<string, string | null> = {};
    for (const n of names) if (n in o.properties) properties[n] = o.properties[n] ?? null;
    const out: Record<string, unknown> = { id: String(o.id), properties, createdAt: iso(o.createdAt), updatedAt: iso(o.updatedAt), archived: o.archived, ...(o.archivedAt !== undefined ? { archivedAt: iso(o.archivedAt) } : {}) };
    if (withHistory.length) {
      const history: Record<string, unknown[]> = {};
      for (const n of withHistory) {
        if (!(n in o.properties)) continue;
        const h = o.history?.get(n) ?? [{ value: o.properties[n] ?? null, at: o.createdAt }];
        // Newest first, as HubSpot lists them.
        history[n] = [...h].reverse().map((x) => ({ value: x.value ?? '', timestamp: iso(x.at), sourceType: 'CRM_UI', sourceId: 'userId:1' }));
      }
      out.propertiesWithHistory = history;
    }
    return out;
  };
  /** An object of `generate`: ids from 1,000, one second apart from 2025-01-01. */
  const generatedObject = (t: TypeDef, i: number): StoredObject => {
    const id = 1000 + i;
    const at = DAY0 + i * 1000;
    return { id, properties: { ...t.make(id), hs_object_id: String(id), createdate: iso(at), [t.lastModified]: iso(at) }, createdAt: at, updatedAt: at, archived: false };
  };

  /** Rate limits and auth: the reply when refused, else the object type (if the path names one) and headers to add. */
  const admit = (req: RecordedRequest, raw: string | undefined, search: boolean, scope?: string): { type?: TypeDef; headers: Record<string, string> } | HttpReply => {
    fake.onRequest?.(req);
    const auth = String(req.headers.authorization ?? '');
    const given = auth.startsWith('Bearer ') ? auth.slice(7) : '';
    const scopes = given === token ? undefined : fake.scoped.get(given);
    if (fake.oauth && given !== token && !scopes) {
      const refused = fake.oauth.check(req);
      if (refused) return refused;
    } else if (given !== token && !scopes) {
      return error(401, 'INVALID_AUTHENTICATION', 'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview');
    }
    const url = req.path.length + 1 + req.query.toString().length;
    if (url > MAX_URL_LENGTH) return { status: 414, body: 'URI Too Long' };
    const headers: Record<string, string> = {};
    const now = Date.now();
    if (fake.dailyRemaining <= 0) {
      return error(429, 'RATE_LIMITS', 'You have reached your daily limit.', { policyName: 'DAILY', errorType: 'RATE_LIMIT' }, { 'x-hubspot-ratelimit-daily': '500000', 'x-hubspot-ratelimit-daily-remaining': '0' });
    }
    if (search && fake.searchPerSecond !== undefined) {
      const s = Math.floor(now / 1000);
      if (second.at !== s) Object.assign(second, { at: s, count: 0 });
      if (++second.count > fake.searchPerSecond) {
        fake.throttled.push({ at: now, search: true });
        return error(429, 'RATE_LIMITS', 'You have reached your secondly limit.', { policyName: 'SECONDLY', errorType: 'RATE_LIMIT' });
      }
    } else if (!search && fake.rateLimit) {
      const { max, intervalMs } = fake.rateLimit;
      while (window.length && (window[0] as number) <= now - intervalMs) window.shift();
      const limits = { 'x-hubspot-ratelimit-max': String(max), 'x-hubspot-ratelimit-interval-milliseconds': String(intervalMs) };
      if (window.length >= max) {
        fake.throttled.push({ at: now, search: false });
        return error(429, 'RATE_LIMITS', 'You have reached your ten_secondly_rolling limit.', { policyName: 'TEN_SECONDLY_ROLLING', errorType: 'RATE_LIMIT' }, { ...limits, 'x-hubspot-ratelimit-remaining': '0' });
      }
      window.push(now);
      Object.assign(headers, limits, { 'x-hubspot-ratelimit-remaining': String(max - window.length) });
    }
    fake.dailyRemaining--;
    Object.assign(headers, { 'x-hubspot-ratelimit-daily': '500000', 'x-hubspot-ratelimit-daily-remaining': String(fake.dailyRemaining) });
    let type: TypeDef | undefined;
    if (raw !== undefined) {
      type = typeOf(raw);
      if (!type) return error(400, 'VALIDATION_ERROR', `Unable to infer object type from: ${raw}`);
    }
    const needed = scope ?? type?.scope;
    if (scopes && needed && !scopes.includes(needed)) {
      return error(403, 'MISSING_SCOPES', 'This app hasn\'t been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.', {
        errors: [{ message: 'One or more of the following scopes are required.', context: { requiredGrantedScopes: [needed] } }],
      });
    }
    return { ...(type ? { type } : {}), headers };
  };
  /** A route behind `admit`, its headers added to the answer. */
  const route = (method: string, path: string, options: { search?: boolean; scope?: string; typeParam?: string }, handler: (req: RecordedRequest, params: Record<string, string>, type: TypeDef) => HttpReply) => {
    http.route(method, path, (req, params) => {
      const gate = admit(req, options.typeParam ? params[options.typeParam] : undefined, options.search ?? false, options.scope);
      if (!('headers' in gate) || 'status' in gate) return gate as HttpReply;
      const admitted = gate as { type?: TypeDef; headers: Record<string, string> };
      const reply = handler(req, params, admitted.type as TypeDef);
      return { ...reply, headers: { ...admitted.headers, ...(reply.headers ?? {}) } };
    });
  };
  const propertyChars = (names: unknown): number => (Array.isArray(names) ? names.join(',').length : 0);
  const tooManyProperties = (body: { properties?: unknown; propertiesWithHistory?: unknown }): HttpReply | undefined =>
    propertyChars(body.properties) > MAX_BODY_PROPERTY_CHARS || propertyChars(body.propertiesWithHistory) > MAX_BODY_PROPERTY_CHARS
      ? error(400, 'VALIDATION_ERROR', `the request names properties adding up to more than ${MAX_BODY_PROPERTY_CHARS} characters`)
      : undefined;

  route('GET', '/crm/v3/properties/:type', { typeParam: 'type' }, (_req, _params, t) => ({
    body: { results: t.properties.map((p) => ({ ...p, description: '', options: p.options ?? [], displayOrder: -1, hasUniqueValue: p.name === 'hs_object_id', hidden: false, formField: false, hubspotDefined: !t.custom })) },
  }));

  route('GET', '/crm-object-schemas/v3/schemas', { scope: 'crm.schemas.custom.read' }, () => ({
    body: {
      results: [...types.values()]
        .filter((t) => t.custom)
        .map((t) => ({
          id: t.objectTypeId.split('-')[1],
          name: t.name,
          objectTypeId: t.objectTypeId,
          fullyQualifiedName: t.fullyQualifiedName,
          labels: { singular: t.name, plural: t.name },
          requiredProperties: [],
          searchableProperties: [],
          primaryDisplayProperty: t.properties[3]?.name ?? 'hs_object_id',
          secondaryDisplayProperties: [],
          properties: t.properties.map((p) => ({ ...p, description: '', options: p.options ?? [] })),
          associations: [],
          createdAt: iso(DAY0),
          updatedAt: iso(DAY0),
          archived: false,
        })),
    },
  }));

  route('GET', '/crm/v3/objects/:type', { typeParam: 'type' }, (req, _params, t) => {
    const withHistory = namesOf(req.query, 'propertiesWithHistory');
    const limit = Number(req.query.get('limit') ?? 10);
    const most = withHistory.length ? 50 : 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > most) return error(400, 'VALIDATION_ERROR', `limit must be between 1 and ${most}${withHistory.length ? ' with propertiesWithHistory' : ''}, got ${req.query.get('limit')}`);
    const archived = req.query.get('archived') === 'true';
    const wanted = namesOf(req.query, 'properties');
    // `after` is the id the page starts at (facts.md: the page that ends with 51 has `after: "52"`).
    const after = Number(req.query.get('after') ?? 0);
    const next = (id: number) => ({ paging: { next: { after: String(id + 1), link: `${fake.url}/crm/v3/objects/${t.name}?after=${id + 1}` } } });
    const count = generated.get(t.name);
    if (count !== undefined && !archived) {
      const first = Math.max(0, after - 1000);
      const page = [];
      for (let i = first; i < Math.min(count, first + limit); i++) page.push(view(generatedObject(t, i), t, wanted));
      return { body: { results: page, ...(first + limit < count ? next(1000 + first + limit - 1) : {}) } };
    }
    // Objects are stored in id order.
    const all = stores.get(t.name) as StoredObject[];
    let lo = 0;
    let hi = all.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((all[mid] as StoredObject).id >= after) hi = mid;
      else lo = mid + 1;
    }
    const page: StoredObject[] = [];
    let i = lo;
    for (; i < all.length && page.length < limit; i++) if ((all[i] as StoredObject).archived === archived) page.push(all[i] as StoredObject);
    while (i < all.length && (all[i] as StoredObject).archived !== archived) i++;
    const last = page.at(-1);
    return { body: { results: page.map((o) => view(o, t, wanted, withHistory)), ...(i < all.length && last ? next(last.id) : {}) } };
  });

  route('POST', '/crm/v3/objects/:type/batch/read', { typeParam: 'type' }, (req, _params, t) => {
    const body = req.json() as { inputs?: Array<{ id: string }>; properties?: string[]; propertiesWithHistory?: string[] };
    const refused = tooManyProperties(body);
    if (refused) return refused;
    const inputs = body.inputs ?? [];
    const most = body.propertiesWithHistory?.length ? 50 : 100;
    if (inputs.length > most) return error(400, 'VALIDATION_ERROR', `at most ${most} inputs per batch read${most === 50 ? ' with propertiesWithHistory' : ''}, got ${inputs.length}`);
    const archived = req.query.get('archived') === 'true';
    const byId = new Map((stores.get(t.name) as StoredObject[]).map((o) => [String(o.id), o]));
    const found: Record<string, unknown>[] = [];
    const missing: string[] = [];
    for (const { id } of inputs) {
      const o = byId.get(id);
      if (o && o.archived === archived) found.push(view(o, t, body.properties, body.propertiesWithHistory ?? []));
      else missing.push(id);
    }
    const times = { startedAt: iso(Date.now()), completedAt: iso(Date.now()) };
    if (!missing.length) return { body: { status: 'COMPLETE', results: found, ...times } };
    return {
      status: 207,
      body: { status: 'COMPLETE', results: found, numErrors: 1, errors: [{ status: 'error', category: 'OBJECT_NOT_FOUND', message: 'Could not get some objects, they may be deleted or not exist.', context: { ids: missing } }], ...times },
    };
  });

  route('POST', '/crm/v3/objects/:type/search', { typeParam: 'type', search: true }, (req, _params, t) => {
    let body: { filterGroups?: Array<{ filters: Filter[] }>; sorts?: Array<string | { propertyName: string; direction?: string }>; properties?: string[]; limit?: number; after?: string | number };
    try {
      body = req.json() as typeof body;
    } catch {
      return error(400, 'VALIDATION_ERROR', 'Invalid input JSON');
    }
    const refused = tooManyProperties(body);
    if (refused) return refused;
    const limit = body.limit ?? 10;
    if (!Number.isInteger(limit) || limit < 1 || limit > 200) return error(400, 'VALIDATION_ERROR', `limit must be between 1 and 200, got ${limit}`);
    const groups = body.filterGroups ?? [];
    if (groups.length > 5 || groups.some((g) => g.filters.length > 6)) return error(400, 'VALIDATION_ERROR', 'too many filter groups or filters');
    for (const f of groups.flatMap((g) => g.filters)) if (!OPERATORS.has(f.operator)) return error(400, 'VALIDATION_ERROR', `unknown operator ${f.operator}`);
    const count = generated.get(t.name);
    if (count !== undefined) {
      // Objects made on demand answer only the query for the highest id (a parallel list's first step).
      const sort = body.sorts?.[0];
      if (groups.length || typeof sort !== 'object' || sort.propertyName !== 'hs_object_id' || sort.direction !== 'DESCENDING') return error(400, 'VALIDATION_ERROR', 'the fake searches generated objects only for the highest id');
      return { body: { total: count, results: count ? [view(generatedObject(t, count - 1), t, body.properties)] : [], ...(count > 1 ? { paging: { next: { after: '1' } } } : {}) } };
    }
    const rows = (stores.get(t.name) as StoredObject[]).filter((o) => !o.archived && (groups.length === 0 || groups.some((g) => g.filters.every((f) => matches(o, f)))));
    // (Objects are kept in id order, so a sort by id is already done.)
    const sort = body.sorts?.[0];
    const sortBy = typeof sort === 'string' ? sort : sort?.propertyName;
    const desc = typeof sort === 'object' && sort.direction === 'DESCENDING';
    if (sortBy) {
      rows.sort((a, b) => {
        const x = numericOf(a, sortBy);
        const y = numericOf(b, sortBy);
        const c = Number.isNaN(x) || Number.isNaN(y) ? String(a.properties[sortBy] ?? '').localeCompare(String(b.properties[sortBy] ?? '')) : x - y;
        // Ties come back in no stated order; the fake uses creation order.
        return (desc ? -c : c) || a.id - b.id;
      });
    } else rows.sort((a, b) => a.id - b.id);
    const offset = body.after === undefined || body.after === '' ? 0 : Number(body.after);
    if (offset >= fake.searchCap) return error(400, 'VALIDATION_ERROR', `paging past ${fake.searchCap} results is not supported`);
    const end = Math.min(offset + limit, fake.searchCap, rows.length);
    const results = rows.slice(offset, end).map((o) => view(o, t, body.properties));
    return { body: { total: rows.length + (rows.length ? fake.totalBias : 0), results, ...(end < Math.min(fake.searchCap, rows.length) ? { paging: { next: { after: String(end) } } } : {}) } };
  });

  const owners = (req: RecordedRequest): HttpReply => {
    const limit = Number(req.query.get('limit') ?? 100);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) return error(400, 'VALIDATION_ERROR', `limit must be between 1 and 500, got ${limit}`);
    const archived = req.query.get('archived') === 'true';
    const all = fake.owners.filter((o) => (o.archived ?? false) === archived);
    const offset = Number(req.query.get('after') ?? 0);
    const page = all.slice(offset, offset + limit).map((o) => ({ ...o, userIdIncludingInactive: o.userId, type: 'PERSON', createdAt: iso(DAY0), updatedAt: iso(DAY0), archived: o.archived ?? false, teams: o.teams ?? [] }));
    return { body: { results: page, ...(offset + limit < all.length ? { paging: { next: { after: String(offset + limit) } } } : {}) } };
  };
  route('GET', '/crm/v3/owners/', { scope: 'crm.objects.owners.read' }, owners);
  route('GET', '/crm/v3/owners', { scope: 'crm.objects.owners.read' }, owners);

  route('GET', '/crm/v3/pipelines/:type', { typeParam: 'type' }, (_req, _params, t) => {
    const list = fake.pipelines.get(t.name);
    if (!list) return error(400, 'VALIDATION_ERROR', `${t.name} have no pipelines`);
    const stamp = { createdAt: iso(DAY0), updatedAt: iso(DAY0) };
    return { body: { results: list.map((p) => ({ ...p, ...stamp, archived: p.archived ?? false, stages: p.stages.map((s) => ({ ...s, ...stamp, archived: false, writePermissions: 'CRM_PERMISSIONS_ENFORCEMENT' })) })) } };
  });

  route('POST', '/crm/v4/associations/:from/:to/batch/read', { typeParam: 'from' }, (req, params, from) => {
    const to = typeOf(params.to as string);
    if (!to) return error(400, 'VALIDATION_ERROR', `Unable to infer object type from: ${params.to}`);
    const body = req.json() as { inputs?: Array<{ id: string; after?: string }> };
    const inputs = body.inputs ?? [];
    if (inputs.length > 1000) return error(400, 'VALIDATION_ERROR', `at most 1000 inputs per batch, got ${inputs.length}`);
    const results: unknown[] = [];
    const errors: unknown[] = [];
    const PAGE = 500;
    for (const input of inputs) {
      const targets = [...(associations.get(`${from.name}:${input.id}`)?.get(to.name)?.entries() ?? [])];
      if (!targets.length) {
        errors.push({ status: 'error', category: 'OBJECT_NOT_FOUND', subCategory: 'crm.associations.NO_ASSOCIATIONS_FOUND', message: `No ${to.name} is associated with ${from.name} ${input.id}.`, context: { fromObjectId: [input.id] } });
        continue;
      }
      const start = Number(input.after ?? 0);
      const slice = targets.slice(start, start + PAGE);
      // The live API sends toObjectId as a JSON number here (facts.md).
      results.push({
        from: { id: input.id },
        to: slice.map(([id, list]) => ({ toObjectId: Number(id), associationTypes: list })),
        ...(start + PAGE < targets.length ? { paging: { next: { after: String(start + PAGE) } } } : {}),
      });
    }
    const times = { startedAt: iso(Date.now()), completedAt: iso(Date.now()) };
    return errors.length ? { status: 207, body: { status: 'COMPLETE', results, numErrors: errors.length, errors, ...times } } : { body: { status: 'COMPLETE', results, ...times } };
  });
  return fake;
}
