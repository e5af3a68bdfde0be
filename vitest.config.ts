import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

// The suite's secrets audit (tests/audit): secrets the tests use and everything Dativo emits are
// collected here, and scanned by the last test. Workers and CLI child processes inherit it.
process.env.DATIVO_SUITE_AUDIT ??= mkdtempSync(path.join(os.tmpdir(), 'dativo-suite-audit-'));
const SETUP = ['tests/audit/setup.ts'];

// Unit tests (`*.test.ts`) sit beside the code; tests that need services, servers, child
// processes or large files are `*.integ.test.ts`. Both run in CI, against the built packages.
// Files that share no exclusive resource (no MySQL server-wide lock, no peak-memory measurement,
// every server, database, bucket and directory their own) run two at a time.
const PARALLEL_LANE = [
  // SaaS sources against in-process fake APIs
  'packages/source-stripe/src/**/*.integ.test.ts',
  'packages/source-hubspot/src/**/*.integ.test.ts',
  'packages/source-gdrive-csv/src/**/*.integ.test.ts',
  'packages/connector-google-sheets/src/**/*.integ.test.ts',
  'tests/stripe.integ.test.ts',
  'tests/hubspot.integ.test.ts',
  'tests/gdrive.integ.test.ts',
  'tests/sheets.integ.test.ts',
  'tests/error-handling.integ.test.ts',
  'tests/faults.integ.test.ts',
  'tests/crash-harness.integ.test.ts',
  'tests/state-size.integ.test.ts',
  'tests/state-size-saas.integ.test.ts',
  'tests/totals.integ.test.ts',
  'tests/malformed.integ.test.ts',
  // Files, Parquet and Iceberg (own directories, own S3 servers and catalogs, own PostgreSQL databases)
  'packages/sink-parquet/src/**/*.integ.test.ts',
  'packages/sink-iceberg/src/**/*.integ.test.ts',
  'tests/iceberg-crash.integ.test.ts',
  'tests/iceberg-cli.integ.test.ts',
  'tests/shared-location.integ.test.ts',
  'tests/crash-resume.integ.test.ts',
  // Packing and installing the packages, plugins in child processes
  'tests/packaging.integ.test.ts',
  'tests/plugins.integ.test.ts',
  // Own ports, own PostgreSQL database, own tmux socket, own Redis key prefixes and redis-server
  'tests/observability.integ.test.ts',
  'tests/progress-tty.integ.test.ts',
  'tests/orchestrated.integ.test.ts',
  'tests/console.integ.test.ts',
];

// The longest files (minutes each), started first in their project: on a clean clone Vitest has no
// durations yet and starts the largest files first, which left a long file running alone at the
// end of the two-worker lane.
const LONGEST_FIRST = ['tests/state-size-saas.integ.test.ts', 'tests/state-size.integ.test.ts', 'tests/orchestrated.integ.test.ts', 'tests/crash-harness.integ.test.ts', 'tests/stripe.integ.test.ts', 'tests/v1-corpus.integ.test.ts'];

class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (spec: TestSpecification): number => {
      const at = LONGEST_FIRST.findIndex((file) => spec.moduleId.endsWith(`/${file}`));
      return at < 0 ? LONGEST_FIRST.length : at;
    };
    const projects = [...new Set(sorted.map((spec) => spec.project.name))];
    return sorted
      .map((spec, i) => ({ spec, i }))
      .sort((a, b) => projects.indexOf(a.spec.project.name) - projects.indexOf(b.spec.project.name) || rank(a.spec) - rank(b.spec) || a.i - b.i)
      .map(({ spec }) => spec);
  }
}

export default defineConfig({
  test: {
    // Two workers on a 2-core machine (Vitest's default is one fewer than the cores).
    maxWorkers: 2,
    sequence: { sequencer: LongestFirstSequencer },
    globalSetup: ['tests/audit/global.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'tests/**/*.test.ts'],
          exclude: ['**/*.integ.test.ts', '**/*.audit.test.ts', '**/node_modules/**', '**/dist/**'],
          setupFiles: SETUP,
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integ-parallel',
          include: PARALLEL_LANE,
          exclude: ['**/node_modules/**', '**/dist/**'],
          setupFiles: SETUP,
          testTimeout: 300_000,
          hookTimeout: 300_000,
          pool: 'forks',
          // Two files at once (Vitest puts every project limited to one worker into one sequential
          // group, so this lane cannot run beside the other; its files can run beside each other).
          maxWorkers: 2,
          // s3rver's ListObjectsV2 needs the legacy OpenSSL provider on Node 17+.
          execArgv: ['--openssl-legacy-provider'],
        },
      },
      {
        test: {
          name: 'integ',
          include: ['packages/*/src/**/*.integ.test.ts', 'tests/**/*.integ.test.ts'],
          // MySQL (its snapshot reads take a server-wide read lock), memory measurements, the v1 corpus.
          exclude: [...PARALLEL_LANE, '**/node_modules/**', '**/dist/**'],
          setupFiles: SETUP,
          testTimeout: 300_000,
          hookTimeout: 300_000,
          pool: 'forks',
          maxWorkers: 1,
          // After the parallel group, before the audit.
          sequence: { groupOrder: 1 },
          // s3rver's ListObjectsV2 needs the legacy OpenSSL provider on Node 17+.
          execArgv: ['--openssl-legacy-provider'],
        },
      },
      {
        test: {
          // Last of all: the secrets audit scans what every other test left (tests/audit).
          name: 'audit',
          include: ['tests/audit/*.audit.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          pool: 'forks',
          maxWorkers: 1,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
