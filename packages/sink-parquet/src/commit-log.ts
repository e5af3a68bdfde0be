import { crashPoint, DativoError, type Checkpoint, type Logger } from '@dativo/core';
import type { Storage } from './storage/storage.js';

export const COMMITS_DIR = '_dativo/commits/';
export const STAGING_DIR = '_dativo/staging/';
/** Commit records kept after each commit (older ones are pruned). */
const KEEP_RECORDS = 100;

export interface CommittedFile {
  staged: string;
  final: string;
  rows: number;
  bytes: number;
}

/** One commit: the intent record written before files move into place, marked done after. */
export interface CommitRecord {
  version: 1;
  seq: number;
  runId: string;
  time: string;
  status: 'pending' | 'done';
  checkpoint: Checkpoint;
  files: CommittedFile[];
}

function recordKey(seq: number): string {
  return `${COMMITS_DIR}${String(seq).padStart(20, '0')}.json`;
}

function seqOf(key: string): number | undefined {
  const m = /(\d{20})\.json$/.exec(key);
  return m ? Number(m[1]) : undefined;
}

/**
 * The Parquet sink's commit protocol (see DESIGN-CORE): data files are staged under
 * `_dativo/staging/`; a commit writes an intent record listing them with the checkpoint, moves
 * them into place, then marks the record done. On open, unfinished records are rolled forward and
 * staged files no record names are deleted, so a crash at any point publishes each file once.
 */
export class CommitLog {
  private readonly storage: Storage;
  private readonly log: Logger;
  private latestRecord: CommitRecord | undefined;

  constructor(storage: Storage, log: Logger) {
    this.storage = storage;
    this.log = log;
  }

  private async read(key: string): Promise<CommitRecord | undefined> {
    const text = await this.storage.readText(key);
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as CommitRecord;
    } catch (error) {
      throw new DativoError(`commit record ${this.storage.location}/${key} is corrupt; move it aside to continue`, { kind: 'permanent', cause: error });
    }
  }

  /** Rolls unfinished commits forward and removes orphaned staged files. */
  async recover(): Promise<void> {
    const keys = (await this.storage.list(COMMITS_DIR)).filter((k) => seqOf(k) !== undefined).sort();
    let latest: CommitRecord | undefined;
    for (const key of keys) {
      const record = await this.read(key);
      if (!record) continue;
      if (record.status === 'pending') {
        this.log.warn('rolling forward an unfinished commit from a previous run', { location: this.storage.location, seq: record.seq, runId: record.runId, files: record.files.length });
        await this.publish(record);
      }
      if (!latest || record.seq > latest.seq) latest = record;
    }
    this.latestRecord = latest;
    const staged = await this.storage.list(STAGING_DIR);
    if (staged.length) {
      this.log.info('removing staged files of an interrupted run that were never committed', { location: this.storage.location, files: staged.length });
      for (const key of staged) await this.storage.delete(key);
    }
  }

  private async publish(record: CommitRecord): Promise<void> {
    for (const file of record.files) {
      await this.storage.move(file.staged, file.final);
      crashPoint('parquet:file-moved');
    }
    const done: CommitRecord = { ...record, status: 'done' };
    await this.storage.writeText(recordKey(record.seq), `${JSON.stringify(done, null, 2)}\n`);
  }

  get latest(): CommitRecord | undefined {
    return this.latestRecord;
  }

  /** Publishes staged files with the checkpoint. */
  async commit(runId: string, files: CommittedFile[], checkpoint: Checkpoint): Promise<CommitRecord> {
    const seq = (this.latestRecord?.seq ?? 0) + 1;
    const record: CommitRecord = { version: 1, seq, runId, time: new Date().toISOString(), status: 'pending', checkpoint, files };
    const created = await this.storage.createText(recordKey(seq), `${JSON.stringify(record, null, 2)}\n`);
    if (!created) {
      throw new DativoError(`another writer committed to ${this.storage.location} at the same time (commit ${seq} exists); run one job per output location at a time`, {
        kind: 'permanent',
        code: 'PARQUET_CONCURRENT_COMMIT',
      });
    }
    crashPoint('parquet:intent-written');
    await this.publish(record);
    this.latestRecord = { ...record, status: 'done' };
    await this.prune(seq);
    return this.latestRecord;
  }

  private async prune(seq: number): Promise<void> {
    if (seq <= KEEP_RECORDS || seq % 10 !== 0) return;
    for (const key of await this.storage.list(COMMITS_DIR)) {
      const s = seqOf(key);
      if (s !== undefined && s <= seq - KEEP_RECORDS) await this.storage.delete(key);
    }
  }
}
