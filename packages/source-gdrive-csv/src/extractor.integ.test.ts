import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { DativoError, mergeResilience, readRows, ResilienceService, type Checkpoint, type ConfiguredStream, type ExtractMessage, type FieldSpec } from '@dativo/core';
import { describeExtractorConformance, reliabilityRow, tempDir, testRunContext, type TestRunContext } from '@dativo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gdriveCsvConfigSchema } from './config.js';
import { FOLDER_MIME, SHEET_MIME, startFakeDrive, type FakeDrive } from './fake-drive.js';
import { gdriveCsvHead, gdriveCsvSource } from './index.js';

/** Google's own Drive client (`@googleapis/drive`) against the Drive fake, the CSV engine behind it. */
const scratch = tempDir('dativo-gdrive-');
afterAll(() => scratch.cleanup());

function keyFile(drive: FakeDrive): string {
  const file = path.join(scratch.path, `key-${drive.url.split(':').at(-1)}.json`);
  writeFileSync(file, JSON.stringify(drive.serviceAccountKey));
  return file;
}

/** `rows` lines of `id,name,amount,closed_on` with quoting, unicode and empty cells. */
function csv(first: number, rows: number): Buffer {
  const lines = ['id,name,amount,closed_on'];
  for (let i = first; i < first + rows; i++) lines.push(`${i},"${i % 7 === 0 ? 'Zoë, ""the"" ' : 'Ünïcode ✓ '}${i}",${i % 5 === 0 ? '' : `${i}.25`},2025-0${(i % 9) + 1}-1${i % 10}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n`);
}

const SCHEMA: FieldSpec[] = [
  { name: 'id', type: { kind: 'int64' }, nullable: false },
  { name: 'name', type: { kind: 'string' }, nullable: true },
  { name: 'amount', type: { kind: 'float64' }, nullable: true },
  { name: 'closed_on', type: { kind: 'date' }, nullable: true },
];

let conf: FakeDrive;
describeExtractorConformance('gdrive_csv', {
  create: () => gdriveCsvSource(),
  setup: async () => {
    conf = await startFakeDrive();
    conf.add({ id: 'folder-1', name: 'exports', mimeType: FOLDER_MIME });
    conf.add({ id: 'f-a', name: 'a.csv', mimeType: 'text/csv', parents: ['folder-1'], content: csv(1, 700) });
    conf.add({ id: 'f-b', name: 'b.csv', mimeType: 'text/csv', parents: ['folder-1'], content: csv(701, 500) });
  },
  teardown: () => conf.close(),
  config: () => ({ folder: 'folder-1', credentials: { file: keyFile(conf) }, api_root: conf.root }),
  invalidConfigs: () => [
    { config: { credentials: { file: keyFile(conf) }, api_root: conf.root }, field: 'files' },
    { config: { folder: 'folder-1', api_root: conf.root }, field: 'credentials' },
    { config: { folder: 'folder-1', credentials: { file: '/nonexistent/key.json' }, api_root: conf.root }, field: 'credentials.file' },
    { config: { files: [{ id: 'no-such-file' }], credentials: { file: keyFile(conf) }, api_root: conf.root }, field: 'no-such-file' },
  ],
  incremental: {
    streams: (discovered) => discovered.map((d) => ({ name: d.name, schema: d.schema, syncMode: 'incremental' })),
    append: async () => {
      await new Promise((r) => setTimeout(r, 5));
      conf.add({ id: `f-new-${Date.now()}`, name: 'c.csv', mimeType: 'text/csv', parents: ['folder-1'], content: csv(5_000, 40), modifiedTime: Date.now() });
      await new Promise((r) => setTimeout(r, 5));
      return 40;
    },
  },
});

function fast(): TestRunContext {
  const ctx = testRunContext();
  ctx.resilience = new ResilienceService('gdrive_csv', mergeResilience(gdriveCsvHead.spec.limits, { rateLimit: { requestsPerSecond: 1_000, burst: 100 }, retry: { baseDelayMs: 5, maxDelayMs: 50 } }), { log: ctx.log });
  return ctx;
}

async function read(stream: ConfiguredStream, raw: Record<string, unknown>, ctx = fast()): Promise<{ rows: Array<Record<string, unknown>>; checkpoints: Checkpoint[]; rejected: number }> {
  const out = { rows: [] as Array<Record<string, unknown>>, checkpoints: [] as Checkpoint[], rejected: 0 };
  for await (const m of gdriveCsvSource().read(gdriveCsvConfigSchema.parse(raw), { streams: [stream] }, ctx) as AsyncIterable<ExtractMessage>) {
    if (m.kind === 'batch') out.rows.push(...readRows(m.batch, stream.schema));
    else if (m.kind === 'checkpoint') out.checkpoints.push(m.checkpoint);
    else if (m.kind === 'rejected') out.rejected++;
  }
  return out;
}

