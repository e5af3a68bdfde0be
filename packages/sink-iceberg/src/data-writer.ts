import { randomUUID } from 'node:crypto';
import { takeRows, type RunContext } from '@dativo/core';
import { ParquetEncoder, type ColumnStats, type EncodedFile, type EncoderProps, type ParquetEncoding, type StatsRequest, type StorageUpload } from '@dativo/parquet-kit';
import type { RecordBatch, Schema } from 'apache-arrow';
import { joinUri, type FileIO } from './fileio.js';
import type { DataFile } from './manifest.js';
import { serializeValue } from './manifest.js';
import { groupByPartition, partitionPath, type PartitionColumn } from './partition.js';
import type { RawValue } from './transforms.js';
import type { IcebergSchema, PartitionSpec } from './types.js';
import type { IcebergSinkConfig } from './config.js';
import { VERSION } from './version.js';
import type { Placement } from './merge.js';

export interface DataWriterOptions {
  compression: string;
  rowGroupRows: number;
  /** Arrow bytes per row group at most (parquet-kit's default, 8 MiB, when absent). */
  rowGroupBytes?: number;
  /** Encodings of columns without a dictionary (`plain` when absent). */
  encoding?: ParquetEncoding;
  targetBytes: number;
  /** At most this many files open at once (one per partition being written). */
  maxOpenFiles: number;
  createdBy: string;
}

/** The data-file writer options of a table's configuration (appends, and compaction with its own target size). */
export function dataWriterOptions(config: IcebergSinkConfig, targetBytes = config.target_file_size_mb * 1024 * 1024): DataWriterOptions {
  return {
    compression: config.compression,
    rowGroupRows: config.row_group_rows,
    rowGroupBytes: config.row_group_mb * 1024 * 1024,
    encoding: config.encoding,
    targetBytes,
    maxOpenFiles: config.max_open_files,
    createdBy: `dativo sink-iceberg ${VERSION}`,
  };
}

interface OpenFile {
  uri: string;
  values: RawValue[];
  upload: StorageUpload;
  encoded: EncodedFile;
  lastUsed: number;
}

const STATS_KIND: Record<string, StatsRequest['kind']> = {
  int: 'int',
  date: 'date',
  long: 'long',
  time: 'time',
  timestamp: 'timestamp',
  timestamptz: 'timestamp',
  float: 'float',
  double: 'double',
  string: 'string',
  binary: 'binary',
  boolean: 'boolean',
};

function statsKind(type: unknown): StatsRequest['kind'] | undefined {
  if (typeof type !== 'string') return undefined;
  if (type.startsWith('decimal')) return 'decimal';
  return STATS_KIND[type];
}

/** Drops a trailing incomplete UTF-8 sequence from a byte prefix. */
function utf8Boundary(bytes: Uint8Array): Uint8Array {
  let end = bytes.length;
  let i = end - 1;
  while (i >= 0 && ((bytes[i] as number) & 0xc0) === 0x80) i--;
  if (i >= 0) {
    const lead = bytes[i] as number;
    const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    if (end - i < need) end = i;
  }
  return bytes.subarray(0, end);
}

/** The smallest string greater than every string starting with `prefix`, or undefined. */
function incrementUtf8(prefix: Uint8Array): Uint8Array | undefined {
  const chars = [...Buffer.from(utf8Boundary(prefix)).toString('utf8')];
  while (chars.length) {
    const last = (chars.pop() as string).codePointAt(0) as number;
    let next = last + 1;
    if (next >= 0xd800 && next <= 0xdfff) next = 0xe000;
    if (next <= 0x10ffff) return Buffer.from(chars.join('') + String.fromCodePoint(next), 'utf8');
  }
  return undefined;
}

function incrementBytes(prefix: Uint8Array): Uint8Array | undefined {
  const out = Uint8Array.from(prefix);
  for (let i = out.length - 1; i >= 0; i--) {
    if ((out[i] as number) < 0xff) {
      out[i] = (out[i] as number) + 1;
      return out.subarray(0, i + 1);
    }
  }
  return undefined;
}

function decimalOf(words: number[]): bigint {
  let v = 0n;
  for (let k = 3; k >= 0; k--) v = (v << 32n) | BigInt((words[k] as number) >>> 0);
  return BigInt.asIntN(128, v);
}

/** Iceberg metrics maps of one file from the encoder's column statistics. */
export function metricsOf(schema: IcebergSchema, requests: readonly StatsRequest[], stats: readonly ColumnStats[]): Pick<DataFile, 'valueCounts' | 'nullValueCounts' | 'nanValueCounts' | 'lowerBounds' | 'upperBounds'> {
  const valueCounts = new Map<number, number>();
  const nullValueCounts = new Map<number, number>();
  const nanValueCounts = new Map<number, number>();
  const lowerBounds = new Map<number, Uint8Array>();
  const upperBounds = new Map<number, Uint8Array>();
  requests.forEach((req, i) => {
    const st = stats[i];
    const field = schema.fields[req.column];
    if (!st || !field) return;
    const type = field.type as string;
    valueCounts.set(field.id, st.values);
    nullValueCounts.set(field.id, st.nulls);
    if (req.kind === 'float' || req.kind === 'double') nanValueCounts.set(field.id, st.nans);
    if (st.min === null || st.max === null) return;
    let lower: Uint8Array | null | undefined;
    let upper: Uint8Array | null | undefined;
    if (req.kind === 'string') {
      lower = utf8Boundary(st.min as Uint8Array);
      upper = st.truncated ? incrementUtf8(st.max as Uint8Array) : (st.max as Uint8Array);
    } else if (req.kind === 'binary') {
      lower = st.min as Uint8Array;
      upper = st.truncated ? incrementBytes(st.max as Uint8Array) : (st.max as Uint8Array);
    } else if (req.kind === 'decimal') {
      lower = serializeValue(type, decimalOf(st.min as number[]));
      upper = serializeValue(type, decimalOf(st.max as number[]));
    } else {
      lower = serializeValue(type, st.min as RawValue);
      upper = serializeValue(type, st.max as RawValue);
    }
    if (lower) lowerBounds.set(field.id, lower);
    if (upper) upperBounds.set(field.id, upper);
  });
  return { valueCounts, nullValueCounts, nanValueCounts, lowerBounds, upperBounds };
}

