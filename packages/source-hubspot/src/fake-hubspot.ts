// A HubSpot CRM API server for tests (not part of the package's entry points), written from the
// protocol facts in ../shared/reference/hubspot/facts.md (HubSpot's own spec files are not licensed
// for copying): CRM v3 objects (list with the `after` cursor, search with filter groups, sorts,
// `total` and the 10,000-result cap), the properties API, bearer auth with scopes, and HubSpot's
// error body (`status`, `message`, `correlationId`, `category`).
import { randomUUID } from 'node:crypto';
import { startHttpServer, type FakeHttpServer, type FakeOAuth, type HttpReply, type RecordedRequest } from '@dativo/testing/http';

export type HubSpotObjectType = 'contacts' | 'companies' | 'deals' | 'tickets';

/** Type ids of the standard objects (a path may name the type or its id). */
const TYPE_IDS: Record<string, HubSpotObjectType> = { '0-1': 'contacts', '0-2': 'companies', '0-3': 'deals', '0-5': 'tickets' };
const SCOPES: Record<HubSpotObjectType, string> = { contacts: 'crm.objects.contacts.read', companies: 'crm.objects.companies.read', deals: 'crm.objects.deals.read', tickets: 'tickets' };

/** The last-modified property of each type (contacts have their own name for it). */
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

function commonProperties(type: HubSpotObjectType): FakeProperty[] {
  return [
    { name: 'hs_object_id', label: 'Record ID', type: 'number', fieldType: 'number', groupName: 'system' },
    { name: 'createdate', label: 'Create Date', type: 'datetime', fieldType: 'date', groupName: 'system' },
    { name: LAST_MODIFIED[type], label: 'Last Modified Date', type: 'datetime', fieldType: 'date', groupName: 'system' },
  ];
}

interface StoredObject {
  id: number;
  /** Numeric values of properties, parsed once (dates as epoch ms); cleared on update. */
  numeric?: Map<string, number>;
  properties: Record<string, string | null>;
  createdAt: number;
  updatedAt: number;
  archived: boolean;
  archivedAt?: number;
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
  /** Added to every search `total` (a negative value under-reports it). */
  totalBias: number;
  /** OAuth: access tokens this endpoint issued are accepted with every scope (401 once expired). */
  oauth: FakeOAuth | undefined;
  /** Called with each API request before it is answered (to script expiry mid-run). */
  onRequest: ((request: RecordedRequest) => void) | undefined;
  /** Adds objects; `modified(i)` gives each one's last-modified time (ms), default spread over a day. */
  add(type: HubSpotObjectType, count: number, options?: { modified?: (i: number) => number; make?: (i: number, id: number) => Record<string, string | null> }): Array<{ id: string; updatedAt: number }>;
  /** Changes properties and sets the last-modified time. */
  update(type: HubSpotObjectType, id: string, properties: Record<string, string | null>, at: number): void;
  /** Archives (deletes) an object at `at`. */
  archive(type: HubSpotObjectType, id: string, at: number): void;
  /** Adds a custom property to a type. */
  addProperty(type: HubSpotObjectType, property: FakeProperty): void;
  /** Live (unarchived) objects' ids. */
  ids(type: HubSpotObjectType, archived?: boolean): string[];
  close(): Promise<void>;
}

function error(status: number, category: string, message: string, extra: Record<string, unknown> = {}): HttpReply {
  return { status, body: { status: 'error', message, correlationId: randomUUID(), category, ...extra } };
}

const iso = (ms: number): string => new Date(ms).toISOString();

