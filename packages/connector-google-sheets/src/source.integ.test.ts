import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { DativoError, mergeResilience, readRows, ResilienceService, type Checkpoint, type ConfiguredStream, type ExtractMessage, type FieldSpec } from '@dativo/core';
import { describeExtractorConformance, reliabilityRow, tempDir, testRunContext, type TestRunContext } from '@dativo/testing';
import { fakeOAuth } from '@dativo/testing/http';
import { createSign } from 'node:crypto';
import { sheets, type sheets_v4 } from '@googleapis/sheets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeSheets, type CellInput, type FakeSheets } from './fake-sheets.js';
import { googleSheetsSource, sheetsSourceConfigSchema, sheetsSourceHead } from './index.js';

/** Google's own Sheets and Drive clients against the Sheets fake (requests checked against the discovery documents). */
const scratch = tempDir('dativo-sheets-');
afterAll(() => scratch.cleanup());

const EPOCH = Date.UTC(1899, 11, 30);
const serial = (iso: string) => (Date.parse(iso) - EPOCH) / 86_400_000;

function keyFile(fake: FakeSheets): string {
  const file = path.join(scratch.path, `key-${fake.url.split(':').at(-1)}.json`);
  writeFileSync(file, JSON.stringify(fake.serviceAccountKey));
  return file;
}
/** A service account's signed assertion (the JWT bearer grant), for calling the fake with Google's client directly. */
function jwtFor(fake: FakeSheets): string {
  const key = fake.serviceAccountKey;
  const now = Math.floor(Date.now() / 1000);
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const unsigned = `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ iss: key.client_email, scope: 'https://www.googleapis.com/auth/spreadsheets', aud: key.token_uri, iat: now, exp: now + 600 })}`;
  return `${unsigned}.${createSign('RSA-SHA256').update(unsigned).sign(key.private_key as string, 'base64url')}`;
}
const base = (fake: FakeSheets) => ({ credentials: { file: keyFile(fake) }, api_root: fake.root, reads_per_minute: 100_000, writes_per_minute: 100_000 });

function people(first: number, count: number): CellInput[][] {
  const rows: CellInput[][] = [['id', 'name', 'joined', 'score']];
  for (let i = first; i < first + count; i++) rows.push([i, i % 7 === 0 ? `Zoë "the" ${i}, ✓` : `person ${i}`, { v: serial(`2024-0${(i % 9) + 1}-1${i % 10}T00:00:00Z`), f: 'DATE' }, i % 5 === 0 ? '' : { v: i / 100, f: 'PERCENT' }]);
  return rows;
}

/** A run context whose retries wait milliseconds, not seconds. */
function fastContext(): TestRunContext {
  const ctx = testRunContext();
  ctx.resilience = new ResilienceService('google_sheets', mergeResilience(sheetsSourceHead.spec.limits, { rateLimit: { requestsPerSecond: 1_000, burst: 100 }, retry: { baseDelayMs: 5, maxDelayMs: 50 } }), { log: ctx.log });
  return ctx;
}

async function readAll(config: unknown, streams: ConfiguredStream[], ctx: TestRunContext = fastContext()): Promise<{ rows: Array<Record<string, unknown>>; messages: ExtractMessage[] }> {
  const source = googleSheetsSource();
  const parsed = source.configSchema.parse(config);
  const rows: Array<Record<string, unknown>> = [];
  const messages: ExtractMessage[] = [];
  const schemas = new Map(streams.map((s) => [s.name, s.schema]));
  for await (const m of source.read(parsed, { streams }, ctx)) {
    messages.push(m);
    if (m.kind === 'batch') rows.push(...readRows(m.batch, schemas.get(m.stream) ?? []));
  }
  return { rows, messages };
}

let conf: FakeSheets;
describeExtractorConformance('google_sheets', {
  create: () => googleSheetsSource(),
  setup: async () => {
    conf = await startFakeSheets();
    conf.add('conf-sheet', [{ title: 'people', rows: people(1, 120) }, { title: 'more people', rows: people(500, 30) }]);
  },
  teardown: () => conf.close(),
  config: () => ({ spreadsheet_id: 'conf-sheet', chunk_rows: 17, ...base(conf) }),
  invalidConfigs: () => [
    { config: base(conf), field: 'sheets' },
    { config: { spreadsheet_id: 'conf-sheet', api_root: conf.root }, field: 'credentials' },
    { config: { sheets: [{ id: 'conf-sheet', range: 'people!A1:B2:C3' }], ...base(conf) }, field: 'range' },
    { config: { sheets: [{ id: 'conf-sheet', sheet: 'no such tab' }], ...base(conf) }, field: 'no such tab' },
    { config: { sheets: [{ id: 'no-such-spreadsheet' }], ...base(conf) }, field: 'no-such-spreadsheet' },
  ],
});

