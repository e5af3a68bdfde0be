import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { BatchBuilder, DativoError, mergeResilience, parseDataType, readRows, ResilienceService, type FieldSpec, type StreamDescriptor } from '@dativo/core';
import { describeSinkConformance, tempDir, testRunContext, type TestRunContext } from '@dativo/testing';
import type { RecordBatch } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeSheets, type FakeSheets } from './fake-sheets.js';
import { googleSheetsSink, googleSheetsSource, sheetsTargetHead } from './index.js';

/** The Sheets target through Google's own client against the Sheets fake; written tabs read back by the fake and by the source. */
const scratch = tempDir('dativo-sheets-sink-');
afterAll(() => scratch.cleanup());

const FIELDS: FieldSpec[] = [
  { name: 'id', type: parseDataType('bigint'), nullable: false },
  { name: 'name', type: parseDataType('string'), nullable: true },
  { name: 'amount', type: parseDataType('decimal(12,2)'), nullable: true },
  { name: 'ratio', type: parseDataType('double'), nullable: true },
  { name: 'paid', type: parseDataType('boolean'), nullable: true },
  { name: 'day', type: parseDataType('date'), nullable: true },
  { name: 'at', type: parseDataType('timestamp'), nullable: true },
];
const STREAM: StreamDescriptor = { name: 'orders', schema: FIELDS, syncModes: ['full_refresh'] };

function batches(count: number, rows: number, start = 0): RecordBatch[] {
  const out: RecordBatch[] = [];
  for (let b = 0; b < count; b++) {
    const builder = new BatchBuilder(FIELDS, { maxRows: rows });
    for (let i = 0; i < rows; i++) {
      const id = start + b * rows + i;
      builder.appendRecord({
        id: BigInt(id),
        name: id % 11 === 0 ? `=SUM(A1:A${id}) "Zoë", ✓` : id % 13 === 0 ? null : `order ${id}`,
        amount: `${id}.${String(id % 100).padStart(2, '0')}`,
        ratio: id % 7 === 0 ? null : id / 8,
        paid: id % 3 === 0,
        day: new Date(Date.UTC(2024, 0, 1 + (id % 400))),
        at: new Date(Date.UTC(2024, 0, 1) + id * 61_000),
      });
    }
    out.push(builder.flush() as RecordBatch);
  }
  return out;
}

function keyFile(fake: FakeSheets): string {
  const file = path.join(scratch.path, `key-${fake.url.split(':').at(-1)}.json`);
  writeFileSync(file, JSON.stringify(fake.serviceAccountKey));
  return file;
}
const base = (fake: FakeSheets) => ({ credentials: { file: keyFile(fake) }, api_root: fake.root, reads_per_minute: 100_000, writes_per_minute: 100_000 });

function fastContext(owner: { tenant?: string; job?: string } = {}): TestRunContext {
  const ctx = testRunContext(owner);
  ctx.resilience = new ResilienceService('google_sheets', mergeResilience(sheetsTargetHead.spec.limits, { rateLimit: { requestsPerSecond: 1_000, burst: 100 }, retry: { baseDelayMs: 5, maxDelayMs: 50 } }), { log: ctx.log });
  return ctx;
}

const dataRows = (fake: FakeSheets, id: string, tab: string) => {
  try {
    return Math.max(0, fake.values(id, tab).length - 1);
  } catch {
    return 0;
  }
};

let conf: FakeSheets;
describeSinkConformance('google_sheets (append)', {
  create: () => googleSheetsSink(),
  setup: async () => {
    conf = await startFakeSheets();
    conf.add('conf-target', [{ title: 'Sheet1' }]);
  },
  teardown: () => conf.close(),
  config: () => ({ spreadsheet_id: 'conf-target', range: 'orders!A1', mode: 'append', chunk_rows: 700, ...base(conf) }),
  stream: STREAM,
  batches: () => batches(3, 500),
  visibleRows: async () => dataRows(conf, 'conf-target', 'orders'),
  invalidConfigs: () => [
    { config: { spreadsheet_id: 'conf-target', mode: 'upsert', ...base(conf) }, field: 'mode' },
    { config: { range: 'A1', ...base(conf) }, field: 'spreadsheet_id' },
    { config: { spreadsheet_id: 'conf-target', range: 'orders!B2', ...base(conf) }, field: 'target.range' },
  ],
  failurePoints: ['sheets:before-commit', 'sheets:committed'],
});

