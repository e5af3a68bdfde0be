import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalFileStateStore } from './local-file.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dativo-state-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('LocalFileStateStore', () => {
  it('keeps one file per tenant / job / stream, replaced atomically', async () => {
    const store = new LocalFileStateStore(dir);
    const key = { tenant: 'acme', job: 'orders/daily', stream: 'public.orders' };
    expect(await store.get(key)).toBeUndefined();
    await store.put(key, { stream: 'public.orders', state: { cursor: '2024-01-01' } }, 'run-1');
    await store.put(key, { stream: 'public.orders', state: { cursor: '2024-01-02' } }, 'run-2');
    expect(await store.get(key)).toMatchObject({ key, runId: 'run-2', checkpoint: { state: { cursor: '2024-01-02' } } });
    // Names are encoded: no path traversal, no temporary files left behind.
    const files = readdirSync(path.join(dir, 'acme', 'orders%2Fdaily'));
    expect(files).toEqual(['public%2Eorders.json']);
    await store.put({ tenant: 'acme', job: 'other', stream: 's' }, { stream: 's', state: 1 });
    await store.put({ tenant: 'beta', job: 'x', stream: 's' }, { stream: 's', state: 2 });
    expect((await store.list({ tenant: 'acme' })).map((s) => s.key.job)).toEqual(['orders/daily', 'other']);
    expect(await store.list()).toHaveLength(3);
    expect(await store.delete(key)).toBe(true);
    expect(await store.delete(key)).toBe(false);
  });

  it('fails clearly on a corrupt state file', async () => {
    const store = new LocalFileStateStore(dir);
    const key = { tenant: 't', job: 'j', stream: 's' };
    await store.put(key, { stream: 's', state: null });
    const file = path.join(dir, 't', 'j', 's.json');
    expect(JSON.parse(readFileSync(file, 'utf8')).checkpoint).toEqual({ stream: 's', state: null });
    writeFileSync(file, '{torn');
    await expect(store.get(key)).rejects.toThrow(`state file ${file} is not valid JSON; inspect it or run 'dativo state reset'`);
  });
});
