import { DativoError, mergeResilience, readRows, ResilienceService, type Checkpoint, type ConfiguredStream, type ExtractMessage, type StreamDescriptor } from '@dativo/core';
import { describeExtractorConformance, reliabilityRow, testRunContext, type TestRunContext } from '@dativo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stripeConfigSchema } from './config.js';
import { startFakeStripe, type FakeStripe } from './fake-stripe.js';
import { stripeHead, stripeSource } from './index.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Epoch seconds as core's readRows renders a timestamp (microseconds, UTC). */
const micros = (seconds: number): string => new Date(seconds * 1000).toISOString().replace('.000Z', '.000000Z');
const DAY = 86_400;

// ---------------------------------------------------------------------------------------------
// The conformance suite, with the real `stripe` SDK against the fake.
let conf: FakeStripe;
describeExtractorConformance('stripe', {
  create: () => stripeSource(),
  setup: async () => {
    conf = await startFakeStripe();
    conf.add('/v1/customers', 240, { from: 1_699_500_000, step: 1_800 });
  },
  teardown: () => conf.close(),
  config: () => ({ api_key: conf.key, api_base: conf.url, objects: ['customers'], start_date: 1_699_000_000, window_days: 1, concurrency: 3, page_size: 10 }),
  invalidConfigs: () => [
    { config: { api_key: '', api_base: conf.url }, field: 'api_key' },
    { config: { api_key: conf.key, api_base: 'not a url' }, field: 'api_base' },
    { config: { api_key: conf.key, api_base: conf.url, objects: ['coupons'] }, field: 'objects' },
    { config: { api_key: conf.key, api_base: conf.url, page_size: 500 }, field: 'page_size' },
    { config: { api_key: 'sk_test_wrong_key_0000', api_base: conf.url }, field: 'api_key' },
    { config: { api_key: conf.key, api_base: conf.url, start_date: 'last tuesday' }, field: 'start_date' },
  ],
  incremental: {
    streams: (discovered) => discovered.map((d) => ({ name: d.name, schema: d.schema, syncMode: 'incremental', cursorField: 'created', primaryKey: ['id'] })),
    append: async () => {
      conf.add('/v1/customers', 25, { from: Math.floor(Date.now() / 1000), step: 0 });
      // Objects created this second are inside the next sync's range only once that second has passed.
      await sleep(1_100);
      return 25;
    },
  },
});

// ---------------------------------------------------------------------------------------------
function fastContext(): TestRunContext {
  const ctx = testRunContext();
  ctx.resilience = new ResilienceService('stripe', mergeResilience(stripeHead.spec.limits, { rateLimit: { requestsPerSecond: 1_000, burst: 100 }, retry: { baseDelayMs: 5, maxDelayMs: 100 } }), { log: ctx.log });
  return ctx;
}

interface Outcome {
  rows: Array<Record<string, unknown>>;
  checkpoints: Checkpoint[];
  warnings: string[];
  rejected: number;
  /** Where the source said it was reading (`status` messages). */
  at: string[];
}

async function read(stream: ConfiguredStream, raw: Record<string, unknown>, ctx = fastContext()): Promise<Outcome> {
  const source = stripeSource();
  const config = stripeConfigSchema.parse(raw);
  const out: Outcome = { rows: [], checkpoints: [], warnings: [], rejected: 0, at: [] };
  for await (const m of source.read(config, { streams: [stream] }, ctx) as AsyncIterable<ExtractMessage>) {
    if (m.kind === 'batch') out.rows.push(...readRows(m.batch, stream.schema));
    else if (m.kind === 'checkpoint') out.checkpoints.push(m.checkpoint);
    else if (m.kind === 'warning') out.warnings.push(m.message);
    else if (m.kind === 'rejected') out.rejected++;
    else if (m.kind === 'status' && m.at) out.at.push(m.at);
  }
  return out;
}

