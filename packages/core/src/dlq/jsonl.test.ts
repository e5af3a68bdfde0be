import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Redactor } from '../log/redact.js';
import { JsonlDeadLetterQueue, listDeadLetterFiles, readDeadLetterFile } from './jsonl.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dativo-dlq-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('JsonlDeadLetterQueue', () => {
  it('appends entries with full context and never writes secrets', async () => {
    const redactor = new Redactor();
    redactor.addSecret('s3cr3t-token-value');
    const dlq = new JsonlDeadLetterQueue(dir, { tenant: 'acme', job: 'people', runId: 'run-1' }, redactor);
    await dlq.put({
      time: '2026-01-01T00:00:00.000Z',
      tenant: 'acme',
      job: 'people',
      runId: 'run-1',
      stream: 'person',
      error: { kind: 'validation', message: "row 3, column 'age': 'abc' is not an integer (token s3cr3t-token-value)", code: 'CSV_BAD_VALUE' },
      raw: { age: 'abc', password: 'hunter22', note: 'uses s3cr3t-token-value' },
      context: { file: 'people.csv', row: 3, line: 4 },
    });
    await dlq.close();
    expect(dlq.count).toBe(1);
    const text = readFileSync(dlq.file, 'utf8');
    expect(text).not.toContain('s3cr3t-token-value');
    expect(text).not.toContain('hunter22');
    const entries = [];
    for await (const e of readDeadLetterFile(dlq.file)) entries.push(e);
    const [entry] = entries;
    expect(entry).toMatchObject({ stream: 'person', runId: 'run-1', error: { kind: 'validation', code: 'CSV_BAD_VALUE' }, raw: { age: 'abc', password: '[REDACTED]' }, context: { row: 3 } });
    expect(await listDeadLetterFiles(dir)).toMatchObject([{ tenant: 'acme', job: 'people', runId: 'run-1', entries: 1 }]);
  });

  it('creates nothing when no record was rejected', async () => {
    const dlq = new JsonlDeadLetterQueue(dir, { tenant: 'a', job: 'b', runId: 'c' });
    await dlq.close();
    expect(await listDeadLetterFiles(dir)).toEqual([]);
  });
});
