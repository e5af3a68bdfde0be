import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { recordSecret, tempDir } from '@dativo/testing';
import { Fleet } from '@dativo/orchestrator';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';
import { CliProcess, dropPrefix, freePort, freshPrefix, rowsJob, until, writeRowsAsset, writeRowsCsv } from './fleet-helpers.js';

// `dativo start orchestrated` (scheduler + worker + control API + console in one process) against
// the machine's Redis, driven over HTTP and in headless Chromium (Debian's chromium, playwright-core).

const scratch = tempDir('dativo-console-');
const dir = scratch.path;
const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ROWS = 4_000_000;
const ADMIN = 'admin-token-5b8e1f0c9d7a6e4f';
const ACME_READ = 'acme-read-token-1c2d3e4f5a6b';
const ACME_WRITE = 'acme-write-token-9f8e7d6c5b4a';
const GLOBEX = 'globex-token-0a1b2c3d4e5f6a7b';
const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'console');
const prefix = freshPrefix();
let fleet: Fleet;
let server: CliProcess;
let base = '';

function job(tenant: string, name: string, file: string): string {
  return rowsJob(dir, tenant, name, file);
}

async function http(method: string, url: string, token?: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: (await res.json().catch(() => ({}))) as Record<string, unknown> };
}

beforeAll(async () => {
  for (const t of [ADMIN, ACME_READ, ACME_WRITE, GLOBEX]) recordSecret(t, 'control API token');
  writeRowsAsset(dir);
  mkdirSync(path.join(dir, 'data'), { recursive: true });
  mkdirSync(ARTIFACTS, { recursive: true });
  await writeRowsCsv(path.join(dir, 'data/big.csv'), ROWS);
  await writeRowsCsv(path.join(dir, 'data/small.csv'), 10);
  const big = job('acme', 'people', '../../data/big.csv');
  const small = job('globex', 'orders', '../../data/small.csv');
  job('acme', 'cancelme', '../../data/big.csv');
  const port = await freePort();
  writeFileSync(
    path.join(dir, 'runner.yaml'),
    `runner:
  mode: orchestrated
  orchestrator:
    type: dagster
    schedules:
      - name: acme_people_hourly
        config: ${big}
        cron: "0 * * * *"
        timezone: UTC
        tags: { environment: test }
      - name: globex_orders_daily
        config: ${small}
        cron: "5 1 * * *"
    concurrency_per_tenant: 1
  redis:
    prefix: ${prefix}
  worker:
    concurrency: 2
  api:
    port: ${port}
    tokens:
      - { token: "\${ACME_READ}", tenant: acme, access: read, name: acme-viewer }
      - { token: "\${ACME_WRITE}", tenant: acme, name: acme-operator }
      - { token: "\${GLOBEX}", tenant: globex }
`,
  );
  fleet = new Fleet({ url: REDIS, prefix });
  server = new CliProcess(['--log-format', 'json', 'start', 'orchestrated', '--runner-config', 'runner.yaml', '--redis-url', REDIS], { cwd: dir, env: { DATIVO_API_TOKEN: ADMIN, ACME_READ, ACME_WRITE, GLOBEX } });
  await server.waitFor(/control API listening/);
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await server?.stop();
  if (fleet) {
    await dropPrefix(fleet);
    await fleet.close();
  }
  scratch.cleanup();
});

