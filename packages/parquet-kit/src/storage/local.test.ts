import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalStorage } from './local.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'dativo-local-storage-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('LocalStorage.createText', () => {
  it('lets exactly one of several concurrent writers in one process create a key, with its own content', async () => {
    const storage = new LocalStorage(root);
    for (let round = 0; round < 200; round++) {
      const key = `race/v${round}.json`;
      const texts = ['a', 'b', 'c', 'd'].map((w) => `{"writer":"${w}","round":${round}}`);
      const created = await Promise.all(texts.map((t) => storage.createText(key, t)));
      expect(created.filter(Boolean)).toHaveLength(1);
      const winner = texts[created.indexOf(true)];
      expect(readFileSync(path.join(root, key), 'utf8')).toBe(winner);
    }
    // No temporary files are left behind.
    expect(readdirSync(path.join(root, 'race')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
