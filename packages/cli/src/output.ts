import type { RunProgress } from '@dativo/core';

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

/** A one-line live progress display on a TTY (stderr), redrawn at most every 200 ms. */
export class ProgressLine {
  private last = 0;
  private shown = false;
  private readonly stream: NodeJS.WriteStream;
  private readonly label: string;

  constructor(stream: NodeJS.WriteStream, label: string) {
    this.stream = stream;
    this.label = label;
  }

  update(p: RunProgress, force = false): void {
    const now = Date.now();
    if (!force && now - this.last < 200) return;
    this.last = now;
    const text = `${this.label}  ${formatCount(p.rows)} rows · ${formatBytes(p.bytesIn)} read · ${formatCount(p.files)} file${p.files === 1 ? '' : 's'} · ${(p.elapsedMs / 1000).toFixed(1)} s · ${formatCount(rowsPerSecond(p.rows, p.elapsedMs))} rows/s${p.rejected ? ` · ${formatCount(p.rejected)} rejected` : ''}`;
    const width = this.stream.columns ?? 120;
    this.stream.write(`\r\x1b[2K${text.slice(0, width - 1)}`);
    this.shown = true;
  }

  /** Removes the line (before other output or at the end). */
  clear(): void {
    if (this.shown) this.stream.write('\r\x1b[2K');
    this.shown = false;
  }
}
