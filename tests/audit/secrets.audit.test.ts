import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { auditDir, recordSecret, scanAudit, tempDir } from '@dativo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeStripe, type FakeStripe } from '../../packages/source-stripe/src/fake-stripe.js';
import { runCli } from '../helpers.js';

/**
 * The suite's secrets audit, run after every other test file (its own Vitest project, last group):
 * every secret the suite handed to Dativo — API keys and tokens of the fake Stripe, HubSpot, Google
 * and OAuth servers, catalog credentials, passwords and secret-named variables given to the CLI,
 * Google private keys — is looked for in everything Dativo emitted meanwhile: the output of every
 * CLI run, the log records of every in-process run, and the state files, dead letters, checkpoints
 * and logs left in every test directory (kept when it was cleaned up).
 */
const scratch = tempDir('dativo-audit-');
let stripe: FakeStripe;

beforeAll(async () => {
  // A run of its own that fails with secrets in play (the audit also means something run alone):
  // a Stripe job whose key the API refuses and a PostgreSQL password in the connection string.
  stripe = await startFakeStripe({ key: 'sk_test_audit_key_7c1d' });
  const dir = scratch.path;
  mkdirSync(path.join(dir, 'jobs'), { recursive: true });
  writeFileSync(path.join(dir, 'asset.yaml'), 'name: customers\nschema:\n  - { name: id, type: string, required: true }\nprimary_key: [id]\n');
  writeFileSync(
    path.join(dir, 'jobs', 'stripe.yaml'),
    `tenant_id: acme\nenvironment: dev\nsource_connector: stripe\ntarget_connector: parquet\nasset: customers\nasset_path: asset.yaml\nsource:\n  objects: [customers]\n  api_key: \${STRIPE_API_KEY}\n  api_base: ${stripe.url}\ntarget:\n  path: out/stripe\n  partitioning: []\n`,
  );
  writeFileSync(
    path.join(dir, 'jobs', 'pg.yaml'),
    'tenant_id: acme\nenvironment: dev\nsource_connector: postgres\ntarget_connector: parquet\nasset: customers\nasset_path: asset.yaml\nsource:\n  tables: [{ name: customers, object: customers }]\n  connection:\n    uri: "postgresql://audit_user:${PG_AUDIT_PASSWORD}@127.0.0.1:5432/test"\ntarget:\n  path: out/pg\n  partitioning: []\n',
  );
  recordSecret('Wrong-Key-For-Audit-91', 'audit: refused Stripe key');
  const refused = await runCli(['run', 'jobs/stripe.yaml', '--log-format', 'json'], { cwd: dir, env: { STRIPE_API_KEY: 'Wrong-Key-For-Audit-91' } });
  expect(refused.code).not.toBe(0);
  const badLogin = await runCli(['run', 'jobs/pg.yaml', '--log-format', 'json'], { cwd: dir, env: { PG_AUDIT_PASSWORD: 'audit-pg-password-5521' } });
  expect(badLogin.code).not.toBe(0);
  expect(badLogin.stdout + badLogin.stderr).toMatch(/audit_user/);
});

afterAll(async () => {
  await stripe?.close();
  scratch.cleanup();
});

describe('secrets audit of the whole suite', () => {
  it('no secret the suite used appears in any CLI output, log record, state file, dead letter or checkpoint', () => {
    const dir = auditDir();
    expect(dir, 'DATIVO_SUITE_AUDIT is set by vitest.config.ts').toBeDefined();
    // Keep this file's own directory in the audit before scanning.
    scratch.cleanup();
    const report = scanAudit(dir as string);
    // The audit saw something: at least this file's own secrets and runs.
    expect(report.labels).toEqual(expect.arrayContaining(['audit: refused Stripe key', 'env PG_AUDIT_PASSWORD', 'Stripe API key']));
    expect(report.files).toBeGreaterThanOrEqual(2);
    console.info(`secrets audit: ${report.secrets} secrets (${report.labels.join(', ')}) looked for in ${report.files} files, ${Math.round(report.bytes / 1024)} KiB`);
    expect(report.findings, JSON.stringify(report.findings.slice(0, 5), null, 2)).toEqual([]);
  });
});
