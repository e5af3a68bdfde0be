import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hasSpareEncoderThread } from '@dativo/parquet-kit/definition';
import { afterAll, describe, expect, it } from 'vitest';
import { warmUpJob } from './warm-up.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dativo-warm-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('warmUpJob', () => {
  it('says nothing and starts nothing for a job it cannot read or whose connectors have no warm-up', async () => {
    writeFileSync(path.join(dir, 'broken.yaml'), 'source_connector: [unclosed\n');
    writeFileSync(path.join(dir, 'sheets.yaml'), 'source_connector: csv\ntarget_connector: gsheets\n');
    writeFileSync(path.join(dir, 'unknown.yaml'), 'source_connector: nope\ntarget_connector: "@acme/not-installed"\n');
    for (const file of ['missing.yaml', 'broken.yaml', 'sheets.yaml', 'unknown.yaml']) await expect(warmUpJob(file, dir)).resolves.toBeUndefined();
    expect(hasSpareEncoderThread()).toBe(false);
  });

  it('starts the Parquet encoding thread for a job writing Parquet (v1 target names too)', async () => {
    writeFileSync(path.join(dir, 'job.yaml'), 'tenant_id: t\nsource_connector: csv\ntarget_connector: s3\nasset_path: a.yaml\n');
    await warmUpJob('job.yaml', dir);
    expect(hasSpareEncoderThread()).toBe(true);
  });
});
