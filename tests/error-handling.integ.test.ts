import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { reliabilityRow, tempDir } from '@dativo/testing';
import { queryDuckDb, sqlString } from '@dativo/testing/duckdb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeStripe, type FakeStripe } from '../packages/source-stripe/src/fake-stripe.js';
import { logLines, parquetFiles, runCli } from './helpers.js';

/**
 * The error policy end to end through the CLI: `configs/error_handling.yaml` (the v1 roadmap's
 * shape) and a job's `error_handling:`, dead letters partitioned by day with retention, the
 * `max_dlq_ratio` exit code, a disabled queue, `dativo dlq show | replay` exactly once (also when
 * the replay is killed), and the retry policy per connector with its logged waits.
 */
const scratch = tempDir('dativo-errors-');
const dir = scratch.path;
const today = new Date().toISOString().slice(0, 10);

beforeAll(() => {
  mkdirSync(path.join(dir, 'jobs'), { recursive: true });
  mkdirSync(path.join(dir, 'configs'), { recursive: true });
  writeFileSync(path.join(dir, 'asset.yaml'), 'name: payments\nschema:\n  - { name: id, type: integer, required: true }\n  - { name: payer, type: string }\n  - { name: amount, type: double }\nprimary_key: [id]\n');
  const lines = ['id,payer,amount'];
  for (let i = 1; i <= 20; i++) lines.push(`${i},"payer ${i}",${i === 4 ? '"12,5x"' : i === 9 ? 'n/a' : i === 15 ? 'ten' : `${i}.5`}`);
  writeFileSync(path.join(dir, 'payments.csv'), `${lines.join('\n')}\n`);
  writeFileSync(
    path.join(dir, 'configs', 'error_handling.yaml'),
    'error_handling:\n  retry:\n    max_attempts: 3\n    base_delay: 0.01\n    max_delay: 0.05\n  dead_letter_queue:\n    enabled: true\n    dir: dead-letters\n    retention_days: 7\n  max_dlq_ratio: 0.2\n',
  );
});
afterAll(() => scratch.cleanup());

const job = (name: string, extra = '') =>
  writeFileSync(
    path.join(dir, 'jobs', `${name}.yaml`),
    `tenant_id: acme\nenvironment: dev\nsource_connector: csv\ntarget_connector: parquet\nasset: payments\nasset_path: asset.yaml\nsource:\n  files: [{ path: payments.csv }]\ntarget:\n  path: out/${name}\n  partitioning: []\nschema_validation_mode: warn\n${extra}logging: { level: INFO }\n`,
  );

async function ids(name: string): Promise<number[]> {
  const files = parquetFiles(path.join(dir, 'out', name));
  const rows = await queryDuckDb(`SELECT id::INTEGER AS id FROM read_parquet([${files.map(sqlString).join(', ')}]) ORDER BY id`);
  return rows.map((r) => r.id as number);
}

