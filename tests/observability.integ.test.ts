import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { HIDDEN_VALUE, METRIC_CATALOG, METRIC_LABELS, MetricsStore } from '@dativo/core';
import { recordSecret, tempDir } from '@dativo/testing';
import { queryDuckDb, sqlString } from '@dativo/testing/duckdb';
import { tempPostgresDatabase, type TempDatabase } from '@dativo/testing/sql';
import pg from 'pg';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeStripe, type FakeStripe } from '../packages/source-stripe/src/fake-stripe.js';
import { copyExample, logLines, parquetFiles, ROOT, runCli } from './helpers.js';

/**
 * Observability end to end, with the operators' own tools: a real Prometheus (Debian `prometheus`)
 * scrapes a running job's `--metrics-port` and a real Pushgateway (`prometheus-pushgateway`) the
 * job pushed to, and the values come back through Prometheus's HTTP API; an OTLP/HTTP receiver
 * written here collects the traces; `promtool` checks and unit-tests the alert rules.
 */
const BIN = { prometheus: '/usr/bin/prometheus', pushgateway: '/usr/bin/prometheus-pushgateway', promtool: '/usr/bin/promtool' };
const scratch = tempDir('dativo-observability-');
const dir = scratch.path;
const DOCS = path.join(ROOT, 'docs', 'observability');
const PG_PASSWORD = 'obs-Pa55word-9f3e1c';
const BAD_NATIONAL_ID = 'NID-991-22-7781';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let db: TempDatabase;
let stripe: FakeStripe;
const daemons: ChildProcess[] = [];
let prometheusUrl = '';
let pushgatewayUrl = '';
let metricsPort = 0;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(250);
  }
}

async function daemon(bin: string, args: string[], readyUrl: string): Promise<void> {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: install Debian's prometheus and prometheus-pushgateway packages (.ci/run does)`);
  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  daemons.push(child);
  await waitFor(`${path.basename(bin)} to be ready`, async () => {
    if (child.exitCode !== null) throw new Error(`${bin} exited: ${stderr}`);
    const res = await fetch(readyUrl);
    return res.ok ? true : undefined;
  });
}

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

