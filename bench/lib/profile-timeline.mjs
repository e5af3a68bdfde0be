#!/usr/bin/env node
// Busy share of each thread over time, from V8 CPU profiles (`node --cpu-prof`, one file per
// thread): one line per thread, one column per slice of the run (percent of samples not idle;
// `-` before a thread started). Shows when a thread waits for the other (pipeline start and end,
// backpressure), which per-function totals (profile-summary.mjs) do not.
//
//   node bench/lib/profile-timeline.mjs DIR [--slice 0.25]
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { slice: { type: 'string', default: '0.25' } } });
const dir = positionals[0];
if (!dir) throw new Error('usage: profile-timeline.mjs DIR [--slice SECONDS]');
const sliceUs = Number(values.slice) * 1e6;

const names = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort();
const profiles = names.map((name) => JSON.parse(readFileSync(path.join(dir, name), 'utf8')));
const t0 = Math.min(...profiles.map((p) => p.startTime));
console.log(`slices of ${values.slice} s from the first thread's start; % busy`);
profiles.forEach((profile, i) => {
  const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  const slices = [];
  let t = profile.startTime;
  profile.samples.forEach((sample, k) => {
    t += profile.timeDeltas[k];
    const at = Math.floor((t - t0) / sliceUs);
    slices[at] ??= { busy: 0, all: 0 };
    slices[at].all++;
    if (!idle.has(sample)) slices[at].busy++;
  });
  const cells = Array.from(slices, (s) => (s ? String(Math.round((100 * s.busy) / s.all)) : '-').padStart(3));
  console.log(`${names[i]} (starts at ${((profile.startTime - t0) / 1e6).toFixed(2)} s)\n ${cells.join(' ')}`);
});
