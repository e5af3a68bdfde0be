import { DativoError, safeSegment, takeRows, stateKeyOf, type Checkpoint, type CommitResult, type FieldSpec, type RunContext, type SinkWriter, type StreamDescriptor } from '@dativo/core';
import { crashPoint } from '@dativo/core/testing';
import type { RecordBatch } from 'apache-arrow';
import type { Catalog, LoadedTable } from './catalog/catalog.js';
import { tableRef, type IcebergSinkConfig, type WriteMode } from './config.js';
import { conformBatch } from './conform.js';
import { DataWriter, dataWriterOptions } from './data-writer.js';
import type { FileIO } from './fileio.js';
import type { DataFile } from './manifest.js';
import { MergePlanner } from './merge.js';
import { bindSpec, INGEST_DATE, type PartitionColumn } from './partition.js';
import { arrowSchemaWithIds } from './schema.js';
import { commitChange, type Change, type LiveFile } from './snapshot.js';
import { ancestors, branchSnapshot, currentSchema, defaultSpec, formatIdentifier, type Snapshot, type TableIdentifier } from './types.js';
import { VERSION } from './version.js';

/** Snapshot summary keys Dativo writes with every commit (the exactly-once checkpoint). */
export const SUMMARY = {
  checkpoint: 'dativo.checkpoint',
  runId: 'dativo.run-id',
  commitId: 'dativo.commit-id',
  tenant: 'dativo.tenant',
  job: 'dativo.job',
  stream: 'dativo.stream',
  session: 'dativo.session',
} as const;

export interface WriterSetup {
  io: FileIO;
  catalog: Catalog;
  id: TableIdentifier;
  table: LoadedTable;
  config: IcebergSinkConfig;
  mode: WriteMode;
  primaryKey: string[] | undefined;
  stream: StreamDescriptor;
  /** Columns the writer fills in itself (`ingest_date`: days since the epoch). */
  constants: Map<string, number>;
  ctx: RunContext;
}

/**
 * Writes one stream into an Iceberg table. Batches are conformed to the table schema and written as
 * Parquet data files; `commit` adds one snapshot whose summary carries the checkpoint, so the
 * table itself records how far the pipeline got: each row lands exactly once, even when a commit
 * is retried after a lost response or the process is killed.
 */
export class IcebergSinkWriter implements SinkWriter {
  /** Checkpoints are recorded with the data: this target alone says how far a job got. */
  readonly keepsCheckpoints = true;
  private table: LoadedTable;
  private readonly s: WriterSetup;
  private readonly data: DataWriter;
  private readonly rewriter: DataWriter;
  private readonly merge: MergePlanner | undefined;
  private readonly columns: PartitionColumn[];
  private session: string;
  private readonly ref: string;
  private commitSeq = 0;
  private lastCheckpoint: Checkpoint | undefined;

  constructor(setup: WriterSetup) {
    this.s = setup;
    this.table = setup.table;
    this.ref = tableRef(setup.config);
    const metadata = this.table.metadata;
    const schema = currentSchema(metadata);
    const spec = defaultSpec(metadata);
    this.columns = bindSpec(spec, schema);
    const options = dataWriterOptions(setup.config);
    const arrow = arrowSchemaWithIds(schema);
    this.data = new DataWriter(setup.io, metadata.location, schema, arrow, spec, this.columns, options, setup.ctx);
    this.rewriter = new DataWriter(setup.io, metadata.location, schema, arrow, spec, this.columns, options, setup.ctx);
    if (setup.mode === 'merge') {
      if (!setup.primaryKey?.length) {
        throw new DativoError(`target.mode merge needs a primary key: mark columns primaryKey: true in the asset, or set target.primary_key`, { kind: 'config', code: 'ICEBERG_MERGE_KEY' });
      }
      this.merge = new MergePlanner(schema, setup.primaryKey, setup.io);
    }
    this.session = setup.ctx.runId;
    this.lastCheckpoint = this.findCheckpoint()?.checkpoint;
  }

  /**
   * Table property holding this job's and stream's checkpoint on this branch. Set in the same
   * commit as each snapshot, it survives snapshot expiry; the snapshot summary keeps the history.
   */
  private get checkpointProperty(): string {
    const { tenant, job, stream } = this.owner;
    return `dativo.checkpoint.${safeSegment(this.ref)}.${safeSegment(tenant)}.${safeSegment(job)}.${safeSegment(stream)}`;
  }

