import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain ES module of the repository's scripts (no types)
import { declaredRows, documentedRows, renderRows } from '../scripts/lib/reliability.mjs';
import { ROOT } from './helpers.js';

describe('docs/reliability.md', () => {
  it('holds exactly the connector × fault × outcome rows the tests declare (node scripts/reliability-table.mjs regenerates it)', () => {
    const declared = declaredRows(ROOT) as Array<{ connector: string; test: string }>;
    // Every connector of the issue has rows.
    for (const connector of ['PostgreSQL source', 'MySQL source', 'Stripe source', 'HubSpot source', 'Google Sheets source', 'Google Drive CSV source', 'CSV source', 'S3 (Parquet target)', 'Local Parquet target', 'Iceberg target', 'Google Sheets target']) {
      expect(declared.some((r) => r.connector === connector), connector).toBe(true);
    }
    const doc = readFileSync(path.join(ROOT, 'docs', 'reliability.md'), 'utf8');
    expect(documentedRows(doc)).toEqual(renderRows(declared));
  });
});
