#!/usr/bin/env node
// CPU time per thread of a command, from /proc (Linux only): where the CPU of a run goes besides
// the JavaScript threads a CPU profile shows (V8's compiler and GC threads, libuv's pool doing file
// reads and native zstd).
//
//   node bench/lib/thread-cpu.mjs -- node packages/cli/dist/bin.js run --config job.yaml --quiet
//
// Threads are sampled every 20 ms while the command runs (the last sample before a thread ends is
// its total). Node names every thread `node`, so they are labelled by creation order: the main
// thread, then the platform threads V8 starts with the process (its background compiler and
// concurrent GC: `--v8-pool-size`, 4 by default, after Node's delayed-task thread), then the rest (libuv's pool, 4 threads by
// default, and worker threads such as the Parquet encoder — the busiest of those is labelled so).
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const at = process.argv.indexOf('--');
const command = at >= 0 ? process.argv.slice(at + 1) : [];
if (command.length === 0) {
  console.error('usage: node bench/lib/thread-cpu.mjs -- <command> [args…]');
  process.exit(2);
}
const TICKS = 100; // USER_HZ on Linux
/** Node's delayed-task scheduler thread and V8's platform threads, created before any other. */
const V8_POOL = 1 + 4;

const started = performance.now();
const child = spawn(command[0], command.slice(1), { stdio: ['ignore', 'ignore', 'inherit'] });
/** tid → seconds of CPU (user + system) at the last sample. */
const seen = new Map();
const sample = () => {
  let tids;
  try {
    tids = readdirSync(`/proc/${child.pid}/task`);
  } catch {
    return;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${child.pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      seen.set(Number(tid), (Number(fields[11]) + Number(fields[12])) / TICKS);
    } catch {
      // the thread ended between the listing and the read
    }
  }
};
const timer = setInterval(sample, 20);
const code = await new Promise((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
clearInterval(timer);
const wall = (performance.now() - started) / 1000;

const tids = [...seen.keys()].sort((a, b) => a - b);
const main = child.pid;
const platform = tids.filter((t) => t !== main).slice(0, V8_POOL);
const rest = tids.filter((t) => t !== main && !platform.includes(t));
const busiest = rest.reduce((best, t) => ((seen.get(t) ?? 0) > (seen.get(best) ?? -1) ? t : best), rest[0]);
const sum = (list) => list.reduce((s, t) => s + (seen.get(t) ?? 0), 0);
const rows = [
  ['main thread', [main]],
  ['busiest other thread (the encoder)', busiest === undefined ? [] : [busiest]],
  [`V8 platform threads (compiler, GC) ×${platform.length - 1}`, platform],
  [`other threads (libuv pool: reads, zstd) ×${rest.filter((t) => t !== busiest && (seen.get(t) ?? 0) > 0).length} busy`, rest.filter((t) => t !== busiest)],
];
console.log(`exit ${code}, wall ${wall.toFixed(2)} s, CPU ${sum(tids).toFixed(2)} s`);
for (const [label, list] of rows) {
  const each = list.map((t) => (seen.get(t) ?? 0).toFixed(2)).join(' ');
  console.log(`  ${sum(list).toFixed(2).padStart(6)} s  ${label}${list.length > 1 ? `  (${each})` : ''}`);
}
process.exit(code);
