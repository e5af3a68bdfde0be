import { randomUUID } from 'node:crypto';
import { stateKeyOf, type Checkpoint, type CommitResult, type RunContext, type SinkWriter, type StreamDescriptor } from '@dativo/core';
import type { RecordBatch } from 'apache-arrow';
import { CommitLog, ParquetEncoder, type CommittedFile, type EncodedFile, type EncoderProps, type Storage, type StorageUpload } from '@dativo/parquet-kit';
import type { ParquetSinkConfig } from './config.js';
import { partitionDir } from './partition.js';
import { VERSION } from './version.js';

interface OpenFile {
  staged: string;
  partition: string;
  upload: StorageUpload;
  encoded: EncodedFile;
}

/**
 * Writes one stream as Parquet files: batches are encoded on a worker thread and streamed to a
 * staged file; files roll over at the target size; `commit` publishes them atomically with the
 * checkpoint through the {@link CommitLog}.
 */
export class ParquetSinkWriter implements SinkWriter {
  /** Checkpoints are recorded with the data: this target alone says how far a job got. */
  readonly keepsCheckpoints = true;
  private readonly storage: Storage;
  private readonly log: CommitLog;
  private readonly staging: string;
  private readonly ctx: RunContext;
  private readonly config: ParquetSinkConfig;
  private readonly props: EncoderProps;
  private readonly targetBytes: number;
  private encoder: ParquetEncoder | undefined;
  private current: OpenFile | undefined;
  private staged: Array<CommittedFile & { partition: string }> = [];
  private fileCounter = 0;

  private constructor(storage: Storage, config: ParquetSinkConfig, stream: StreamDescriptor, ctx: RunContext) {
    this.storage = storage;
    this.config = config;
    this.ctx = ctx;
    this.log = new CommitLog(storage, stateKeyOf(ctx, stream.name), ctx.log);
    this.staging = this.log.stagingPrefix(ctx.runId);
    this.targetBytes = config.target_file_size_mb * 1024 * 1024;
    this.props = {
      compression: config.compression,
      rowGroupRows: config.row_group_rows,
      rowGroupBytes: config.row_group_mb * 1024 * 1024,
      dictionaryColumns: config.dictionary ? stream.schema.filter((f) => f.type.kind === 'string' || f.type.kind === 'json').map((f) => f.name) : [],
      encoding: config.encoding,
      createdBy: `dativo sink-parquet ${VERSION}`,
      metadata: { 'dativo.stream': stream.name, 'dativo.run_id': ctx.runId },
    };
  }

  /** Opens the writer: recovers unfinished commits, then is ready for batches. */
  static async open(storage: Storage, config: ParquetSinkConfig, stream: StreamDescriptor, ctx: RunContext): Promise<ParquetSinkWriter> {
    await storage.check();
    const writer = new ParquetSinkWriter(storage, config, stream, ctx);
    await writer.log.recover();
    return writer;
  }

  async lastCommitted(): Promise<Checkpoint | undefined> {
    return this.log.latest?.checkpoint;
  }

  private async startFile(): Promise<OpenFile> {
    this.encoder ??= new ParquetEncoder();
    const staged = `${this.staging}${randomUUID()}.parquet`;
    const upload = await this.storage.create(staged);
    const encoded = this.encoder.open(this.props, (chunk) => upload.write(chunk));
    return { staged, partition: partitionDir(this.config.partitioning, new Date()), upload, encoded };
  }

  async write(batch: RecordBatch): Promise<void> {
    if (batch.numRows === 0) return;
    this.current ??= await this.startFile();
    await this.current.encoded.write(batch);
    if (this.current.encoded.estimatedBytes >= this.targetBytes) await this.finishFile();
  }

  private async finishFile(): Promise<void> {
    const file = this.current;
    if (!file) return;
    this.current = undefined;
    try {
      await file.encoded.finish();
      const bytes = await file.upload.finish();
      this.fileCounter++;
      const final = `${file.partition}part-${this.ctx.runId}-${String(this.fileCounter).padStart(5, '0')}.parquet`;
      this.staged.push({ staged: file.staged, final, rows: file.encoded.rows, bytes, partition: file.partition });
    } catch (error) {
      await file.upload.abort().catch(() => undefined);
      throw error;
    }
  }

  async commit(checkpoint: Checkpoint): Promise<CommitResult> {
    await this.finishFile();
    const files = this.staged.map(({ staged, final, rows, bytes }) => ({ staged, final, rows, bytes }));
    // Once the commit is recorded its staged files are the log's (rolled forward if publishing
    // fails): an abort after a failed commit must not delete them.
    await this.log.commit(this.ctx.runId, files, checkpoint, () => {
      this.staged = [];
    });
    this.staged = [];
    return { files: files.length, rows: files.reduce((n, f) => n + f.rows, 0), bytes: files.reduce((n, f) => n + f.bytes, 0) };
  }

  async abort(): Promise<void> {
    const file = this.current;
    this.current = undefined;
    if (file) {
      file.encoded.abort();
      await file.upload.abort().catch(() => undefined);
    }
    for (const f of this.staged) await this.storage.delete(f.staged).catch(() => undefined);
    this.staged = [];
  }

  async close(): Promise<void> {
    if (this.current) await this.abort();
    await this.encoder?.terminate();
    this.encoder = undefined;
    await this.storage.close();
  }
}
