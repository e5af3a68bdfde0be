#!/usr/bin/env node
// Benchmark: how close the Stripe source gets to an API's rate limit when every request takes
// 150 ms, and records/s end to end into Parquet.
//
// 1. Throughput: the Stripe API server used by the tests (packages/source-stripe/src/fake-stripe.ts,
//    bundled here with esbuild) answers after 150 ms and refuses more than N requests per second
//    with a 429 (N = 25 and 100: Stripe's test and live limits), enforced as a token bucket (the
//    algorithm Stripe describes) and, strictest, as at most N answers per wall-clock second. The
//    source reads customers 10 per page with the run's limiter set to N. Prints achieved
//    requests/s ÷ N (goal ≥ 0.95) and the 429s after the first second (goal 0): latency must not
//    cap throughput, so windows are read in parallel.
// 2. End to end: 100 requests/s × 100 objects per page into zstd Parquet (the pipeline runner with
//    the Parquet sink), records/s.
// 3. CPU split: the stages of (2) timed one by one on the same pages — JSON parsing of the bodies,
//    shaping and Arrow batch building, Parquet encoding (its worker thread included) — as shares of
//    their sum; what (2) spends beyond it is HTTP, the SDK, the limiter and the fake server.
//
//   node bench/api-throughput.mjs [--seconds 10]
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { DATA_DIR } from './lib/bench-util.mjs';
import { loadPackage as load, loadSource, runToParquet } from './lib/workspace.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const SECONDS = arg('seconds', 10);

const { startFakeStripe } = await loadSource('source-stripe', 'fake-stripe');
const { stripeSource, stripeHead, stripeConfigSchema } = await load('source-stripe');
const core = await load('core');
const { testRunContext } = await load('testing');
const { parquetSink } = await load('sink-parquet');

function context(rps, burst) {
  const ctx = testRunContext();
  ctx.resilience = new core.ResilienceService('stripe', core.mergeResilience(stripeHead.spec.limits, { rateLimit: { requestsPerSecond: rps, burst } }), { log: ctx.log });
  return ctx;
}

async function throughput(limit, algorithm) {
  const fake = await startFakeStripe();
  fake.limitAlgorithm = algorithm;
  const pageSize = 10;
  const requests = limit * SECONDS;
  const now = Math.floor(Date.now() / 1000);
  // Objects spread over 400 days, read in 2-day windows: enough windows to keep the pipe full.
  fake.add('/v1/customers', requests * pageSize, { from: now - 400 * 86_400, step: (400 * 86_400) / (requests * pageSize) });
  fake.http.latencyMs = 150;
  fake.limitPerSecond = limit;
  const config = stripeConfigSchema.parse({ api_key: fake.key, api_base: fake.url, objects: ['customers'], start_date: now - 400 * 86_400, window_days: 2, page_size: pageSize, concurrency: 32 });
  const ctx = context(limit, Math.max(1, Math.floor(limit / 10)));
  const schema = (await stripeSource().discover(config, ctx))[0].schema;
  const before = fake.http.requests.length;
  const started = Date.now();
  // Requests answered over time, to measure the steady rate (without the first and last second).
  const samples = [];
  const sampler = setInterval(() => samples.push([Date.now(), fake.http.requests.length - fake.throttled.length]), 100);
  let rows = 0;
  for await (const m of stripeSource().read(config, { streams: [{ name: 'customers', schema, syncMode: 'full_refresh' }] }, ctx)) if (m.kind === 'batch') rows += m.batch.numRows;
  clearInterval(sampler);
  const ended = Date.now();
  const elapsed = (ended - started) / 1000;
  const sent = fake.http.requests.length - before;
  const from = samples.find(([t]) => t >= started + 1000);
  const to = samples.findLast(([t]) => t <= ended - 1000);
  const steady = from && to && to[0] > from[0] ? (to[1] - from[1]) / ((to[0] - from[0]) / 1000) : NaN;
  const throttled = fake.throttled.length;
  const late = fake.throttled.filter((t) => t > started + 1000).length;
  await ctx.resilience.stop();
  await fake.close();
  if (rows !== requests * pageSize) throw new Error(`read ${rows} of ${requests * pageSize} customers`);
  const achieved = (sent - throttled) / elapsed;
  return { limit, algorithm, elapsed, sent, achieved, steady, ratio: steady / limit, throttled, late };
}

