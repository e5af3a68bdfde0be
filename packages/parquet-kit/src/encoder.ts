import type { Worker } from 'node:worker_threads';
import { DativoError, recycleBatchBuffers } from '@dativo/core';
import { Schema, Table, tableToIPC, type RecordBatch } from 'apache-arrow';
import { serializeBatch } from './batch-transfer.js';
import { takeEncoderThread } from './encoder-thread.js';
import { schemaLayout, unsupportedColumns } from './ipc-layout.js';
import type { ParquetEncoding } from './encodings.js';

/** A top-level column to compute statistics for (value, null and NaN counts, bounds). */
export interface StatsRequest {
  column: number;
  kind: 'int' | 'long' | 'float' | 'double' | 'date' | 'time' | 'timestamp' | 'string' | 'binary' | 'decimal' | 'boolean';
}

/**
 * Statistics of one column of a finished file. Bounds are raw: numbers or bigints, booleans,
 * decimal words (4 little-endian uint32), or for strings and binary a prefix of at most 16 bytes
 * (`truncated` when the largest value was longer than its prefix).
 */
export interface ColumnStats {
  values: number;
  nulls: number;
  nans: number;
  min: number | bigint | boolean | number[] | Uint8Array | null;
  max: number | bigint | boolean | number[] | Uint8Array | null;
  truncated: boolean;
}

export interface EncoderProps {
  compression: string;
  /** Rows per row group at most. */
  rowGroupRows: number;
  /**
   * Arrow bytes per row group at most (estimated from the file's first batch): wide rows get row
   * groups of fewer rows, so the encoder's memory stays bounded. Default 8 MiB.
   */
  rowGroupBytes?: number;
  /**
   * String columns that may be dictionary-encoded: each gets a dictionary only when the first
   * batch of the writer's first file shows few distinct values (the decision is kept for its
   * later files).
   */
  dictionaryColumns: string[];
  /**
   * Encodings of columns without a dictionary ({@link ParquetEncoding}); `plain` when absent.
   */
  encoding?: ParquetEncoding;
  createdBy: string;
  metadata?: Record<string, string>;
  stats?: StatsRequest[];
}

type WorkerMessage =
  | { type: 'consumed'; id: number; buffers?: ArrayBuffer[] }
  | { type: 'chunk'; id: number; data: Uint8Array }
  | { type: 'closed'; id: number; stats: ColumnStats[]; zstd: 'native' | 'wasm' }
  | { type: 'error'; id: number; message: string };

/** Batches handed to the encoder but not yet taken by it; past this, `write` waits. */
const MAX_IN_FLIGHT = 2;
/** Encoded bytes received but not yet written to storage; past this, `write` waits. */
const MAX_PENDING_OUTPUT = 64 * 1024 * 1024;

/** The schema as an Arrow IPC stream with no batches (how the worker learns the types). */
function schemaIpc(schema: Schema): Uint8Array {
  return tableToIPC(new Table(schema), 'stream');
}

/**
 * One Parquet file being encoded on the worker thread. The encoded bytes come back in row-group
 * sized chunks and are handed, in order, to `sink`.
 */
export class EncodedFile {
  readonly id: number;
  /** Encoded bytes written so far (whole row groups). */
  outputBytes = 0;
  rows = 0;
  /** Column statistics, once the file is finished (when requested). */
  stats: ColumnStats[] = [];
  /**
   * Once finished: whether zstd pages were compressed by the native library (`@mongodb-js/zstd`)
   * or by parquet-wasm (no binary for this platform, or `DATIVO_PARQUET_ZSTD=wasm`); `wasm` also
   * for other codecs, which parquet-wasm always applies.
   */
  zstd: 'native' | 'wasm' | undefined = undefined;
  /** Arrow bytes handed to the encoder, and how many of them it had taken when output last arrived. */
  private inputBytes = 0;
  private consumedBytes = 0;
  private consumedAtLastOutput = 0;
  /** Batches sent and not yet consumed, oldest first: their Arrow bytes and whether the buffers were the builder's own. */
  private readonly inFlightBatches: { size: number; owned: boolean }[] = [];
  private schemaSent = false;
  private pendingOutput = 0;
  private chain: Promise<void> = Promise.resolve();
  private waiters: Array<() => void> = [];
  private failure: Error | undefined;
  private closed: { resolve: () => void; reject: (e: Error) => void; promise: Promise<void> };
  private readonly encoder: ParquetEncoder;
  private readonly sink: (chunk: Uint8Array) => Promise<void>;

  constructor(encoder: ParquetEncoder, id: number, sink: (chunk: Uint8Array) => Promise<void>) {
    this.encoder = encoder;
    this.id = id;
    this.sink = sink;
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(() => undefined);
    this.closed = { resolve, reject, promise };
  }

