import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Redactor } from '../log/redact.js';
import { RefusingDeadLetterQueue } from './dlq.js';
import { JsonlDeadLetterQueue, listDeadLetterFiles, pruneDeadLetters, readDeadLetterFile } from './jsonl.js';

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
    expect(entry).toMatchObject({ stream: 'person', runId: 'run-1', error: { kind: 'validation', code: 'CSV_BAD_VALUE' }, raw: { age: 'abc', password: '[REDACTED]' }, context: { row: 3 }, attempt: 1 });
    expect(path.relative(dir, dlq.file).split(path.sep)).toEqual(['acme', 'people', new Date().toISOString().slice(0, 10), 'run-1.jsonl']);
    expect(await listDeadLetterFiles(dir)).toMatchObject([{ tenant: 'acme', job: 'people', runId: 'run-1', entries: 1 }]);
  });

  it('creates nothing when no record was rejected', async () => {
    const dlq = new JsonlDeadLetterQueue(dir, { tenant: 'a', job: 'b', runId: 'c' });
    await dlq.close();
    expect(await listDeadLetterFiles(dir)).toEqual([]);
  });

  it('retention: day partitions older than the limit are deleted, for the tenant only', async () => {
    const entry = (tenant: string) => ({ time: 't', tenant, job: 'j', runId: 'r', stream: 's', error: { kind: 'validation' as const, message: 'bad' }, raw: {} });
    const now = new Date('2026-03-10T12:00:00Z');
    for (const [tenant, day] of [['acme', '2026-03-01'], ['acme', '2026-03-05'], ['acme', '2026-03-10'], ['other', '2026-03-01']] as const) {
      const dlq = new JsonlDeadLetterQueue(dir, { tenant, job: 'j', runId: `run-${day}` }, new Redactor(), new Date(`${day}T08:00:00Z`));
      await dlq.put(entry(tenant));
      await dlq.close();
    }
    const removed = await pruneDeadLetters(dir, { tenant: 'acme' }, 7, now);
    expect(removed.map((r) => path.basename(r))).toEqual(['2026-03-01']);
    expect((await listDeadLetterFiles(dir)).map((f) => `${f.tenant}/${f.runId}`).sort()).toEqual(['acme/run-2026-03-05', 'acme/run-2026-03-10', 'other/run-2026-03-01']);
  });

  it('disabled: a record that cannot be written stops the run, naming the setting', async () => {
    await expect(new RefusingDeadLetterQueue().put({ time: 't', tenant: 'a', job: 'j', runId: 'r', stream: 's', error: { kind: 'validation', message: "row 3: 'x' is not an integer" }, raw: {} })).rejects.toMatchObject({
      code: 'DLQ_DISABLED',
      message: expect.stringContaining("row 3: 'x' is not an integer (the dead-letter queue is disabled by error_handling.dead_letter_queue.enabled: false"),
    });
  });
});