async function endToEnd() {
  const fake = await startFakeStripe();
  const objects = 100 * 100 * SECONDS;
  const now = Math.floor(Date.now() / 1000);
  fake.generate('/v1/customers', objects, { from: now - 400 * 86_400, step: (399 * 86_400) / objects });
  fake.http.latencyMs = 150;
  fake.limitPerSecond = 100;
  fake.limitAlgorithm = 'token-bucket';
  const config = stripeConfigSchema.parse({ api_key: fake.key, api_base: fake.url, objects: ['customers'], start_date: now - 400 * 86_400, window_days: 4, page_size: 100, concurrency: 32 });
  const ctx = context(100, 10);
  const extractor = stripeSource();
  const schema = (await extractor.discover(config, ctx))[0].schema;
  const run = await runToParquet({ extractor, config, stream: { name: 'customers', schema, syncMode: 'full_refresh' }, ctx, rateLimit: { requestsPerSecond: 100, burst: 10 }, out: path.join(DATA_DIR, 'api-throughput') });
  await fake.close();
  const { rows, elapsed } = run;
  if (rows !== objects) throw new Error(`wrote ${rows} of ${objects} customers: ${run.failure}`);
  return { rows, elapsed, recordsPerSecond: rows / elapsed, cpuSeconds: run.cpuSeconds, requests: fake.http.requests.length };
}

async function cpuSplit() {
  const fake = await startFakeStripe();
  const objects = 50_000;
  const now = Math.floor(Date.now() / 1000);
  fake.generate('/v1/customers', objects, { from: now - 400 * 86_400, step: (399 * 86_400) / objects });
  const config = stripeConfigSchema.parse({ api_key: fake.key, api_base: fake.url, objects: ['customers'], start_date: now - 400 * 86_400, page_size: 100 });
  const ctx = context(1_000, 100);
  const schema = (await stripeSource().discover(config, ctx))[0].schema;
  const bodies = [];
  for (let after = null; ; ) {
    const res = await fetch(`${fake.url}/v1/customers?limit=100${after ? `&starting_after=${after}` : ''}`, { headers: { authorization: `Bearer ${fake.key}` } });
    const body = await res.text();
    bodies.push(body);
    const page = JSON.parse(body);
    if (!page.has_more) break;
    after = page.data.at(-1).id;
  }
  await fake.close();
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  const stage = async (fn) => {
    const before = cpu();
    const out = await fn();
    return [cpu() - before, out];
  };
  const [parse, pages] = await stage(() => bodies.map((b) => JSON.parse(b)));
  const { RecordShaper } = await load('api-kit');
  const [build, batches] = await stage(() => {
    const shaper = new RecordShaper(schema, { log: ctx.log, stream: 'customers', epochUnit: 's', own: ['_deleted', '_deleted_at'] });
    const builder = new core.BatchBuilder(schema, ctx.batchLimits);
    const out = [];
    for (const page of pages) for (const record of page.data) {
      builder.appendRecord(shaper.shape(record));
      if (builder.full) out.push(builder.flush());
    }
    const last = builder.flush();
    if (last) out.push(last);
    return out;
  });
  const out = path.join(DATA_DIR, 'api-throughput-split');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const sink = parquetSink();
  const [encode] = await stage(async () => {
    const writer = await sink.open(sink.configSchema.parse({ path: out, partitioning: [] }), { name: 'customers', schema, syncModes: ['full_refresh'] }, ctx);
    for (const b of batches) await writer.write(b);
    await writer.commit({ stream: 'customers', state: { done: true } });
    await writer.close();
  });
  await ctx.resilience.stop();
  const total = parse + build + encode;
  return { objects, parse, build, encode, total, perRecordUs: (total / objects) * 1e6 };
}

for (const limit of process.argv.includes('--only-e2e') ? [] : [25, 100]) {
  for (const algorithm of ['token-bucket', 'calendar-second']) {
    const r = await throughput(limit, algorithm);
    console.log(`limit ${limit} req/s (${algorithm}), 150 ms latency: ${r.sent} requests in ${r.elapsed.toFixed(1)} s (${r.achieved.toFixed(1)} req/s overall); steady ${r.steady.toFixed(1)} req/s, ratio ${r.ratio.toFixed(2)} (goal ≥ 0.95); 429s: ${r.throttled} (after the first second: ${r.late}, goal 0)`);
  }
}
const e = await endToEnd();
console.log(`end to end, 100 req/s × 100 objects/page → zstd Parquet: ${e.rows} records in ${e.elapsed.toFixed(1)} s = ${Math.round(e.recordsPerSecond)} records/s (CPU ${e.cpuSeconds.toFixed(1)} s for ${e.requests} requests, ${Math.round((e.cpuSeconds / e.rows) * 1e6)} µs/record with the fake server)`);
const c = await cpuSplit();
const pct = (x) => `${Math.round((x / c.total) * 100)} %`;
console.log(`CPU split over ${c.objects} customers (${Math.round(c.perRecordUs)} µs/record in these stages): JSON parsing ${pct(c.parse)} · shaping and batch building ${pct(c.build)} · Parquet encoding ${pct(c.encode)}`);
