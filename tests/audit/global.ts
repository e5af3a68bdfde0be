import { rmSync } from 'node:fs';
import { AUDIT_ENV } from '@dativo/testing';

// The secrets audit's directory (made in vitest.config.ts) is removed when the suite ends, unless
// DATIVO_KEEP_AUDIT=1 asks to keep it for a look.
export function teardown(): void {
  const dir = process.env[AUDIT_ENV];
  if (dir && process.env.DATIVO_KEEP_AUDIT !== '1') rmSync(dir, { recursive: true, force: true });
}
