#!/usr/bin/env node
// Summarises V8 CPU profiles (`node --cpu-prof`, one file per thread): per thread, the sampled time
// and the functions with the most self time. Used to explain benchmark numbers (docs/benchmarks.md).
//
//   node bench/lib/profile-summary.mjs DIR [--top 15]
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '15' } } });
const dir = positionals[0];
if (!dir) throw new Error('usage: profile-summary.mjs DIR [--top N]');

for (const name of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort()) {
  const profile = JSON.parse(readFileSync(path.join(dir, name), 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const deltas = profile.timeDeltas;
  let total = 0;
  let idle = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]);
    const dt = (deltas[i + 1] ?? 0) / 1000;
    total += dt;
    const f = node.callFrame;
    if (f.functionName === '(idle)' || f.functionName === '(program)') idle += f.functionName === '(idle)' ? dt : 0;
    const where = f.url ? `${path.basename(f.url)}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName || '(anonymous)'} ${where}`.trim();
    self.set(key, (self.get(key) ?? 0) + dt);
  }
  const busy = total - idle;
  console.log(`\n${name}: ${(total / 1000).toFixed(2)} s sampled, ${(busy / 1000).toFixed(2)} s busy`);
  for (const [key, ms] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) {
    console.log(`  ${(ms / 1000).toFixed(2).padStart(6)} s  ${((ms / Math.max(busy, 1)) * 100).toFixed(1).padStart(5)} %  ${key}`);
  }
}
