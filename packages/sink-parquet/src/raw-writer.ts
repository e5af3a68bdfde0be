import { randomUUID } from 'node:crypto';
import { DativoError, readRows, stateKeyOf, type Checkpoint, type CommitResult, type RunContext, type SinkWriter, type StreamDescriptor } from '@dativo/core';
import type { RecordBatch } from 'apache-arrow';
import { CommitLog, type CommittedFile } from './commit-log.js';
import type { Storage } from './storage/storage.js';

export interface RawFileOptions {
  /** `{doc_id}`, `{date}`, `{timestamp}` and `{ext}` are replaced. */
  pathPattern: string;
  extension: string;
}

function safeName(value: string): string {
  const cleaned = value.replace(/[\\/:*?"<>|\x00-\x1f]+/g, '_').replace(/^\.+/, '_');
  return cleaned || '_';
}

/**
 * Writes each row's `content` unchanged as its own file (Markdown-KV `mode: raw_file`), staged and
 * published with the same commit protocol as Parquet files.
 */
export class RawFileWriter implements SinkWriter {
  private readonly storage: Storage;
  private readonly log: CommitLog;
  private readonly staging: string;
  private readonly ctx: RunContext;
  private readonly stream: StreamDescriptor;
  private readonly options: RawFileOptions;
  private staged: CommittedFile[] = [];

  private constructor(storage: Storage, stream: StreamDescriptor, options: RawFileOptions, ctx: RunContext) {
    this.storage = storage;
    this.stream = stream;
    this.options = options;
    this.ctx = ctx;
    this.log = new CommitLog(storage, stateKeyOf(ctx, stream.name), ctx.log);
    this.staging = this.log.stagingPrefix(ctx.runId);
  }

  static async open(storage: Storage, stream: StreamDescriptor, options: RawFileOptions, ctx: RunContext): Promise<RawFileWriter> {
    for (const column of ['doc_id', 'content']) {
      if (!stream.schema.some((f) => f.name === column)) {
        throw new DativoError(`raw_file output needs a '${column}' column; stream '${stream.name}' has ${stream.schema.map((f) => f.name).join(', ')}`, { kind: 'config' });
      }
    }
    await storage.check();
    const writer = new RawFileWriter(storage, stream, options, ctx);
    await writer.log.recover();
    return writer;
  }

  async lastCommitted(): Promise<Checkpoint | undefined> {
    return this.log.latest?.checkpoint;
  }

  private finalKey(docId: string, now: Date): string {
    const vars: Record<string, string> = {
      doc_id: safeName(docId),
      date: now.toISOString().slice(0, 10),
      timestamp: now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z'),
      ext: this.options.extension,
    };
    const key = this.options.pathPattern.replace(/\{(doc_id|date|timestamp|ext)\}/g, (_, name: string) => vars[name] ?? '');
    const withExt = this.options.pathPattern.includes('{ext}') || key.endsWith(this.options.extension) ? key : `${key}${this.options.extension}`;
    return withExt.replace(/^\/+/, '').split('/').filter((p) => p && p !== '..' && p !== '.').join('/');
  }

  async write(batch: RecordBatch): Promise<void> {
    const now = new Date();
    for (const row of readRows(batch, this.stream.schema)) {
      const content = row.content;
      if (!(content instanceof Uint8Array)) continue;
      const staged = `${this.staging}${randomUUID()}`;
      const upload = await this.storage.create(staged);
      await upload.write(content);
      const bytes = await upload.finish();
      this.staged.push({ staged, final: this.finalKey(String(row.doc_id), now), rows: 1, bytes });
    }
  }

  async commit(checkpoint: Checkpoint): Promise<CommitResult> {
    const files = this.staged;
    await this.log.commit(this.ctx.runId, files, checkpoint);
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
