import { DativoError, takeRows } from '@dativo/core';
import type { Data, RecordBatch } from 'apache-arrow';
import { conformBatch } from './conform.js';
import type { DataWriter } from './data-writer.js';
import type { FileIO } from './fileio.js';
import type { DataFile } from './manifest.js';
import { rawReader } from './partition.js';
import { readParquetBatches } from './read-parquet.js';
import type { LiveFile } from './snapshot.js';
import type { RawValue } from './transforms.js';
import type { IcebergSchema } from './types.js';

function keyText(values: RawValue[]): string {
  return values.length === 1 && typeof values[0] === 'string'
    ? `s${values[0]}`
    : JSON.stringify(values, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v));
}

/** `latest` value of a key deleted in this commit. */
const DELETED = '#deleted';

/** Where a written row landed: file and row number within it. */
export interface Placement {
  uri: string;
  firstRow: number;
  /** Batch rows written there, in order (undefined: all of them). */
  rows: number[] | undefined;
}

/**
 * Merge (upsert) by primary key with copy-on-write: remembers the keys written since the last
 * commit and, at commit, rewrites the live files that hold any of them without those rows. When a
 * key arrives twice in one commit, the last row wins.
 */
export class MergePlanner {
  private readonly keyIndexes: number[];
  private readonly keyTypes: string[];
  private readonly keyNames: string[];
  /** key → "uri#row" of the latest row written for it. */
  private latest = new Map<string, string>();
  private duplicates = 0;
  /** Live files already examined against the current keys: path → replacement files (empty: no match). */
  private examined = new Map<string, { files: DataFile[]; deleted: number } | null>();

  constructor(
    private readonly schema: IcebergSchema,
    primaryKey: readonly string[],
    private readonly io: FileIO,
  ) {
    this.keyNames = [...primaryKey];
    this.keyIndexes = primaryKey.map((name) => {
      const index = schema.fields.findIndex((f) => f.name === name);
      if (index < 0) throw new DativoError(`merge key column '${name}' is not in the table (columns: ${schema.fields.map((f) => f.name).join(', ')})`, { kind: 'config', code: 'ICEBERG_MERGE_KEY' });
      return index;
    });
    this.keyTypes = this.keyIndexes.map((i) => {
      const type = schema.fields[i]?.type;
      if (typeof type !== 'string') throw new DativoError(`merge key column '${schema.fields[i]?.name}' must be a primitive column`, { kind: 'config', code: 'ICEBERG_MERGE_KEY' });
      return type;
    });
  }

  get pendingKeys(): number {
    return this.latest.size;
  }

  /** Rows the last `plan` dropped from live files for keys this commit deletes. */
  removedRows = 0;

  private keysOf(batch: RecordBatch): (row: number) => string {
    // By name: batches read back from older files may have other columns or another order.
    const readers = this.keyNames.map((name, k) => {
      const idx = batch.schema.fields.findIndex((f) => f.name === name);
      if (idx < 0) throw new DativoError(`merge key column '${name}' is missing from a data file`, { kind: 'permanent', code: 'ICEBERG_MERGE_KEY' });
      return rawReader(batch.data.children[idx] as Data, this.keyTypes[k] as string);
    });
    return (row) => {
      const values = readers.map((r) => r(row));
      if (values.some((v) => v === null)) throw new DativoError(`merge key ${this.keyNames.join(', ')} is null in a row; every row needs a key to merge`, { kind: 'validation', code: 'ICEBERG_MERGE_NULL_KEY' });
      return keyText(values);
    };
  }

  /** The key of every row of a (conformed) batch; read before the batch is written (its buffers move). */
  keys(batch: RecordBatch): string[] {
    const key = this.keysOf(batch);
    return Array.from({ length: batch.numRows }, (_, i) => key(i));
  }

  /** Records keys deleted by this commit: their rows leave the table (and this commit's files). */
  remove(keys: readonly string[]): void {
    for (const k of keys) {
      if (this.latest.has(k)) this.duplicates++;
      this.latest.set(k, DELETED);
    }
  }

