import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '@dativo/testing';
import { queryDuckDb, sqlString } from '@dativo/testing/duckdb';
import { fakeOAuth } from '@dativo/testing/http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeHubSpot, type FakeHubSpot } from '../packages/source-hubspot/src/fake-hubspot.js';
import { measureCli, parquetFiles, runCli } from './helpers.js';

/**
 * HubSpot through the CLI with the real SDK against the HubSpot API fake: `kill -9` at commit
 * points during the first (list) run and during an incremental (search) run, then reruns — every
 * contact exactly once, every change exactly once.
 */
const scratch = tempDir('dativo-hubspot-');
const dir = scratch.path;
let hubspot: FakeHubSpot;

beforeAll(async () => {
  mkdirSync(path.join(dir, 'jobs'), { recursive: true });
  writeFileSync(path.join(dir, 'asset.yaml'), 'name: contacts\nschema:\n  - { name: id, type: string, required: true }\n  - { name: email, type: string }\n  - { name: updatedAt, type: timestamp }\n  - { name: _deleted, type: boolean }\nprimary_key: [id]\n');
  writeFileSync(
    path.join(dir, 'jobs', 'contacts.yaml'),
    `tenant_id: acme\nenvironment: dev\nsource_connector: hubspot\ntarget_connector: parquet\nasset: contacts\nasset_path: asset.yaml\nsource:\n  access_token: \${HUBSPOT_ACCESS_TOKEN}\n  api_base: \${HUBSPOT_API_BASE}\n  objects: [contacts]\n  search_page_size: 100\n  search_rps: 200\n  incremental: { strategy: updated_after, cursor_field: updatedAt, lookback_days: 0 }\n  rate_limits: { rps_default: 500, burst_default: 50 }\ntarget:\n  path: out\n  partitioning: []\nbatch: { max_rows: 300 }\ncommit: { every_rows: 600 }\n`,
  );
  hubspot = await startFakeHubSpot();
  hubspot.add('contacts', 6_000);
});
afterAll(async () => {
  await hubspot?.close();
  scratch.cleanup();
});

const run = (extra: NodeJS.ProcessEnv = {}) => runCli(['run', 'jobs/contacts.yaml', '-q', '--json'], { cwd: dir, env: { HUBSPOT_ACCESS_TOKEN: hubspot.token, HUBSPOT_API_BASE: hubspot.url, ...extra } });

async function rows(files: string[]): Promise<Array<{ id: string; email: string }>> {
  return (await queryDuckDb(`SELECT id, email FROM read_parquet([${files.map(sqlString).join(', ')}]) ORDER BY id`)) as unknown as Array<{ id: string; email: string }>;
}

describe('hubspot → Parquet through the CLI, killed and rerun', () => {
  it('first run (list) and an incremental run (search), each killed at a commit: every record exactly once', async () => {
    const killed = await run({ DATIVO_CRASH_AT: 'parquet:intent-written@3' });
    expect(killed.signal).toBe('SIGKILL');
    const rerun = await run();
    expect(rerun.code, rerun.stderr).toBe(0);
    const all = await rows(parquetFiles(path.join(dir, 'out')));
    expect(all.length).toBe(6_000);
    expect(new Set(all.map((r) => r.id))).toEqual(new Set(hubspot.ids('contacts')));

    const before = new Set(parquetFiles(path.join(dir, 'out')));
    await new Promise((r) => setTimeout(r, 20));
    const now = Date.now();
    const changed = hubspot.ids('contacts').filter((_, i) => i % 2 === 0);
    for (const id of changed) hubspot.update('contacts', id, { email: `v2-${id}@example.com` }, now);
    await new Promise((r) => setTimeout(r, 20));
    const killedAgain = await run({ DATIVO_CRASH_AT: 'parquet:intent-written@2' });
    expect(killedAgain.signal).toBe('SIGKILL');
    const again = await run();
    expect(again.code, again.stderr).toBe(0);
    const updates = await rows(parquetFiles(path.join(dir, 'out')).filter((f) => !before.has(f)));
    expect(updates.length).toBe(changed.length);
    expect(new Set(updates.map((r) => r.id))).toEqual(new Set(changed));
    expect(updates.every((r) => r.email === `v2-${r.id}@example.com`)).toBe(true);
    const nothing = await run();
    expect(JSON.parse(nothing.stdout).jobs[0].rows).toBe(0);
  });
});

