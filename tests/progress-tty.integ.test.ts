import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '@dativo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from './helpers.js';

/**
 * The live progress display in a real terminal: tmux (Debian's package) runs `dativo run` in a
 * pane; the test types the command with send-keys and reads the screen with capture-pane while the
 * job runs and after it ends.
 */
const TMUX = '/usr/bin/tmux';
const scratch = tempDir('dativo-tty-');
const dir = scratch.path;
const socket = `dativo-test-${process.pid}`;
const session = 'progress';
const ROWS = 600_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tmux(...args: string[]): string {
  const r = spawnSync(TMUX, ['-L', socket, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const screen = (): string => tmux('capture-pane', '-p', '-t', session);

/** The screen's lines without blanks and shell prompts. */
const output = (s: string): string[] => s.split('\n').filter((l) => l.trim() && !/[#$]\s*$/.test(l));

/** Types a command on a cleared screen (the previous command's output gone first). */
async function type(command: string): Promise<void> {
  tmux('send-keys', '-t', session, 'clear', 'Enter');
  const until = Date.now() + 10_000;
  while (/exit=|✔/.test(screen()) && Date.now() < until) await sleep(20);
  tmux('send-keys', '-t', session, command, 'Enter');
}

beforeAll(() => {
  if (!existsSync(TMUX)) throw new Error(`${TMUX} is missing: install Debian's tmux package (.ci/run does)`);
  const lines = ['id,name,amount'];
  for (let i = 1; i <= ROWS; i++) lines.push(`${i},customer number ${i},${(i % 9973) / 100}`);
  writeFileSync(path.join(dir, 'big.csv'), `${lines.join('\n')}\n`);
  writeFileSync(path.join(dir, 'asset.yaml'), 'name: big\nschema:\n  - { name: id, type: bigint, required: true }\n  - { name: name, type: string }\n  - { name: amount, type: double }\n');
  writeFileSync(
    path.join(dir, 'job.yaml'),
    'tenant_id: acme\nenvironment: dev\nsource_connector: csv\ntarget_connector: parquet\nasset: big\nasset_path: asset.yaml\nsource:\n  files: [{ path: big.csv }]\ntarget:\n  path: out\n  partitioning: []\n',
  );
  tmux('new-session', '-d', '-s', session, '-x', '150', '-y', '30', '-c', dir);
});

afterAll(() => {
  spawnSync(TMUX, ['-L', socket, 'kill-server']);
  scratch.cleanup();
});

describe('live progress on a terminal', () => {
  it('redraws the job and its stream in place while running, then leaves only the summary', async () => {
    await type(`${process.execPath} ${CLI} run job.yaml --log-level error; echo "exit=$?"`);
    const seen: string[] = [];
    const until = Date.now() + 120_000;
    let final = '';
    while (Date.now() < until) {
      const s = screen();
      if (/exit=\d+/.test(s)) {
        final = s;
        break;
      }
      if (/rows\/s/.test(s)) seen.push(s);
      await sleep(40);
    }
    expect(final, 'the run did not end').toMatch(/exit=0/);
    // While running: a header for the job and a line for the stream with its rate, size, time and file.
    const live = seen.filter((s) => /› big\s+[\d,]+ rows · [\d,]+ rows\/s · [\d.]+ \w?i?B · [\d.]+ s · big\.csv/.test(s));
    expect(live.length, seen.at(-1) ?? 'no progress seen').toBeGreaterThan(0);
    expect(live[0]).toMatch(/acme\/job\s+[\d,]+ rows · [\d,]+ rows\/s · [\d.]+ \w?i?B read · \d+ files? written · [\d.]+ s/);
    // Redrawn in place: never more than one header on the screen at a time, and the counts grew.
    for (const s of seen) expect(s.match(/acme\/job {2}/g)?.length ?? 0).toBeLessThanOrEqual(1);
    const counts = live.map((s) => Number(/› big\s+([\d,]+) rows/.exec(s)?.[1]?.replace(/,/g, '')));
    expect(Math.max(...counts)).toBeGreaterThan(Math.min(...counts));
    // After: the display is gone and the summary stands alone.
    const lines = output(final);
    expect(final).not.toMatch(/›|rows\/s · [\d.]+ \w?i?B read/);
    expect(lines.at(-2)).toMatch(new RegExp(`^✔ acme/job {2}${ROWS.toLocaleString('en-US')} rows · 1 file · .* rows/s · [\\d.]+ s CPU$`));
    expect(lines.at(-1)).toBe('exit=0');
  }, 180_000);

  it('--quiet shows neither progress nor summary', async () => {
    await type(`${process.execPath} ${CLI} run job.yaml --quiet --log-level error; echo "exit=$?"`);
    let final = '';
    const until = Date.now() + 120_000;
    while (Date.now() < until) {
      const s = screen();
      expect(s).not.toMatch(/rows\/s/);
      if (/exit=\d+/.test(s)) {
        final = s;
        break;
      }
      await sleep(40);
    }
    expect(output(final).at(-1)).toBe('exit=0');
    expect(final).not.toContain('✔');
  }, 180_000);
});
