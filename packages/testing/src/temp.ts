import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A temporary directory, removed by `cleanup()` (register it with `afterEach`/`afterAll`). */
export function tempDir(prefix = 'dativo-test-'): { path: string; cleanup(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { path: dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
