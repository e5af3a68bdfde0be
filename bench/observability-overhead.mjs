#!/usr/bin/env node
// Benchmark: what metrics and tracing cost on the CSV → zstd Parquet job of bench/csv-to-parquet.
// The same job, alternately:
//   off: DATIVO_METRICS=off, no OTEL_* variables (nothing counted, no-op spans)
//   on:  --metrics-port 0 (prom-client metrics served) and OTEL_EXPORTER_OTLP_ENDPOINT pointed at an
//        OTLP/HTTP receiver in this process (every span exported)
// Prints the median times and the overhead (goal: under 3 % of throughput).
//
//   node bench/observability-overhead.mjs [--rows 2000000] [--runs 9]
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BENCH_COLUMNS } from './lib/generate-csv.mjs';
import { benchCsv, DATA_DIR, fresh, measureDativo, median, writeCsvParquetJob } from './lib/bench-util.mjs';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '2000000' }, runs: { type: 'string', default: '9' } } });
const rows = Number(values.rows);
const runs = Number(values.runs);
const { file, bytes } = await benchCsv(rows);
const work = path.join(DATA_DIR, 'observability-overhead');
fresh(work);
writeCsvParquetJob(work, file, BENCH_COLUMNS);

let spans = 0;
const receiver = http.createServer((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    spans += (body.match(/"spanId"/g) ?? []).length;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
const endpoint = `http://127.0.0.1:${receiver.address().port}`;

async function once(on, nodeArgs = []) {
  fresh(path.join(work, 'out'));
  fresh(path.join(work, '.dativo'));
  const args = ['run', '--config', 'job.yaml', '--quiet', ...(on ? ['--metrics-port', '0'] : [])];
  return measureDativo(args, work, on ? { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: 'dativo-bench' } : { DATIVO_METRICS: 'off' }, nodeArgs);
}

/**
 * CPU time by package in a V8 profile of one "on" run: what the observability code itself costs,
 * a number the machine's noise does not blur (the wall-clock spread of a shared machine is larger
 * than the effect being measured).
 */
async function profiledShare() {
  const dir = path.join(work, 'profile');
  fresh(dir);
  await once(true, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
  let total = 0;
  const by = { opentelemetry: 0, 'prom-client': 0, pino: 0 };
  for (const file of readdirSync(dir)) {
    const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    profile.samples.forEach((id, i) => {
      const dt = profile.timeDeltas[i] ?? 0;
      const node = nodes.get(id);
      if (node.callFrame.functionName === '(idle)') return;
      total += dt;
      const url = node.callFrame.url;
      for (const key of Object.keys(by)) if (url.includes(`/${key === 'opentelemetry' ? '@opentelemetry' : key}/`)) by[key] += dt;
    });
  }
  return { total: total / 1e6, ...Object.fromEntries(Object.entries(by).map(([k, v]) => [k, v / 1e6])) };
}

const off = [];
const on = [];
for (let i = 0; i < runs; i++) {
  // Alternating order, so drift on a shared machine hits both sides alike.
  const first = i % 2 === 0;
  const a = await once(!first);
  const b = await once(first);
  (first ? off : on).push(a);
  (first ? on : off).push(b);
  process.stderr.write(`run ${i + 1}/${runs}: off ${off.at(-1).seconds.toFixed(2)} s (${off.at(-1).cpuSeconds.toFixed(2)} s CPU), on ${on.at(-1).seconds.toFixed(2)} s (${on.at(-1).cpuSeconds.toFixed(2)} s CPU)\n`);
}
const spansPerRun = Math.round(spans / runs);
const share = await profiledShare();
receiver.close();
const offSeconds = median(off.map((r) => r.seconds));
const onSeconds = median(on.map((r) => r.seconds));
const offCpu = median(off.map((r) => r.cpuSeconds));
const onCpu = median(on.map((r) => r.cpuSeconds));
const overhead = (onSeconds / offSeconds - 1) * 100;
const cpuOverhead = (onCpu / offCpu - 1) * 100;
// The fastest run of each side: the one least disturbed by the rest of a shared machine.
const best = (xs, key) => Math.min(...xs.map((r) => r[key]));
const bestOverhead = (best(on, 'seconds') / best(off, 'seconds') - 1) * 100;
const bestCpuOverhead = (best(on, 'cpuSeconds') / best(off, 'cpuSeconds') - 1) * 100;
const pct = (x) => `${x >= 0 ? '+' : ''}${x.toFixed(1)} %`;
console.log(`observability-overhead: ${rows} rows, ${(bytes / 1048576).toFixed(0)} MiB CSV → zstd Parquet, ${runs} runs each`);
console.log(`  off (no metrics, no tracing):        ${offSeconds.toFixed(2)} s, ${offCpu.toFixed(2)} s CPU  (${Math.round(rows / offSeconds).toLocaleString('en-US')} rows/s)`);
console.log(`  on (metrics served + OTLP export):   ${onSeconds.toFixed(2)} s, ${onCpu.toFixed(2)} s CPU  (${Math.round(rows / onSeconds).toLocaleString('en-US')} rows/s, ${spansPerRun} spans exported per run)`);
console.log(`  overhead (medians): wall ${pct(overhead)}, CPU ${pct(cpuOverhead)}`);
console.log(`  overhead (fastest runs): wall ${pct(bestOverhead)}, CPU ${pct(bestCpuOverhead)}  (goal < 3 %)`);
const own = share.opentelemetry + share['prom-client'] + share.pino;
console.log(`  profile of one "on" run: ${(own * 1000).toFixed(0)} ms in OpenTelemetry (${(share.opentelemetry * 1000).toFixed(0)}), prom-client (${(share['prom-client'] * 1000).toFixed(0)}) and pino (${(share.pino * 1000).toFixed(0)}) of ${share.total.toFixed(2)} s busy CPU: ${((own / share.total) * 100).toFixed(2)} %`);