  /** Whose checkpoint this writer keeps: one (tenant, job or state_id, stream). */
  private get owner(): ReturnType<typeof stateKeyOf> {
    return stateKeyOf(this.s.ctx, this.s.stream.name);
  }

  private isOurs(snapshot: Snapshot): boolean {
    const s = snapshot.summary;
    const { tenant, job, stream } = this.owner;
    return s[SUMMARY.tenant] === tenant && s[SUMMARY.job] === job && s[SUMMARY.stream] === stream && s[SUMMARY.checkpoint] !== undefined;
  }

  /** This job's and stream's last committed checkpoint and the session that wrote it. */
  private findCheckpoint(): { checkpoint: Checkpoint; session: string | undefined } | undefined {
    const unreadable = (where: string): DativoError =>
      new DativoError(`${where} of ${formatIdentifier(this.s.id)} holds an unreadable checkpoint; inspect it or reset the job's state`, { kind: 'permanent' });
    const property = this.table.metadata.properties?.[this.checkpointProperty];
    if (property !== undefined) {
      try {
        return JSON.parse(property) as { checkpoint: Checkpoint; session: string | undefined };
      } catch {
        throw unreadable(`table property ${this.checkpointProperty}`);
      }
    }
    const head = branchSnapshot(this.table.metadata, this.ref);
    for (const snapshot of ancestors(this.table.metadata, head)) {
      if (!this.isOurs(snapshot)) continue;
      try {
        return { checkpoint: JSON.parse(snapshot.summary[SUMMARY.checkpoint] as string) as Checkpoint, session: snapshot.summary[SUMMARY.session] };
      } catch {
        throw unreadable(`snapshot ${String(snapshot['snapshot-id'])}`);
      }
    }
    return undefined;
  }

  async lastCommitted(): Promise<Checkpoint | undefined> {
    return this.lastCheckpoint;
  }

  async begin(info: { resumed: boolean }): Promise<void> {
    // A resumed run continues the session (overwrite) its interrupted predecessor started.
    const previous = info.resumed ? this.findCheckpoint()?.session : undefined;
    this.session = previous ?? this.s.ctx.runId;
  }

  async write(batch: RecordBatch): Promise<void> {
    if (batch.numRows === 0) return;
    let conformed = conformBatch(batch, this.data.arrowSchema, this.s.constants);
    if (!this.merge) {
      await this.data.write(conformed);
      return;
    }
    let keys = this.merge.keys(conformed);
    const deleted = this.deletedRows(conformed);
    if (deleted) {
      this.merge.remove(deleted.map((i) => keys[i] as string));
      const gone = new Set(deleted);
      const kept = keys.flatMap((_, i) => (gone.has(i) ? [] : [i]));
      if (kept.length === 0) return;
      conformed = takeRows(conformed, kept);
      keys = kept.map((i) => keys[i] as string);
    }
    const placements = await this.data.write(conformed);
    this.merge.record(keys, placements);
  }

  /** Under `merge` with `deletes: remove`: rows whose delete marker is true (undefined: none). */
  private deletedRows(batch: RecordBatch): number[] | undefined {
    if (this.s.config.deletes !== 'remove') return undefined;
    const column = batch.getChild(this.s.config.delete_marker);
    if (!column) return undefined;
    const rows: number[] = [];
    for (let i = 0; i < batch.numRows; i++) if (column.get(i) === true) rows.push(i);
    return rows.length ? rows : undefined;
  }

  private sessionSnapshots(): Set<bigint> {
    return new Set((this.table.metadata.snapshots ?? []).filter((s) => s.summary[SUMMARY.session] === this.session).map((s) => BigInt(s['snapshot-id'])));
  }

