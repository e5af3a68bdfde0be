import { DativoError, mergeResilience, readRows, ResilienceService, type Checkpoint, type ConfiguredStream, type ExtractMessage, type StreamDescriptor } from '@dativo/core';
import { testRunContext, type TestRunContext } from '@dativo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hubspotConfigSchema } from './config.js';
import { MAX_URL_LENGTH, startFakeHubSpot, type FakeHubSpot } from './fake-hubspot.js';
import { hubspotHead, hubspotSource } from './index.js';

/**
 * The streams besides the standard objects' (custom object types, owners, pipelines and stages,
 * v4 associations with labels), long property lists read in chunks, property history, the list
 * read as id ranges in parallel, and HubSpot's rate-limit headers — the real @hubspot/api-client
 * against the HubSpot API fake.
 */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const T0 = Date.UTC(2025, 0, 1);

function context(rps = 2_000): TestRunContext {
  const ctx = testRunContext();
  ctx.resilience = new ResilienceService('hubspot', mergeResilience(hubspotHead.spec.limits, { rateLimit: { requestsPerSecond: rps, burst: 200 }, retry: { baseDelayMs: 5, maxDelayMs: 200 } }), { log: ctx.log });
  return ctx;
}

interface Outcome {
  rows: Array<Record<string, unknown>>;
  checkpoints: Array<{ checkpoint: Checkpoint; at: number }>;
}

async function read(stream: ConfiguredStream, raw: Record<string, unknown>, ctx = context(), stopAfter?: number): Promise<Outcome> {
  const out: Outcome = { rows: [], checkpoints: [] };
  for await (const m of hubspotSource().read(hubspotConfigSchema.parse(raw), { streams: [stream] }, ctx) as AsyncIterable<ExtractMessage>) {
    if (m.kind === 'batch') out.rows.push(...readRows(m.batch, stream.schema));
    else if (m.kind === 'checkpoint') {
      out.checkpoints.push({ checkpoint: m.checkpoint, at: out.rows.length });
      if (stopAfter !== undefined && out.checkpoints.length >= stopAfter) break;
    }
  }
  return out;
}

