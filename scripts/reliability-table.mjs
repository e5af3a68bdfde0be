#!/usr/bin/env node
// Regenerates the connector × fault × outcome table of docs/reliability.md (issue 13) from the
// tests that prove each row: runs every test file that declares rows (`reliabilityRow`) with
// DATIVO_RELIABILITY_OUT set, and writes the rows they declared — only when every one passed.
// Needs the services the suite needs (PostgreSQL, MariaDB) and a build (`pnpm build`).
//   node scripts/reliability-table.mjs
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BEGIN, END, renderRows, replaceSection, rowFiles } from './lib/reliability.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(os.tmpdir(), `dativo-reliability-${process.pid}.jsonl`);
rmSync(out, { force: true });
const files = rowFiles(root);
const started = Date.now();
const run = spawnSync(process.execPath, [path.join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...files], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, DATIVO_RELIABILITY_OUT: out },
});
if (run.status !== 0) {
  console.error(`reliability-table: a test failed (exit ${run.status}); docs/reliability.md is left as it was`);
  process.exit(run.status ?? 1);
}
const rows = existsSync(out) ? readFileSync(out, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
const lines = renderRows(rows);
const table = [`Made by \`node scripts/reliability-table.mjs\` on ${new Date().toISOString().slice(0, 10)}: ${lines.length - 2} outcomes from ${files.length} test files, all passing (${((Date.now() - started) / 60_000).toFixed(1)} min).`, '', ...lines].join('\n');
const doc = path.join(root, 'docs', 'reliability.md');
writeFileSync(doc, replaceSection(readFileSync(doc, 'utf8'), BEGIN, END, table));
rmSync(out, { force: true });
console.log(table);
