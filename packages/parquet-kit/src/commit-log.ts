import { DativoError, safeSegment, type Checkpoint, type Logger, type StateKey } from '@dativo/core';
import { crashPoint } from '@dativo/core/testing';
import type { Storage } from './storage/storage.js';

export const COMMITS_DIR = '_dativo/commits/';
export const STAGING_DIR = '_dativo/staging/';
/** Commit records kept per owner after each commit (older ones are pruned). */
const KEEP_RECORDS = 100;

/** `<tenant>/<job>/<stream>/`, each part percent-encoded: the owner's own area under `_dativo/`. */
export function ownerDir(owner: StateKey): string {
  return `${safeSegment(owner.tenant)}/${safeSegment(owner.job)}/${safeSegment(owner.stream)}/`;
}

export interface CommittedFile {
  staged: string;
  final: string;
  rows: number;
  bytes: number;
}

/** One commit: the intent record written before files move into place, marked done after. */
export interface CommitRecord {
  version: 1 | 2;
  seq: number;
  /** Whose progress the checkpoint is (version 2; version 1 records have none and are never resumed from). */
  owner?: StateKey;
  runId: string;
  time: string;
  status: 'pending' | 'done';
  checkpoint: Checkpoint;
  files: CommittedFile[];
}

function seqOf(key: string): number | undefined {
  const m = /^(\d{20})\.json$/.exec(key);
  return m ? Number(m[1]) : undefined;
}

/**
 * The Parquet sink's commit protocol (see DESIGN-CORE and ADR 0001): data files are staged under
 * `_dativo/staging/<owner>/`; a commit writes an intent record `_dativo/commits/<owner>/<seq>.json`
 * listing them with the checkpoint, moves them into place, then marks the record done. On open,
 * the owner's unfinished records are rolled forward and its staged files no record names are
 * deleted, so a crash at any point publishes each file once.
 *
 * The owner is one (tenant, job, stream): several jobs may write into one location, and each keeps
 * its own records, sequence and staging area, so one job never resumes from another's checkpoint
 * nor deletes another's staged files.
 */
export class CommitLog {
  private readonly storage: Storage;
  private readonly log: Logger;
  private readonly owner: StateKey;
  private readonly dir: string;
  private latestRecord: CommitRecord | undefined;

  constructor(storage: Storage, owner: StateKey, log: Logger) {
    this.storage = storage;
    this.owner = owner;
    this.log = log;
    this.dir = `${COMMITS_DIR}${ownerDir(owner)}`;
  }

  /** Where a run of this owner stages its files before they are committed. */
  stagingPrefix(runId: string): string {
    return `${STAGING_DIR}${ownerDir(this.owner)}${safeSegment(runId)}/`;
  }

  private recordKey(seq: number): string {
    return `${this.dir}${String(seq).padStart(20, '0')}.json`;
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

  /** Rolls this owner's unfinished commits forward and removes its orphaned staged files. */
  async recover(): Promise<void> {
    const keys = (await this.storage.list(this.dir)).filter((k) => seqOf(k.slice(this.dir.length)) !== undefined).sort();
    let latest: CommitRecord | undefined;
    for (const key of keys) {
      const record = await this.read(key);
      if (!record) continue;
      if (record.status === 'pending') {
        this.log.warn('rolling forward an unfinished commit from a previous run', { location: this.storage.location, seq: record.seq, runId: record.runId, files: record.files.length });
        await this.publish(key, record);
      }
      if (!latest || record.seq > latest.seq) latest = record;
    }
    this.latestRecord = latest;
    await this.recoverUnowned();
    const staging = `${STAGING_DIR}${ownerDir(this.owner)}`;
    const staged = await this.storage.list(staging);
    if (staged.length) {
      this.log.info('removing staged files of an interrupted run that were never committed', { location: this.storage.location, files: staged.length });
      for (const key of staged) await this.storage.delete(key);
    }
  }

  /**
   * Records of Dativo versions before per-job commit logs (`_dativo/commits/<seq>.json`, no owner):
   * an unfinished one is rolled forward so its files are not left half-published; none is used as
   * a resume position, since it cannot say which job it belongs to.
   */
  private async recoverUnowned(): Promise<void> {
    const legacy = (await this.storage.list(COMMITS_DIR)).filter((k) => /^\d{20}\.json$/.test(k.slice(COMMITS_DIR.length)));
    for (const key of legacy) {
      const record = await this.read(key);
      if (record?.status !== 'pending') continue;
      this.log.warn('rolling forward an unfinished commit written by an earlier Dativo version', { location: this.storage.location, seq: record.seq, runId: record.runId });
      await this.publish(key, record);
    }
  }

  private async publish(key: string, record: CommitRecord): Promise<void> {
    for (const file of record.files) {
      await this.storage.move(file.staged, file.final);
      crashPoint('parquet:file-moved');
    }
    const done: CommitRecord = { ...record, status: 'done' };
    await this.storage.writeText(key, `${JSON.stringify(done, null, 2)}\n`);
  }

  get latest(): CommitRecord | undefined {
    return this.latestRecord;
  }

  /**
   * Publishes staged files with the checkpoint. Once the commit's record is written (`onRecorded`
   * is called then), its staged files belong to the log: if publishing fails after that point, the
   * next open rolls the commit forward, so the caller must no longer delete them.
   */
  async commit(runId: string, files: CommittedFile[], checkpoint: Checkpoint, onRecorded?: () => void): Promise<CommitRecord> {
    const seq = (this.latestRecord?.seq ?? 0) + 1;
    const record: CommitRecord = { version: 2, seq, owner: this.owner, runId, time: new Date().toISOString(), status: 'pending', checkpoint, files };
    const key = this.recordKey(seq);
    const created = await this.storage.createText(key, `${JSON.stringify(record, null, 2)}\n`);
    if (!created) {
      const { tenant, job, stream } = this.owner;
      throw new DativoError(`another run of job ${tenant}/${job} committed stream '${stream}' to ${this.storage.location} at the same time (commit ${seq} exists); run one instance of a job at a time`, {
        kind: 'permanent',
        code: 'PARQUET_CONCURRENT_COMMIT',
      });
    }
    onRecorded?.();
    crashPoint('parquet:intent-written');
    await this.publish(key, record);
    this.latestRecord = { ...record, status: 'done' };
    await this.prune(seq);
    return this.latestRecord;
  }

  private async prune(seq: number): Promise<void> {
    if (seq <= KEEP_RECORDS || seq % 10 !== 0) return;
    for (const key of await this.storage.list(this.dir)) {
      const s = seqOf(key.slice(this.dir.length));
      if (s !== undefined && s <= seq - KEEP_RECORDS) await this.storage.delete(key);
    }
  }
}
