import { mkdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LocalFileStateStore, STATE_HISTORY_RUNS, type Checkpoint, type ConfiguredStream, type Extractor, type FieldSpec } from '@dativo/core';
import { csvSource } from '@dativo/source-csv';
import { postgresSource } from '@dativo/source-postgres';
import { tempDir, testRunContext } from '@dativo/testing';
import { tempMysqlDatabase, tempPostgresDatabase, type TempDatabase, type TempMysqlDatabase } from '@dativo/testing/sql';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startFakeSheets, type FakeSheets } from '../packages/connector-google-sheets/src/fake-sheets.js';
import { googleSheetsSource } from '../packages/connector-google-sheets/src/index.js';
import { FOLDER_MIME, startFakeDrive, type FakeDrive } from '../packages/source-gdrive-csv/src/fake-drive.js';
import { gdriveCsvSource } from '../packages/source-gdrive-csv/src/index.js';
import { startFakeHubSpot, type FakeHubSpot } from '../packages/source-hubspot/src/fake-hubspot.js';
import { hubspotSource } from '../packages/source-hubspot/src/index.js';
import { mysqlSource } from '../packages/source-mysql/src/index.js';
import { startFakeStripe, type FakeStripe } from '../packages/source-stripe/src/fake-stripe.js';
import { stripeSource } from '../packages/source-stripe/src/index.js';

/**
 * State stays small whatever the history (issue 13, acceptance 6): 1,000 incremental runs of each
 * source, each after the source changed, and the state file a run leaves (its checkpoint, run id
 * and record-count history, written by the local state store) stays under 4 KB.
 */
const RUNS = 1_000;
const LIMIT = 4_096;
const scratch = tempDir('dativo-state-size-');
afterAll(() => scratch.cleanup());

/** Runs `runs` incremental reads, each resumed from the last checkpoint after `change(i)`; returns the largest state file, in bytes. */
async function largestState<C>(source: Extractor<C>, rawConfig: unknown, stream: Omit<ConfiguredStream, 'resumeFrom'>, change: (i: number) => Promise<void> | void, runs = RUNS): Promise<{ largest: number; rows: number }> {
  const config = source.configSchema.parse(rawConfig);
  const store = new LocalFileStateStore(path.join(scratch.path, 'state', source.spec.id));
  const key = { tenant: 'acme', job: `state-size-${source.spec.id}`, stream: stream.name };
  const history = Array.from({ length: STATE_HISTORY_RUNS }, () => 1_000_000);
  let last: Checkpoint | undefined;
  let largest = 0;
  let rows = 0;
  for (let i = 0; i < runs; i++) {
    await change(i);
    const ctx = testRunContext();
    for await (const m of source.read(config, { streams: [{ ...stream, ...(last ? { resumeFrom: last } : {}) }] }, ctx)) {
      if (m.kind === 'checkpoint') last = m.checkpoint;
      if (m.kind === 'batch') rows += m.batch.numRows;
    }
    // As the runner stores it: checkpoint, run id, and the longest history there can be.
    if (last) await store.put(key, last, ctx.runId, { history });
    largest = Math.max(largest, statSync(path.join(store.dir, 'acme', key.job, `${stream.name}.json`)).size);
  }
  return { largest, rows };
}

const FIELDS: FieldSpec[] = [
  { name: 'id', type: { kind: 'int64' }, nullable: false },
  { name: 'note', type: { kind: 'string' }, nullable: true },
];