describe('error policy and dead letters through the CLI', () => {
  it('dead letters by day with retention; max_dlq_ratio decides the exit code; dlq show numbers them; replay sends each once, refuses a second time, and survives kill -9', async () => {
    job('payments');
    // A dead-letter day older than the retention.
    mkdirSync(path.join(dir, 'dead-letters', 'acme', 'payments', '2000-01-01'), { recursive: true });
    writeFileSync(path.join(dir, 'dead-letters', 'acme', 'payments', '2000-01-01', 'old.jsonl'), '{}\n');

    const first = await runCli(['run', 'jobs/payments.yaml', '--json'], { cwd: dir });
    const report = JSON.parse(first.stdout) as { exitCode: number; jobs: Array<{ runId: string; rows: number; rejected: number; status: string; deadLetterFile: string }> };
    // 3 of 20 records set aside: 15 %, within max_dlq_ratio 0.2.
    expect(first.code, first.stderr).toBe(0);
    expect(report.jobs[0]).toMatchObject({ status: 'succeeded', rows: 17, rejected: 3 });
    const run = report.jobs[0]?.runId as string;
    expect(path.relative(dir, report.jobs[0]?.deadLetterFile as string)).toBe(path.join('dead-letters', 'acme', 'payments', today, `${run}.jsonl`));
    expect(existsSync(path.join(dir, 'dead-letters', 'acme', 'payments', '2000-01-01'))).toBe(false);
    // The job's own policy: a tighter ratio makes the same run partial (exit 1).
    job('strict-ratio', 'error_handling:\n  max_dlq_ratio: 0.1\n');
    const partial = await runCli(['run', 'jobs/strict-ratio.yaml', '-q'], { cwd: dir });
    expect(partial.code).toBe(1);

    const shown = await runCli(['dlq', 'show', '--run', run, '--json', '--dlq-dir', 'dead-letters'], { cwd: dir });
    const entries = (JSON.parse(shown.stdout) as { entries: Array<{ entry: number; raw: Record<string, string>; attempt: number; context: { row: number } }> }).entries;
    expect(entries.map((e) => [e.entry, e.raw.id, e.attempt, e.context.row])).toEqual([
      [1, '4', 1, 4],
      [2, '9', 1, 9],
      [3, '15', 1, 15],
    ]);

    // The user fixes entry 1's data in the dead-letter file, then replays it.
    const file = report.jobs[0]?.deadLetterFile as string;
    writeFileSync(file, readFileSync(file, 'utf8').replace('"12,5x"', '"12.5"'));
    const replay = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(['dlq', 'replay', '--config', 'jobs/payments.yaml', '--run', run, '--dlq-dir', 'dead-letters', ...args], { cwd: dir, env });
    // Killed after its commit was recorded (before it was reported): the rerun finds the entry sent and refuses.
    const killed = await replay(['--entries', '1'], { DATIVO_CRASH_AT: 'parquet:intent-written' });
    expect(killed.signal).toBe('SIGKILL');
    const again = await replay(['--entries', '1']);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`entry #1 of run ${run} was replayed already; --force sends it again`);
    expect(await ids('payments')).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 16, 17, 18, 19, 20]);
    // Entries 2 and 3 are still bad: they go to the replay's own dead-letter file, attempt 2.
    const rest = await replay(['--entries', '2-3', '--json']);
    expect(rest.code, rest.stderr).toBe(0);
    const summary = JSON.parse(rest.stdout) as { rows: number; rejected: number; deadLetterFile: string };
    expect(summary).toMatchObject({ rows: 0, rejected: 2 });
    const retried = readFileSync(summary.deadLetterFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { attempt: number; context: { replayOf: { run: string; entry: number } } });
    expect(retried.map((e) => [e.attempt, e.context.replayOf.entry])).toEqual([
      [2, 2],
      [2, 3],
    ]);
    const after = await runCli(['dlq', 'show', '--run', run, '--dlq-dir', 'dead-letters'], { cwd: dir });
    expect(after.stdout).toMatch(/#1 .*replayed by /);
    // --force sends a replayed entry again, knowingly.
    const forced = await replay(['--entries', '1', '--force', '-q']);
    expect(forced.code, forced.stderr).toBe(0);
    expect((await ids('payments')).filter((id) => id === 4)).toHaveLength(2);
    reliabilityRow({ connector: 'CSV source → Parquet', fault: 'bad records (`warn`), a replay killed with `kill -9`', outcome: 'to the dead-letter queue with their context; `max_dlq_ratio` decides the exit code; `dativo dlq replay` sends each once (also after the kill), refuses a second replay' });
  });

  it('dead_letter_queue.enabled: false: a bad record stops the run, naming the setting; nothing past the last commit is published', async () => {
    job('no-dlq', 'error_handling:\n  dead_letter_queue: { enabled: false }\n');
    const r = await runCli(['run', 'jobs/no-dlq.yaml', '--json'], { cwd: dir });
    expect(r.code).toBe(2);
    const report = JSON.parse(r.stdout) as { jobs: Array<{ error: { code: string; message: string } }> };
    expect(report.jobs[0]?.error).toMatchObject({ code: 'DLQ_DISABLED' });
    expect(report.jobs[0]?.error.message).toContain("row 4 (line 5), column 'amount'");
    expect(parquetFiles(path.join(dir, 'out', 'no-dlq'))).toEqual([]);
  });

  it('a bad policy file fails at once naming the file, the key and what was expected', async () => {
    writeFileSync(path.join(dir, 'bad-policy.yaml'), 'error_handling:\n  circuit_breaker:\n    failure_threshold: none\n');
    job('any');
    const r = await runCli(['run', 'jobs/any.yaml', '--error-handling', 'bad-policy.yaml'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad-policy\.yaml:3: error_handling\.circuit_breaker\.failure_threshold: expected number/);
  });
});

