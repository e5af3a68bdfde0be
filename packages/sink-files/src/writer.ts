import { randomUUID } from 'node:crypto';
import { DativoError, readRows, stateKeyOf, type Checkpoint, type CommitResult, type PlainValue, type RunContext, type SinkWriter, type StreamDescriptor } from '@dativo/core';
import { CommitLog, type CommittedFile, type Storage } from '@dativo/parquet-kit';
import type { RecordBatch } from 'apache-arrow';
import type { FilesSinkConfig } from './config.js';

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
const BUILT_IN = new Set(['date', 'timestamp', 'ext']);

/** A value as a path segment: no separators, control characters or leading dots. */
function safeName(value: string): string {
  const cleaned = value.replace(/[\\/:*?"<>|\x00-\x1f]+/g, '_').replace(/^\.+/, '_');
  return cleaned || '_';
}

function text(value: PlainValue | undefined): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/**
 * Writes each row's content column unchanged as its own file at a path built from the row,
 * staged and published with the same commit protocol as Parquet files (the kit's commit log), so a
 * crash never publishes a file twice or half.
 */
export class FilesWriter implements SinkWriter {
  /** Checkpoints are recorded with the data: this target alone says how far a job got. */
  readonly keepsCheckpoints = true;
  private readonly storage: Storage;
  private readonly log: CommitLog;
  private readonly staging: string;
  private readonly ctx: RunContext;
  private readonly stream: StreamDescriptor;
  private readonly config: FilesSinkConfig;
  private staged: CommittedFile[] = [];
  /** Rows without content since the last commit (no file to write). */
  private empty = 0;

  private constructor(storage: Storage, stream: StreamDescriptor, config: FilesSinkConfig, ctx: RunContext) {
    this.storage = storage;
    this.stream = stream;
    this.config = config;
    this.ctx = ctx;
    this.log = new CommitLog(storage, stateKeyOf(ctx, stream.name), ctx.log);
    this.staging = this.log.stagingPrefix(ctx.runId);
  }

  static async open(storage: Storage, stream: StreamDescriptor, config: FilesSinkConfig, ctx: RunContext): Promise<FilesWriter> {
    const columns = stream.schema.map((f) => f.name);
    const needed = [config.content_column, ...[...config.path_pattern.matchAll(PLACEHOLDER)].map((m) => m[1] as string).filter((n) => !BUILT_IN.has(n))];
    const missing = needed.filter((c) => !columns.includes(c));
    if (missing.length) {
      throw new DativoError(`target: the files sink needs the column(s) ${missing.map((c) => `'${c}'`).join(', ')} (content_column, path_pattern); stream '${stream.name}' has ${columns.join(', ')}`, {
        kind: 'config',
        code: 'FILES_COLUMN',
      });
    }
    await storage.check();
    const writer = new FilesWriter(storage, stream, config, ctx);
    await writer.log.recover();
    return writer;
  }

  async lastCommitted(): Promise<Checkpoint | undefined> {
    return this.log.latest?.checkpoint;
  }

  private finalKey(row: Record<string, PlainValue>, now: Date): string {
    const ext = this.config.file_extension;
    const vars: Record<string, string> = {
      date: now.toISOString().slice(0, 10),
      timestamp: now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z'),
      ext,
    };
    const pattern = this.config.path_pattern;
    const key = pattern.replace(PLACEHOLDER, (_, name: string) => vars[name] ?? safeName(text(row[name])));
    const withExt = pattern.includes('{ext}') || key.endsWith(ext) ? key : `${key}${ext}`;
    return withExt.replace(/^\/+/, '').split('/').filter((p) => p && p !== '..' && p !== '.').join('/');
  }

  async write(batch: RecordBatch): Promise<void> {
    const now = new Date();
    for (const row of readRows(batch, this.stream.schema)) {
      const value = row[this.config.content_column];
      if (value === null || value === undefined) {
        this.empty++;
        continue;
      }
      const content = value instanceof Uint8Array ? value : Buffer.from(text(value), 'utf8');
      const staged = `${this.staging}${randomUUID()}`;
      const upload = await this.storage.create(staged);
      await upload.write(content);
      const bytes = await upload.finish();
      this.staged.push({ staged, final: this.finalKey(row, now), rows: 1, bytes });
    }
  }

  async commit(checkpoint: Checkpoint): Promise<CommitResult> {
    if (this.empty > 0) this.ctx.log.warn(`${this.empty} row(s) had no ${this.config.content_column}: no file written for them`, { stream: this.stream.name });
    this.empty = 0;
    const files = this.staged;
    // Once the commit is recorded its staged files are the log's (rolled forward if publishing
    // fails): an abort after a failed commit must not delete them.
    await this.log.commit(this.ctx.runId, files, checkpoint, () => {
      this.staged = [];
    });
    this.staged = [];
    return { files: files.length, rows: files.length, bytes: files.reduce((n, f) => n + f.bytes, 0) };
  }

  async abort(): Promise<void> {
    for (const f of this.staged) await this.storage.delete(f.staged).catch(() => undefined);
    this.staged = [];
  }

  async close(): Promise<void> {
    await this.storage.close();
  }
}
