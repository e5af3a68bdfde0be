import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { testRunContext } from '@dativo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FOLDER_MIME, startFakeDrive, type FakeDrive } from '../packages/source-gdrive-csv/src/fake-drive.js';
import { gdriveCsvSource } from '../packages/source-gdrive-csv/src/index.js';
import { startFakeHubSpot, type FakeHubSpot } from '../packages/source-hubspot/src/fake-hubspot.js';
import { hubspotSource } from '../packages/source-hubspot/src/index.js';
import { FIELDS, largestState, LIMIT, RUNS, stateScratch } from './state-size-helpers.js';

// State stays small over 1,000 incremental runs (issue 13): HubSpot and Google Drive here; the
// other sources in state-size.integ.test.ts.
const scratch = stateScratch();

describe('state stays small over 1,000 incremental runs', () => {
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
      const { largest, rows } = await largestState(scratch, source, raw, { name: 'contacts', schema: contacts?.schema ?? [], syncMode: 'incremental' }, async () => {
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
        scratch,
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