describe('hubspot source: every stream', () => {
  let fake: FakeHubSpot;
  let streams: Map<string, StreamDescriptor>;
  const base = () => ({ access_token: fake.token, api_base: fake.url, objects: ['contacts', 'companies', 'cars'], search_rps: 1_000, start_date: '2024-01-01', page_size: 100 });
  const configured = (name: string, syncMode: 'full_refresh' | 'incremental' = 'full_refresh', resumeFrom?: Checkpoint): ConfiguredStream => {
    const d = streams.get(name);
    if (!d) throw new Error(`no stream ${name} in ${[...streams.keys()].join(', ')}`);
    return { name, schema: d.schema, syncMode, primaryKey: d.primaryKey ?? ['id'], ...(syncMode === 'incremental' ? { cursorField: 'updatedAt' } : {}), ...(resumeFrom ? { resumeFrom } : {}) };
  };

  beforeAll(async () => {
    fake = await startFakeHubSpot();
    fake.addObjectType({
      name: 'cars',
      objectTypeId: '2-7001',
      properties: [
        { name: 'vin', label: 'VIN', type: 'string', fieldType: 'text', groupName: 'car' },
        { name: 'price', label: 'Price', type: 'number', fieldType: 'number', groupName: 'car' },
        { name: 'electric', label: 'Electric', type: 'bool', fieldType: 'booleancheckbox', groupName: 'car' },
        { name: 'registered_on', label: 'Registered', type: 'date', fieldType: 'date', groupName: 'car' },
      ],
      make: (id) => ({ vin: `VIN${id}`, price: String(10_000 + id), electric: id % 2 ? 'true' : 'false', registered_on: '2024-05-06' }),
    });
    fake.add('contacts', 1_500);
    fake.add('companies', 400);
    fake.add('cars', 250);
    fake.owners.push(...Array.from({ length: 30 }, (_, i) => ({ id: String(500 + i), email: `owner${i}@example.com`, firstName: `Owner${i}`, lastName: 'Fake', userId: 9000 + i, archived: i >= 28, teams: [{ id: '7', name: 'Sales', primary: true }] })));
    streams = new Map((await hubspotSource().discover(hubspotConfigSchema.parse(base()), context())).map((d) => [d.name, d]));
  });
  afterAll(() => fake.close());

  it('discovers the configured objects, a custom object type with typed properties, owners, pipelines and associations', () => {
    expect([...streams.keys()]).toEqual(['contacts', 'companies', 'cars', 'owners', 'pipelines', 'pipeline_stages', 'associations_contacts_companies', 'associations_contacts_cars', 'associations_companies_cars']);
    const cars = Object.fromEntries((streams.get('cars')?.schema ?? []).map((f) => [f.name, f.type.kind]));
    expect(cars).toMatchObject({ id: 'string', vin: 'string', price: 'float64', electric: 'boolean', registered_on: 'date', hs_lastmodifieddate: 'timestamp', _deleted: 'boolean' });
  });

  it('a custom object type reads in full and incrementally (by its type id in request paths)', async () => {
    const full = await read(configured('cars'), base());
    expect(full.rows.length).toBe(250);
    expect(full.rows.find((r) => r.id === fake.ids('cars')[0])).toMatchObject({ vin: `VIN${fake.ids('cars')[0]}`, electric: expect.any(Boolean) });
    const [changed] = fake.ids('cars');
    await sleep(5);
    fake.update('cars', changed as string, { price: '99' }, Date.now());
    await sleep(5);
    const next = await read(configured('cars', 'incremental', full.checkpoints.at(-1)?.checkpoint), base());
    expect(next.rows).toEqual([expect.objectContaining({ id: changed, price: 99 })]);
    expect(fake.http.requests.some((r) => r.path === '/crm/v3/objects/2-7001/search')).toBe(true);
    // An object type the account does not have is a config error naming `objects`.
    const unknown = await hubspotSource().check(hubspotConfigSchema.parse({ ...base(), objects: ['boats'] }), context()).catch((e: unknown) => e);
    expect(DativoError.isInstance(unknown) && unknown.kind).toBe('config');
    expect((unknown as Error).message).toBe("objects: 'boats' is neither a standard HubSpot object (contacts, companies, deals, tickets) nor a custom object type of this account (cars)");
  });

  it('owners (live and archived), pipelines and their stages', async () => {
    const owners = await read(configured('owners'), base());
    expect(owners.rows.length).toBe(30);
    expect(owners.rows.filter((r) => r.archived).map((r) => r.id)).toEqual(['528', '529']);
    expect(owners.rows[0]).toMatchObject({ id: '500', email: 'owner0@example.com', userId: 9000n, type: 'PERSON', teams: '[{"id":"7","name":"Sales","primary":true}]' });
    const pipelines = await read(configured('pipelines'), base());
    expect(pipelines.rows.map((r) => [r.object_type, r.id, r.label])).toEqual([
      ['deals', 'default', 'Sales Pipeline'],
      ['tickets', '0', 'Support Pipeline'],
    ]);
    const stages = await read(configured('pipeline_stages'), base());
    expect(stages.rows.length).toBe(8);
    expect(stages.rows.find((r) => r.id === 'closedwon')).toMatchObject({ object_type: 'deals', pipeline_id: 'default', displayOrder: 2n, metadata: '{"isClosed":"true","probability":"1.0"}' });
  });

  it('associations (v4) with their labels, one row per pair and type, objects with more than a page of them included', async () => {
    const contacts = fake.ids('contacts');
    const companies = fake.ids('companies');
    const expected = new Set<string>();
    contacts.slice(0, 300).forEach((c, i) => {
      const company = companies[i % companies.length] as string;
      fake.associate('contacts', c, 'companies', company);
      expected.add(`${c}>${company}:HUBSPOT_DEFINED:279:`);
      if (i % 10 === 0) {
        fake.associate('contacts', c, 'companies', company, [{ category: 'USER_DEFINED', typeId: 17, label: 'Decision maker' }]);
        expected.add(`${c}>${company}:USER_DEFINED:17:Decision maker`);
      }
    });
    // One contact with 1,200 companies: three pages of its own.
    const busy = contacts[1_000] as string;
    for (const company of [...companies, ...companies, ...companies].slice(0, 1_200)) {
      if (expected.has(`${busy}>${company}:HUBSPOT_DEFINED:279:`)) continue;
      fake.associate('contacts', busy, 'companies', company);
      expected.add(`${busy}>${company}:HUBSPOT_DEFINED:279:`);
    }
    const out = await read(configured('associations_contacts_companies'), base());
    const got = out.rows.map((r) => `${r.from_id}>${r.to_id}:${r.category}:${r.type_id}:${r.label ?? ''}`);
    expect(got.length).toBe(expected.size);
    expect(new Set(got)).toEqual(expected);
    // And from the other side: the company→contact type.
    const reverse = await read({ ...configured('associations_contacts_companies'), name: 'associations_companies_contacts' }, base());
    expect(reverse.rows.filter((r) => r.type_id === 280n).length).toBe(300 + 400);
  });

  it('reads hundreds of custom properties in chunks that keep URLs and bodies inside the limits, merged by id', async () => {
    const names = Array.from({ length: 400 }, (_, i) => `custom_property_with_a_rather_long_name_${String(i).padStart(3, '0')}`);
    for (const name of names) fake.addProperty('companies', { name, label: name, type: 'string', fieldType: 'text', groupName: 'custom' });
    const ids = fake.ids('companies');
    for (const id of ids.slice(0, 50)) fake.update('companies', id, Object.fromEntries(names.map((n) => [n, `${n}=${id}`])), T0 + 1_000);
    const [d] = await hubspotSource().discover(hubspotConfigSchema.parse({ ...base(), objects: ['companies'], custom_objects: false }), context());
    expect(d?.schema.length).toBeGreaterThan(400);
    const stream: ConfiguredStream = { name: 'companies', schema: d?.schema ?? [], syncMode: 'full_refresh', primaryKey: ['id'] };
    const before = fake.http.requests.length;
    const out = await read(stream, { ...base(), objects: ['companies'] });
    expect(out.rows.length).toBe(ids.length);
    const first = out.rows.find((r) => r.id === ids[0]);
    expect(first?.custom_property_with_a_rather_long_name_399).toBe(`custom_property_with_a_rather_long_name_399=${ids[0]}`);
    expect(first?.custom_property_with_a_rather_long_name_000).toBe(`custom_property_with_a_rather_long_name_000=${ids[0]}`);
    const sent = fake.http.requests.slice(before);
    expect(sent.some((r) => r.path.endsWith('/batch/read'))).toBe(true);
    expect(Math.max(...sent.map((r) => r.path.length + 1 + r.query.toString().length))).toBeLessThanOrEqual(MAX_URL_LENGTH);
    expect(sent.every((r) => r.method === 'GET' || ((r.json() as { properties?: string[] }).properties ?? []).join(',').length <= 8_192)).toBe(true);
    // Incremental (search), the same chunks.
    await sleep(5);
    fake.update('companies', ids[1] as string, { custom_property_with_a_rather_long_name_250: 'changed' }, Date.now());
    await sleep(5);
    const next = await read({ ...stream, syncMode: 'incremental', cursorField: 'updatedAt', resumeFrom: out.checkpoints.at(-1)?.checkpoint }, { ...base(), objects: ['companies'] });
    expect(next.rows.length).toBe(1);
    expect(next.rows[0]).toMatchObject({ id: ids[1], custom_property_with_a_rather_long_name_250: 'changed', custom_property_with_a_rather_long_name_001: `custom_property_with_a_rather_long_name_001=${ids[1]}` });
  });

  it('reads property history on request (propertiesWithHistory), newest first', async () => {
    const [id] = fake.ids('contacts');
    fake.update('contacts', id as string, { email: 'second@example.com' }, T0 + 2 * 86_400_000);
    fake.update('contacts', id as string, { email: 'third@example.com' }, T0 + 3 * 86_400_000);
    const cfg = { ...base(), objects: ['contacts'], custom_objects: false, properties_with_history: ['email', 'lifecyclestage'] };
    const [d] = await hubspotSource().discover(hubspotConfigSchema.parse(cfg), context());
    expect(d?.schema.find((f) => f.name === 'propertiesWithHistory')?.type.kind).toBe('json');
    const out = await read({ name: 'contacts', schema: d?.schema ?? [], syncMode: 'full_refresh', primaryKey: ['id'] }, cfg);
    expect(out.rows.length).toBe(1_500);
    const history = JSON.parse(String(out.rows.find((r) => r.id === id)?.propertiesWithHistory)) as Record<string, Array<{ value: string; timestamp: string }>>;
    expect(history.email?.map((h) => h.value)).toEqual(['third@example.com', 'second@example.com', `contact${id}@example.com`]);
    expect(history.email?.[0]?.timestamp).toBe(new Date(T0 + 3 * 86_400_000).toISOString());
    expect(history.lifecyclestage?.length).toBe(1);
    // A batch read with history holds at most 50 objects.
    const withHistory = fake.http.requests.filter((r) => r.path.endsWith('/batch/read')).map((r) => r.json() as { inputs: unknown[]; propertiesWithHistory?: string[] }).filter((b) => b.propertiesWithHistory?.length);
    expect(withHistory.length).toBeGreaterThan(0);
    expect(withHistory.every((b) => b.inputs.length <= 50)).toBe(true);
    const bad = await read({ name: 'contacts', schema: d?.schema ?? [], syncMode: 'full_refresh' }, { ...cfg, properties_with_history: ['no_such_property'] }).catch((e: unknown) => e);
    expect((bad as Error).message).toBe('properties_with_history: no_such_property is not a property of HubSpot contacts');
  });

  it('the list is read as id ranges in parallel; resumed from any checkpoint it reads every record exactly once', async () => {
    const stream = configured('contacts');
    const cfg = { ...base(), objects: ['contacts'], page_size: 37, list_concurrency: 4 };
    // Small batches: a checkpoint every 100 rows.
    const small = () => Object.assign(context(), { batchLimits: { maxRows: 100, maxBytes: 1 << 24 } });
    const full = await read(stream, cfg, small());
    expect(full.rows.length).toBe(1_500);
    expect(new Set(full.rows.map((r) => r.id))).toEqual(new Set(fake.ids('contacts')));
    const windows = full.checkpoints.map((c) => (c.checkpoint.state as { windows: { active: unknown[] } | null }).windows).filter((w) => w !== null);
    expect(windows.some((w) => (w?.active.length ?? 0) > 1)).toBe(true);
    // Stopped after a few checkpoints (a crash), then resumed: the two parts are the whole, once.
    for (const stop of [2, 5]) {
      const part = await read(stream, cfg, small(), stop);
      const last = part.checkpoints.at(-1) as { checkpoint: Checkpoint; at: number };
      const rest = await read({ ...stream, resumeFrom: last.checkpoint }, cfg, small());
      const ids = [...part.rows.slice(0, last.at), ...rest.rows].map((r) => r.id);
      expect(ids.length).toBe(1_500);
      expect(new Set(ids).size).toBe(1_500);
    }
  });

  it('honours the X-HubSpot-RateLimit-* headers (no 429 from the rolling window), retries the search limit, and stops on the daily limit', async () => {
    fake.rateLimit = { max: 15, intervalMs: 1_000 };
    fake.throttled.length = 0;
    try {
      const out = await read(configured('contacts'), { ...base(), objects: ['contacts'], list_concurrency: 3 });
      expect(out.rows.length).toBe(1_500);
      expect(fake.throttled.filter((t) => !t.search)).toEqual([]);
    } finally {
      fake.rateLimit = undefined;
    }
    // 120 companies changed in the last minute, searched faster than the API's 2 per second allows.
    const since = Date.now() - 60_000;
    for (const id of fake.ids('companies').slice(0, 120)) fake.update('companies', id, { name: `renamed ${id}` }, since + 30_000);
    fake.searchPerSecond = 2;
    try {
      const ctx = context();
      const out = await read(configured('companies', 'incremental', { stream: 'companies', state: { v: 1, phase: 'done', after: null, search: null, synced_to: since, run_to: since, since: null } }), { ...base(), objects: ['companies'], search_page_size: 20, archived: false }, ctx);
      expect(out.rows.length).toBe(120);
      expect(fake.throttled.some((t) => t.search)).toBe(true);
      expect(ctx.logs.records().some((r) => r.msg === 'retrying after a failure' && r.kind === 'rate_limit')).toBe(true);
    } finally {
      fake.searchPerSecond = undefined;
    }
    const left = fake.dailyRemaining;
    fake.dailyRemaining = 0;
    try {
      const daily = await hubspotSource().check(hubspotConfigSchema.parse(base()), context()).catch((e: unknown) => e);
      expect(DativoError.isInstance(daily) && daily.code).toBe('HUBSPOT_DAILY_LIMIT');
      expect((daily as Error).message).toMatch(/daily request limit is used up; it resets at midnight in the HubSpot account's time zone \(at the latest \d{4}-\d\d-\d\dT00:00:00.000Z\)/);
    } finally {
      fake.dailyRemaining = left;
    }
  });
});
