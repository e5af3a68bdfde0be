import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { csvSource } from '@dativo/source-csv';
import { postgresSource } from '@dativo/source-postgres';
import { testRunContext } from '@dativo/testing';
import { tempMysqlDatabase, tempPostgresDatabase, type TempDatabase, type TempMysqlDatabase } from '@dativo/testing/sql';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startFakeSheets, type FakeSheets } from '../packages/connector-google-sheets/src/fake-sheets.js';
import { googleSheetsSource } from '../packages/connector-google-sheets/src/index.js';
import { mysqlSource } from '../packages/source-mysql/src/index.js';
import { startFakeStripe, type FakeStripe } from '../packages/source-stripe/src/fake-stripe.js';
import { stripeSource } from '../packages/source-stripe/src/index.js';
import { FIELDS, largestState, LIMIT, RUNS, stateScratch } from './state-size-helpers.js';

// State stays small over 1,000 incremental runs (issue 13): files, databases, Sheets and Stripe here;
// HubSpot and Google Drive in state-size-saas.integ.test.ts.
const scratch = stateScratch();

describe('state stays small over 1,000 incremental runs', () => {
  it('CSV: a new file every run (incremental by file time)', async () => {
    const dir = scratch.path;
    const { largest, rows } = await largestState(
        scratch,
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
        scratch,
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
        scratch,
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
      const { largest, rows } = await largestState(scratch, source, raw, { name: 'customers', schema: customers?.schema ?? [], syncMode: 'incremental' }, (i) => {
        const at = t0 + i * 10;
        fake.add('/v1/customers', 1, { from: at, step: 0 });
        vi.setSystemTime((at + 5) * 1000);
      });
      expect(rows).toBe(RUNS);
      expect(largest).toBeLessThan(LIMIT);
    });
  });

});
