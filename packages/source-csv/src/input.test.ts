import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { tempDir } from '@dativo/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { openUtf8Chunks } from './input.js';

const dir = tempDir('dativo-csv-input-');
afterAll(() => dir.cleanup());

describe('openUtf8Chunks', () => {
  it('a file shorter than its listed size fails (FILE_CHANGED), plain or gzip — the gzip read fails too rather than waiting forever', async () => {
    const text = Array.from({ length: 50_000 }, (_, i) => `${i},note ${i}`).join('\n');
    const plain = path.join(dir.path, 'a.csv');
    const zipped = path.join(dir.path, 'a.csv.gz');
    writeFileSync(plain, text);
    const gz = gzipSync(text);
    writeFileSync(zipped, gz);
    const read = async (file: string, size: number) => {
      let bytes = 0;
      for await (const chunk of openUtf8Chunks(file, { encoding: 'utf-8', compression: 'auto', size, shown: path.basename(file) })) bytes += chunk.length;
      return bytes;
    };
    expect(await read(plain, text.length)).toBe(text.length);
    expect(await read(zipped, gz.length)).toBe(text.length);
    await expect(read(plain, text.length + 10)).rejects.toMatchObject({ code: 'FILE_CHANGED', message: expect.stringMatching(/^a\.csv: the file ended after \d+ bytes but was \d+ bytes/) });
    await expect(read(zipped, gz.length + 10)).rejects.toMatchObject({ code: 'FILE_CHANGED', message: expect.stringMatching(/^a\.csv\.gz: the file ended after \d+ bytes/) });
  });
});
