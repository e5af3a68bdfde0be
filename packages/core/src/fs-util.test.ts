import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureDir } from './fs-util.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dativo-fs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ensureDir', () => {
  it('creates missing directories and accepts existing ones', async () => {
    const deep = path.join(dir, 'a', 'b', 'c');
    await ensureDir(deep);
    await ensureDir(deep);
    expect(existsSync(deep)).toBe(true);
  });

  it('fails at once under /proc, where Node\'s recursive mkdir never returns', async () => {
    await expect(ensureDir('/proc/dativo-ensure-dir/x')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('names a file that stands where a directory should be', async () => {
    writeFileSync(path.join(dir, 'file'), 'x');
    await expect(ensureDir(path.join(dir, 'file', 'sub'))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });
});
