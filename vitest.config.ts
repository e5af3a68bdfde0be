import { defineConfig } from 'vitest/config';

// Unit tests (`*.test.ts`) sit beside the code; tests that need services, servers, child
// processes or large files are `*.integ.test.ts`. Both run in CI, against the built packages.
const API_LANE = ['packages/source-stripe/src/**/*.integ.test.ts', 'packages/source-hubspot/src/**/*.integ.test.ts', 'packages/source-gdrive-csv/src/**/*.integ.test.ts', 'tests/stripe.integ.test.ts', 'tests/hubspot.integ.test.ts', 'tests/gdrive.integ.test.ts'];

export default defineConfig({
  test: {
    // Two lanes at once on a 2-core machine (Vitest's default is one worker fewer than the cores);
    // each integration lane runs its files one at a time.
    maxWorkers: 2,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'tests/**/*.test.ts'],
          exclude: ['**/*.integ.test.ts', '**/node_modules/**', '**/dist/**'],
          testTimeout: 30_000,
        },
      },
      {
        // SaaS sources against their in-process fake API servers: no shared service, database or
        // port, so this lane runs beside the other integration tests (one file at a time itself).
        test: {
          name: 'integ-api',
          include: API_LANE,
          exclude: ['**/node_modules/**', '**/dist/**'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          pool: 'forks',
          maxWorkers: 1,
        },
      },
      {
        test: {
          name: 'integ',
          include: ['packages/*/src/**/*.integ.test.ts', 'tests/**/*.integ.test.ts'],
          exclude: [...API_LANE, '**/node_modules/**', '**/dist/**'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          pool: 'forks',
          maxWorkers: 1,
          // s3rver's ListObjectsV2 needs the legacy OpenSSL provider on Node 17+.
          execArgv: ['--openssl-legacy-provider'],
        },
      },
    ],
  },
});
