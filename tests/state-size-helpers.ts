import { statSync } from 'node:fs';
import path from 'node:path';
import { LocalFileStateStore, STATE_HISTORY_RUNS, type Checkpoint, type ConfiguredStream, type Extractor, type FieldSpec } from '@dativo/core';
import { tempDir, testRunContext } from '@dativo/testing';
import { afterAll } from 'vitest';

/**
 * State stays small whatever the history (issue 13, acceptance 6): 1,000 incremental runs of each
 * source, each after the source changed, and the state file a run leaves (its checkpoint, run id
 * and record-count history, written by the local state store) stays under 4 KB. The sources are
 * split over two test files (`state-size*.integ.test.ts`) of about the same length, so that the
 * suite's two workers run them side by side.
 */
export const RUNS = 1_000;
export const LIMIT = 4_096;
/** A scratch directory for one test file, removed after it. */
export function stateScratch(): { path: string } {
  const scratch = tempDir('dativo-state-size-');
  afterAll(() => scratch.cleanup());
  return scratch;
}

/** Runs `runs` incremental reads, each resumed from the last checkpoint after `change(i)`; returns the largest state file, in bytes. */
export async function largestState<C>(scratch: { path: string }, source: Extractor<C>, rawConfig: unknown, stream: Omit<ConfiguredStream, 'resumeFrom'>, change: (i: number) => Promise<void> | void, runs = RUNS): Promise<{ largest: number; rows: number }> {
  const config = source.configSchema.parse(rawConfig);
  const store = new LocalFileStateStore(path.join(scratch.path, 'state', source.spec.id));
  const key = { tenant: 'acme', job: `state-size-${source.spec.id}`, stream: stream.name };
  const history = Array.from({ length: STATE_HISTORY_RUNS }, () => 1_000_000);
  let last: Checkpoint | undefined;
  let largest = 0;
  let rows = 0;
  for (let i = 0; i < runs; i++) {
    await change(i);
    const ctx = testRunContext();
    for await (const m of source.read(config, { streams: [{ ...stream, ...(last ? { resumeFrom: last } : {}) }] }, ctx)) {
      if (m.kind === 'checkpoint') last = m.checkpoint;
      if (m.kind === 'batch') rows += m.batch.numRows;
    }
    // As the runner stores it: checkpoint, run id, and the longest history there can be.
    if (last) await store.put(key, last, ctx.runId, { history });
    largest = Math.max(largest, statSync(path.join(store.dir, 'acme', key.job, `${stream.name}.json`)).size);
  }
  return { largest, rows };
}

export const FIELDS: FieldSpec[] = [
  { name: 'id', type: { kind: 'int64' }, nullable: false },
  { name: 'note', type: { kind: 'string' }, nullable: true },
];