describe('gdrive_csv source', () => {
  let drive: FakeDrive;
  const base = () => ({ credentials: { file: keyFile(drive) }, api_root: drive.root });
  const stream = (syncMode: 'full_refresh' | 'incremental' = 'full_refresh', resumeFrom?: Checkpoint): ConfiguredStream => ({ name: 'deals', schema: SCHEMA, syncMode, ...(resumeFrom ? { resumeFrom } : {}) });
  const media = () => drive.http.requests.filter((r) => r.query.get('alt') === 'media' || r.path.endsWith('/export'));

  beforeAll(async () => {
    drive = await startFakeDrive();
    drive.add({ id: 'root-folder', name: 'sales', mimeType: FOLDER_MIME });
    drive.add({ id: 'sub-folder', name: 'archive', mimeType: FOLDER_MIME, parents: ['root-folder'] });
    drive.add({ id: 'd1', name: 'deals_2025_01.csv', mimeType: 'text/csv', parents: ['root-folder'], content: csv(1, 3_000) });
    drive.add({ id: 'd2', name: 'deals_2025_02.csv', mimeType: 'text/csv', parents: ['root-folder'], content: csv(3_001, 2_000) });
    drive.add({ id: 'd3', name: 'deals_2024.csv', mimeType: 'text/csv', parents: ['sub-folder'], content: csv(9_001, 500) });
    drive.add({ id: 'notes', name: 'notes.txt', mimeType: 'text/plain', parents: ['root-folder'], content: Buffer.from('not a csv') });
    drive.add({ id: 'sheet', name: 'deals_manual', mimeType: SHEET_MIME, parents: ['root-folder'], content: csv(20_001, 50) });
    drive.add({ id: 'trashed', name: 'deals_old.csv', mimeType: 'text/csv', parents: ['root-folder'], trashed: true, content: csv(1, 10) });
  });
  afterAll(() => drive.close());

  it('reads a folder, recursively, Sheets exported as CSV, every value typed as the local CSV source types it', async () => {
    const out = await read(stream(), { ...base(), folder: { id: 'root-folder', recursive: true } });
    expect(out.rows.length).toBe(3_000 + 2_000 + 500 + 50);
    expect(new Set(out.rows.map((r) => r.id)).size).toBe(out.rows.length);
    expect(out.rows.find((r) => r.id === 7n)).toEqual({ id: 7n, name: 'Zoë, "the" 7', amount: 7.25, closed_on: '2025-08-17' });
    expect(out.rows.find((r) => r.id === 10n)).toMatchObject({ name: 'Ünïcode ✓ 10', amount: null });
    expect(out.rows.some((r) => r.id === 20_001n)).toBe(true);
    const top = await read(stream(), { ...base(), folder: { id: 'root-folder', name_pattern: 'deals_2025_*.csv' } });
    expect(top.rows.length).toBe(5_000);
  });

  it('incremental: unchanged files are not downloaded; a changed file is read again', async () => {
    const first = await read(stream('incremental'), { ...base(), folder: 'root-folder', incremental: { strategy: 'file_modified_time' } });
    expect(first.rows.length).toBe(5_050);
    const before = media().length;
    const none = await read(stream('incremental', first.checkpoints.at(-1)), { ...base(), folder: 'root-folder' });
    expect(none.rows.length).toBe(0);
    expect(media().length).toBe(before);
    await new Promise((r) => setTimeout(r, 5));
    drive.change('d2', csv(3_001, 2_100));
    await new Promise((r) => setTimeout(r, 5));
    const changed = await read(stream('incremental', none.checkpoints.at(-1)), { ...base(), folder: 'root-folder' });
    expect(changed.rows.length).toBe(2_100);
    expect(media().slice(before).map((r) => r.path)).toEqual(['/drive/v3/files/d2']);
  });

  it('a download cut halfway resumes with a Range request; a server that ignores Range gives the same rows, none twice', async () => {
    const big = csv(100_000, 40_000);
    drive.add({ id: 'big', name: 'big.csv', mimeType: 'text/csv', content: big });
    for (const honour of [true, false]) {
      drive.honourRange = honour;
      const before = drive.http.requests.length;
      drive.http.failNext(2, { reset: 'mid-body' }, (r) => r.path === '/drive/v3/files/big' && r.query.get('alt') === 'media');
      const ctx = fast();
      const out = await read(stream(), { ...base(), files: [{ id: 'big', object: 'deals' }] }, ctx);
      expect(out.rows.length).toBe(40_000);
      expect(new Set(out.rows.map((r) => r.id)).size).toBe(40_000);
      const ranges = drive.http.requests.slice(before).filter((r) => r.query.get('alt') === 'media').map((r) => String(r.headers.range ?? ''));
      expect(ranges.length).toBe(3);
      expect(ranges.slice(1).every((r) => /^bytes=[1-9]\d*-$/.test(r))).toBe(true);
      expect(ctx.logs.records().filter((r) => r.msg === 'download broke; resuming from where it stopped').length).toBe(2);
    }
    drive.honourRange = true;
    reliabilityRow({ connector: 'Google Drive CSV source', fault: 'a download reset halfway (twice), with and without `Range` support', outcome: 'resumed by `Range` (or the bytes already read skipped): every row once' });
  });

  it("a download that ends cleanly short of the file's size is a break, not the end: resumed from there, every row once; a file that stays short fails", async () => {
    const big = csv(30_000, 10_000);
    drive.add({ id: 'cut', name: 'cut.csv', mimeType: 'text/csv', content: big });
    const media = (r: { path: string; query: URLSearchParams }) => r.path === '/drive/v3/files/cut' && r.query.get('alt') === 'media';
    // Half the body sent as a complete answer (right Content-Length, no error), twice.
    drive.http.failNext(2, { truncate: true }, media);
    const ctx = fast();
    const out = await read(stream(), { ...base(), files: [{ id: 'cut', object: 'deals' }] }, ctx);
    expect(out.rows.length).toBe(10_000);
    expect(new Set(out.rows.map((r) => r.id)).size).toBe(10_000);
    expect(ctx.logs.records().filter((r) => r.msg === 'download broke; resuming from where it stopped').map((r) => String(r.error))).toEqual([
      expect.stringMatching(/^the download ended at byte \d+ of \d+$/),
      expect.stringMatching(/^the download ended at byte \d+ of \d+$/),
    ]);
    // Short every time: the read fails (classified), it does not succeed with part of the file.
    // (The unused faults only ever match this file.)
    drive.http.failNext(10, { truncate: true }, media);
    await expect(read(stream(), { ...base(), files: [{ id: 'cut', object: 'deals' }], download_retries: 2 }, fast())).rejects.toMatchObject({ code: 'GDRIVE_DOWNLOAD', message: expect.stringMatching(/the download broke 3 times .*ended at byte/) });
    reliabilityRow({ connector: 'Google Drive CSV source', fault: 'a body that ends cleanly short of the file\'s size (complete-looking answer)', outcome: 'a break, not the end: resumed from there, every row once; short every time: fails, classified' });
  });

  it('resumes a file from a checkpoint by byte offset, exactly the rows after it', async () => {
    const ctx = Object.assign(fast(), { batchLimits: { maxRows: 1_000, maxBytes: 1 << 24 } });
    const full = await read(stream(), { ...base(), files: [{ id: 'd1', object: 'deals' }] }, ctx);
    const mid = full.checkpoints.find((c) => (c.state as { file: { offset?: number } | null }).file?.offset);
    expect(mid).toBeDefined();
    const before = drive.http.requests.length;
    const rest = await read(stream('full_refresh', mid), { ...base(), files: [{ id: 'd1', object: 'deals' }] }, ctx);
    // The header line, then the rest from the checkpoint's byte.
    expect(drive.http.requests.slice(before).filter((r) => r.query.get('alt') === 'media').map((r) => String(r.headers.range ?? 'none'))).toEqual(['none', expect.stringMatching(/^bytes=[1-9]\d+-$/)]);
    const at = full.rows.findIndex((r) => r.id === rest.rows[0]?.id);
    expect(rest.rows).toEqual(full.rows.slice(at));
    expect(at).toBeGreaterThan(0);
  });

  it('quota 403s are retried; a missing file, a file not shared and bad credentials are clear errors', async () => {
    const ctx = fast();
    drive.http.failNext(2, { status: 403, body: { error: { code: 403, message: 'User Rate Limit Exceeded', errors: [{ domain: 'usageLimits', reason: 'userRateLimitExceeded', message: 'User Rate Limit Exceeded' }], status: 'PERMISSION_DENIED' } } }, (r) => r.path === '/drive/v3/files');
    const out = await read(stream(), { ...base(), folder: 'root-folder' }, ctx);
    expect(out.rows.length).toBe(5_150);
    expect(ctx.logs.records().some((r) => r.msg === 'retrying after a failure' && r.kind === 'rate_limit')).toBe(true);
    const missing = await read(stream(), { ...base(), files: [{ id: 'gone' }] }).catch((e: unknown) => e);
    expect(DativoError.isInstance(missing) && missing.kind).toBe('config');
    expect((missing as Error).message).toMatch(/^GET drive\/v3\/files\/\{fileId\} \(file gone\): not found \(HTTP 404\)/);
    drive.forbidden.add('d3');
    const forbidden = await read(stream(), { ...base(), files: [{ id: 'd3' }] }).catch((e: unknown) => e);
    expect((forbidden as Error).message).toMatch(/\(file d3\): permission denied \(HTTP 403, insufficientFilePermissions\)/);
    drive.forbidden.delete('d3');
    const badKey = path.join(scratch.path, 'bad-key.json');
    writeFileSync(badKey, JSON.stringify({ ...drive.serviceAccountKey, client_email: 'someone-else@x.iam.gserviceaccount.com' }));
    const refused = await read(stream(), { ...base(), credentials: { file: badKey }, folder: 'root-folder' }).catch((e: unknown) => e);
    expect(DativoError.isInstance(refused) && refused.kind).toBe('config');
    expect((refused as Error).message).not.toMatch(/PRIVATE KEY/);
    reliabilityRow({ connector: 'Google Drive CSV source', fault: '403 `userRateLimitExceeded`; a missing file, a file not shared, bad credentials', outcome: 'quota retried; the others fail at once naming the file or key file, never the key' });
  });
});
