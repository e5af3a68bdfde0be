import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Checkpoint, ConfiguredStream, Extractor, FieldSpec } from '@dativo/core';
import { csvSource } from '@dativo/source-csv';
import { postgresSource } from '@dativo/source-postgres';
import { tempDir, testRunContext } from '@dativo/testing';
import { tempPostgresDatabase, type TempDatabase } from '@dativo/testing/sql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeSheets, type FakeSheets } from '../packages/connector-google-sheets/src/fake-sheets.js';
import { googleSheetsSource } from '../packages/connector-google-sheets/src/index.js';

/**
 * State stays small whatever the history (issue 13, acceptance 6): 1,000 incremental runs of a
 * source, each after the source changed, and the checkpoint a run ends with stays under 4 KB.
 */
const RUNS = 1_000;
const LIMIT = 4_096;
const scratch = tempDir('dativo-state-size-');
afterAll(() => scratch.cleanup());

/** Runs `runs` incremental reads, each resumed from the last checkpoint after `change(i)`; returns the largest final checkpoint, in bytes. */
async function largestState<C>(source: Extractor<C>, rawConfig: unknown, stream: Omit<ConfiguredStream, 'resumeFrom'>, change: (i: number) => Promise<void> | void, runs = RUNS): Promise<{ largest: number; rows: number }> {
  const config = source.configSchema.parse(rawConfig);
  let last: Checkpoint | undefined;
  let largest = 0;
  let rows = 0;
  for (let i = 0; i < runs; i++) {
    await change(i);
    for await (const m of source.read(config, { streams: [{ ...stream, ...(last ? { resumeFrom: last } : {}) }] }, testRunContext())) {
      if (m.kind === 'checkpoint') last = m.checkpoint;
      if (m.kind === 'batch') rows += m.batch.numRows;
    }
    largest = Math.max(largest, JSON.stringify(last).length);
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

  describe('PostgreSQL', () => {
    let db: TempDatabase;
    beforeAll(async () => {
      db = await tempPostgresDatabase('dativo_state_size');
      await db.exec('CREATE TABLE notes (id bigint PRIMARY KEY, note text, updated_at timestamp NOT NULL)');
    });
    afterAll(() => db?.drop());

    it('a row added every run (incremental by cursor)', async () => {
      const { largest, rows } = await largestState(
        postgresSource(),
        { connection: { uri: db.uri }, tables: [{ name: 'notes', object: 'notes' }], incremental: { cursor_field: 'updated_at' } },
        { name: 'notes', schema: FIELDS, syncMode: 'incremental', cursorField: 'updated_at', primaryKey: ['id'] },
        (i) => db.exec(`INSERT INTO notes VALUES (${i}, 'run ${i}', TIMESTAMP '2025-01-01' + ${i} * INTERVAL '1 second')`).then(() => undefined),
      );
      expect(rows).toBe(RUNS);
      expect(largest).toBeLessThan(LIMIT);
    });
  });

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
});
