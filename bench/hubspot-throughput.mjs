#!/usr/bin/env node
// Benchmark: how close the HubSpot source gets to HubSpot's rate limits when every request takes
// 150 ms, and records/s end to end into Parquet.
//
// The HubSpot API server used by the tests (packages/source-hubspot/src/fake-hubspot.ts, bundled
// here with esbuild) answers after 150 ms and enforces HubSpot's two limits: the general one as a
// rolling window (100 requests per 10 s, a private app's) with the X-HubSpot-RateLimit-* headers,
// and the search API's 5 requests per calendar second, each with 429s past them.
//
// 1. List (full refresh): contacts read through the list endpoint with the connector's declared
//    limit (10 req/s) and 3 id ranges in flight. Prints achieved requests/s ÷ allowed (goal ≥ 0.95)
//    and the 429s after warm-up (goal 0).
// 2. Search (incremental): contacts read through the search API at search_rps 5. Same ratio.
// 3. End to end: a higher plan's limit (190 per 10 s) into zstd Parquet through the pipeline
//    runner, records/s.
//
//   node bench/hubspot-throughput.mjs [--seconds 25]
import path from 'node:path';
import { DATA_DIR } from './lib/bench-util.mjs';
import { loadPackage as load, loadSource, runToParquet } from './lib/workspace.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const SECONDS = arg('seconds', 25);
const LATENCY = 150;

const { startFakeHubSpot } = await loadSource('source-hubspot', 'fake-hubspot');
const { hubspotSource, hubspotHead, hubspotConfigSchema } = await load('source-hubspot');
const core = await load('core');
const { testRunContext } = await load('testing');

function context(rps, burst) {
  const ctx = testRunContext();
  ctx.resilience = new core.ResilienceService('hubspot', core.mergeResilience(hubspotHead.spec.limits, { rateLimit: { requestsPerSecond: rps, burst } }), { log: ctx.log });
  return ctx;
}

/** Reads one stream while sampling the answered requests of one kind; the steady rate leaves out the first and last second. */
async function measure(fake, read, isKind) {
  const answered = () => fake.http.requests.filter(isKind).length - fake.throttled.filter((t) => isKind.search === t.search).length;
  const started = Date.now();
  const samples = [];
  const sampler = setInterval(() => samples.push([Date.now(), answered()]), 250);
  const rows = await read();
  clearInterval(sampler);
  const ended = Date.now();
  const from = samples.find(([t]) => t >= started + 1000);
  const to = samples.findLast(([t]) => t <= ended - 1000);
  const steady = from && to && to[0] > from[0] ? (to[1] - from[1]) / ((to[0] - from[0]) / 1000) : NaN;
  const throttled = fake.throttled.filter((t) => t.search === isKind.search);
  return { rows, elapsed: (ended - started) / 1000, requests: answered(), achieved: answered() / ((ended - started) / 1000), steady, throttled: throttled.length, late: throttled.filter((t) => t.at > started + 1000).length };
}

async function drain(iterable) {
  let rows = 0;
  for await (const m of iterable) if (m.kind === 'batch') rows += m.batch.numRows;
  return rows;
}

/** Reads the fake's contacts as `stream` says, measuring the requests `isKind` picks; checks that all `count` arrived. */
async function readMeasured(fake, raw, stream, isKind, count, allowed) {
  const config = hubspotConfigSchema.parse({ access_token: fake.token, api_base: fake.url, objects: ['contacts'], custom_objects: false, ...raw });
  const ctx = context(10, 10);
  const schema = (await hubspotSource().discover(config, ctx))[0].schema;
  fake.http.requests.length = 0;
  const r = await measure(fake, () => drain(hubspotSource().read(config, { streams: [{ name: 'contacts', schema, ...stream }] }, ctx)), isKind);
  await ctx.resilience.stop();
  await fake.close();
  if (r.rows !== count) throw new Error(`read ${r.rows} of ${count} contacts`);
  return { ...r, allowed };
}

async function list() {
  const fake = await startFakeHubSpot();
  const count = 10 * 100 * SECONDS;
  fake.generate('contacts', count);
  fake.http.latencyMs = LATENCY;
  fake.rateLimit = { max: 100, intervalMs: 10_000 };
  const isList = Object.assign((r) => r.method === 'GET' && r.path === '/crm/v3/objects/contacts', { search: false });
  return readMeasured(fake, { page_size: 100, list_concurrency: 3 }, { syncMode: 'full_refresh' }, isList, count, 10);
}

async function search() {
  const fake = await startFakeHubSpot();
  const count = 5 * 200 * SECONDS;
  const T0 = Date.UTC(2025, 0, 1);
  fake.add('contacts', count, { modified: (i) => T0 + Math.floor((i * 60 * 86_400_000) / count) });
  fake.http.latencyMs = LATENCY;
  fake.searchPerSecond = 5;
  const resumeFrom = { stream: 'contacts', state: { v: 1, phase: 'done', after: null, search: null, synced_to: T0 - 1, run_to: T0 - 1, since: null } };
  const isSearch = Object.assign((r) => r.path === '/crm/v3/objects/contacts/search', { search: true });
  return readMeasured(fake, { search_rps: 5, search_page_size: 200, archived: false, start_date: '2024-12-01' }, { syncMode: 'incremental', cursorField: 'updatedAt', resumeFrom }, isSearch, count, 5);
}

async function endToEnd() {
  const fake = await startFakeHubSpot();
  const count = 19 * 100 * SECONDS;
  fake.generate('contacts', count);
  fake.http.latencyMs = LATENCY;
  fake.rateLimit = { max: 190, intervalMs: 10_000 };
  const config = hubspotConfigSchema.parse({ access_token: fake.token, api_base: fake.url, objects: ['contacts'], page_size: 100, list_concurrency: 4, custom_objects: false });
  const ctx = context(19, 19);
  const extractor = hubspotSource();
  const schema = (await extractor.discover(config, ctx))[0].schema;
  const run = await runToParquet({ extractor, config, stream: { name: 'contacts', schema, syncMode: 'full_refresh' }, ctx, rateLimit: { requestsPerSecond: 19, burst: 19 }, out: path.join(DATA_DIR, 'hubspot-throughput') });
  await fake.close();
  const { rows, elapsed } = run;
  if (rows !== count) throw new Error(`wrote ${rows} of ${count} contacts: ${run.failure}`);
  return { rows, elapsed, recordsPerSecond: rows / elapsed, cpuSeconds: run.cpuSeconds, throttled: fake.throttled.length };
}

const line = (what, r) =>
  `${what}, ${LATENCY} ms latency: ${r.requests} requests in ${r.elapsed.toFixed(1)} s (${r.achieved.toFixed(2)} req/s overall, ratio ${(r.achieved / r.allowed).toFixed(2)}); steady ${r.steady.toFixed(2)} req/s, ratio ${(r.steady / r.allowed).toFixed(2)} (goal ≥ 0.95); 429s: ${r.throttled} (after warm-up: ${r.late}, goal 0); ${Math.round(r.rows / r.elapsed)} records/s`;
console.log(line('list, allowed 100 per rolling 10 s (10 req/s)', await list()));
console.log(line('search, allowed 5 req/s', await search()));
const e = await endToEnd();
console.log(`end to end, 190 per 10 s × 100 contacts/page → zstd Parquet: ${e.rows} records in ${e.elapsed.toFixed(1)} s = ${Math.round(e.recordsPerSecond)} records/s (CPU ${e.cpuSeconds.toFixed(1)} s, ${Math.round((e.cpuSeconds / e.rows) * 1e6)} µs/record with the fake server; 429s: ${e.throttled})`);
