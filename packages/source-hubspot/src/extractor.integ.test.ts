import { DativoError, mergeResilience, readRows, ResilienceService, type Checkpoint, type ConfiguredStream, type ExtractMessage, type StreamDescriptor } from '@dativo/core';
import { describeExtractorConformance, reliabilityRow, testRunContext, type TestRunContext } from '@dativo/testing';
import { fakeOAuth } from '@dativo/testing/http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hubspotConfigSchema } from './config.js';
import { startFakeHubSpot, type FakeHubSpot } from './fake-hubspot.js';
import { hubspotHead, hubspotSource } from './index.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const DAY = 86_400_000;
const T0 = Date.UTC(2025, 0, 1);

// ---------------------------------------------------------------------------------------------
// The conformance suite, with the real @hubspot/api-client against the fake.
let conf: FakeHubSpot;
describeExtractorConformance('hubspot', {
  create: () => hubspotSource(),
  setup: async () => {
    conf = await startFakeHubSpot();
    conf.add('contacts', 240);
    conf.owners.push(...Array.from({ length: 12 }, (_, i) => ({ id: String(100 + i), email: `owner${i}@example.com`, firstName: `Owner${i}`, lastName: 'Fake', userId: 9000 + i, archived: i === 11 })));
  },
  teardown: () => conf.close(),
  // One list cursor: the suite compares a resumed read's order with the full read's.
  config: () => ({ access_token: conf.token, api_base: conf.url, objects: ['contacts'], page_size: 7, search_rps: 1_000, list_concurrency: 1 }),
  invalidConfigs: () => [
    { config: { api_base: conf.url }, field: 'access_token' },
    { config: { access_token: conf.token, api_base: 'not a url' }, field: 'api_base' },
    { config: { access_token: conf.token, api_base: conf.url, objects: ['leads'] }, field: 'objects' },
    { config: { access_token: conf.token, api_base: conf.url, objects: ['no such/object'] }, field: 'objects' },
    { config: { access_token: conf.token, api_base: conf.url, search_page_size: 500 }, field: 'search_page_size' },
    { config: { access_token: 'pat-na1-wrong', api_base: conf.url }, field: 'access_token' },
    { config: { access_token: conf.token, api_base: conf.url, start_date: 'last tuesday' }, field: 'start_date' },
  ],
  incremental: {
    streams: (discovered) => discovered.filter((d) => d.name === 'contacts').map((d) => ({ name: d.name, schema: d.schema, syncMode: 'incremental', cursorField: 'updatedAt', primaryKey: ['id'] })),
    append: async () => {
      conf.add('contacts', 25, { modified: () => Date.now() });
      await sleep(5);
      return 25;
    },
  },
});

// ---------------------------------------------------------------------------------------------
function fastContext(): TestRunContext {
  const ctx = testRunContext();
  ctx.resilience = new ResilienceService('hubspot', mergeResilience(hubspotHead.spec.limits, { rateLimit: { requestsPerSecond: 2_000, burst: 200 }, retry: { baseDelayMs: 5, maxDelayMs: 100 } }), { log: ctx.log });
  return ctx;
}

interface Outcome {
  rows: Array<Record<string, unknown>>;
  checkpoints: Checkpoint[];
  warnings: string[];
}

async function read(stream: ConfiguredStream, raw: Record<string, unknown>, ctx = fastContext()): Promise<Outcome> {
  const out: Outcome = { rows: [], checkpoints: [], warnings: [] };
  for await (const m of hubspotSource().read(hubspotConfigSchema.parse(raw), { streams: [stream] }, ctx) as AsyncIterable<ExtractMessage>) {
    if (m.kind === 'batch') out.rows.push(...readRows(m.batch, stream.schema));
    else if (m.kind === 'checkpoint') out.checkpoints.push(m.checkpoint);
    else if (m.kind === 'warning') out.warnings.push(m.message);
  }
  return out;
}

/** A finished sync that ended at `syncedTo`: the next incremental run searches from there. */
const syncedAt = (stream: string, syncedTo: number): Checkpoint => ({ stream, state: { v: 1, phase: 'done', after: null, search: null, synced_to: syncedTo, run_to: syncedTo, since: null } });

