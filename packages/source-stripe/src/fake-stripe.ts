// A Stripe API server for tests (not part of the package's entry points). Its list endpoints,
// their query parameters and the shape of every object come from Stripe's OpenAPI document and
// fixtures (fixtures/stripe-api.json, generated from ../shared/reference/stripe by
// scripts/generate-schemas.mjs; requests are checked against the document's parameters by
// @dativo/testing/http's OpenApiContract); behaviour follows Stripe's documentation (../shared/reference/
// stripe/NOTES.md): newest first, half-open `created` filters, `starting_after`, `has_more`,
// `Stripe-Account`, 401 / 403 / 429 with `Stripe-Should-Retry`, 400 for unknown parameters.
import { readFileSync } from 'node:fs';
import { OpenApiContract, recordSecret, startHttpServer, type FakeHttpServer, type HttpReply, type OpenApiDocument, type RecordedRequest } from '@dativo/testing/http';

interface StripeApiFixture {
  lists: Record<string, { object: string }>;
  contract: OpenApiDocument;
  examples: Record<string, Record<string, unknown>>;
}
const API = JSON.parse(readFileSync(new URL('../fixtures/stripe-api.json', import.meta.url), 'utf8')) as StripeApiFixture;
const CONTRACT = new OpenApiContract(API.contract);

const ID_PREFIX: Record<string, string> = {
  customer: 'cus', charge: 'ch', invoice: 'in', subscription: 'sub', payment_intent: 'pi', refund: 're', product: 'prod', price: 'price', balance_transaction: 'txn', dispute: 'dp', event: 'evt',
};
/** The event type prefix of each object (`customer.subscription.updated`). */
const EVENT_PREFIX: Record<string, string> = {
  customer: 'customer', charge: 'charge', invoice: 'invoice', subscription: 'customer.subscription', payment_intent: 'payment_intent', refund: 'charge.refund', product: 'product', price: 'price', dispute: 'charge.dispute',
};

export type StripeObject = Record<string, unknown> & { id: string; object: string; created: number };

interface Stored {
  seq: number;
  value: StripeObject;
}

/** A list made on demand (`generate`): object i has id number `first + i`, created `from + ⌊i·step⌋`. */
interface Generated {
  count: number;
  first: number;
  from: number;
  step: number;
}

class Account {
  readonly lists = new Map<string, Stored[]>();
  readonly generated = new Map<string, Generated>();
  readonly events: Stored[] = [];
}

export interface FakeStripe {
  url: string;
  http: FakeHttpServer;
  /** The accepted secret key; `restricted` keys may read only the lists named. */
  key: string;
  restricted: Map<string, Set<string>>;
  /** Adds `count` objects of a list path's type (`/v1/customers`), `created` from `from` every `step` seconds. */
  add(path: string, count: number, options?: { from?: number; step?: number; account?: string; make?: (n: number) => Record<string, unknown> }): StripeObject[];
  /**
   * Serves `count` objects of a list path's type made on demand, never stored (for runs of
   * millions): created from `from` every `step` seconds, customers with e-mail, name and balance.
   * No events; `add` and `update` do not apply to them.
   */
  generate(path: string, count: number, options: { from: number; step: number }): void;
  /** Changes an object and records a `<prefix>.updated` event at `at`. */
  update(path: string, id: string, changes: Record<string, unknown>, at: number, account?: string): StripeObject;
  /** Deletes an object (gone from its list) and records a `<prefix>.deleted` event at `at`. */
  remove(path: string, id: string, at: number, account?: string): void;
  objects(path: string, account?: string): StripeObject[];
  /** Requests answered per second (for the rate limit): refuses more with 429 when set. */
  limitPerSecond: number | undefined;
  /**
   * How `limitPerSecond` is enforced: `calendar-second` (default, the strictest: at most N answers
   * in each wall-clock second) or `token-bucket` (N tokens, refilled at N per second — the
   * algorithm Stripe describes for its request rate limiter).
   */
  limitAlgorithm: 'calendar-second' | 'token-bucket';
  /** When each 429 of `limitPerSecond` was sent (ms since the epoch). */
  throttled: number[];
  close(): Promise<void>;
}

const PLATFORM = '';

