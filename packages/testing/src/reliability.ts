import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';

/**
 * The connector × fault × outcome table of `docs/reliability.md` is made of these rows: a test that
 * proves an outcome declares its row at its end (reached only when every assertion before held).
 * `scripts/reliability-table.mjs` runs those tests with `DATIVO_RELIABILITY_OUT` naming a file,
 * collects the rows and rewrites the table; without the variable the call does nothing.
 */
export const RELIABILITY_ENV = 'DATIVO_RELIABILITY_OUT';

export interface ReliabilityRow {
  /** The connector or part under test: `PostgreSQL source`, `S3 (Parquet target)`. */
  connector: string;
  /** The fault and how the test makes it. */
  fault: string;
  /** What the test proved happens. */
  outcome: string;
}

export function reliabilityRow(row: ReliabilityRow): void {
  const out = process.env[RELIABILITY_ENV];
  if (!out) return;
  const state = expect.getState();
  const test = state.testPath ? path.relative(process.cwd(), state.testPath).split(path.sep).join('/') : '';
  appendFileSync(out, `${JSON.stringify({ ...row, test, name: state.currentTestName ?? '' })}\n`);
}