describe('retry policy per connector through the CLI', () => {
  let stripe: FakeStripe;
  beforeAll(async () => {
    stripe = await startFakeStripe();
    stripe.add('/v1/customers', 30, { from: Math.floor(Date.now() / 1000) - 86_400, step: 60 });
    writeFileSync(path.join(dir, 'customers.yaml'), 'name: customers\nschema:\n  - { name: id, type: string, required: true }\n  - { name: email, type: string }\n');
    writeFileSync(path.join(dir, 'stripe-policy.yaml'), 'error_handling:\n  retry:\n    max_attempts: 2\n    base_delay: 0.01\n    max_delay: 0.02\n    overrides:\n      stripe:\n        max_attempts: 5\n');
    writeFileSync(
      path.join(dir, 'jobs', 'customers.yaml'),
      `tenant_id: acme\nenvironment: dev\nsource_connector: stripe\ntarget_connector: parquet\nasset: customers\nasset_path: customers.yaml\nsource:\n  api_key: \${STRIPE_API_KEY}\n  api_base: \${STRIPE_API_BASE}\n  objects: [customers]\n  concurrency: 1\ntarget:\n  path: out/customers\n  partitioning: []\n`,
    );
  });
  afterAll(() => stripe?.close());

  it("the connector's override wins: 4 failures ride out with 5 attempts, each retry logged with the connector, endpoint and wait; the general 2 attempts would not", async () => {
    const env = { STRIPE_API_KEY: stripe.key, STRIPE_API_BASE: stripe.url };
    const fault = { status: 500, body: { error: { type: 'api_error', message: 'An unknown error occurred' } } };
    stripe.http.failNext(4, fault, (r) => r.path === '/v1/customers');
    const ok = await runCli(['run', 'jobs/customers.yaml', '--error-handling', 'stripe-policy.yaml', '--log-format', 'json'], { cwd: dir, env });
    expect(ok.code, ok.stderr).toBe(0);
    const retries = logLines(ok.stderr).filter((l) => l.msg === 'retrying after a failure');
    expect(retries).toHaveLength(4);
    expect(retries[0]).toMatchObject({ connector: 'stripe', endpoint: expect.stringContaining('/v1/customers'), attempt: 1, delayMs: expect.any(Number) });
    // Without the override (the policy file's 2 attempts), the same faults fail the run, classified.
    writeFileSync(path.join(dir, 'general-policy.yaml'), 'retry:\n  max_attempts: 2\n  base_delay: 0.01\n');
    stripe.http.failNext(4, fault, (r) => r.path === '/v1/customers');
    const failed = await runCli(['run', 'jobs/customers.yaml', '--error-handling', 'general-policy.yaml', '--json', '--state-id', 'customers-again'], { cwd: dir, env });
    expect(failed.code, failed.stderr.slice(-3000)).toBe(2);
    expect((JSON.parse(failed.stdout) as { jobs: Array<{ error: { kind: string } }> }).jobs[0]?.error.kind).toBe('transient');
    reliabilityRow({ connector: 'Stripe source (per-connector retry policy)', fault: '4 consecutive 500s', outcome: 'rides them out with `retry.overrides.stripe.max_attempts: 5`; with 2 attempts fails, classified `transient`' });
  });
});