  private async plan(added: DataFile[], live: () => Promise<LiveFile[]>, sessionSnapshots: () => Set<bigint>): Promise<Pick<Change, 'operation' | 'added' | 'deleted'>> {
    switch (this.s.mode) {
      case 'append':
        return { operation: 'append', added, deleted: [] };
      case 'overwrite':
      case 'overwrite_partitions': {
        // Replace what this session has not written: the whole table, or the partitions touched.
        const ours = sessionSnapshots();
        const touched = new Set(added.map((f) => partitionKey(f)));
        const deleted = (await live()).filter((f) => !ours.has(f.entry.snapshotId ?? -1n) && (this.s.mode === 'overwrite' || touched.has(partitionKey(f.entry.dataFile))));
        return { operation: deleted.length ? 'overwrite' : 'append', added, deleted };
      }
      case 'merge': {
        const merge = this.merge as MergePlanner;
        const rewrites = await merge.plan(await live(), this.rewriter);
        return { operation: rewrites.deleted.length ? 'overwrite' : 'append', added: [...added, ...rewrites.added], deleted: rewrites.deleted };
      }
    }
  }

  async commit(checkpoint: Checkpoint): Promise<CommitResult> {
    let added = await this.data.finish();
    crashPoint('iceberg:data-written');
    if (this.merge) added = await this.merge.dedupe(added, this.rewriter);
    if (added.length === 0 && JSON.stringify(checkpoint) === JSON.stringify(this.lastCheckpoint) && this.s.mode !== 'overwrite') {
      return { files: 0, rows: 0, bytes: 0 };
    }
    this.commitSeq++;
    const commitId = `${this.s.ctx.runId}:${this.commitSeq}`;
    const summary: Record<string, string> = {
      [SUMMARY.checkpoint]: JSON.stringify(checkpoint),
      [SUMMARY.runId]: this.s.ctx.runId,
      [SUMMARY.commitId]: commitId,
      [SUMMARY.tenant]: this.owner.tenant,
      [SUMMARY.job]: this.owner.job,
      [SUMMARY.stream]: this.owner.stream,
      [SUMMARY.session]: this.session,
      'engine-name': 'dativo',
      'engine-version': VERSION,
    };
    const result = await commitChange(
      { io: this.s.io, catalog: this.s.catalog, id: this.s.id, branch: this.ref, log: this.s.ctx.log, signal: this.s.ctx.signal, maxAttempts: this.s.config.commit_retries },
      this.table,
      async (base, scan) => {
        this.table = base;
        const p = await this.plan(added, () => scan.liveFiles(), () => this.sessionSnapshots());
        return { ...p, summary, properties: { [this.checkpointProperty]: JSON.stringify({ checkpoint, session: this.session }) } };
      },
      (snapshot) => snapshot.summary[SUMMARY.commitId] === commitId,
    );
    this.table = result.table;
    this.lastCheckpoint = checkpoint;
    const removed = this.merge?.removedRows ?? 0;
    this.merge?.reset();
    const s: Record<string, string> = result.snapshot?.summary ?? {};
    this.s.ctx.log.debug('committed Iceberg snapshot', { table: formatIdentifier(this.s.id), snapshot: String(result.snapshot?.['snapshot-id'] ?? ''), operation: s.operation });
    // New input only: files rewritten by merge are not rows the pipeline delivered.
    return { files: added.length, rows: added.reduce((n, f) => n + f.recordCount, 0), bytes: added.reduce((n, f) => n + f.fileSizeInBytes, 0), ...(removed ? { deleted: removed } : {}) };
  }

  async abort(): Promise<void> {
    await this.data.abort();
    await this.rewriter.abort();
    this.merge?.reset();
  }

  async close(): Promise<void> {
    await this.data.terminate();
    await this.rewriter.terminate();
    await this.s.catalog.close();
    await this.s.io.close();
  }
}

function partitionKey(f: DataFile): string {
  return `${f.specId}:${JSON.stringify(f.partition, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v))}`;
}

/** Asset fields plus the v1 `ingest_date` partition column when the partitioning asks for it and the asset lacks it. */
export function withIngestDate(fields: readonly FieldSpec[], partitioning: readonly unknown[]): FieldSpec[] {
  const wants = partitioning.some((p) => p === INGEST_DATE || (typeof p === 'string' && new RegExp(`\\(\\s*${INGEST_DATE}\\s*\\)`).test(p)));
  if (!wants || fields.some((f) => f.name === INGEST_DATE)) return [...fields];
  return [...fields, { name: INGEST_DATE, type: { kind: 'date' }, nullable: true, description: 'Day the row was ingested (UTC), added by Dativo' }];
}
