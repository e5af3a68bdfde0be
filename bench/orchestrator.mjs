#!/usr/bin/env node
// Benchmark: orchestrated mode (BullMQ on the machine's Redis, `dativo worker` processes).
//   1. Queue-to-start with idle workers: one tiny run at a time is submitted to 4 idle workers;
//      the time from enqueue to a worker taking it (BullMQ timestamps), p50 / p99 (goal p99 < 50 ms).
//   2. A burst of tiny runs through 4 workers: runs/s, against `dativo run` of the same job one
//      after another in this process's loop (the reference, measured in the same run).
//   3. Scaling: two CPU-bound CSV → Parquet runs (different tenants) with 1 worker, then 2 workers.
//
//   node bench/orchestrator.mjs [--samples 200] [--burst 1000] [--rows 1000000]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BENCH_COLUMNS } from './lib/generate-csv.mjs';
import { benchCsv, DATA_DIR, fresh, median, ROOT } from './lib/bench-util.mjs';
import { loadPackage } from './lib/workspace.mjs';

const { values } = parseArgs({ options: { phases: { type: 'string', default: 'latency,burst,scaling' }, samples: { type: 'string', default: '200' }, burst: { type: 'string', default: '1000' }, rows: { type: 'string', default: '1000000' }, redis: { type: 'string', default: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' } } });
const { Fleet, viewOf } = await loadPackage('orchestrator');
const CLI = path.join(ROOT, 'packages', 'cli', 'dist', 'bin.js');
const work = path.join(DATA_DIR, 'orchestrator');
fresh(work);
writeFileSync(path.join(work, 'tiny.csv'), 'id,name\n1,a\n2,b\n3,c\n');
writeFileSync(path.join(work, 'tiny-asset.yaml'), 'name: tiny\nschema:\n  - { name: id, type: bigint }\n  - { name: name, type: string }\n');
// Distinct jobs (runs of one job file wait for each other: they would write one location).
const tinyJob = (tenant, n = 0) => {
  const file = path.join(work, `tiny-${tenant}-${n}.yaml`);
  writeFileSync(file, `tenant_id: ${tenant}\nenvironment: dev\nsource_connector: csv\ntarget_connector: parquet\nasset: tiny\nasset_path: tiny-asset.yaml\nsource:\n  files: [{ path: tiny.csv }]\ntarget:\n  path: out/${tenant}/${n}\n  partitioning: []\nlogging: { level: WARN }\n`);
  return file;
};
const phases = new Set(values.phases.split(','));
const { file: bigCsv } = await benchCsv(Number(values.rows));
writeFileSync(path.join(work, 'big-asset.yaml'), `name: bench\nschema:\n${BENCH_COLUMNS.map((c) => `  - { name: ${c.name}, type: "${c.type}" }`).join('\n')}\n`);
const bigJob = (tenant) => {
  const file = path.join(work, `big-${tenant}.yaml`);
  writeFileSync(file, `tenant_id: ${tenant}\nenvironment: dev\nsource_connector: csv\ntarget_connector: parquet\nasset: bench\nasset_path: big-asset.yaml\nsource:\n  files: [{ path: ${JSON.stringify(bigCsv)} }]\ntarget:\n  path: out/big-${tenant}-${randomBytes(3).toString('hex')}\n  compression: zstd\n  partitioning: []\nlogging: { level: WARN }\n`);
  return file;
};

function startWorkers(n, prefix) {
  return Array.from({ length: n }, () => {
    const child = spawn(process.execPath, [CLI, '--log-format', 'json', '--state-dir', path.join(work, 'state', prefix), 'worker', '--redis-url', values.redis], { cwd: work, env: { ...process.env, DATIVO_REDIS_PREFIX: prefix }, stdio: ['ignore', 'ignore', 'pipe'] });
    let out = '';
    child.stderr.on('data', (d) => (out += d));
    return { child, started: () => out.includes('worker started'), out: () => out };
  });
}

async function until(check, what, timeoutMs = 600_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function stop(workers) {
  await Promise.all(workers.map((w) => new Promise((r) => (w.child.exitCode !== null ? r() : (w.child.once('close', r), w.child.kill('SIGTERM'))))));
}

async function drop(fleet) {
  let cursor = '0';
  do {
    const [next, keys] = await fleet.redis.scan(cursor, 'MATCH', `${fleet.prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await fleet.redis.del(...keys);
  } while (cursor !== '0');
}

function pct(values, p) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

async function fleetOf(workerCount) {
  const prefix = `bench${randomBytes(4).toString('hex')}`;
  const fleet = new Fleet({ url: values.redis, prefix });
  const workers = startWorkers(workerCount, prefix);
  await until(() => workers.every((w) => w.started()), 'workers to start', 60_000);
  return { fleet, workers };
}

// 1. Queue-to-start with idle workers.
if (phases.has('latency')) {
  const { fleet, workers } = await fleetOf(4);
  const file = tinyJob('latency');
  await fleet.addTenant('latency', 4);
  await new Promise((r) => setTimeout(r, 6000)); // every worker has found the tenant's queue
  const latencies = [];
  for (let i = 0; i < Number(values.samples); i++) {
    const id = await fleet.enqueue({ file, tenant: 'latency', trigger: 'submit' });
    let job;
    await until(async () => (job = await fleet.run('latency', id)) && job.processedOn, 'a worker to take the run');
    latencies.push(job.processedOn - job.timestamp);
    // Idle workers: the next run is submitted when this one has ended.
    await until(async () => ['completed', 'failed'].includes(await (await fleet.run('latency', id)).getState()), 'the run to end');
  }
  console.log(`queue-to-start with 4 idle workers, ${latencies.length} runs: p50 ${pct(latencies, 50)} ms, p99 ${pct(latencies, 99)} ms, max ${Math.max(...latencies)} ms (goal: p99 < 50 ms)`);
  await stop(workers);
  await drop(fleet);
  await fleet.close();
}

// 2. A burst through 4 workers, against `dativo run` one after another.
if (phases.has('burst')) {
  const burst = Number(values.burst);
  const reference = Math.min(40, burst);
  const files = Array.from({ length: burst }, (_, i) => tinyJob('burst', i));
  const t0 = Date.now();
  for (let i = 0; i < reference; i++) {
    const file = files[i];
    await new Promise((resolve, reject) => {
      const c = spawn(process.execPath, [CLI, '--state-dir', path.join(work, 'state', 'direct'), 'run', '--config', file, '-q'], { cwd: work, stdio: 'ignore' });
      c.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`dativo run exited ${code}`))));
    });
  }
  const directRate = reference / ((Date.now() - t0) / 1000);
  const { fleet, workers } = await fleetOf(4);
  await fleet.addTenant('burst', 4);
  await new Promise((r) => setTimeout(r, 6000));
  const q = fleet.queue('burst');
  const t1 = Date.now();
  await q.addBulk(files.map((file) => ({ name: 'run', data: { file, tenant: 'burst', trigger: 'submit' }, opts: { removeOnComplete: { count: burst }, removeOnFail: { count: burst } } })));
  let maxActive = 0;
  await until(async () => {
    const c = await q.getJobCounts('completed', 'failed', 'active');
    maxActive = Math.max(maxActive, c.active);
    return c.completed + c.failed >= burst;
  }, 'the burst to end', 3_600_000);
  const seconds = (Date.now() - t1) / 1000;
  const jobs = await q.getJobs(['completed'], 0, burst);
  const waits = jobs.map((j) => j.processedOn - j.timestamp);
  const failed = (await q.getJobCounts('failed')).failed;
  console.log(`burst of ${burst} tiny runs through 4 workers: ${(burst / seconds).toFixed(1)} runs/s (${seconds.toFixed(1)} s, ${failed} failed, at most ${maxActive} at once; wait in queue p50 ${(pct(waits, 50) / 1000).toFixed(1)} s, p99 ${(pct(waits, 99) / 1000).toFixed(1)} s)`);
  console.log(`reference: \`dativo run\` of the same job ${reference} times one after another: ${directRate.toFixed(2)} runs/s → ratio ${(burst / seconds / directRate).toFixed(2)}× (each run is its own process in both)`);
  await stop(workers);
  await drop(fleet);
  await fleet.close();
}

// 3. Scaling: two CPU-bound runs, 1 worker vs 2 workers.
async function twoBig(workerCount) {
  const { fleet, workers } = await fleetOf(workerCount);
  const ids = [];
  const t0 = Date.now();
  for (const tenant of ['scale_a', 'scale_b']) ids.push([tenant, await fleet.enqueue({ file: bigJob(tenant), tenant, trigger: 'submit' })]);
  await until(async () => {
    const views = await Promise.all(ids.map(async ([t, id]) => viewOf(await fleet.run(t, id))));
    return views.every((v) => !['queued', 'running'].includes(v.status));
  }, 'both runs', 1_800_000);
  const seconds = (Date.now() - t0) / 1000;
  const views = await Promise.all(ids.map(async ([t, id]) => viewOf(await fleet.run(t, id))));
  if (views.some((v) => v.status !== 'succeeded')) throw new Error(`a run failed: ${JSON.stringify(views)}`);
  await stop(workers);
  await drop(fleet);
  await fleet.close();
  return seconds;
}
if (phases.has('scaling')) {
  const one = [];
  const two = [];
  for (let i = 0; i < 2; i++) {
    one.push(await twoBig(1));
    two.push(await twoBig(2));
  }
  const a = median(one);
  const b = median(two);
  console.log(`two CPU-bound CSV → Parquet runs (${values.rows} rows each): 1 worker ${a.toFixed(1)} s, 2 workers ${b.toFixed(1)} s → ${(a / b).toFixed(2)}× the throughput (2 cores)`);
}
