import { createReadStream, createWriteStream, promises as fs, type WriteStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { ensureDir, readdirSorted } from '../fs-util.js';
import { Redactor } from '../log/redact.js';
import { safeSegment } from '../state/local-file.js';
import type { DeadLetterEntry, DeadLetterQueue } from './dlq.js';

/** One entry as the JSON line dead-letter files hold: secrets redacted, attempt 1 unless given, 64-bit integers as text. */
export function deadLetterLine(entry: DeadLetterEntry, redactor: Redactor): string {
  return `${JSON.stringify(redactor.redact({ ...entry, attempt: entry.attempt ?? 1 }), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}\n`;
}

/** The UTC day of a time, as dead-letter partitions name it. */
export function dlqDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/**
 * Appends entries as JSON lines to `<dir>/<tenant>/<job>/<YYYY-MM-DD>/<runId>.jsonl` (the run's
 * start day, UTC). Values under secret-looking keys and registered secret values are redacted
 * before they are written.
 */
export class JsonlDeadLetterQueue implements DeadLetterQueue {
  readonly file: string;
  private stream: WriteStream | undefined;
  private written = 0;
  private readonly redactor: Redactor;

  constructor(dir: string, ids: { tenant: string; job: string; runId: string }, redactor: Redactor = new Redactor(), day: Date = new Date()) {
    this.file = path.join(path.resolve(dir), safeSegment(ids.tenant), safeSegment(ids.job), dlqDay(day), `${safeSegment(ids.runId)}.jsonl`);
    this.redactor = redactor;
  }

  get count(): number {
    return this.written;
  }

  async put(entry: DeadLetterEntry): Promise<void> {
    if (!this.stream) {
      await ensureDir(path.dirname(this.file));
      this.stream = createWriteStream(this.file, { flags: 'a' });
    }
    const line = deadLetterLine(entry, this.redactor);
    this.written++;
    if (!this.stream.write(line)) await new Promise<void>((resolve) => this.stream?.once('drain', resolve));
  }

  async close(): Promise<void> {
    const stream = this.stream;
    this.stream = undefined;
    if (stream) await new Promise<void>((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
}

export interface DeadLetterFile {
  tenant: string;
  job: string;
  runId: string;
  file: string;
  entries: number;
  modified: string;
}

/** Lists dead-letter files under a directory (`<tenant>/<job>/<day>/<run>.jsonl`), newest first. */
export async function listDeadLetterFiles(dir: string, filter: { tenant?: string; job?: string } = {}): Promise<DeadLetterFile[]> {
  const root = path.resolve(dir);
  const out: DeadLetterFile[] = [];
  const add = async (tenant: string, job: string, file: string, name: string) => {
    const stat = await fs.stat(file);
    let entries = 0;
    for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) if (line.trim()) entries++;
    out.push({ tenant: decodeURIComponent(tenant), job: decodeURIComponent(job), runId: decodeURIComponent(name.slice(0, -6)), file, entries, modified: stat.mtime.toISOString() });
  };
  for (const tenant of await readdirSorted(root)) {
    if (filter.tenant && decodeURIComponent(tenant) !== filter.tenant) continue;
    for (const job of await readdirSorted(path.join(root, tenant))) {
      if (filter.job && decodeURIComponent(job) !== filter.job) continue;
      for (const name of await readdirSorted(path.join(root, tenant, job))) {
        const at = path.join(root, tenant, job, name);
        if (name.endsWith('.jsonl')) await add(tenant, job, at, name);
        else if (DAY.test(name)) for (const run of await readdirSorted(at)) if (run.endsWith('.jsonl')) await add(tenant, job, path.join(at, run), run);
      }
    }
  }
  return out.sort((a, b) => b.modified.localeCompare(a.modified));
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Retention: deletes the day partitions of a tenant's dead-letter files (every job, or one) older
 * than `days` days. Returns the partitions removed.
 */
export async function pruneDeadLetters(dir: string, filter: { tenant: string; job?: string }, days: number, now: Date = new Date()): Promise<string[]> {
  const root = path.join(path.resolve(dir), safeSegment(filter.tenant));
  const oldest = dlqDay(new Date(now.getTime() - days * 86_400_000));
  const removed: string[] = [];
  for (const job of await readdirSorted(root)) {
    if (filter.job && decodeURIComponent(job) !== filter.job) continue;
    for (const name of await readdirSorted(path.join(root, job))) {
      if (!DAY.test(name) || name >= oldest) continue;
      const at = path.join(root, job, name);
      await fs.rm(at, { recursive: true, force: true });
      removed.push(at);
    }
  }
  return removed;
}

/** Streams the entries of one dead-letter file. */
export async function* readDeadLetterFile(file: string): AsyncGenerator<DeadLetterEntry> {
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    if (line.trim()) yield JSON.parse(line) as DeadLetterEntry;
  }
}