describe('hubspot: OAuth through the CLI', () => {
  it('a revoked refresh token fails the run with an auth-expired error naming the job, and no secret in the output', async () => {
    const oauth = fakeOAuth(hubspot.http, { path: '/oauth/v1/token', clientId: 'cid', clientSecret: 'csecret-do-not-print', refreshToken: 'rt-revoked-do-not-print', rotate: true });
    hubspot.oauth = oauth;
    try {
      oauth.revoke();
      writeFileSync(
        path.join(dir, 'jobs', 'crm_oauth.yaml'),
        `tenant_id: acme\nenvironment: dev\nsource_connector: hubspot\ntarget_connector: parquet\nasset: contacts\nasset_path: asset.yaml\nsource:\n  oauth:\n    client_id: cid\n    client_secret: \${HUBSPOT_CLIENT_SECRET}\n    refresh_token: \${HUBSPOT_REFRESH_TOKEN}\n  api_base: \${HUBSPOT_API_BASE}\n  objects: [contacts]\ntarget:\n  path: out-oauth\n  partitioning: []\n`,
      );
      const r = await runCli(['run', 'jobs/crm_oauth.yaml'], { cwd: dir, env: { HUBSPOT_API_BASE: hubspot.url, HUBSPOT_CLIENT_SECRET: 'csecret-do-not-print', HUBSPOT_REFRESH_TOKEN: 'rt-revoked-do-not-print' } });
      expect(r.code).not.toBe(0);
      // The JSON log line of the failure: its job, kind and code.
      const failure = r.stderr.split('\n').find((l) => l.includes('"run failed"')) ?? '';
      expect(JSON.parse(failure)).toMatchObject({ job: 'crm_oauth', error: { code: 'AUTH_EXPIRED', kind: 'config' } });
      expect(failure).toMatch(/auth expired: the refresh token in oauth.refresh_token was revoked or has expired/);
      expect(`${r.stdout}${r.stderr}`).not.toMatch(/do-not-print/);
    } finally {
      hubspot.oauth = undefined;
    }
  });
});

describe('hubspot: memory stays bounded', () => {
  it('1,000,000 contacts stream into Parquet with peak RSS under 300 MB, each exactly once', async () => {
    const big = await startFakeHubSpot();
    try {
      const COUNT = 1_000_000;
      big.generate('contacts', COUNT);
      writeFileSync(
        path.join(dir, 'million-asset.yaml'),
        'name: contacts\nschema:\n  - { name: id, type: string, required: true }\n  - { name: email, type: string }\n  - { name: firstname, type: string }\n  - { name: lastname, type: string }\n  - { name: lifecyclestage, type: string }\n  - { name: num_employees, type: double }\n  - { name: createdAt, type: timestamp }\n  - { name: updatedAt, type: timestamp }\nprimary_key: [id]\n',
      );
      writeFileSync(
        path.join(dir, 'jobs', 'million.yaml'),
        `tenant_id: acme\nenvironment: dev\nsource_connector: hubspot\ntarget_connector: parquet\nasset: contacts\nasset_path: million-asset.yaml\nsource:\n  access_token: \${HUBSPOT_ACCESS_TOKEN}\n  api_base: \${HUBSPOT_API_BASE}\n  objects: [contacts]\n  page_size: 100\n  list_concurrency: 4\n  rate_limits: { rps_default: 5000, burst_default: 50 }\ntarget:\n  path: out/million\n  partitioning: []\nlogging: { level: WARN }\n`,
      );
      const measured = await measureCli(['run', '--config', 'jobs/million.yaml', '--quiet'], { cwd: dir, env: { HUBSPOT_ACCESS_TOKEN: big.token, HUBSPOT_API_BASE: big.url } });
      expect(measured.exitCode, measured.stderr.slice(0, 2000)).toBe(0);
      expect(measured.peakRssMb).toBeLessThan(300);
      const files = parquetFiles(path.join(dir, 'out', 'million'));
      const [r] = await queryDuckDb(`SELECT count(*)::VARCHAR AS n, count(DISTINCT id)::VARCHAR AS ids, sum(num_employees)::BIGINT::VARCHAR AS employees, min(id::BIGINT)::VARCHAR AS first, max(id::BIGINT)::VARCHAR AS last FROM read_parquet([${files.map(sqlString).join(', ')}])`);
      let employees = 0;
      for (let id = 1000; id < 1000 + COUNT; id++) employees += id % 500;
      expect(r).toEqual({ n: String(COUNT), ids: String(COUNT), employees: String(employees), first: '1000', last: String(999 + COUNT) });
    } finally {
      await big.close();
    }
  }, 600_000);
});
