import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { keepForAudit } from './audit.js';

/** A temporary directory, removed by `cleanup()` (register it with `afterEach`/`afterAll`). */
export function tempDir(prefix = 'dativo-test-'): { path: string; cleanup(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return {
    path: dir,
    cleanup: () => {
      // What Dativo wrote there (state, dead letters, checkpoints, logs) is kept for the suite's secrets audit.
      keepForAudit(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