describe('google_sheets target', () => {
  let fake: FakeSheets;
  beforeAll(async () => {
    fake = await startFakeSheets();
  });
  afterAll(() => fake.close());

  async function run(config: Record<string, unknown>, input: RecordBatch[], options: { ctx?: TestRunContext; resumed?: boolean; commitEvery?: number; failAfterCommits?: number } = {}): Promise<void> {
    const sink = googleSheetsSink();
    const ctx = options.ctx ?? fastContext();
    const writer = await sink.open(sink.configSchema.parse({ ...base(fake), ...config }), STREAM, ctx);
    await writer.begin?.({ resumed: options.resumed ?? false });
    let commits = 0;
    try {
      for (const [i, b] of input.entries()) {
        await writer.write(b);
        if ((i + 1) % (options.commitEvery ?? input.length) === 0) {
          await writer.commit({ stream: STREAM.name, state: { batch: i } });
          if (++commits === options.failAfterCommits) throw new Error('the source failed');
        }
      }
      if (input.length % (options.commitEvery ?? input.length) !== 0 || input.length === 0) await writer.commit({ stream: STREAM.name, state: { batch: input.length - 1 } });
    } catch (error) {
      await writer.abort();
      await writer.close();
      throw error;
    }
    await writer.close();
  }

  it('replace: typed cells (numbers stay numbers, dates as dates, text never a formula), the tab swapped whole at the end, the old content until then', async () => {
    fake.add('rep', [{ title: 'Orders', rows: [['old header', 'x', 'y'], ...Array.from({ length: 40 }, (_, i) => [`old ${i}`, i, i])], merges: [{ startRowIndex: 0, endRowIndex: 1, startColumnIndex: 1, endColumnIndex: 3 }] }, { title: 'Other', rows: [['keep me']] }]);
    const sink = googleSheetsSink();
    const writer = await sink.open(sink.configSchema.parse({ ...base(fake), spreadsheet_id: 'rep', range: 'Orders!A1:Z1000', chunk_rows: 100 }), STREAM, fastContext());
    await writer.begin?.({ resumed: false });
    for (const b of batches(3, 150)) await writer.write(b);
    await writer.commit({ stream: 'orders', state: { n: 1 } });
    expect(fake.values('rep', 'Orders')[0]).toEqual(['old header', 'x', 'y']);
    await writer.close();
    const values = fake.values('rep', 'Orders');
    expect(values).toHaveLength(451);
    expect(values[0]).toEqual(FIELDS.map((f) => f.name));
    expect(fake.tab('rep', 'Orders')).toMatchObject({ rowCount: 451, columnCount: 7, frozenRowCount: 1, merges: [] });
    expect(values[12]).toEqual([11, '=SUM(A1:A11) "Zoë", ✓', 11.11, 11 / 8, false, expect.closeTo(45303, 6), expect.closeTo(45292 + (11 * 61) / 86_400, 6)]);
    expect(fake.cell('rep', 'Orders', 12, 5)?.f).toBe('DATE');
    expect(fake.cell('rep', 'Orders', 12, 6)?.f).toBe('DATE_TIME');
    expect(values[14]?.[1]).toBe('');
    expect(fake.values('rep', 'Other')).toEqual([['keep me']]);
    expect(fake.spreadsheets.get('rep')?.tabs.filter((t) => t.title.startsWith('_dativo_stage')).length).toBe(0);
    // Read back by the source, with the table's own schema: equal to the input.
    const source = googleSheetsSource();
    const got: Array<Record<string, unknown>> = [];
    for await (const m of source.read(source.configSchema.parse({ ...base(fake), sheets: [{ id: 'rep', sheet: 'Orders', object: 'orders' }] }), { streams: [{ name: 'orders', schema: FIELDS, syncMode: 'full_refresh' }] }, fastContext())) {
      if (m.kind === 'batch') got.push(...readRows(m.batch, FIELDS));
    }
    const want = batches(3, 150).flatMap((b) => [...readRows(b, FIELDS)]);
    expect(got).toEqual(want);
  });

  it('replace: a run that fails after committing leaves the old content; the resumed run completes the table without duplicates', async () => {
    fake.add('fail', [{ title: 'T', rows: [['before'], ['old']] }]);
    const config = { spreadsheet_id: 'fail', sheet: 'T', chunk_rows: 50 };
    const ctx = () => fastContext({ tenant: 'acme', job: 'to-sheets' });
    await expect(run(config, batches(4, 100), { ctx: ctx(), commitEvery: 1, failAfterCommits: 2 })).rejects.toThrow('the source failed');
    expect(fake.values('fail', 'T')).toEqual([['before'], ['old']]);
    const sink = googleSheetsSink();
    const probe = await sink.open(sink.configSchema.parse({ ...base(fake), ...config }), STREAM, ctx());
    expect(await probe.lastCommitted()).toEqual({ stream: 'orders', state: { batch: 1 } });
    await probe.close();
    // The next run resumes after batch 1 and sends batches 2 and 3.
    await run(config, batches(4, 100).slice(2), { ctx: ctx(), resumed: true });
    const values = fake.values('fail', 'T');
    expect(values.slice(1).map((r) => r[0])).toEqual(Array.from({ length: 400 }, (_, i) => i));
    // A later run that starts over replaces it all; one that has nothing new keeps it.
    await run(config, batches(1, 10, 1000), { ctx: ctx(), resumed: false });
    expect(fake.values('fail', 'T').slice(1).map((r) => r[0])).toEqual(Array.from({ length: 10 }, (_, i) => 1000 + i));
    await run(config, [], { ctx: ctx(), resumed: true });
    expect(fake.values('fail', 'T')).toHaveLength(11);
  });

  it('replace into a tab that does not exist creates it (the staged tab renamed in the same batch)', async () => {
    fake.add('new-tab', [{ title: 'Sheet1', rows: [['untouched']] }]);
    await run({ spreadsheet_id: 'new-tab', range: "'Q3 orders'!A1" }, batches(1, 20));
    expect(fake.values('new-tab', 'Q3 orders')).toHaveLength(21);
    expect(fake.tab('new-tab', 'Q3 orders')?.hidden).toBe(false);
    expect(fake.values('new-tab', 'Sheet1')).toEqual([['untouched']]);
  });

  it('append: rows added below, the header written once; a tab with another header is refused', async () => {
    fake.add('app', [{ title: 'Log', rows: [FIELDS.map((f) => f.name), [0, 'by hand']] }]);
    await run({ spreadsheet_id: 'app', range: 'Log', mode: 'append' }, batches(2, 30, 1));
    await run({ spreadsheet_id: 'app', range: 'Log', mode: 'append' }, batches(1, 5, 100));
    const values = fake.values('app', 'Log');
    expect(values.map((r) => r[0])).toEqual(['id', 0, ...Array.from({ length: 60 }, (_, i) => i + 1), 100, 101, 102, 103, 104]);
    expect(fake.tab('app', 'Log')?.rowCount).toBe(67);
    fake.add('other', [{ title: 'Log', rows: [['a', 'b']] }]);
    const error = await run({ spreadsheet_id: 'other', range: 'Log', mode: 'append' }, batches(1, 5)).catch((e: unknown) => e);
    expect(DativoError.isInstance(error) && error.code).toBe('SHEETS_HEADER_MISMATCH');
    expect((error as Error).message).toContain("tab 'Log' of spreadsheet other has the columns a, b");
  });

  it('writes in chunks under the request-size limit (rows and bytes)', async () => {
    fake.add('chunks', [{ title: 'Sheet1' }]);
    fake.maxRequestBytes = 400_000;
    try {
      const before = fake.http.requests.length;
      await run({ spreadsheet_id: 'chunks', chunk_rows: 50_000, chunk_bytes: 200_000 }, batches(4, 1_000));
      const writes = fake.http.requests.slice(before).filter((r) => r.path.endsWith(':batchUpdate'));
      expect(writes.length).toBeGreaterThan(4);
      for (const w of writes) expect(w.body.length).toBeLessThan(400_000);
      expect(fake.values('chunks', 'Sheet1')).toHaveLength(4_001);
    } finally {
      fake.maxRequestBytes = 10 * 1024 * 1024;
    }
  });

  it('a spreadsheet the credentials may not change is a clear error naming it', async () => {
    fake.add('locked', [{ title: 'Sheet1' }]);
    fake.forbidden.add('locked');
    const error = await run({ spreadsheet_id: 'locked' }, batches(1, 5)).catch((e: unknown) => e);
    expect(DativoError.isInstance(error) && error.kind).toBe('config');
    expect((error as Error).message).toMatch(/\(spreadsheet locked\): permission denied \(HTTP 403/);
  });
});
