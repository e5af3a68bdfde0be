import { describe, expect, it } from 'vitest';
import { formatBytes, formatCount, ProgressLine, rowsPerSecond } from './output.js';

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

  it('redraws one progress line at most every 200 ms and clears it', () => {
    const tty = fakeTty(200);
    const line = new ProgressLine(tty, 'acme/job');
    line.update({ rows: 1500, bytesIn: 2048, rejected: 2, files: 1, bytesOut: 0, elapsedMs: 1000 });
    line.update({ rows: 1600, bytesIn: 2048, rejected: 2, files: 1, bytesOut: 0, elapsedMs: 1001 });
    expect(tty.written).toHaveLength(1);
    expect(tty.written[0]).toBe('\r\x1b[2Kacme/job  1,500 rows · 2.0 KiB read · 1 file · 1.0 s · 1,500 rows/s · 2 rejected');
    line.update({ rows: 1600, bytesIn: 2048, rejected: 0, files: 1, bytesOut: 0, elapsedMs: 1500 }, true);
    expect(tty.written).toHaveLength(2);
    line.clear();
    expect(tty.written[2]).toBe('\r\x1b[2K');
    const narrow = fakeTty(30);
    new ProgressLine(narrow, 'acme/job').update({ rows: 1, bytesIn: 1, rejected: 0, files: 0, bytesOut: 0, elapsedMs: 1 });
    expect(narrow.written[0]).toBe('\r\x1b[2Kacme/job  1 rows · 1 B read ·');
  });
});