describe('control API', () => {
  it('serves an OpenAPI document and refuses calls without a valid token', async () => {
    const doc = await http('GET', '/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.json.openapi).toBe('3.0.3');
    const paths = Object.keys(doc.json.paths as object);
    for (const p of ['/api/v1/schedules', '/api/v1/runs', '/api/v1/runs/{id}', '/api/v1/runs/{id}/cancel', '/api/v1/runs/{id}/logs', '/api/v1/runs/{id}/dead-letters', '/api/v1/schedules/{name}/pause', '/api/v1/schedules/{name}/resume', '/api/v1/tenants']) expect(paths).toContain(p);
    expect((await http('GET', '/api/v1/runs')).status).toBe(401);
    expect((await http('GET', '/api/v1/runs', 'not-a-token')).status).toBe(401);
    expect((await http('POST', '/api/v1/runs', undefined, { schedule: 'acme_people_hourly' })).status).toBe(401);
  });

  it('tenant-scoped tokens see and act on their tenant only; read tokens cannot write', async () => {
    const all = await http('GET', '/api/v1/schedules', ADMIN);
    expect((all.json.schedules as Array<{ name: string }>).map((s) => s.name)).toEqual(['acme_people_hourly', 'globex_orders_daily']);
    const acme = await http('GET', '/api/v1/schedules', ACME_READ);
    expect((acme.json.schedules as Array<{ name: string; next?: number }>).map((s) => s.name)).toEqual(['acme_people_hourly']);
    expect((acme.json.schedules as Array<{ next?: number }>)[0]?.next).toBeGreaterThan(Date.now());
    expect((await http('POST', '/api/v1/schedules/acme_people_hourly/pause', ACME_READ)).status).toBe(403);
    // Another tenant's schedule does not exist for this token.
    expect((await http('POST', '/api/v1/schedules/globex_orders_daily/trigger', ACME_WRITE)).status).toBe(404);
    const started = await http('POST', '/api/v1/runs', GLOBEX, { schedule: 'globex_orders_daily' });
    expect(started.status).toBe(202);
    const id = String(started.json.id);
    await until(async () => ((await http('GET', `/api/v1/runs/${encodeURIComponent(id)}`, GLOBEX)).json.run as { status?: string } | undefined)?.status === 'succeeded', 120_000, 'the globex run');
    const detail = await http('GET', `/api/v1/runs/${encodeURIComponent(id)}`, GLOBEX);
    expect((detail.json.run as { rows: number }).rows).toBe(10);
    expect((detail.json.logs as string[]).some((l) => l.includes('run finished'))).toBe(true);
    expect((await http('GET', `/api/v1/runs/${encodeURIComponent(id)}`, ACME_READ)).status).toBe(404);
    const acmeRuns = await http('GET', '/api/v1/runs', ACME_READ);
    expect((acmeRuns.json.runs as Array<{ tenant: string }>).every((r) => r.tenant === 'acme')).toBe(true);
    const tenants = await http('GET', '/api/v1/tenants', GLOBEX);
    expect(tenants.json.tenants).toEqual([expect.objectContaining({ tenant: 'globex', rows: 10, concurrency: 1 })]);
    // Job files outside the served job directories cannot be run by path.
    expect((await http('POST', '/api/v1/runs', ADMIN, { config: '/etc/passwd' })).status).toBe(404);
  });

  it('pause and resume a schedule; cancel a running run (it stops after its batch)', async () => {
    expect((await http('POST', '/api/v1/schedules/acme_people_hourly/pause', ACME_WRITE)).status).toBe(200);
    let list = await http('GET', '/api/v1/schedules', ADMIN);
    expect((list.json.schedules as Array<{ name: string; paused: boolean; next?: number }>).find((s) => s.name === 'acme_people_hourly')).toMatchObject({ paused: true });
    expect(await fleet.queue('acme').getJobScheduler('acme_people_hourly')).toBeFalsy();
    expect((await http('POST', '/api/v1/schedules/acme_people_hourly/resume', ACME_WRITE)).status).toBe(200);
    list = await http('GET', '/api/v1/schedules', ADMIN);
    expect((list.json.schedules as Array<{ name: string; paused: boolean }>).find((s) => s.name === 'acme_people_hourly')?.paused).toBe(false);
    expect(await fleet.queue('acme').getJobScheduler('acme_people_hourly')).toBeTruthy();
    // The schedule's next firing is listed as queued, but cancelling it would end the schedule: refused.
    const next = ((await http('GET', '/api/v1/runs?status=queued', ADMIN)).json.runs as Array<{ id: string; schedule?: string }>).find((r) => r.schedule === 'acme_people_hourly');
    expect(next).toBeDefined();
    const refused = await http('POST', `/api/v1/runs/${encodeURIComponent(next?.id ?? '')}/cancel`, ADMIN);
    expect(refused.status).toBe(409);
    expect(refused.json.error).toContain('pause the schedule');

    const started = await http('POST', '/api/v1/runs', ACME_WRITE, { config: 'jobs/acme/cancelme.yaml' });
    expect(started.status).toBe(202);
    const id = String(started.json.id);
    await until(async () => ((await http('GET', `/api/v1/runs/${encodeURIComponent(id)}`, ADMIN)).json.run as { rows?: number } | undefined)?.rows! > 0, 120_000, 'the run to make progress');
    const cancel = await http('POST', `/api/v1/runs/${encodeURIComponent(id)}/cancel`, ACME_WRITE);
    expect(cancel.json.result).toBe('stopping');
    await until(async () => ((await http('GET', `/api/v1/runs/${encodeURIComponent(id)}`, ADMIN)).json.run as { status?: string }).status === 'cancelled', 120_000, 'the run to stop');
  });
});

describe('web console (headless Chromium)', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('a run started from the console appears, progresses live and finishes', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${base}/`);
    await page.getByLabel('API token').fill(ACME_WRITE);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('tenant acme').waitFor();
    await page.getByRole('button', { name: 'Schedules' }).click();
    const row = page.locator('tr[data-schedule="acme_people_hourly"]');
    await row.waitFor();
    // The other tenant's schedule is not shown to this token.
    expect(await page.locator('tr[data-schedule="globex_orders_daily"]').count()).toBe(0);
    await page.screenshot({ path: path.join(ARTIFACTS, '1-schedules.png') });
    await row.getByRole('button', { name: 'Run now' }).click();
    await page.waitForURL(/#\/runs\//);
    const id = decodeURIComponent(page.url().split('#/runs/')[1] ?? '');
    const rowsOf = async (): Promise<number> => Number(((await page.locator('dd[data-field="rows"]').textContent()) ?? '0').replace(/\D/g, ''));
    await page.locator('.status-running').waitFor({ timeout: 120_000 });
    await until(async () => (await rowsOf()) > 0, 120_000, 'rows on the page');
    const first = await rowsOf();
    // The figure moves without a reload, while the run is still running.
    await until(async () => (await page.locator('.status-running').count()) === 1 && (await rowsOf()) > first, 120_000, 'rows to grow while it runs');
    await page.screenshot({ path: path.join(ARTIFACTS, '2-run-live.png') });
    await page.locator('.status-succeeded').waitFor({ timeout: 180_000 });
    expect(await rowsOf()).toBe(ROWS);
    expect(await page.locator('pre.log').textContent()).toContain('run finished');
    await page.screenshot({ path: path.join(ARTIFACTS, '3-run-finished.png') });
    await page.getByRole('button', { name: '← Runs' }).click();
    const listed = page.locator(`tr[data-run="${id}"]`);
    await listed.waitFor();
    expect(await listed.getAttribute('data-status')).toBe('succeeded');
    await page.screenshot({ path: path.join(ARTIFACTS, '4-runs.png') });
    await page.getByRole('button', { name: 'Tenants' }).click();
    const tenant = page.locator('tr[data-tenant="acme"]');
    await tenant.waitFor();
    // Every acme run's rows: this one's and what the run cancelled above had committed.
    const totals = ((await http('GET', '/api/v1/tenants', ACME_READ)).json.tenants as Array<{ rows: number }>)[0];
    expect(totals?.rows).toBeGreaterThanOrEqual(ROWS);
    expect(await tenant.textContent()).toContain((totals?.rows ?? 0).toLocaleString('en-US'));
    await page.screenshot({ path: path.join(ARTIFACTS, '5-tenants.png') });
    await page.close();
  });

  it('refuses a wrong token on the sign-in page', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    await page.getByLabel('API token').fill('wrong-token-000000000000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That token was refused.').waitFor();
    await page.close();
  });
});