/**
 * Writes conformed batches as Parquet data files under `<table>/data/<partition>/`, one open file
 * per partition (rolled over at the target size), encoded on the Parquet worker thread with column
 * statistics. Files are invisible to readers until a snapshot references them.
 */
export class DataWriter {
  private encoder: ParquetEncoder | undefined;
  private readonly open = new Map<string, OpenFile>();
  private readonly done: DataFile[] = [];
  private counter = 0;
  private tick = 0;
  private readonly statsRequests: StatsRequest[];
  private readonly props: EncoderProps;
  private readonly sourceTypes: string[];

  constructor(
    private readonly io: FileIO,
    private readonly location: string,
    private readonly schema: IcebergSchema,
    readonly arrowSchema: Schema,
    private readonly spec: PartitionSpec,
    private readonly columns: readonly PartitionColumn[],
    private readonly options: DataWriterOptions,
    private readonly ctx: RunContext,
  ) {
    this.statsRequests = schema.fields.flatMap((f, column) => {
      const kind = statsKind(f.type);
      return kind ? [{ column, kind }] : [];
    });
    this.sourceTypes = columns.map((c) => schema.fields[c.column]?.type as string);
    this.props = {
      compression: options.compression,
      rowGroupRows: options.rowGroupRows,
      ...(options.rowGroupBytes ? { rowGroupBytes: options.rowGroupBytes } : {}),
      dictionaryColumns: schema.fields.filter((f) => f.type === 'string').map((f) => f.name),
      encoding: options.encoding ?? 'plain',
      createdBy: options.createdBy,
      metadata: { 'iceberg.schema': JSON.stringify(schema) },
      stats: this.statsRequests,
    };
  }

  /** Rows written to files not yet handed out by `finish`. */
  pendingRows = 0;

  /** Writes a batch shaped as the table schema; returns where its rows landed. */
  async write(batch: RecordBatch): Promise<Placement[]> {
    const placements: Placement[] = [];
    if (batch.numRows === 0) return placements;
    const groups = groupByPartition(batch, this.columns, this.sourceTypes);
    for (const group of groups) {
      const part = group.rows ? takeRows(batch, group.rows) : batch;
      let file = this.open.get(group.key);
      if (!file) {
        await this.limitOpenFiles();
        file = await this.start(group.values);
        this.open.set(group.key, file);
      }
      file.lastUsed = ++this.tick;
      placements.push({ uri: this.io.uri(file.uri), firstRow: file.encoded.rows, rows: group.rows });
      await file.encoded.write(part);
      this.pendingRows += part.numRows;
      if (file.encoded.estimatedBytes >= this.options.targetBytes) {
        this.open.delete(group.key);
        await this.close(file);
      }
    }
    return placements;
  }

  private async limitOpenFiles(): Promise<void> {
    while (this.open.size >= this.options.maxOpenFiles) {
      const [key, oldest] = [...this.open].reduce((a, b) => (b[1].lastUsed < a[1].lastUsed ? b : a));
      this.open.delete(key);
      await this.close(oldest);
    }
  }

  private async start(values: RawValue[]): Promise<OpenFile> {
    this.encoder ??= new ParquetEncoder();
    this.counter++;
    const name = `${this.ctx.runId}-${String(this.counter).padStart(5, '0')}-${randomUUID().slice(0, 8)}.parquet`;
    const uri = joinUri(this.location, 'data', partitionPath(this.columns, values), name);
    const upload = await this.io.create(uri);
    const encoded = this.encoder.open(this.props, (chunk) => upload.write(chunk));
    return { uri, values, upload, encoded, lastUsed: ++this.tick };
  }

  private async close(file: OpenFile): Promise<void> {
    try {
      await file.encoded.finish();
      const size = await file.upload.finish();
      this.done.push({
        filePath: this.io.uri(file.uri),
        fileFormat: 'PARQUET',
        specId: this.spec['spec-id'],
        partition: file.values,
        recordCount: file.encoded.rows,
        fileSizeInBytes: size,
        ...metricsOf(this.schema, this.statsRequests, file.encoded.stats),
        sortOrderId: 0,
      });
    } catch (error) {
      await file.upload.abort().catch(() => undefined);
      throw error;
    }
  }

  /** Closes every open file and hands out the files written since the last call. */
  async finish(): Promise<DataFile[]> {
    for (const [key, file] of [...this.open]) {
      this.open.delete(key);
      await this.close(file);
    }
    const out = this.done.splice(0);
    this.pendingRows = 0;
    return out;
  }

  /** Drops open files and deletes every file written since the last `finish` that no snapshot names. */
  async abort(): Promise<void> {
    for (const file of this.open.values()) {
      file.encoded.abort();
      await file.upload.abort().catch(() => undefined);
    }
    this.open.clear();
    for (const file of this.done.splice(0)) await this.io.delete(file.filePath).catch(() => undefined);
    this.pendingRows = 0;
  }

  async terminate(): Promise<void> {
    await this.encoder?.terminate();
    this.encoder = undefined;
  }
}