async function query(expr: string): Promise<Sample[]> {
  const res = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await res.json()) as { status: string; data: { result: Sample[] }; error?: string };
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error ?? res.status}`);
  return body.data.result;
}

/** The value of a one-series PromQL expression once Prometheus has it equal to `expected`. */
async function expectValue(expr: string, expected: number): Promise<void> {
  let seen: string | undefined;
  await waitFor(
    `${expr} == ${expected}`,
    async () => {
      const result = await query(expr);
      seen = result.map((r) => r.value[1]).join(', ');
      return result.length === 1 && Number(result[0]?.value[1]) === expected ? true : undefined;
    },
    30_000,
  ).catch((error: Error) => {
    throw new Error(`${error.message} (last seen: ${seen || 'no series'})`);
  });
}

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: Array<{ key: string; value: { stringValue?: string; intValue?: string | number; boolValue?: boolean } }>;
  status?: { code?: number; message?: string };
}

/** An OTLP/HTTP receiver (JSON encoding): keeps every request body and the spans in them. */
async function otlpReceiver(): Promise<{ url: string; bodies: string[]; spans: OtlpSpan[]; close(): Promise<void> }> {
  const bodies: string[] = [];
  const spans: OtlpSpan[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces' || !String(req.headers['content-type']).includes('json')) {
        res.writeHead(415).end();
        return;
      }
      bodies.push(body);
      const parsed = JSON.parse(body) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }> };
      for (const rs of parsed.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, bodies, spans, close: () => new Promise((r) => server.close(() => r())) };
}

const attr = (span: OtlpSpan, key: string): unknown => {
  const v = span.attributes?.find((a) => a.key === key)?.value;
  return v ? (v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : v.boolValue)) : undefined;
};

async function parquetCount(out: string): Promise<number> {
  const rows = await queryDuckDb(`SELECT COUNT(*)::INTEGER AS n FROM read_parquet([${parquetFiles(out).map(sqlString).join(', ')}])`);
  return rows[0]?.n as number;
}

beforeAll(async () => {
  recordSecret(PG_PASSWORD, 'observability test PostgreSQL password');
  db = await tempPostgresDatabase('dativo_observability');
  await db.exec(`CREATE TABLE orders (id bigint PRIMARY KEY, email text NOT NULL, amount numeric(10,2) NOT NULL);
    INSERT INTO orders SELECT g, 'customer' || g || '@example.org', g * 1.5 FROM generate_series(1, 20000) g;
    CREATE TABLE people (id bigint PRIMARY KEY, email text NOT NULL, national_id text);
    INSERT INTO people SELECT g, 'person' || g || '@example.org', (100000 + g)::text FROM generate_series(1, 500) g;
    UPDATE people SET national_id = '${BAD_NATIONAL_ID}' WHERE id = 321;`);
  mkdirSync(path.join(dir, 'jobs'), { recursive: true });
  mkdirSync(path.join(dir, 'failing'), { recursive: true });
  writeFileSync(path.join(dir, 'orders.yaml'), 'name: orders\nschema:\n  - { name: id, type: bigint, required: true }\n  - { name: email, type: string, classification: PII }\n  - { name: amount, type: "decimal(10,2)" }\nprimary_key: [id]\n');
  writeFileSync(
    path.join(dir, 'people.yaml'),
    'name: people\nschema:\n  - { name: id, type: bigint, required: true }\n  - { name: email, type: string, classification: PII }\n  - { name: national_id, type: bigint, classification: PII }\nprimary_key: [id]\n',
  );
  const connection = `  connection:\n    host: 127.0.0.1\n    port: 5432\n    user: postgres\n    password: \${OBS_PG_PASSWORD}\n    database: ${db.name}\n`;
  writeFileSync(
    path.join(dir, 'jobs', 'orders.yaml'),
    `tenant_id: acme\nenvironment: dev\nsource_connector: postgres\ntarget_connector: parquet\nasset: orders\nasset_path: orders.yaml\nsource:\n  tables: [{ name: orders, object: orders }]\n${connection}  batch_rows: 2000\ncommit: { every_rows: 5000 }\ntarget:\n  path: out/orders\n  partitioning: []\n`,
  );
  writeFileSync(
    path.join(dir, 'failing', 'people.yaml'),
    `tenant_id: globex\nenvironment: dev\nsource_connector: postgres\ntarget_connector: parquet\nasset: people\nasset_path: ../people.yaml\nsource:\n  tables: [{ name: people, object: people }]\n${connection}  batch_rows: 100\ntarget:\n  path: ../out/people\n  partitioning: []\n`,
  );

  const [promPort, pushPort] = [await freePort(), await freePort()];
  metricsPort = await freePort();
  prometheusUrl = `http://127.0.0.1:${promPort}`;
  pushgatewayUrl = `http://127.0.0.1:${pushPort}`;
  writeFileSync(
    path.join(dir, 'prometheus.yml'),
    `global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: [${JSON.stringify(path.join(DOCS, 'alerts.yml'))}]
scrape_configs:
  - job_name: dativo
    honor_labels: true
    static_configs: [{ targets: ['127.0.0.1:${metricsPort}'], labels: { via: direct } }]
  - job_name: pushgateway
    honor_labels: true
    static_configs: [{ targets: ['127.0.0.1:${pushPort}'], labels: { via: pushgateway } }]
`,
  );
  await daemon(BIN.pushgateway, [`--web.listen-address=127.0.0.1:${pushPort}`], `${pushgatewayUrl}/-/ready`);
  await daemon(BIN.prometheus, [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${promPort}`], `${prometheusUrl}/-/ready`);
  stripe = await startFakeStripe();
  stripe.add('/v1/customers', 400, { from: Math.floor(Date.now() / 1000) - 30 * 86_400, step: 3_000 });
}, 120_000);

afterAll(async () => {
  for (const d of daemons) d.kill('SIGKILL');
  await stripe?.close();
  await db?.drop();
  scratch.cleanup();
});

const env = { OBS_PG_PASSWORD: PG_PASSWORD };

describe('metrics through a real Prometheus and Pushgateway', () => {
  it('Prometheus scrapes a running job and reads back records processed equal to the rows written, directly and through the Pushgateway', async () => {
    // The table is locked, so the job waits inside its run (counting rows) until Prometheus has seen it running.
    const locker = new pg.Client({ connectionString: db.uri });
    await locker.connect();
    await locker.query('BEGIN; LOCK TABLE orders IN ACCESS EXCLUSIVE MODE');
    const lockedAt = Date.now();
    const run = runCli(['run', 'jobs/orders.yaml', '--metrics-port', String(metricsPort), '--pushgateway', pushgatewayUrl, '--json', '--progress-interval', '1'], { cwd: dir, env });
    try {
      await expectValue('dativo_active_jobs{via="direct", tenant="acme", job="orders"}', 1);
      // Long enough for progress log lines (one a second off a terminal) while the job waits.
      await sleep(Math.max(0, 3500 - (Date.now() - lockedAt)));
    } finally {
      await locker.query('COMMIT');
      await locker.end();
    }
    const result = await run;
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { jobs: Array<{ rows: number; runId: string; cost: { rows: number; cpuSeconds: number; bytesWritten: number } }> };
    const job = report.jobs[0];
    expect(job?.rows).toBe(20_000);
    expect(await parquetCount(path.join(dir, 'out', 'orders'))).toBe(20_000);
    expect(job?.cost).toMatchObject({ rows: 20_000, cpuSeconds: expect.any(Number), bytesWritten: expect.any(Number) });
    // Off a terminal, the waiting stream showed it was alive: where it reads, no rows yet.
    const progress = logLines(result.stderr).filter((l) => l.msg === 'progress');
    expect(progress.length).toBeGreaterThanOrEqual(1);
    expect(progress[0]).toMatchObject({ runId: job?.runId, stream: 'orders', rows: 0, at: expect.stringContaining('orders') });
    // The final values of the direct scrape (the CLI kept the port open for one more scrape) and of the push.
    await expectValue('sum(dativo_records_processed_total{via="direct", tenant="acme", job="orders"})', 20_000);
    await expectValue('sum(dativo_records_processed_total{via="pushgateway", tenant="acme", job="orders"})', 20_000);
    await expectValue('sum(dativo_records_read_total{via="pushgateway", tenant="acme", job="orders", connector="postgres", stream="orders"})', 20_000);
    await expectValue('dativo_job_runs_total{via="pushgateway", tenant="acme", job="orders", status="succeeded"}', 1);
    await expectValue('dativo_active_jobs{via="direct", tenant="acme", job="orders"}', 0);
    await expectValue(`sum(dativo_bytes_written_total{via="pushgateway", job="orders"})`, job?.cost.bytesWritten as number);
    await expectValue('count(dativo_commits_total{via="pushgateway", job="orders"} >= 4)', 1);
    const cpu = await query('dativo_job_cpu_seconds_total{via="pushgateway", job="orders"}');
    expect(Number(cpu[0]?.value[1])).toBeGreaterThan(0);
    // Prometheus loaded the alert rules and evaluates them against these series.
    const rules = (await (await fetch(`${prometheusUrl}/api/v1/rules`)).json()) as { data: { groups: Array<{ rules: Array<{ name: string; health: string }> }> } };
    const loaded = rules.data.groups.flatMap((g) => g.rules);
    expect(loaded.map((r) => r.name)).toContain('DativoJobFailed');
    expect(loaded.every((r) => r.health !== 'err')).toBe(true);
  }, 120_000);

  it('API calls carry the run id in a header, and no label value grows with the data (no ids, no URLs)', async () => {
    writeFileSync(
      path.join(dir, 'jobs', 'customers.yaml'),
      `tenant_id: initech\nenvironment: dev\nsource_connector: stripe\ntarget_connector: parquet\nasset: customers\nasset_path: customers.yaml\nsource:\n  api_key: \${STRIPE_API_KEY}\n  api_base: \${STRIPE_API_BASE}\n  objects: [customers]\n  start_date: ${Math.floor(Date.now() / 1000) - 40 * 86_400}\n  window_days: 10\n  page_size: 50\ntarget:\n  path: out/customers\n  partitioning: []\n`,
    );
    writeFileSync(path.join(dir, 'customers.yaml'), 'name: customers\nschema:\n  - { name: id, type: string, required: true }\n  - { name: email, type: string, classification: PII }\n  - { name: created, type: timestamp }\nprimary_key: [id]\n');
    stripe.http.requests.length = 0;
    stripe.http.failNext(2, { status: 500, body: { error: { type: 'api_error', message: 'try again' } } });
    const result = await runCli(['run', 'jobs/customers.yaml', '--pushgateway', pushgatewayUrl, '--json'], { cwd: dir, env: { STRIPE_API_KEY: stripe.key, STRIPE_API_BASE: stripe.url } });
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { jobs: Array<{ rows: number; runId: string; cost: { apiRequests: number } }> };
    const job = report.jobs[0];
    expect(job?.rows).toBe(400);
    expect(stripe.http.requests.length).toBeGreaterThan(8);
    expect(new Set(stripe.http.requests.map((r) => r.headers['x-dativo-run-id']))).toEqual(new Set([job?.runId]));
    expect(job?.cost.apiRequests).toBe(stripe.http.requests.length);
    await expectValue('sum(dativo_api_requests_total{via="pushgateway", tenant="initech", connector="stripe"})', stripe.http.requests.length);
    await expectValue('sum(dativo_api_requests_total{via="pushgateway", tenant="initech", connector="stripe", status="500"})', 2);
    await expectValue('sum(dativo_retries_total{via="pushgateway", tenant="initech", connector="stripe"})', 2);

    // Every label of every Dativo series Prometheus holds: known names, bounded values.
    const res = await fetch(`${prometheusUrl}/api/v1/series?match[]=${encodeURIComponent('{__name__=~"dativo_.*"}')}`);
    const series = ((await res.json()) as { data: Array<Record<string, string>> }).data;
    expect(series.length).toBeGreaterThan(30);
    const allowed = new Set<string>([...METRIC_LABELS, 'endpoint', 'status', 'le', '__name__', 'instance', 'via']);
    const problems: string[] = [];
    for (const labels of series) {
      for (const [name, value] of Object.entries(labels)) {
        if (!allowed.has(name)) problems.push(`label ${name} on ${labels.__name__}`);
        if (name === '__name__' || name === 'instance' || name === 'le') continue;
        if (name === 'status' && /^(ok|\d{3}|[a-z_]+)$/.test(value)) continue;
        const idLike = value.split(/[\s/]/).some((part) => /^\d{3,}$/.test(part) || /^[a-z]{2,8}_[A-Za-z0-9]{8,}$/.test(part) || /^[0-9a-f]{12,}$/i.test(part));
        if (value.length > 80 || value.includes('://') || value.includes('?') || value.includes('@') || idLike) problems.push(`${labels.__name__} ${name}="${value}"`);
      }
    }
    expect(problems).toEqual([]);
    const endpoints = new Set(series.filter((s) => s.endpoint).map((s) => s.endpoint));
    expect([...endpoints]).toEqual(['GET /v1/customers']);
  }, 120_000);
});

describe('traces over OTLP/HTTP', () => {
  it('one trace per run: run → stream → read / write / commit spans, with the run id', async () => {
    const receiver = await otlpReceiver();
    try {
      const example = copyExample('quickstart', path.join(dir, 'traced'));
      const result = await runCli(['run', '--job-dir', 'jobs/acme', '--json'], { cwd: example, env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'dativo-test' } });
      expect(result.code, result.stderr).toBe(0);
      const runIds = (JSON.parse(result.stdout) as { jobs: Array<{ runId: string }> }).jobs.map((j) => j.runId);
      expect(runIds).toHaveLength(3);
      const traces = new Map<string, OtlpSpan[]>();
      for (const s of receiver.spans) traces.set(s.traceId, [...(traces.get(s.traceId) ?? []), s]);
      expect(traces.size).toBe(3);
      const seenRuns: unknown[] = [];
      for (const spans of traces.values()) {
        const byId = new Map(spans.map((s) => [s.spanId, s]));
        const roots = spans.filter((s) => !s.parentSpanId);
        expect(roots.map((s) => s.name)).toEqual(['dativo.run']);
        const root = roots[0] as OtlpSpan;
        seenRuns.push(attr(root, 'dativo.run_id'));
        expect(attr(root, 'dativo.status')).toBe('succeeded');
        const streams = spans.filter((s) => s.name === 'dativo.stream');
        expect(streams.length).toBeGreaterThanOrEqual(1);
        for (const s of streams) expect(s.parentSpanId).toBe(root.spanId);
        for (const name of ['dativo.read', 'dativo.write', 'dativo.commit']) {
          const children = spans.filter((s) => s.name === name);
          expect(children.length, name).toBeGreaterThanOrEqual(1);
          for (const c of children) expect(byId.get(c.parentSpanId ?? '')?.name, name).toBe('dativo.stream');
        }
        const written = spans.filter((s) => s.name === 'dativo.write').reduce((n, s) => n + Number(attr(s, 'dativo.rows')), 0);
        expect(written).toBe(attr(root, 'dativo.rows'));
      }
      expect(seenRuns.sort()).toEqual([...runIds].sort());
    } finally {
      await receiver.close();
    }
  }, 120_000);
});

describe('a failing job', () => {
  it('carries one run id end to end; the password and PII values appear nowhere in logs, metrics or traces', async () => {
    const receiver = await otlpReceiver();
    try {
      const result = await runCli(['run', 'failing/people.yaml', '--pushgateway', pushgatewayUrl, '--json', '--log-format', 'json', '--log-level', 'debug'], {
        cwd: dir,
        env: { ...env, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces` },
      });
      expect(result.code).not.toBe(0);
      const report = JSON.parse(result.stdout) as { jobs: Array<{ runId: string; status: string; error: { message: string; code?: string } }> };
      const job = report.jobs[0];
      expect(job?.status).toBe('failed');
      expect(job?.error.message).toContain("column 'national_id'");
      expect(job?.error.message).toContain(HIDDEN_VALUE);
      const lines = logLines(result.stderr);
      expect(lines.length).toBeGreaterThan(3);
      // Every line of the job carries its run id; the only others are the process's own (the tracing set-up), at debug level.
      const jobLines = lines.filter((l) => l.job !== undefined);
      expect(jobLines.length).toBeGreaterThan(3);
      expect(jobLines.filter((l) => l.runId !== job?.runId)).toEqual([]);
      expect(lines.filter((l) => l.job === undefined).map((l) => [l.level, l.msg])).toEqual([['debug', 'exporting traces over OTLP/HTTP']]);
      expect(lines.some((l) => l.level === 'error' && l.msg === 'run failed')).toBe(true);
      expect(jobLines.every((l) => l.tenant === 'globex' && l.job === 'people')).toBe(true);

      const pushed = await (await fetch(`${pushgatewayUrl}/metrics`)).text();
      expect(pushed).toContain('dativo_job_runs_total{');
      expect(pushed).toMatch(/dativo_job_runs_total\{[^}]*job="people"[^}]*status="failed"[^}]*\} 1/);
      expect(pushed).toMatch(/dativo_records_failed_total\{[^}]*job="people"[^}]*\} 1/);
      await waitFor('the trace', async () => (receiver.spans.some((s) => s.name === 'dativo.run') ? true : undefined), 10_000);
      const run = receiver.spans.find((s) => s.name === 'dativo.run') as OtlpSpan;
      expect(attr(run, 'dativo.run_id')).toBe(job?.runId);
      expect(run.status?.code).toBe(2);
      expect(attr(run, 'dativo.error.code')).toBe('SQL_BAD_VALUE');

      const everything = [result.stdout, result.stderr, pushed, ...receiver.bodies].join('\n');
      expect(everything).not.toContain(PG_PASSWORD);
      expect(everything).not.toContain(BAD_NATIONAL_ID);
      expect(everything).not.toMatch(/person\d+@example\.org/);
    } finally {
      await receiver.close();
    }
  }, 120_000);
});

