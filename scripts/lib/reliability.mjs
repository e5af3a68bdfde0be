// The connector × fault × outcome table of docs/reliability.md: rows declared by the tests that
// prove them (`reliabilityRow({ connector, fault, outcome })` from @dativo/testing), rendered here
// for scripts/reliability-table.mjs (which runs those tests) and tests/reliability-doc.test.ts
// (which checks that the document matches what the tests declare).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const BEGIN = '<!-- reliability:begin -->';
export const END = '<!-- reliability:end -->';

const CALL = /reliabilityRow\(\{ connector: '((?:[^'\\]|\\.)*)', fault: '((?:[^'\\]|\\.)*)', outcome: '((?:[^'\\]|\\.)*)' \}\)/g;
const unescape = (s) => s.replace(/\\(.)/g, '$1');

/** Test files under the repository that declare rows (package sources and tests/). */
export function rowFiles(root) {
  const files = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.test\.ts$/.test(entry.name) && readFileSync(full, 'utf8').includes('reliabilityRow({')) files.push(path.relative(root, full).split(path.sep).join('/'));
    }
  };
  walk(path.join(root, 'packages'));
  walk(path.join(root, 'tests'));
  return files.sort();
}

/** The rows as written in the tests' source. */
export function declaredRows(root) {
  const rows = [];
  for (const test of rowFiles(root)) {
    for (const m of readFileSync(path.join(root, test), 'utf8').matchAll(CALL)) rows.push({ connector: unescape(m[1]), fault: unescape(m[2]), outcome: unescape(m[3]), test });
  }
  return rows;
}

const cell = (s) => s.replace(/\|/g, '\\|');

/** Markdown table lines: one row per (connector, fault, outcome), sorted, with the tests that prove it. */
export function renderRows(rows) {
  const byKey = new Map();
  for (const r of rows) {
    const key = JSON.stringify([r.connector, r.fault, r.outcome]);
    const seen = byKey.get(key) ?? { ...r, tests: new Set() };
    seen.tests.add(r.test);
    byKey.set(key, seen);
  }
  const sorted = [...byKey.values()].sort((a, b) => a.connector.localeCompare(b.connector) || a.fault.localeCompare(b.fault));
  return [
    '| Connector | Fault (how it is made) | Outcome | Test |',
    '|---|---|---|---|',
    ...sorted.map((r) => `| ${cell(r.connector)} | ${cell(r.fault)} | ${cell(r.outcome)} | ${[...r.tests].sort().map((t) => `\`${t}\``).join(', ')} |`),
  ];
}

/** `doc` with the text between `begin` and `end` replaced by `body` (a section a script owns). */
export function replaceSection(doc, begin, end, body) {
  const at = doc.indexOf(begin);
  const stop = doc.indexOf(end);
  if (at < 0 || stop < at) throw new Error(`the document lacks the ${begin} … ${end} markers`);
  return `${doc.slice(0, at + begin.length)}\n${body}\n${doc.slice(stop)}`;
}

/** The table lines currently in the document (between the markers, without the first line: when and how it was made). */
export function documentedRows(doc) {
  const at = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (at < 0 || end < 0) return [];
  return doc
    .slice(at + BEGIN.length, end)
    .split('\n')
    .filter((l) => l.startsWith('|'));
}