  /** @internal */
  onMessage(message: WorkerMessage): void {
    switch (message.type) {
      case 'consumed':
        const consumed = this.inFlightBatches.shift();
        this.consumedBytes += consumed?.size ?? 0;
        // A builder's own buffers, moved to the encoding thread and back: the next batches reuse them.
        if (consumed?.owned && message.buffers) recycleBatchBuffers(message.buffers);
        this.wakeAll();
        break;
      case 'chunk': {
        const data = message.data;
        this.consumedAtLastOutput = this.consumedBytes;
        this.pendingOutput += data.length;
        this.chain = this.chain.then(async () => {
          if (this.failure) return;
          try {
            await this.sink(data);
            this.outputBytes += data.length;
          } catch (error) {
            this.fail(error instanceof Error ? error : new Error(String(error)));
          } finally {
            this.pendingOutput -= data.length;
            this.wakeAll();
          }
        });
        break;
      }
      case 'closed':
        this.stats = message.stats;
        this.zstd = message.zstd;
        void this.chain.then(() => (this.failure ? this.closed.reject(this.failure) : this.closed.resolve()));
        break;
      case 'error':
        this.fail(new DativoError(`Parquet encoding failed: ${message.message}`, { kind: 'permanent', code: 'PARQUET_ENCODE' }));
        break;
    }
  }

  /** @internal */
  fail(error: Error): void {
    if (!this.failure) this.failure = error;
    this.closed.reject(error);
    this.wakeAll();
  }

  private wakeAll(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private async waitForRoom(): Promise<void> {
    while (!this.failure && (this.inFlightBatches.length >= MAX_IN_FLIGHT || this.pendingOutput > MAX_PENDING_OUTPUT)) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    if (this.failure) throw this.failure;
  }

  async write(batch: RecordBatch): Promise<void> {
    await this.waitForRoom();
    if (!this.schemaSent) {
      const unsupported = unsupportedColumns(batch.schema);
      if (unsupported.length) {
        const error = new DativoError(`Parquet encoding: dictionary-encoded Arrow columns are not supported: ${unsupported.join(', ')}; decode them to their value type first`, {
          kind: 'permanent',
          code: 'PARQUET_UNSUPPORTED_TYPE',
        });
        this.fail(error);
        throw error;
      }
      this.encoder.post({ type: 'schema', id: this.id, ipc: schemaIpc(batch.schema), layout: schemaLayout(batch.schema) });
      this.schemaSent = true;
    }
    const { payload, transfer, owned } = serializeBatch(batch);
    const size = transfer.reduce((n, b) => n + b.byteLength, 0);
    this.inputBytes += size;
    this.inFlightBatches.push({ size, owned });
    this.rows += batch.numRows;
    this.encoder.post({ type: 'batch', id: this.id, batch: payload }, transfer);
  }

  /**
   * The file's size so far, estimated: encoded bytes received, plus the Arrow bytes not yet encoded
   * scaled by the compression ratio seen so far (a quarter before any output arrived).
   */
  get estimatedBytes(): number {
    const ratio = this.consumedAtLastOutput > 0 ? this.outputBytes / this.consumedAtLastOutput : 0.25;
    return this.outputBytes + (this.inputBytes - this.consumedAtLastOutput) * ratio;
  }

  /** Finishes the file: the footer is written and every chunk has reached the sink. */
  async finish(): Promise<void> {
    if (this.failure) throw this.failure;
    this.encoder.post({ type: 'close', id: this.id });
    try {
      await this.closed.promise;
      await this.chain;
      if (this.failure) throw this.failure;
    } finally {
      this.encoder.release(this.id);
    }
  }

  abort(): void {
    this.encoder.post({ type: 'abort', id: this.id });
    this.fail(new DativoError('file aborted', { kind: 'permanent' }));
    this.encoder.release(this.id);
  }
}

/** A worker thread that turns Arrow batches into Parquet bytes (parquet-wasm), one per writer. */
export class ParquetEncoder {
  private readonly worker: Worker;
  private readonly files = new Map<number, EncodedFile>();
  private nextId = 1;
  private crashed: Error | undefined;

  constructor() {
    // The thread warmed up for this run (see warmEncoderThread), or a new one.
    this.worker = takeEncoderThread();
    this.worker.on('message', (message: WorkerMessage) => this.files.get(message.id)?.onMessage(message));
    this.worker.on('error', (error) => this.crash(error));
    this.worker.on('exit', (code) => {
      if (code !== 0) this.crash(new Error(`Parquet encoder thread exited with code ${code}`));
    });
  }

  private crash(error: Error): void {
    this.crashed = new DativoError(`Parquet encoder thread failed: ${error.message}`, { kind: 'permanent', cause: error });
    for (const file of this.files.values()) file.fail(this.crashed);
  }

  /** @internal */
  post(message: unknown, transfer?: ArrayBuffer[]): void {
    if (this.crashed) throw this.crashed;
    this.worker.postMessage(message, transfer);
  }

  /** @internal */
  release(id: number): void {
    this.files.delete(id);
  }

  open(props: EncoderProps, sink: (chunk: Uint8Array) => Promise<void>): EncodedFile {
    const id = this.nextId++;
    const file = new EncodedFile(this, id, sink);
    this.files.set(id, file);
    this.post({ type: 'open', id, props });
    return file;
  }

  async terminate(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}