function stripeError(status: number, type: string, message: string, extra: { code?: string; param?: string; headers?: Record<string, string> } = {}): HttpReply {
  return { status, headers: { 'request-id': `req_${Math.random().toString(36).slice(2, 12)}`, ...extra.headers }, body: { error: { type, message, ...(extra.code ? { code: extra.code } : {}), ...(extra.param ? { param: extra.param } : {}) } } };
}

/** Stripe's form-style query (`created[gte]=1`, `expand[0]=data.x`, `types[]=a`) as nested values. */
function parseQuery(query: URLSearchParams): Map<string, { scalar?: string; map: Map<string, string>; list: string[] }> {
  const out = new Map<string, { scalar?: string; map: Map<string, string>; list: string[] }>();
  for (const [key, value] of query) {
    const m = /^([^[]+)(?:\[([^\]]*)\])?$/.exec(key);
    const name = m?.[1] ?? key;
    const entry = out.get(name) ?? { map: new Map<string, string>(), list: [] };
    out.set(name, entry);
    const sub = m?.[2];
    if (sub === undefined) entry.scalar = value;
    else if (sub === '' || /^\d+$/.test(sub)) entry.list.push(value);
    else entry.map.set(sub, value);
  }
  return out;
}

/** One page of a generated list, newest first, as Stripe pages a stored one. */
function generatedPage(g: Generated, object: string, path: string, limit: number, bounds: Record<'gte' | 'gt' | 'lt' | 'lte' | 'eq', number | undefined>, after: string | undefined): HttpReply {
  const created = (i: number): number => g.from + Math.floor(i * g.step);
  // The first index whose `created` is at least t (created grows with the index).
  const firstAtLeast = (t: number): number => {
    let lo = 0;
    let hi = g.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (created(mid) >= t) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  const { gte, gt, lt, lte, eq } = bounds;
  let low = 0;
  let high = g.count; // indexes [low, high) match
  if (gte !== undefined) low = Math.max(low, firstAtLeast(gte));
  if (gt !== undefined) low = Math.max(low, firstAtLeast(gt + 1));
  if (eq !== undefined) low = Math.max(low, firstAtLeast(eq));
  if (lt !== undefined) high = Math.min(high, firstAtLeast(lt));
  if (lte !== undefined) high = Math.min(high, firstAtLeast(lte + 1));
  if (eq !== undefined) high = Math.min(high, firstAtLeast(eq + 1));
  let next = high - 1;
  if (after !== undefined) {
    const i = Number(after.split('_').at(-1)) - g.first;
    if (!Number.isInteger(i) || i < low || i >= high) return stripeError(400, 'invalid_request_error', `No such ${object}: '${after}'`, { code: 'resource_missing', param: 'starting_after' });
    next = i - 1;
  }
  const template = API.examples[object] as Record<string, unknown>;
  const data: StripeObject[] = [];
  for (let i = next; i >= low && data.length < limit; i--) {
    const n = g.first + i;
    const value: StripeObject = { ...template, id: `${ID_PREFIX[object]}_${String(n).padStart(10, '0')}`, object, created: created(i), livemode: false };
    if (object === 'customer') Object.assign(value, { email: `customer${n}@example.com`, name: `Customer ${n}`, balance: n % 1000 });
    data.push(value);
  }
  return { headers: { 'request-id': `req_g${next}`, 'stripe-version': '2023-08-16' }, body: { object: 'list', data, has_more: next - data.length >= low, url: path } };
}

export async function startFakeStripe(options: { key?: string; accounts?: string[] } = {}): Promise<FakeStripe> {
  const http = await startHttpServer();
  const key = options.key ?? 'sk_test_dativo_fake_4242';
  recordSecret(key, 'Stripe API key');
  const accounts = new Map<string, Account>([[PLATFORM, new Account()], ...(options.accounts ?? []).map((a): [string, Account] => [a, new Account()])]);
  let seq = 0;
  let counter = 0;
  let events = 0;
  const second = { at: 0, count: 0 };
  const bucket = { at: 0, tokens: 0 };

  const account = (id = PLATFORM): Account => {
    const a = accounts.get(id);
    if (!a) throw new Error(`no account ${id}`);
    return a;
  };
  const listOf = (path: string, acct?: string): Stored[] => {
    const a = account(acct);
    let list = a.lists.get(path);
    if (!list) a.lists.set(path, (list = []));
    return list;
  };
  const event = (acct: string | undefined, object: StripeObject, kind: 'created' | 'updated' | 'deleted', at: number, previous?: Record<string, unknown>): void => {
    const prefix = EVENT_PREFIX[object.object];
    if (!prefix) return;
    const template = API.examples.event as Record<string, unknown>;
    const value: StripeObject = {
      ...template,
      id: `evt_${String(++events).padStart(10, '0')}`,
      object: 'event',
      api_version: '2023-08-16',
      created: at,
      livemode: false,
      pending_webhooks: 0,
      type: `${prefix}.${kind}`,
      data: { object: structuredClone(object), ...(previous ? { previous_attributes: previous } : {}) },
    };
    account(acct).events.push({ seq: ++seq, value });
  };

  const fake: FakeStripe = {
    url: http.url,
    http,
    key,
    restricted: new Map(),
    limitPerSecond: undefined,
    limitAlgorithm: 'calendar-second',
    throttled: [],
    add(path, count, opts = {}) {
      const spec = API.lists[path];
      if (!spec) throw new Error(`no list ${path}`);
      const example = API.examples[spec.object] as Record<string, unknown>;
      const from = opts.from ?? 1_700_000_000;
      const step = opts.step ?? 60;
      const made: StripeObject[] = [];
      for (let i = 0; i < count; i++) {
        const n = ++counter;
        const value: StripeObject = { ...structuredClone(example), ...(opts.make?.(n) ?? {}), id: `${ID_PREFIX[spec.object]}_${String(n).padStart(10, '0')}`, object: spec.object, created: from + Math.floor(i * step), livemode: false };
        if (spec.object === 'customer' && !opts.make) Object.assign(value, { email: `customer${n}@example.com`, name: `Customer ${n}`, balance: n % 1000 });
        listOf(path, opts.account).push({ seq: ++seq, value });
        if (path !== '/v1/events') event(opts.account, value, 'created', value.created);
        made.push(value);
      }
      return made;
    },
    update(path, id, changes, at, acct) {
      const stored = listOf(path, acct).find((s) => s.value.id === id);
      if (!stored) throw new Error(`no ${id} in ${path}`);
      const previous = Object.fromEntries(Object.keys(changes).map((k) => [k, stored.value[k] ?? null]));
      Object.assign(stored.value, changes);
      event(acct, stored.value, 'updated', at, previous);
      return stored.value;
    },
    remove(path, id, at, acct) {
      const list = listOf(path, acct);
      const i = list.findIndex((s) => s.value.id === id);
      if (i < 0) throw new Error(`no ${id} in ${path}`);
      const [gone] = list.splice(i, 1);
      event(acct, { ...(gone as Stored).value, deleted: true }, 'deleted', at);
    },
    generate(path, count, { from, step }) {
      if (!API.lists[path]) throw new Error(`no list ${path}`);
      account().generated.set(path, { count, first: counter + 1, from, step });
      counter += count;
    },
    objects: (path, acct) => listOf(path, acct).map((s) => s.value),
    close: () => http.close(),
  };

  const handle = async (req: RecordedRequest): Promise<HttpReply> => {
    const auth = String(req.headers.authorization ?? '');
    const given = auth.startsWith('Bearer ') ? auth.slice(7) : auth.startsWith('Basic ') ? Buffer.from(auth.slice(6), 'base64').toString().split(':')[0] : '';
    const masked = `${(given ?? '').slice(0, 8)}****${(given ?? '').slice(-4)}`;
    if (given !== key && !fake.restricted.has(given ?? '')) return stripeError(401, 'invalid_request_error', `Invalid API Key provided: ${masked}`);
    if (fake.limitPerSecond !== undefined) {
      let refused: boolean;
      if (fake.limitAlgorithm === 'token-bucket') {
        const now = Date.now();
        bucket.tokens = Math.min(fake.limitPerSecond, (bucket.at ? bucket.tokens : fake.limitPerSecond) + ((now - (bucket.at || now)) / 1000) * fake.limitPerSecond);
        bucket.at = now;
        refused = bucket.tokens < 1;
        if (!refused) bucket.tokens -= 1;
      } else {
        const now = Math.floor(Date.now() / 1000);
        if (second.at !== now) Object.assign(second, { at: now, count: 0 });
        refused = ++second.count > fake.limitPerSecond;
      }
      if (refused) {
        fake.throttled.push(Date.now());
        return stripeError(429, 'invalid_request_error', 'Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.', { code: 'rate_limit', headers: { 'stripe-should-retry': 'true' } });
      }
    }
    const spec = API.lists[req.path];
    if (!spec) return stripeError(404, 'invalid_request_error', `Unrecognized request URL (GET: ${req.path}).`);
    const allowed = fake.restricted.get(given ?? '');
    if (allowed && !allowed.has(req.path)) {
      return stripeError(403, 'invalid_request_error', `The provided key '${masked}' does not have the required permissions for this endpoint on account 'acct_fake'. Having the 'rak_${spec.object}_read' permission would allow this request to continue.`);
    }
    const acctId = String(req.headers['stripe-account'] ?? PLATFORM);
    const acct = accounts.get(acctId);
    if (!acct) return stripeError(403, 'invalid_request_error', `The provided key does not have access to account '${acctId}' (or that account does not exist). Application access may have been revoked.`, { code: 'account_invalid' });

    const q = parseQuery(req.query);
    const violation = CONTRACT.check(req);
    if (violation?.message.startsWith('unknown query parameter')) return stripeError(400, 'invalid_request_error', `Received unknown parameter: ${violation.param}`, { param: violation.param as string });
    if (violation) return stripeError(400, 'invalid_request_error', `Invalid request: ${violation.message}`, violation.param ? { param: violation.param } : {});
    const limit = Number(q.get('limit')?.scalar ?? 10);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) return stripeError(400, 'invalid_request_error', 'Invalid integer: limit must be between 1 and 100', { param: 'limit' });
    for (const e of q.get('expand')?.list ?? []) if (!e.startsWith('data.')) return stripeError(400, 'invalid_request_error', `This property cannot be expanded (${e}). You may want to try expanding 'data.${e}' instead.`, { param: 'expand' });
    const types = q.get('types')?.list ?? [];
    if (types.length > 20) return stripeError(400, 'invalid_request_error', 'Invalid array: types can have at most 20 elements', { param: 'types' });

    const created = q.get('created');
    const bound = (op: string): number | undefined => (created?.map.has(op) ? Number(created.map.get(op)) : undefined);
    const [gte, gt, lt, lte, eq] = [bound('gte'), bound('gt'), bound('lt'), bound('lte'), created?.scalar !== undefined ? Number(created.scalar) : undefined];
    const generated = acct.generated.get(req.path);
    if (generated) return generatedPage(generated, spec.object, req.path, limit, { gte, gt, lt, lte, eq }, q.get('starting_after')?.scalar);
    const source = req.path === '/v1/events' ? acct.events : (acct.lists.get(req.path) ?? []);
    const status = q.get('status')?.scalar;
    const rows = source
      .filter(({ value: v }) => (gte === undefined || v.created >= gte) && (gt === undefined || v.created > gt) && (lt === undefined || v.created < lt) && (lte === undefined || v.created <= lte) && (eq === undefined || v.created === eq))
      .filter(({ value: v }) => (types.length ? types.includes(String(v.type)) : true) && (q.get('type')?.scalar === undefined || v.type === q.get('type')?.scalar))
      .filter(({ value: v }) => req.path !== '/v1/subscriptions' || status === 'all' || (status ? v.status === status : v.status !== 'canceled'))
      .sort((a, b) => b.value.created - a.value.created || b.seq - a.seq);
    let start = 0;
    const after = q.get('starting_after')?.scalar;
    if (after !== undefined) {
      const i = rows.findIndex((r) => r.value.id === after);
      if (i < 0) return stripeError(400, 'invalid_request_error', `No such ${spec.object}: '${after}'`, { code: 'resource_missing', param: 'starting_after' });
      start = i + 1;
    }
    const data = rows.slice(start, start + limit).map((r) => r.value);
    return { headers: { 'request-id': `req_${seq}`, 'stripe-version': '2023-08-16' }, body: { object: 'list', data, has_more: start + limit < rows.length, url: req.path } };
  };
  http.route('GET', /^\/v1\/[a-z_]+$/, handle);
  return fake;
}