describe('stripe source', () => {
  let fake: FakeStripe;
  let schema: StreamDescriptor['schema'];
  const base = () => ({ api_key: fake.key, api_base: fake.url, start_date: 1_690_000_000, window_days: 7, concurrency: 4, page_size: 100 });
  const stream = (name: string, syncMode: 'full_refresh' | 'incremental' = 'full_refresh', resumeFrom?: Checkpoint): ConfiguredStream => ({
    name,
    schema,
    syncMode,
    cursorField: 'created',
    primaryKey: ['id'],
    ...(resumeFrom ? { resumeFrom } : {}),
  });

  beforeAll(async () => {
    fake = await startFakeStripe({ accounts: ['acct_connected'] });
    // 3,000 customers over ~100 days (several share each second), 500 more on a connected account.
    fake.add('/v1/customers', 3_000, { from: 1_690_000_000, step: 2_900.5 });
    fake.add('/v1/customers', 500, { from: 1_695_000_000, step: 600, account: 'acct_connected' });
    fake.add('/v1/charges', 700, { from: 1_692_000_000, step: 5_000 });
    schema = (await stripeSource().discover(stripeConfigSchema.parse({ ...base(), objects: ['customers'] }), fastContext()))[0]?.schema as StreamDescriptor['schema'];
  });
  afterAll(() => fake.close());

  it('reads every object exactly once across pages, parallel windows and accounts', async () => {
    const platform = await read(stream('customers'), { ...base(), objects: ['customers'] });
    const ids = platform.rows.map((r) => r.id as string);
    expect(ids.length).toBe(3_000);
    expect(new Set(ids).size).toBe(3_000);
    expect(new Set(ids)).toEqual(new Set(fake.objects('/v1/customers').map((c) => c.id)));
    const sample = platform.rows.find((r) => r.id === fake.objects('/v1/customers')[41]?.id);
    expect(sample).toMatchObject({ email: 'customer42@example.com', balance: 42n, livemode: false, object: 'customer' });
    // The progress display is told which created-time window the latest page came from.
    expect(platform.at.length).toBeGreaterThan(3);
    expect(platform.at[0]).toMatch(/^\/v1\/customers created 2023-07-\d\dT[\d:]+Z → 2023-\d\d-\d\dT[\d:]+Z$/);
    expect(sample?.created).toBe(micros(fake.objects('/v1/customers')[41]?.created as number));
    const connected = await read(stream('customers'), { ...base(), objects: ['customers'], account: 'acct_connected' });
    expect(connected.rows.length).toBe(500);
    expect(fake.http.requests.some((r) => r.headers['stripe-account'] === 'acct_connected')).toBe(true);
    // Windows were read in parallel: more than one request in flight is visible as interleaved windows.
    const windows = fake.http.requests.filter((r) => r.path === '/v1/customers').map((r) => r.query.get('created[gte]'));
    expect(new Set(windows).size).toBeGreaterThan(10);
  });

  it('a later incremental run sees new, updated and deleted objects', async () => {
    const config = { ...base(), objects: ['customers'], incremental: { cursor_field: 'created' } };
    const first = await read(stream('customers', 'incremental'), config);
    expect(first.rows.length).toBe(3_000);
    const last = first.checkpoints.at(-1) as Checkpoint;
    await sleep(1_100);
    const now = Math.floor(Date.now() / 1000);
    const [a, b, c] = fake.objects('/v1/customers').slice(10, 13) as unknown as [{ id: string }, { id: string }, { id: string }];
    fake.update('/v1/customers', a.id, { email: 'new-a@example.com' }, now);
    fake.update('/v1/customers', a.id, { email: 'newer-a@example.com' }, now);
    fake.update('/v1/customers', b.id, { balance: 9_999 }, now);
    fake.remove('/v1/customers', c.id, now);
    const added = fake.add('/v1/customers', 5, { from: now, step: 0 });
    await sleep(1_100);
    const second = await read(stream('customers', 'incremental', last), config);
    const byId = new Map(second.rows.map((r) => [r.id as string, r]));
    expect([...byId.keys()].sort()).toEqual([a.id, b.id, c.id, ...added.map((x) => x.id)].sort());
    expect(second.rows.length).toBe(8);
    expect(byId.get(a.id)).toMatchObject({ email: 'newer-a@example.com', _deleted: null });
    expect(byId.get(b.id)).toMatchObject({ balance: 9_999n });
    expect(byId.get(c.id)).toMatchObject({ _deleted: true, _deleted_at: micros(now) });
  });

  it('resumed in the middle of the events, never writes an older version of an object over the newer one it wrote before', async () => {
    const config = { ...base(), objects: ['charges'], page_size: 2, incremental: { cursor_field: 'created' } };
    const first = await read(stream('charges', 'incremental'), config);
    const done = (first.checkpoints.at(-1) as Checkpoint).state as { synced_to: number };
    await sleep(1_100);
    const now = Math.floor(Date.now() / 1000);
    const charges = fake.objects('/v1/charges').slice(100, 107) as unknown as Array<{ id: string }>;
    const x = charges[0] as { id: string };
    fake.update('/v1/charges', x.id, { description: 'older' }, now);
    for (const c of charges.slice(1)) fake.update('/v1/charges', c.id, { description: 'changed' }, now);
    fake.update('/v1/charges', x.id, { description: 'newer' }, now);
    await sleep(1_100);
    const to = Math.floor(Date.now() / 1000);
    // Newest first: x (newer), the six others, x (older). A crashed run got as far as the fourth.
    const listed = (await (await fetch(`${fake.url}/v1/events?types[]=charge.updated&limit=100`, { headers: { authorization: `Bearer ${fake.key}` } })).json()) as { data: Array<{ id: string; data: { object: { id: string; amount: number } } }> };
    const order = listed.data.map((e) => e.data.object.id);
    expect(order).toEqual([x.id, ...charges.slice(1).map((c) => c.id).reverse(), x.id]);
    const after = listed.data[3]?.id as string;
    const resumeFrom: Checkpoint = { stream: 'charges', state: { v: 1, phase: 'events', windows: null, events: { from: done.synced_to, to, after }, synced_to: done.synced_to, run_to: to } };
    const resumed = await read(stream('charges', 'incremental', resumeFrom), config);
    expect(resumed.rows.map((r) => r.id).sort()).toEqual(order.slice(4, 7).sort());
    expect(resumed.rows.map((r) => r.description)).toEqual(['changed', 'changed', 'changed']);
    expect((resumed.checkpoints.at(-1)?.state as { phase: string }).phase).toBe('done');
  });

  it('falls back to a full read when the last sync is older than Stripe keeps events, and says so', async () => {
    const config = { ...base(), objects: ['charges'], incremental: {} };
    const chargeSchema = (await stripeSource().discover(stripeConfigSchema.parse(config), fastContext()))[0]?.schema as StreamDescriptor['schema'];
    const old = Math.floor(Date.now() / 1000) - 40 * DAY;
    const resumeFrom: Checkpoint = { stream: 'charges', state: { v: 1, phase: 'done', windows: null, events: null, synced_to: old, run_to: old } };
    const out = await read({ name: 'charges', schema: chargeSchema, syncMode: 'incremental', cursorField: 'created', resumeFrom }, config);
    expect(out.rows.length).toBe(700);
    expect(out.warnings).toEqual([expect.stringMatching(/^the last sync of charges ended .*longer ago than Stripe keeps events \(30 days\).*every object is read again$/)]);
  });

  it('rides out 429 storms, 5xx bursts, cut-off bodies and a hung server without losing or repeating an object', async () => {
    const ctx = fastContext();
    fake.http.failNext(4, { status: 429, headers: { 'stripe-should-retry': 'true', 'retry-after': '0' }, body: { error: { type: 'invalid_request_error', code: 'rate_limit', message: 'Request rate limit exceeded.' } } });
    fake.http.failNext(3, { status: 500, body: { error: { type: 'api_error', message: 'Something went wrong on our end.' } } });
    fake.http.failNext(1, { status: 200, headers: { 'content-type': 'application/json' }, body: '{"object": "list", "data": [{"id": "cus_' });
    fake.http.failNext(1, { delayMs: 2_500 });
    fake.http.failNext(1, { reset: "mid-body" });
    fake.http.failNext(1, { reset: "before-response" });
    const out = await read(stream('customers'), { ...base(), objects: ['customers'], timeout_seconds: 1, concurrency: 8 }, ctx);
    expect(out.rows.length).toBe(fake.objects('/v1/customers').length);
    expect(new Set(out.rows.map((r) => r.id)).size).toBe(out.rows.length);
    const kinds = ctx.logs.records().filter((r) => r.msg === 'retrying after a failure').map((r) => r.kind);
    expect(kinds).toContain('rate_limit');
    expect(kinds).toContain('transient');
    expect(kinds).toContain('network');
    reliabilityRow({ connector: 'Stripe source', fault: '429 storms with `Retry-After`, 5xx bursts, cut-off bodies, a hung server (fake API faults)', outcome: 'retried with backoff (each wait logged): every object once' });
  });

  it('fails clearly, without retrying, on a refused key, a missing permission and an unknown stream', async () => {
    const source = stripeSource();
    const before = fake.http.requests.length;
    const refused = await source.check(stripeConfigSchema.parse({ ...base(), api_key: 'sk_test_revoked_key_9876' }), fastContext()).catch((e: unknown) => e);
    expect(DativoError.isInstance(refused) && refused.kind).toBe('config');
    expect((refused as Error).message).toBe('GET /v1/customers: Stripe refused the key in api_key (HTTP 401): Invalid API Key provided: sk_test_****9876');
    expect(fake.http.requests.length - before).toBe(1);
    fake.restricted.set('rk_test_customers_only_1111', new Set(['/v1/customers']));
    const forbidden = await source.check(stripeConfigSchema.parse({ ...base(), api_key: 'rk_test_customers_only_1111', objects: ['customers', 'charges'] }), fastContext()).catch((e: unknown) => e);
    expect((forbidden as Error).message).toMatch(/^GET \/v1\/charges: the key in api_key may not read charges \(HTTP 403\): The provided key 'rk_test_\*\*\*\*1111' does not have the required permissions.*give the restricted key read access to it$/);
    await expect(read(stream('coupons'), { ...base(), objects: ['customers', 'charges'] })).rejects.toThrow("stream 'coupons' is not a Stripe object; name it after one of customers, charges (source.objects)");
    expect(JSON.stringify(fake.http.requests.slice(before).map((r) => r.path))).not.toContain('sk_test');
  });

  it('never reports a cut-short list as success', async () => {
    fake.http.failNext(1, { status: 200, body: { object: 'list', data: [], has_more: true, url: '/v1/charges' } });
    await expect(read({ ...stream('charges'), schema: schema.filter((f) => ['id', 'created'].includes(f.name)) }, { ...base(), objects: ['charges'] })).rejects.toThrow(
      'GET /v1/charges: the response says has_more but holds no items; the list cannot be read to its end',
    );
    reliabilityRow({ connector: 'Stripe source', fault: 'a page that says `has_more` but holds no items (a list cut short)', outcome: 'the read fails naming the endpoint; never reported as a complete list' });
  });
});