describe('hubspot source', () => {
  let fake: FakeHubSpot;
  let added: Array<{ id: string; updatedAt: number }>;
  let schema: StreamDescriptor['schema'];
  let companySchema: StreamDescriptor['schema'];
  const base = () => ({ access_token: fake.token, api_base: fake.url, objects: ['contacts'], search_rps: 1_000, start_date: '2024-01-01' });
  const stream = (syncMode: 'full_refresh' | 'incremental' = 'incremental', resumeFrom?: Checkpoint): ConfiguredStream => ({ name: 'contacts', schema, syncMode, cursorField: 'updatedAt', primaryKey: ['id'], ...(resumeFrom ? { resumeFrom } : {}) });
  /** 3,000 companies: a smaller stream for fault tests. */
  const companies = (): ConfiguredStream => ({ name: 'companies', schema: companySchema, syncMode: 'full_refresh', primaryKey: ['id'] });

  beforeAll(async () => {
    fake = await startFakeHubSpot();
    // 50,000 contacts: 12,000 modified in the same millisecond, 20,000 crowded into one hour, the rest over 30 days.
    added = fake.add('contacts', 50_000, { modified: (i) => (i < 12_000 ? T0 + 5 * DAY : i < 32_000 ? T0 + 10 * DAY + (i % 3_600_000) : T0 + Math.floor(((i - 32_000) * 30 * DAY) / 18_000)) });
    fake.add('companies', 3_000);
    [schema, companySchema] = (await hubspotSource().discover(hubspotConfigSchema.parse({ ...base(), objects: ['contacts', 'companies'] }), fastContext())).map((d) => d.schema) as [StreamDescriptor['schema'], StreamDescriptor['schema']];
  });
  afterAll(() => fake.close());

  it('discovers typed properties, custom ones included', async () => {
    fake.addProperty('contacts', { name: 'favourite_number', label: 'Favourite', type: 'number', fieldType: 'number', groupName: 'custom' });
    const [d] = await hubspotSource().discover(hubspotConfigSchema.parse(base()), fastContext());
    const types = Object.fromEntries((d?.schema ?? []).map((f) => [f.name, f.type.kind]));
    expect(types).toMatchObject({ id: 'string', updatedAt: 'timestamp', email: 'string', num_employees: 'float64', hs_object_id: 'int64', lastmodifieddate: 'timestamp', favourite_number: 'float64', _deleted: 'boolean' });
  });

  it('a full read lists every contact once, typed', async () => {
    const out = await read(stream('full_refresh'), { ...base(), page_size: 100 });
    expect(out.rows.length).toBe(50_000);
    expect(new Set(out.rows.map((r) => r.id)).size).toBe(50_000);
    const first = out.rows.find((r) => r.id === '1000');
    expect(first).toMatchObject({ email: 'contact1000@example.com', num_employees: 0, hs_object_id: 1000n, archived: false });
  });

  it('incremental search over 50,000 contacts (12,000 in one millisecond) reads every one exactly once past the 10,000 cap', async () => {
    const before = fake.http.requests.length;
    const out = await read(stream('incremental', syncedAt('contacts', T0)), base());
    expect(out.rows.length).toBe(50_000);
    expect(new Set(out.rows.map((r) => r.id)).size).toBe(50_000);
    const searches = fake.http.requests.slice(before).filter((r) => r.path.endsWith('/search')).map((r) => r.json() as { filterGroups: Array<{ filters: Array<{ propertyName: string }> }> });
    expect(searches.some((s) => s.filterGroups[0]?.filters.some((f) => f.propertyName === 'hs_object_id'))).toBe(true);
    // Bounded: at most twice search_concurrency ranges in progress, each a few hundred bytes.
    expect(Math.max(...out.checkpoints.map((c) => JSON.stringify(c.state).length))).toBeLessThan(4_000);
  });

  it('a lower cap splits further and still reads everything; an under-reported total fails the run', async () => {
    fake.searchCap = 700;
    try {
      const before = fake.http.requests.length;
      const out = await read(stream('incremental', syncedAt('contacts', T0 + 20 * DAY)), { ...base(), search_cap: 700, search_page_size: 100 });
      const want = added.filter((c) => c.updatedAt >= T0 + 20 * DAY).length;
      expect(want).toBeGreaterThan(5_000);
      // Windows were halved below the first (7 days) to fit 700 results.
      const widths = fake.http.requests.slice(before).filter((r) => r.path.endsWith('/search')).map((r) => {
        const f = (r.json() as { filterGroups: Array<{ filters: Array<{ operator: string; value: string }> }> }).filterGroups[0]?.filters ?? [];
        return Number(f.find((x) => x.operator === 'LT')?.value) - Number(f.find((x) => x.operator === 'GTE')?.value);
      });
      expect(Math.min(...widths)).toBeLessThan(DAY);
      expect(out.rows.length).toBe(want);
      expect(new Set(out.rows.map((r) => r.id)).size).toBe(want);
    } finally {
      fake.searchCap = 10_000;
    }
    fake.totalBias = -1;
    try {
      await expect(read(stream('incremental', syncedAt('contacts', T0 + 25 * DAY)), base())).rejects.toThrow(/HubSpot contacts modified in .*: the search reports \d+ records and delivered \d+; its totals cannot be trusted/);
    } finally {
      fake.totalBias = 0;
    }
  });

  it('a later run brings updated contacts and marks archived ones', async () => {
    const first = await read(stream('incremental', syncedAt('contacts', T0 + 40 * DAY)), base());
    const last = first.checkpoints.at(-1) as Checkpoint;
    await sleep(5);
    const now = Date.now();
    const [a, b] = fake.ids('contacts').slice(100, 102) as [string, string];
    fake.update('contacts', a, { email: 'changed@example.com' }, now);
    fake.archive('contacts', b, now);
    await sleep(5);
    const second = await read(stream('incremental', last), base());
    const byId = new Map(second.rows.map((r) => [r.id as string, r]));
    expect([...byId.keys()].sort()).toEqual([a, b].sort());
    expect(byId.get(a)).toMatchObject({ email: 'changed@example.com', _deleted: null });
    expect(byId.get(b)).toMatchObject({ _deleted: true, archived: true });
  });

  it('rides out 429s, 5xx, resets, cut-off bodies and a hung server; refused tokens and missing scopes fail clearly', async () => {
    const ctx = fastContext();
    const list = (r: { path: string }) => r.path === '/crm/v3/objects/companies';
    fake.http.failNext(2, { status: 429, headers: { 'retry-after': '0' }, body: { status: 'error', message: 'You have reached your ten_secondly_rolling limit.', correlationId: '00000000-0000-0000-0000-000000000000', category: 'RATE_LIMITS', policyName: 'TEN_SECONDLY_ROLLING' } }, list);
    fake.http.failNext(1, { status: 502, body: 'bad gateway' }, list);
    fake.http.failNext(1, { reset: 'mid-body' }, list);
    fake.http.failNext(1, { truncate: true }, list);
    fake.http.failNext(1, { delayMs: 2_500 }, list);
    const out = await read(companies(), { ...base(), objects: ['companies'], page_size: 100, timeout_seconds: 1 }, ctx);
    expect(out.rows.length).toBe(3_000);
    expect(new Set(out.rows.map((r) => r.id)).size).toBe(out.rows.length);
    const kinds = ctx.logs.records().filter((r) => r.msg === 'retrying after a failure').map((r) => r.kind);
    expect(kinds).toEqual(expect.arrayContaining(['rate_limit', 'transient', 'network']));

    const refused = await hubspotSource().check(hubspotConfigSchema.parse({ ...base(), access_token: 'pat-na1-revoked-0000' }), fastContext()).catch((e: unknown) => e);
    expect(DativoError.isInstance(refused) && refused.kind).toBe('config');
    expect((refused as Error).message).toMatch(/^GET \/crm\/v3\/objects\/contacts: HubSpot refused the token \(HTTP 401, INVALID_AUTHENTICATION\)/);
    fake.scoped.set('pat-na1-contacts-only', ['crm.objects.contacts.read']);
    const scope = await hubspotSource().check(hubspotConfigSchema.parse({ ...base(), access_token: 'pat-na1-contacts-only', objects: ['contacts', 'deals'] }), fastContext()).catch((e: unknown) => e);
    expect((scope as Error).message).toBe('GET /crm/v3/objects/deals: the token lacks the scope crm.objects.deals.read (HTTP 403, MISSING_SCOPES); grant it to the private app or OAuth app');
    reliabilityRow({ connector: 'HubSpot source', fault: '429s, 5xx, resets, cut-off bodies, a hung server; refused tokens, missing scopes', outcome: 'transient faults retried (every object once); auth and scope failures fail at once, clearly' });
  });

  it('OAuth: an expired access token is refreshed once, transparently, the rotated refresh token kept; a revoked grant is a clear error', async () => {
    const oauth = fakeOAuth(fake.http, { path: '/oauth/v1/token', clientId: 'cid', clientSecret: 'csecret', refreshToken: 'rt-initial', rotate: true });
    fake.oauth = oauth;
    let n = 0;
    fake.onRequest = () => {
      if (++n === 5) oauth.expireAccessTokens();
    };
    try {
      const cfg = { ...base(), access_token: undefined, oauth: { client_id: 'cid', client_secret: 'csecret', refresh_token: 'rt-initial' } };
      const out = await read(companies(), { ...cfg, objects: ['companies'], page_size: 100 });
      expect(out.rows.length).toBe(3_000);
      expect(oauth.tokenRequests).toBe(2);
      oauth.revoke();
      const revoked = await hubspotSource().check(hubspotConfigSchema.parse({ ...cfg, oauth: { ...cfg.oauth, refresh_token: oauth.refreshToken } }), fastContext()).catch((e: unknown) => e);
      expect(DativoError.isInstance(revoked) && revoked.kind).toBe('config');
      expect((revoked as Error).message).toMatch(/refresh token in oauth.refresh_token was revoked or has expired/);
    } finally {
      fake.oauth = undefined;
      fake.onRequest = undefined;
    }
  });
});
