#!/usr/bin/env node
// The full crash-resume harness (issue 13): every pipeline of tests/crash-harness*.integ.test.ts
// with CRASH_SEEDS seeds (default 50), its result written into docs/reliability.md between the
// markers. Needs the services the test suite needs (PostgreSQL, MariaDB) and a build (`pnpm build`).
//   node scripts/crash-harness.mjs [--seeds 50]
//   node scripts/crash-harness.mjs --from-report <file.jsonl> --minutes <m>   (rewrite the table from a saved report)
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { replaceSection } from './lib/reliability.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const at = process.argv.indexOf('--seeds');
const seeds = at > 0 ? Number(process.argv[at + 1]) : 50;
const from = process.argv.indexOf('--from-report');
const report = from > 0 ? path.resolve(process.argv[from + 1]) : path.join(os.tmpdir(), `dativo-crash-report-${process.pid}.jsonl`);
const started = Date.now();
let run = { status: 0 };
if (from < 0) {
  rmSync(report, { force: true });
  run = spawnSync(process.execPath, [path.join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', 'tests/crash-harness.integ.test.ts', 'tests/crash-harness-mysql.integ.test.ts'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, CRASH_SEEDS: String(seeds), CRASH_REPORT: report },
  });
}
const pipelines = existsSync(report) ? readFileSync(report, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
const rows = pipelines.map(({ pipeline, iterations }) => {
  const kills = iterations.flatMap((i) => i.kills);
  const landed = kills.filter((k) => k.landed);
  const onPoints = landed.filter((k) => k.how.startsWith('crash point')).length;
  return `| ${pipeline} | ${iterations.length} | ${landed.length} (${onPoints} on crash points, ${landed.length - onPoints} timed) | ${kills.length - landed.length} | ✔ every row once |`;
});
const given = process.argv.indexOf('--minutes');
const minutes = given > 0 ? process.argv[given + 1] : ((Date.now() - started) / 60_000).toFixed(1);
const seedsRun = Math.max(0, ...pipelines.map((p) => p.iterations.length));
const table = [
  `Last full run: ${new Date().toISOString().slice(0, 10)}, ${from > 0 ? seedsRun : seeds} seeds per pipeline, ${minutes} min, ${run.status === 0 && pipelines.length === 5 ? 'all passed' : `FAILED (exit ${run.status}, ${pipelines.length} of 5 pipelines reported)`}.`,
  '',
  '| Pipeline | Seeds | Kills that landed | Kills after the run had finished | Outcome |',
  '|---|---|---|---|---|',
  ...rows,
].join('\n');
const doc = path.join(root, 'docs', 'reliability.md');
writeFileSync(doc, replaceSection(readFileSync(doc, 'utf8'), '<!-- crash-harness:begin -->', '<!-- crash-harness:end -->', table));
console.log(table);
process.exit(run.status ?? 1);