describe('state stays small over 1,000 incremental runs', () => {
  it('CSV: a new file every run (incremental by file time)', async () => {
    const dir = scratch.path;
    const { largest, rows } = await largestState(
      csvSource(),
      { files: [{ path: path.join(dir, 'drop', '*.csv') }], incremental: { strategy: 'file_modified_time' } },
      { name: 'notes', schema: FIELDS, syncMode: 'incremental' },
      (i) => {
        const file = path.join(dir, 'drop', `part-${String(i).padStart(5, '0')}.csv`);
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, `id,note\n${i},run ${i}\n`);
        const at = new Date(Date.UTC(2025, 0, 1) + i * 1000);
        utimesSync(file, at, at);
      },
    );
    expect(rows).toBe(RUNS);
    expect(largest).toBeLessThan(LIMIT);
  });

  // The two SQL sources: a row added every run, read by its cursor.
  const SQL = [
    {
      name: 'PostgreSQL',
      source: postgresSource,
      database: () => tempPostgresDatabase('dativo_state_size'),
      table: 'CREATE TABLE notes (id bigint PRIMARY KEY, note text, updated_at timestamp NOT NULL)',
      insert: (i: number) => `INSERT INTO notes VALUES (${i}, 'run ${i}', TIMESTAMP '2025-01-01' + ${i} * INTERVAL '1 second')`,
    },
    {
      name: 'MySQL',
      source: mysqlSource,
      database: () => tempMysqlDatabase('dativo_state_size'),
      table: 'CREATE TABLE notes (id bigint PRIMARY KEY, note text, updated_at datetime(6) NOT NULL)',
      insert: (i: number) => `INSERT INTO notes VALUES (${i}, 'run ${i}', TIMESTAMP '2025-01-01 00:00:00' + INTERVAL ${i} SECOND)`,
    },
  ];
  for (const sql of SQL) {
    describe(sql.name, () => {
      let db: TempDatabase | TempMysqlDatabase;
      beforeAll(async () => {
        db = await sql.database();
        await db.exec(sql.table);
      });
      afterAll(() => db?.drop());

      it('a row added every run (incremental by cursor)', async () => {
        const { largest, rows } = await largestState(
          sql.source(),
          { connection: { uri: db.uri }, tables: [{ name: 'notes', object: 'notes' }], incremental: { cursor_field: 'updated_at' } },
          { name: 'notes', schema: FIELDS, syncMode: 'incremental', cursorField: 'updated_at', primaryKey: ['id'] },
          (i) => db.exec(sql.insert(i)).then(() => undefined),
        );
        expect(rows).toBe(RUNS);
        expect(largest).toBeLessThan(LIMIT);
      });
    });
  }

  describe('Google Sheets', () => {
    let fake: FakeSheets;
    beforeAll(async () => {
      fake = await startFakeSheets();
      fake.add('notes', [{ title: 'Notes', rows: [['id', 'note']], rowCount: 2_000 }]);
    });
    afterAll(() => fake?.close());

    it('a row added every run (incremental by the spreadsheet\'s modified time)', async () => {
      const key = path.join(scratch.path, 'sheets-key.json');
      writeFileSync(key, JSON.stringify(fake.serviceAccountKey));
      const { largest } = await largestState(
        googleSheetsSource(),
        { sheets: [{ id: 'notes', object: 'notes' }], credentials: { file: key }, api_root: fake.root, reads_per_minute: 1_000_000, incremental: { strategy: 'spreadsheet_modified_time' } },
        { name: 'notes', schema: FIELDS, syncMode: 'incremental' },
        (i) => {
          const s = fake.spreadsheets.get('notes');
          s?.tabs[0]?.cells.push([{ v: i }, { v: `run ${i}` }]);
          if (s) s.modifiedTime = Date.now() + 1;
        },
        // Each run re-reads the changed spreadsheet whole: fewer runs keep the test short, the state is the same shape.
        200,
      );
      expect(largest).toBeLessThan(LIMIT);
    });
  });

  describe('Stripe', () => {
    let fake: FakeStripe;
    beforeAll(async () => {
      fake = await startFakeStripe();
    });
    afterAll(() => fake?.close());
    // Stripe's windows are whole seconds up to "now": the clock (Date only; timers and sockets stay
    // real) moves ten seconds per run instead of the test sleeping through 1,000 seconds.
    afterEach(() => vi.useRealTimers());

    it('a customer added every run (incremental by created time and events)', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      const t0 = Date.UTC(2026, 0, 1) / 1000;
      vi.setSystemTime(t0 * 1000);
      const source = stripeSource();
      const raw = { api_key: fake.key, api_base: fake.url, objects: ['customers'], start_date: t0 - 86_400, incremental: { cursor_field: 'created' } };
      const [customers] = await source.discover(source.configSchema.parse(raw), testRunContext());
      const { largest, rows } = await largestState(source, raw, { name: 'customers', schema: customers?.schema ?? [], syncMode: 'incremental' }, (i) => {
        const at = t0 + i * 10;
        fake.add('/v1/customers', 1, { from: at, step: 0 });
        vi.setSystemTime((at + 5) * 1000);
      });
      expect(rows).toBe(RUNS);
      expect(largest).toBeLessThan(LIMIT);
    });
  });

  describe('HubSpot', () => {
    let fake: FakeHubSpot;
    beforeAll(async () => {
      fake = await startFakeHubSpot();
    });
    afterAll(() => fake?.close());

    it('a contact added every run (incremental search by last-modified time)', async () => {
      const source = hubspotSource();
      const raw = { access_token: fake.token, api_base: fake.url, objects: ['contacts'], search_rps: 1_000_000, start_date: '2024-01-01' };
      const [contacts] = await source.discover(source.configSchema.parse(raw), testRunContext());
      const { largest, rows } = await largestState(source, raw, { name: 'contacts', schema: contacts?.schema ?? [], syncMode: 'incremental' }, async () => {
        const at = Date.now() - 1;
        fake.add('contacts', 1, { modified: () => at });
        await new Promise((r) => setTimeout(r, 2));
      });
      expect(rows).toBe(RUNS);
      expect(largest).toBeLessThan(LIMIT);
    });
  });

  describe('Google Drive CSV', () => {
    let drive: FakeDrive;
    beforeAll(async () => {
      drive = await startFakeDrive();
      drive.add({ id: 'drop', name: 'drop', mimeType: FOLDER_MIME });
    });
    afterAll(() => drive?.close());

    it('a file added every run (incremental by modified time)', async () => {
      const key = path.join(scratch.path, 'drive-key.json');
      writeFileSync(key, JSON.stringify(drive.serviceAccountKey));
      const { largest, rows } = await largestState(
        gdriveCsvSource(),
        { folder: 'drop', credentials: { file: key }, api_root: drive.root, incremental: { strategy: 'file_modified_time' } },
        { name: 'notes', schema: FIELDS, syncMode: 'incremental' },
        async (i) => {
          drive.add({ id: `f-${i}`, name: `part-${i}.csv`, mimeType: 'text/csv', parents: ['drop'], content: Buffer.from(`id,note\n${i},run ${i}\n`), modifiedTime: Date.now() - 1 });
          await new Promise((r) => setTimeout(r, 2));
        },
      );
      expect(rows).toBe(RUNS);
      expect(largest).toBeLessThan(LIMIT);
    });
  });
});