describe('google_sheets source', () => {
  let fake: FakeSheets;
  beforeAll(async () => {
    fake = await startFakeSheets();
  });
  afterAll(() => fake.close());

  it('lays out a messy tab: title rows above the header, merged, duplicate and blank header cells, serial dates and times, percentages, currency, booleans, unicode, trailing empties', async () => {
    const merge = { startRowIndex: 2, endRowIndex: 3, startColumnIndex: 3, endColumnIndex: 5 };
    fake.add('messy', [
      {
        title: 'Q1 report',
        rows: [
          [],
          [],
          ['Order', 'name', 'Name', 'Amount', undefined, '', 'paid', 'at', 'time', 'note'],
          [1, 'Ünïcode ✓', 'a', { v: 1234.5, f: 'CURRENCY' }, { v: 0.25, f: 'PERCENT' }, 'x', true, { v: serial('2024-03-01T10:30:00Z'), f: 'DATE_TIME' }, { v: 0.75, f: 'TIME' }, '=not a formula'],
          [2, 'quoted "text", with comma', '', { v: 10, f: 'CURRENCY' }, { v: 1, f: 'PERCENT' }, '', false, { v: serial('2024-03-02T00:00:00Z'), f: 'DATE_TIME' }, { v: 0.5, f: 'TIME' }, ''],
          [],
          [3, '', 'c', '', '', '', '', '', '', 'after a blank row'],
          [],
          [],
        ],
        merges: [merge],
      },
    ]);
    const config = { sheets: [{ id: 'messy', object: 'orders', range: "'Q1 report'!A1:Z200" }], ...base(fake) };
    const source = googleSheetsSource();
    const [stream] = await source.discover(source.configSchema.parse(config), testRunContext());
    expect(stream?.name).toBe('orders');
    expect(stream?.schema.map((f) => [f.name, f.type.kind])).toEqual([
      ['Order', 'int64'],
      ['name', 'string'],
      ['Name_2', 'string'],
      ['Amount', 'float64'],
      ['Amount_2', 'float64'],
      ['column_6', 'string'],
      ['paid', 'boolean'],
      ['at', 'timestamp'],
      ['time', 'string'],
      ['note', 'string'],
    ]);
    const schema = (stream?.schema ?? []).map((f) => (f.name === 'time' ? { ...f, type: { kind: 'time' as const } } : f));
    const { rows } = await readAll(config, [{ name: 'orders', schema, syncMode: 'full_refresh' }]);
    expect(rows).toEqual([
      { Order: 1n, name: 'Ünïcode ✓', Name_2: 'a', Amount: 1234.5, Amount_2: 0.25, column_6: 'x', paid: true, at: '2024-03-01T10:30:00.000000', time: '18:00:00.000000', note: '=not a formula' },
      { Order: 2n, name: 'quoted "text", with comma', Name_2: null, Amount: 10, Amount_2: 1, column_6: null, paid: false, at: '2024-03-02T00:00:00.000000', time: '12:00:00.000000', note: null },
      { Order: 3n, name: null, Name_2: 'c', Amount: null, Amount_2: null, column_6: null, paid: null, at: null, time: null, note: 'after a blank row' },
    ]);
  });

  it('reads a big tab in row chunks, checkpointing after each; a read resumed from any checkpoint yields exactly the rest', async () => {
    fake.add('big', [{ title: 'data', rows: people(1, 12_000), rowCount: 12_500 }]);
    const config = { sheets: [{ id: 'big', object: 'people' }], chunk_rows: 5_000, ...base(fake) };
    const source = googleSheetsSource();
    const [d] = await source.discover(source.configSchema.parse(config), testRunContext());
    const stream: ConfiguredStream = { name: 'people', schema: d?.schema ?? [], syncMode: 'full_refresh' };
    const before = fake.http.count((r) => r.path.includes('/values/'));
    const all = await readAll(config, [stream]);
    expect(fake.http.count((r) => r.path.includes('/values/')) - before).toBe(3);
    expect(all.rows.map((r) => r.id)).toEqual(Array.from({ length: 12_000 }, (_, i) => BigInt(i + 1)));
    expect(all.rows[6]).toEqual({ id: 7n, name: 'Zoë "the" 7, ✓', joined: '2024-08-17', score: 0.07 });
    const checkpoints = all.messages.filter((m): m is Extract<ExtractMessage, { kind: 'checkpoint' }> => m.kind === 'checkpoint').map((m) => m.checkpoint);
    expect(checkpoints.length).toBeGreaterThanOrEqual(3);
    const mid = checkpoints[1] as Checkpoint;
    const rest = await readAll(config, [{ ...stream, resumeFrom: mid }]);
    expect(rest.rows.map((r) => r.id)).toEqual(Array.from({ length: 2_000 }, (_, i) => BigInt(i + 10_001)));
  });

  it('incremental by the spreadsheet\'s modified time: unchanged, nothing is read; changed, it is read again', async () => {
    const s = fake.add('inc', [{ title: 'Sheet1', rows: people(1, 10) }]);
    const config = { sheets: [{ id: 'inc', object: 'people', range: 'A1:Z1000' }], incremental: { strategy: 'spreadsheet_modified_time', lookback_days: 0 }, ...base(fake) };
    const schema: FieldSpec[] = [
      { name: 'id', type: { kind: 'int64' }, nullable: false },
      { name: 'name', type: { kind: 'string' }, nullable: true },
    ];
    const first = await readAll(config, [{ name: 'people', schema, syncMode: 'incremental' }]);
    expect(first.rows).toHaveLength(10);
    const last = first.messages.filter((m) => m.kind === 'checkpoint').at(-1) as Extract<ExtractMessage, { kind: 'checkpoint' }>;
    const reads = fake.http.count((r) => r.path.includes('/values/'));
    const second = await readAll(config, [{ name: 'people', schema, syncMode: 'incremental', resumeFrom: last.checkpoint }]);
    expect(second.rows).toEqual([]);
    expect(fake.http.count((r) => r.path.includes('/values/'))).toBe(reads);
    s.tabs[0]?.cells.push([{ v: 11 }, { v: 'new one' }]);
    s.modifiedTime = Date.now() + 1000;
    const third = await readAll(config, [{ name: 'people', schema, syncMode: 'incremental', resumeFrom: last.checkpoint }]);
    expect(third.rows.map((r) => r.id)).toEqual(Array.from({ length: 11 }, (_, i) => BigInt(i + 1)));
  });

  it('a value that does not fit its column goes to the dead-letter queue with the spreadsheet, tab and row', async () => {
    fake.add('bad', [{ title: 'T', rows: [['id', 'n'], [1, 'a'], ['not a number', 'b'], [3, 'c']] }]);
    const schema: FieldSpec[] = [
      { name: 'id', type: { kind: 'int64' }, nullable: false },
      { name: 'n', type: { kind: 'string' }, nullable: true },
    ];
    const { rows, messages } = await readAll({ sheets: [{ id: 'bad', object: 't' }], ...base(fake) }, [{ name: 't', schema, syncMode: 'full_refresh' }]);
    expect(rows.map((r) => r.id)).toEqual([1n, 3n]);
    const rejected = messages.filter((m) => m.kind === 'rejected');
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({ raw: { id: 'not a number', n: 'b' }, context: { spreadsheet: 'bad', tab: 'T', row: 3 } });
  });

  it('tabs by id (v1 sheet_id), header_row, has_header: false, and every visible tab of a spreadsheet as a stream', async () => {
    fake.add('multi', [
      { title: 'first', rows: [['a'], [1]] },
      { title: 'second', rows: [['notes above'], ['k', 'v'], ['x', 1], ['y', 2]] },
      { title: 'hidden', rows: [['z'], [0]], hidden: true },
    ]);
    const gid = fake.tab('multi', 'second')?.sheetId;
    const source = googleSheetsSource();
    const streams = await source.discover(source.configSchema.parse({ spreadsheet_id: 'multi', ...base(fake) }), testRunContext());
    expect(streams.map((s) => s.name)).toEqual(['first', 'second']);
    // A one-cell title above the table is not its header.
    expect(streams[1]?.schema.map((f) => [f.name, f.type.kind])).toEqual([['k', 'string'], ['v', 'int64']]);
    const byId = await readAll({ sheets: [{ spreadsheet_id: 'multi', sheet_id: gid, header_row: 2, object: 'kv' }], ...base(fake) }, [{ name: 'kv', schema: [{ name: 'k', type: { kind: 'string' }, nullable: true }, { name: 'v', type: { kind: 'int64' }, nullable: true }], syncMode: 'full_refresh' }]);
    expect(byId.rows).toEqual([{ k: 'x', v: 1n }, { k: 'y', v: 2n }]);
    const bare = await readAll({ sheets: [{ id: 'multi', sheet: 'second', has_header: false, object: 'raw' }], ...base(fake) }, [{ name: 'raw', schema: [{ name: 'column_1', type: { kind: 'string' }, nullable: true }], syncMode: 'full_refresh' }]);
    expect(bare.rows.map((r) => r.column_1)).toEqual(['notes above', 'k', 'x', 'y']);
  });

  it("rides out Sheets' quota answers (429 RESOURCE_EXHAUSTED, 403 userRateLimitExceeded) and keeps its own per-minute read quota", async () => {
    fake.add('quota', [{ title: 'T', rows: people(1, 30), rowCount: 40 }]);
    const schema: FieldSpec[] = [{ name: 'id', type: { kind: 'int64' }, nullable: false }];
    fake.http.failNext(2, { status: 429, body: { error: { code: 429, message: "Quota exceeded for quota metric 'Read requests'", status: 'RESOURCE_EXHAUSTED' } } }, (r) => r.path.includes('/values/'));
    fake.http.failNext(1, { status: 403, body: { error: { code: 403, message: 'User Rate Limit Exceeded', errors: [{ domain: 'usageLimits', reason: 'userRateLimitExceeded', message: 'User Rate Limit Exceeded' }], status: 'PERMISSION_DENIED' } } }, (r) => r.path.includes('/values/'));
    const { rows } = await readAll({ sheets: [{ id: 'quota', object: 't' }], chunk_rows: 10, ...base(fake) }, [{ name: 't', schema, syncMode: 'full_refresh' }]);
    expect(rows).toHaveLength(30);
    // With the server's quota equal to the configured one, a run draws no 429.
    fake.readsPerMinute = 8;
    const before = fake.http.requests.length;
    const again = await readAll({ sheets: [{ id: 'quota', object: 't' }], chunk_rows: 10, ...base(fake), reads_per_minute: 8 }, [{ name: 't', schema, syncMode: 'full_refresh' }]).finally(() => (fake.readsPerMinute = undefined));
    expect(again.rows).toHaveLength(30);
    expect(fake.http.requests.slice(before).filter((r) => r.method === 'GET' && r.path !== '/token').length).toBeLessThanOrEqual(8);
    expect(fake.http.requests.slice(before).filter((r) => r.path.includes('/values/')).length).toBe(4);
    reliabilityRow({ connector: 'Google Sheets source', fault: '429 `RESOURCE_EXHAUSTED`, 403 `userRateLimitExceeded`', outcome: 'retried as rate limits; its own per-minute window keeps it under the quota' });
  });

  it('a spreadsheet the credentials may not read, and an unknown tab, are clear errors naming it', async () => {
    fake.add('secret', [{ title: 'T', rows: [['a'], [1]] }]);
    fake.forbidden.add('secret');
    const schema: FieldSpec[] = [{ name: 'a', type: { kind: 'int64' }, nullable: true }];
    const denied = await readAll({ sheets: [{ id: 'secret', object: 't' }], ...base(fake) }, [{ name: 't', schema, syncMode: 'full_refresh' }]).catch((e: unknown) => e);
    expect(DativoError.isInstance(denied) && denied.kind).toBe('config');
    expect((denied as Error).message).toMatch(/\(spreadsheet secret\): permission denied \(HTTP 403, forbidden\)/);
    const missingTab = await readAll({ sheets: [{ id: 'messy', sheet: 'Q2', object: 't' }], ...base(fake) }, [{ name: 't', schema, syncMode: 'full_refresh' }]).catch((e: unknown) => e);
    expect((missingTab as Error).message).toMatch(/spreadsheet messy: no tab named 'Q2' \(tabs: Q1 report\)/);
  });

  it('OAuth2 user credentials: an expired access token is refreshed transparently; a revoked grant is a clear error', async () => {
    fake.add('oauth', [{ title: 'T', rows: people(1, 5) }]);
    const oauth = fakeOAuth(fake.http, { path: '/oauth-token', clientId: 'cid', clientSecret: 'csecret', refreshToken: 'rt-1' }, { status: 401, body: { error: { code: 401, message: 'Request had invalid authentication credentials.', status: 'UNAUTHENTICATED' } } });
    const check = fake.account.check;
    fake.account.check = (req) => (oauth.check(req) === undefined ? undefined : check(req));
    try {
      const config = { sheets: [{ id: 'oauth', object: 't' }], oauth: { client_id: 'cid', client_secret: 'csecret', refresh_token: 'rt-1', token_url: oauth.tokenUrl }, api_root: fake.root, reads_per_minute: 1000 };
      const schema: FieldSpec[] = [{ name: 'id', type: { kind: 'int64' }, nullable: false }];
      const ctx = fastContext();
      const source = googleSheetsSource();
      const parsed = source.configSchema.parse(config);
      let n = 0;
      for await (const m of source.read(parsed, { streams: [{ name: 't', schema, syncMode: 'full_refresh' }] }, ctx)) {
        if (m.kind === 'batch') n += m.batch.numRows;
        if (m.kind === 'start') oauth.expireAccessTokens();
      }
      expect(n).toBe(5);
      expect(oauth.tokenRequests).toBe(2);
      oauth.revoke();
      const error = await readAll(config, [{ name: 't', schema, syncMode: 'full_refresh' }]).catch((e: unknown) => e);
      expect(DativoError.isInstance(error) && error.code).toBe('AUTH_EXPIRED');
      expect((error as Error).message).toContain('oauth.refresh_token');
      expect((error as Error).message).not.toContain('rt-1');
    } finally {
      fake.account.check = check;
    }
  });

  it("cells a user typed (values.update / batchUpdate USER_ENTERED through Google's client, checked by batchGet) are read typed", async () => {
    fake.add('typed', [{ title: 'Budget', rows: [] }]);
    const client = sheets({ version: 'v4', rootUrl: fake.root, retry: false } as sheets_v4.Options);
    const token = await fetch(`${fake.url}/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: jwtFor(fake) }) }).then((r) => r.json() as Promise<{ access_token: string }>);
    const headers = { Authorization: `Bearer ${token.access_token}` };
    await client.spreadsheets.values.update({ spreadsheetId: 'typed', range: 'Budget!A1:D1', valueInputOption: 'RAW', requestBody: { values: [['item', 'cost', 'share', 'due']] } }, { headers });
    await client.spreadsheets.values.batchUpdate(
      { spreadsheetId: 'typed', requestBody: { valueInputOption: 'USER_ENTERED', data: [{ range: 'Budget!A2', values: [['rent', '$1,200.50', '40%', '2025-03-01'], ['food', '$300', '10%', '2025-03-15']] }, { range: 'Budget!A4:D4', values: [['misc', '12', '', 'TRUE']] }] } },
      { headers },
    );
    const got = await client.spreadsheets.values.batchGet({ spreadsheetId: 'typed', ranges: ['Budget!A1:D2', 'Budget!D2:D3'], valueRenderOption: 'FORMATTED_VALUE' }, { headers });
    expect(got.data.valueRanges?.map((r) => r.values)).toEqual([[['item', 'cost', 'share', 'due'], ['rent', '$1200.50', '40%', '2025-03-01']], [['2025-03-01'], ['2025-03-15']]]);
    const source = googleSheetsSource();
    const config = { sheets: [{ id: 'typed', object: 'budget', range: 'Budget!A1:D3' }], ...base(fake) };
    const [d] = await source.discover(source.configSchema.parse(config), testRunContext());
    expect(d?.schema.map((f) => [f.name, f.type.kind])).toEqual([['item', 'string'], ['cost', 'float64'], ['share', 'float64'], ['due', 'date']]);
    const { rows } = await readAll(config, [{ name: 'budget', schema: d?.schema ?? [], syncMode: 'full_refresh' }]);
    expect(rows).toEqual([
      { item: 'rent', cost: 1200.5, share: 0.4, due: '2025-03-01' },
      { item: 'food', cost: 300, share: 0.1, due: '2025-03-15' },
    ]);
  });

  it('v1 sheets entries parse as written (spreadsheet_id, sheet_id, object)', () => {
    const parsed = sheetsSourceConfigSchema.parse({ sheets: [{ spreadsheet_id: '1AbcDEFsheetID', sheet_id: 0, object: 'vendors_master' }], credentials: { file: 'k.json' } });
    expect(parsed.sheets?.[0]).toMatchObject({ id: '1AbcDEFsheetID', sheet_id: 0, object: 'vendors_master', has_header: true });
  });
});