describe('dashboard and alert rules', () => {
  it('promtool checks and unit-tests the rules; the dashboard and rules reference only metrics Dativo exports', async () => {
    const check = spawnSync(BIN.promtool, ['check', 'rules', path.join(DOCS, 'alerts.yml')], { encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    const unit = spawnSync(BIN.promtool, ['test', 'rules', 'alerts.test.yml'], { cwd: DOCS, encoding: 'utf8' });
    expect(unit.status, unit.stdout + unit.stderr).toBe(0);

    const rules = parseYaml(readFileSync(path.join(DOCS, 'alerts.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> };
    const alertNames = rules.groups.flatMap((g) => g.rules.map((r) => r.alert));
    expect(alertNames).toEqual(expect.arrayContaining(['DativoJobFailed', 'DativoNoProgress', 'DativoHighErrorRatio', 'DativoCircuitBreakerOpen', 'DativoDeadLetterGrowth', 'DativoCheckpointLag']));
    const dashboard = JSON.parse(readFileSync(path.join(DOCS, 'grafana-dashboard.json'), 'utf8')) as { panels: Array<{ title: string; targets?: Array<{ expr: string }> }>; templating: { list: Array<{ query?: unknown }> } };
    const exprs = [
      ...rules.groups.flatMap((g) => g.rules.map((r) => r.expr)),
      ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
      ...dashboard.templating.list.map((v) => (typeof v.query === 'string' ? v.query : '')),
    ];
    const referenced = new Set(exprs.flatMap((e) => e.match(/\bdativo_[a-z_]+/g) ?? []));
    const exported = await new MetricsStore().render();
    const missing = [...referenced].filter((name) => {
      const base = name.replace(/_(bucket|sum|count)$/, '');
      const known = name in METRIC_CATALOG || (base !== name && (METRIC_CATALOG as Record<string, { type: string }>)[base]?.type === 'histogram');
      return !known || !exported.includes(`# TYPE ${known && name in METRIC_CATALOG ? name : base} `);
    });
    expect(missing).toEqual([]);
    // The dashboard covers what operators asked for.
    const titles = dashboard.panels.map((p) => p.title).join(' | ');
    for (const topic of ['Records processed', 'rejected', 'API request duration', 'dead-lettered', 'Checkpoint lag', 'Cost per tenant']) expect(titles).toContain(topic);
    expect(referenced.size).toBeGreaterThanOrEqual(15);
  });
});