  /** Records where rows with these keys were written. */
  record(keys: readonly string[], placements: readonly Placement[]): void {
    for (const p of placements) {
      const rows = p.rows ?? keys.map((_, i) => i);
      rows.forEach((row, i) => {
        const k = keys[row] as string;
        if (this.latest.has(k)) this.duplicates++;
        this.latest.set(k, `${p.uri}#${p.firstRow + i}`);
      });
    }
  }

  /** Keeps only rows of `batches` that `keep(key, row)` accepts; undefined when all are kept. */
  private filter(batches: RecordBatch[], keep: (key: string, row: number) => boolean): { kept: RecordBatch[]; dropped: number } | undefined {
    let dropped = 0;
    let row = 0;
    const kept: RecordBatch[] = [];
    for (const b of batches) {
      const key = this.keysOf(b);
      const indices: number[] = [];
      for (let i = 0; i < b.numRows; i++, row++) if (keep(key(i), row)) indices.push(i);
      dropped += b.numRows - indices.length;
      if (indices.length === b.numRows) kept.push(b);
      else if (indices.length) kept.push(takeRows(b, indices));
    }
    return dropped ? { kept, dropped } : undefined;
  }

  /**
   * New files with superseded rows dropped (when a key came twice in this commit). Files of this
   * commit that changed are deleted; the returned list replaces `added`.
   */
  async dedupe(added: DataFile[], rewriter: DataWriter): Promise<DataFile[]> {
    if (this.duplicates === 0) return added;
    const out: DataFile[] = [];
    for (const file of added) {
      const batches = readParquetBatches(await this.io.read(file.filePath)).map((b) => conformBatch(b, rewriter.arrowSchema));
      const result = this.filter(batches, (key, row) => this.latest.get(key) === `${file.filePath}#${row}`);
      if (!result) {
        out.push(file);
        continue;
      }
      for (const b of result.kept) await rewriter.write(b);
      out.push(...(await rewriter.finish()));
      await this.io.delete(file.filePath);
    }
    this.duplicates = 0;
    return out;
  }

  /** Live files holding any of the pending keys, and their rewritten replacements. */
  async plan(live: readonly LiveFile[], rewriter: DataWriter): Promise<{ deleted: LiveFile[]; added: DataFile[] }> {
    const deleted: LiveFile[] = [];
    const added: DataFile[] = [];
    this.removedRows = 0;
    if (this.latest.size === 0) return { deleted, added };
    for (const file of live) {
      const path = file.entry.dataFile.filePath;
      let replacement = this.examined.get(path);
      if (replacement === undefined) {
        replacement = await this.examine(path, rewriter);
        this.examined.set(path, replacement);
      }
      if (replacement === null) continue;
      deleted.push(file);
      added.push(...replacement.files);
      this.removedRows += replacement.deleted;
    }
    return { deleted, added };
  }

  private async examine(path: string, rewriter: DataWriter): Promise<{ files: DataFile[]; deleted: number } | null> {
    const bytes = await this.io.read(path);
    const keysOnly = readParquetBatches(bytes, this.keyNames);
    const hit = keysOnly.some((b) => {
      const key = this.keysOf(b);
      for (let i = 0; i < b.numRows; i++) if (this.latest.has(key(i))) return true;
      return false;
    });
    if (!hit) return null;
    const all = readParquetBatches(bytes).map((b) => conformBatch(b, rewriter.arrowSchema));
    let deleted = 0;
    const result = this.filter(all, (key) => {
      const latest = this.latest.get(key);
      if (latest === DELETED) deleted++;
      return latest === undefined;
    });
    for (const b of result?.kept ?? []) if (b.numRows) await rewriter.write(b);
    return { files: await rewriter.finish(), deleted };
  }

  /** After a successful commit: forget this commit's keys. */
  reset(): void {
    this.latest = new Map();
    this.examined = new Map();
    this.duplicates = 0;
    this.removedRows = 0;
  }
}
