import { describe, expect, it } from 'vitest';
import type { RunProgress, StreamProgress } from '@dativo/core';
import { formatBytes, formatCount, LiveProgress, rowsPerSecond, streamLine } from './output.js';

function fakeTty(columns = 80): NodeJS.WriteStream & { written: string[] } {
  const written: string[] = [];
  return { columns, isTTY: true, write: (s: string) => written.push(s) > 0, written } as unknown as NodeJS.WriteStream & { written: string[] };
}

describe('CLI output', () => {
  it('formats sizes, counts and rates', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(5420)).toBe('5.3 KiB');
    expect(formatBytes(76_485_581)).toBe('72.9 MiB');
    expect(formatBytes(3 * 1024 ** 3)).toBe('3.0 GiB');
    expect(formatCount(2_000_000)).toBe('2,000,000');
    expect(rowsPerSecond(2_000_000, 5000)).toBe(400_000);
    expect(rowsPerSecond(10, 0)).toBe(10);
  });

  it('shows a stream with its rate, place and an ETA when the total is known', () => {
    const s: StreamProgress = { name: 'orders', rows: 2000, bytesIn: 4096, rejected: 0, files: 0, elapsedMs: 2000, done: false, at: 'public.orders', expected: 10_000 };
    expect(streamLine(s)).toBe('› orders  2,000/10,000 rows · 1,000 rows/s · 4.0 KiB · 2.0 s · public.orders · ETA 8.0 s');
    expect(streamLine({ ...s, rows: 10_000, elapsedMs: 130_000, done: true, rejected: 3 })).toBe('✔ orders  10,000/10,000 rows · 77 rows/s · 4.0 KiB · 2 min 10 s · 3 rejected · done');
    expect(streamLine({ ...s, expected: undefined, at: 'data/a.csv' })).toBe('› orders  2,000 rows · 1,000 rows/s · 4.0 KiB · 2.0 s · data/a.csv');
  });

  it('redraws the job and its streams in place at most every 200 ms and erases them', () => {
    const tty = fakeTty(200);
    const live = new LiveProgress(tty, 'acme/job');
    const stream = (name: string, rows: number): StreamProgress => ({ name, rows, bytesIn: 1024, rejected: 0, files: 0, startedAt: 1, elapsedMs: 1000, done: false });
    const p = (rows: number, streams: StreamProgress[]): RunProgress => ({ rows, bytesIn: 2048, rejected: 2, files: 1, bytesOut: 0, elapsedMs: 1000, streams });
    live.update(p(1500, [stream('a', 1000), stream('b', 500), { name: 'c', rows: 0, bytesIn: 0, rejected: 0, files: 0, elapsedMs: 0, done: false }]));
    live.update(p(1600, [stream('a', 1100), stream('b', 500)]));
    expect(tty.written).toHaveLength(1);
    expect(tty.written[0]).toBe('acme/job  1,500 rows · 1,500 rows/s · 2.0 KiB read · 1 file written · 1.0 s · 2 rejected\n  › a  1,000 rows · 1,000 rows/s · 1.0 KiB · 1.0 s\n  › b  500 rows · 500 rows/s · 1.0 KiB · 1.0 s');
    live.update(p(1600, [stream('a', 1100)]), true);
    // Back to the first of the three lines drawn, erase to the end of the screen, draw again.
    expect(tty.written[1]?.startsWith('\r\x1b[2A\x1b[0Jacme/job  1,600 rows')).toBe(true);
    live.clear();
    expect(tty.written[2]).toBe('\r\x1b[1A\x1b[0J');
    live.clear();
    expect(tty.written).toHaveLength(3);
    const narrow = fakeTty(30);
    new LiveProgress(narrow, 'acme/job').update(p(1, []));
    expect(narrow.written[0]).toBe('acme/job  1 rows · 1 rows/s ·');
  });
});