function view(o: StoredObject, type: HubSpotObjectType, wanted: string[] | undefined): Record<string, unknown> {
  const defaults = ['hs_object_id', 'createdate', LAST_MODIFIED[type], ...BASE_PROPERTIES[type].slice(0, 3).map((p) => p.name)];
  const names = wanted?.length ? wanted : defaults;
  const properties: Record<string, string | null> = {};
  for (const n of names) if (n in o.properties) properties[n] = o.properties[n] ?? null;
  return { id: String(o.id), properties, createdAt: iso(o.createdAt), updatedAt: iso(o.updatedAt), archived: o.archived, ...(o.archivedAt !== undefined ? { archivedAt: iso(o.archivedAt) } : {}) };
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

export async function startFakeHubSpot(options: { token?: string } = {}): Promise<FakeHubSpot> {
  const http = await startHttpServer();
  const token = options.token ?? 'pat-na1-00000000-fake-4c7e-9d2b-dativo0test';
  const stores: Record<HubSpotObjectType, StoredObject[]> = { contacts: [], companies: [], deals: [], tickets: [] };
  const props: Record<HubSpotObjectType, FakeProperty[]> = {
    contacts: [...commonProperties('contacts'), ...BASE_PROPERTIES.contacts],
    companies: [...commonProperties('companies'), ...BASE_PROPERTIES.companies],
    deals: [...commonProperties('deals'), ...BASE_PROPERTIES.deals],
    tickets: [...commonProperties('tickets'), ...BASE_PROPERTIES.tickets],
  };
  let nextId = 1000;
  const find = (type: HubSpotObjectType, id: string): StoredObject => {
    const o = stores[type].find((x) => String(x.id) === id);
    if (!o) throw new Error(`no ${type} ${id}`);
    return o;
  };

  const fake: FakeHubSpot = {
    url: http.url,
    http,
    token,
    scoped: new Map(),
    searchCap: 10_000,
    totalBias: 0,
    oauth: undefined,
    onRequest: undefined,
    add(type, count, opts = {}) {
      const day = Date.UTC(2025, 0, 1);
      const out: Array<{ id: string; updatedAt: number }> = [];
      for (let i = 0; i < count; i++) {
        const id = nextId++;
        const modified = opts.modified?.(i) ?? day + Math.floor((i * 86_400_000) / Math.max(1, count));
        const created = Math.min(modified, day);
        const base: Record<string, string | null> =
          type === 'contacts'
            ? { email: `contact${id}@example.com`, firstname: `First${id}`, lastname: `Last${id}`, lifecyclestage: id % 2 ? 'lead' : 'customer', num_employees: String(id % 500) }
            : type === 'companies'
              ? { name: `Company ${id}`, domain: `company${id}.example.com` }
              : type === 'deals'
                ? { dealname: `Deal ${id}`, amount: `${id}.50`, closedate: iso(day + id * 1000), hs_is_closed: id % 3 === 0 ? 'true' : 'false' }
                : { subject: `Ticket ${id}`, hs_pipeline_stage: '1' };
        const properties = { ...base, ...(opts.make?.(i, id) ?? {}), hs_object_id: String(id), createdate: iso(created), [LAST_MODIFIED[type]]: iso(modified) };
        stores[type].push({ id, properties, createdAt: created, updatedAt: modified, archived: false });
        out.push({ id: String(id), updatedAt: modified });
      }
      return out;
    },
    update(type, id, properties, at) {
      const o = find(type, id);
      Object.assign(o.properties, properties, { [LAST_MODIFIED[type]]: iso(at) });
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
      props[type].push(property);
    },
    ids: (type, archived = false) => stores[type].filter((o) => o.archived === archived).map((o) => String(o.id)),
    close: () => http.close(),
  };

  /** Resolves the object type of a path and checks the token's scopes; a reply when refused. */
  const authorize = (req: RecordedRequest, raw: string): { type: HubSpotObjectType } | HttpReply => {
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
    const type = (TYPE_IDS[raw] ?? raw) as HubSpotObjectType;
    if (!(type in stores)) return error(400, 'VALIDATION_ERROR', `Unable to infer object type from: ${raw}`);
    if (scopes && !scopes.includes(SCOPES[type])) {
      return error(403, 'MISSING_SCOPES', 'This app hasn\'t been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.', {
        errors: [{ message: `One or more of the following scopes are required.`, context: { requiredGrantedScopes: [SCOPES[type]] } }],
      });
    }
    return { type };
  };

  http.route('GET', '/crm/v3/properties/:type', (req, params) => {
    const auth = authorize(req, params.type as string);
    if (!('type' in auth)) return auth;
    return { body: { results: props[auth.type] } };
  });

  http.route('GET', '/crm/v3/objects/:type', (req, params) => {
    const auth = authorize(req, params.type as string);
    if (!('type' in auth)) return auth;
    const limit = Number(req.query.get('limit') ?? 10);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) return error(400, 'VALIDATION_ERROR', `limit must be between 1 and 100, got ${req.query.get('limit')}`);
    const archived = req.query.get('archived') === 'true';
    // A comma list, or the parameter repeated (as the SDK sends arrays).
    const wanted = req.query.getAll('properties').flatMap((v) => v.split(',')).filter(Boolean);
    // Objects are stored in id order.
    const all = stores[auth.type];
    const after = Number(req.query.get('after') ?? 0);
    let lo = 0;
    let hi = all.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((all[mid] as StoredObject).id > after) hi = mid;
      else lo = mid + 1;
    }
    const page: StoredObject[] = [];
    let i = lo;
    for (; i < all.length && page.length < limit; i++) if ((all[i] as StoredObject).archived === archived) page.push(all[i] as StoredObject);
    while (i < all.length && (all[i] as StoredObject).archived !== archived) i++;
    const more = i < all.length;
    const last = page.at(-1);
    return { body: { results: page.map((o) => view(o, auth.type, wanted)), ...(more && last ? { paging: { next: { after: String(last.id), link: `${fake.url}/crm/v3/objects/${auth.type}?after=${last.id}` } } } : {}) } };
  });

  http.route('POST', '/crm/v3/objects/:type/search', (req, params) => {
    const auth = authorize(req, params.type as string);
    if (!('type' in auth)) return auth;
    let body: { filterGroups?: Array<{ filters: Filter[] }>; sorts?: Array<string | { propertyName: string; direction?: string }>; properties?: string[]; limit?: number; after?: string | number };
    try {
      body = req.json() as typeof body;
    } catch {
      return error(400, 'VALIDATION_ERROR', 'Invalid input JSON');
    }
    const limit = body.limit ?? 10;
    if (!Number.isInteger(limit) || limit < 1 || limit > 200) return error(400, 'VALIDATION_ERROR', `limit must be between 1 and 200, got ${limit}`);
    const groups = body.filterGroups ?? [];
    if (groups.length > 5 || groups.some((g) => g.filters.length > 6)) return error(400, 'VALIDATION_ERROR', 'too many filter groups or filters');
    for (const f of groups.flatMap((g) => g.filters)) if (!OPERATORS.has(f.operator)) return error(400, 'VALIDATION_ERROR', `unknown operator ${f.operator}`);
    const rows = stores[auth.type].filter((o) => !o.archived && (groups.length === 0 || groups.some((g) => g.filters.every((f) => matches(o, f)))));
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
    const results = rows.slice(offset, end).map((o) => view(o, auth.type, body.properties));
    return { body: { total: rows.length + fake.totalBias, results, ...(end < Math.min(fake.searchCap, rows.length) ? { paging: { next: { after: String(end) } } } : {}) } };
  });
  return fake;
}
