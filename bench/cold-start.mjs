#!/usr/bin/env node
// Benchmark: how long `dativo --version` and `dativo validate <job>` take from a cold process,
// against `node -e 0` (the floor: starting Node itself) measured in the same run. Each command
// runs `--runs` times; the median is reported.
//
//   node bench/cold-start.mjs [--runs 15]
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { median } from './lib/bench-util.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'packages', 'cli', 'dist', 'bin.js');
const QUICKSTART = path.join(ROOT, 'examples', 'quickstart');
const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' } } });
const runs = Number(values.runs);

function time(args, cwd) {
  const started = performance.now();
  const r = spawnSync(process.execPath, args, { cwd, encoding: 'utf8' });
  const ms = performance.now() - started;
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr || r.stdout}`);
  return ms;
}

const cases = [
  { name: 'node -e 0 (reference)', args: ['-e', '0'], cwd: ROOT },
  { name: 'dativo --version', args: [CLI, '--version'], cwd: ROOT, goal: 300 },
  { name: 'dativo validate jobs/acme/people_csv.yaml', args: [CLI, 'validate', 'jobs/acme/people_csv.yaml'], cwd: QUICKSTART, goal: 600 },
];
const results = {};
for (let i = 0; i < runs; i++) {
  // Interleaved, so a burst of load on the shared machine touches every case alike.
  for (const c of cases) (results[c.name] ??= []).push(time(c.args, c.cwd));
}
const floor = median(results[cases[0].name]);
for (const c of cases) {
  const m = median(results[c.name]);
  const spread = `${Math.min(...results[c.name]).toFixed(0)}–${Math.max(...results[c.name]).toFixed(0)} ms`;
  console.log(`${c.name.padEnd(44)} median ${m.toFixed(0).padStart(4)} ms (${spread})  ${(m / floor).toFixed(2)}× node${c.goal ? `  goal < ${c.goal} ms` : ''}`);
}
