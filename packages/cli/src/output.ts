import type { Logger, RunProgress, StreamProgress } from '@dativo/core';

const nf = new Intl.NumberFormat('en-US');

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v >= 100 ? 0 : 1)} ${units[u]}`;
}

export function formatCount(n: number): string {
  return nf.format(n);
}

export function rowsPerSecond(rows: number, ms: number): number {
  return ms > 0 ? Math.round((rows * 1000) / ms) : rows;
}

function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** One stream's progress line: rows, rate, bytes, elapsed, where it reads, ETA when the total is known. */
export function streamLine(s: StreamProgress): string {
  const rate = rowsPerSecond(s.rows, s.elapsedMs);
  const parts = [`${formatCount(s.rows)}${s.expected !== undefined ? `/${formatCount(s.expected)}` : ''} rows`, `${formatCount(rate)} rows/s`, formatBytes(s.bytesIn), formatDuration(s.elapsedMs / 1000)];
  if (s.rejected) parts.push(`${formatCount(s.rejected)} rejected`);
  if (s.done) parts.push('done');
  else {
    if (s.at) parts.push(s.at);
    if (s.expected !== undefined && rate > 0 && s.expected >= s.rows) parts.push(`ETA ${formatDuration((s.expected - s.rows) / rate)}`);
  }
  return `${s.done ? '✔' : '›'} ${s.name}  ${parts.join(' · ')}`;
}

/**
 * The live display on a terminal (stderr): a header line for the job and one line per stream that
 * has started, redrawn in place at most every 200 ms, and erased by {@link clear} so the summary
 * that follows stands alone.
 */
export class LiveProgress {
  private last = 0;
  private drawn = 0;
  private readonly stream: NodeJS.WriteStream;
  private readonly label: string;

  constructor(stream: NodeJS.WriteStream, label: string) {
    this.stream = stream;
    this.label = label;
  }

  private erase(): string {
    if (this.drawn === 0) return '';
    return `\r${this.drawn > 1 ? `\x1b[${this.drawn - 1}A` : ''}\x1b[0J`;
  }

  update(p: RunProgress, force = false): void {
    const now = Date.now();
    if (!force && now - this.last < 200) return;
    this.last = now;
    const width = Math.max(20, (this.stream.columns ?? 120) - 1);
    const streams = p.streams.filter((s) => s.startedAt !== undefined);
    const header = `${this.label}  ${formatCount(p.rows)} rows · ${formatCount(rowsPerSecond(p.rows, p.elapsedMs))} rows/s · ${formatBytes(p.bytesIn)} read · ${formatCount(p.files)} file${p.files === 1 ? '' : 's'} written · ${formatDuration(p.elapsedMs / 1000)}${p.rejected ? ` · ${formatCount(p.rejected)} rejected` : ''}`;
    const lines = [header, ...streams.map((s) => `  ${streamLine(s)}`)].map((l) => l.slice(0, width));
    this.stream.write(`${this.erase()}${lines.join('\n')}`);
    this.drawn = lines.length;
  }

  /** Removes the display (before other output or at the end). */
  clear(): void {
    if (this.drawn) this.stream.write(this.erase());
    this.drawn = 0;
  }
}

/**
 * Progress off a terminal: one log line per stream every `seconds` (the latest numbers), so a job in
 * a container or under cron shows it is alive.
 */
export class ProgressLog {
  private latest: RunProgress | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(log: Logger, seconds: number) {
    this.timer = setInterval(() => {
      for (const s of this.latest?.streams ?? []) {
        if (s.done || s.startedAt === undefined) continue;
        const elapsedMs = Date.now() - s.startedAt;
        log.info('progress', { stream: s.name, rows: s.rows, rowsPerSecond: rowsPerSecond(s.rows, elapsedMs), bytes: s.bytesIn, seconds: Math.round(elapsedMs / 100) / 10, ...(s.at ? { at: s.at } : {}), ...(s.expected !== undefined ? { expected: s.expected } : {}), ...(s.rejected ? { rejected: s.rejected } : {}) });
      }
    }, seconds * 1000);
    this.timer.unref();
  }

  update(p: RunProgress): void {
    this.latest = p;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
