import { describeExtractorConformance, testRunContext } from '@dativo/testing';
import { startHttpServer, type FakeHttpServer, type RecordedRequest } from '@dativo/testing/http';
import { afterAll, describe, expect, it } from 'vitest';
import { exampleSource } from './index.js';

/** A fake of the API: items sorted by (updated_at, id), paged by an opaque cursor (an offset here). */
interface Item {
  id: number;
  name: string;
  price: number;
  updated_at: string;
}
const items: Item[] = [];
const addItems = (from: number, count: number, day: string): number => {
  for (let i = from; i < from + count; i++) items.push({ id: i, name: `item ${i}`, price: i / 4, updated_at: `${day}T${String(Math.floor(i / 60) % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00Z` });
  return count;
};
addItems(1, 230, '2024-05-01');

function page(req: RecordedRequest) {
  if (req.headers.authorization !== 'Bearer test-key') return { status: 401, body: { error: 'unauthorized' } };
  const since = req.query.get('updated_since');
  const limit = Number(req.query.get('limit') ?? 100);
  const offset = Number(req.query.get('cursor') ?? 0);
  const rows = items.filter((i) => !since || Date.parse(i.updated_at) > Date.parse(since)).sort((a, b) => a.updated_at.localeCompare(b.updated_at) || a.id - b.id);
  const data = rows.slice(offset, offset + limit);
  return { body: { data, next_cursor: offset + limit < rows.length ? String(offset + limit) : null } };
}

let server: FakeHttpServer;
const config = (extra: Record<string, unknown> = {}) => ({ base_url: server.url, api_key: 'test-key', page_size: 40, ...extra });

afterAll(() => server?.close());

describeExtractorConformance('example source', {
  create: () => exampleSource(),
  setup: async () => {
    server = await startHttpServer({ routes: [{ method: 'GET', path: '/items', handler: page }] });
  },
  config: () => config(),
  invalidConfigs: () => [
    { config: { base_url: 'not a url', api_key: 'k' }, field: 'base_url' },
    { config: { base_url: 'http://127.0.0.1:1' }, field: 'api_key' },
    { config: config({ page_size: 5000 }), field: 'page_size' },
    { config: config({ api_key: 'wrong-key' }), field: 'api_key' },
  ],
  incremental: {
    streams: (discovered) => discovered.map((d) => ({ name: d.name, schema: d.schema, syncMode: 'incremental', cursorField: 'updated_at' })),
    append: async () => addItems(1000, 55, '2024-06-01'),
  },
});

describe('example source', () => {
  it('retries a rate-limited page (429 with Retry-After) and loses nothing', async () => {
    const source = exampleSource();
    const cfg = source.configSchema.parse(config());
    server.failNext(1, { status: 429, headers: { 'retry-after': '0' }, body: { error: 'slow down' } });
    const ctx = testRunContext();
    let rows = 0;
    for await (const m of source.read(cfg, { streams: [{ name: 'items', schema: (await source.discover(cfg, ctx))[0]!.schema, syncMode: 'full_refresh' }] }, ctx)) if (m.kind === 'batch') rows += m.batch.numRows;
    expect(rows).toBe(items.length);
    expect(ctx.logs.records().some((r) => r.msg === 'retrying after a failure')).toBe(true);
  });
});
