import { randomUUID } from 'node:crypto';
import { DativoError } from '@dativo/core';
import { crashPoint } from '@dativo/core/testing';
import type { LoadedTable } from './catalog/catalog.js';
import { retryOnConflict, type ConflictRetryContext } from './optimistic.js';
import { joinUri, type FileIO } from './fileio.js';
import { CommitStateUnknownError, newSnapshotId, type TableRequirement, type TableUpdate } from './metadata.js';
import {
  partitionSummaries,
  readManifest,
  readManifestList,
  STATUS_ADDED,
  STATUS_DELETED,
  STATUS_EXISTING,
  writeManifest,
  writeManifestList,
  type DataFile,
  type ManifestEntry,
  type ManifestFile,
} from './manifest.js';
import { bindSpec, type PartitionColumn } from './partition.js';
import { ancestors, branchSnapshot, currentSchema, type Snapshot, type TableIdentifier, type TableMetadata } from './types.js';

/** A live data file of a snapshot, with the manifest it is listed in. */
export interface LiveFile {
  entry: ManifestEntry;
  manifest: ManifestFile;
}

export interface TableScan {
  snapshot: Snapshot | undefined;
  manifests: ManifestFile[];
  /** Reads (once) every live data file of the snapshot. */
  liveFiles(): Promise<LiveFile[]>;
}

/** The manifests and (lazily) the live files of a branch's head. */
export function scanBranch(io: FileIO, metadata: TableMetadata, branch: string): Promise<TableScan> {
  return scanSnapshot(io, branchSnapshot(metadata, branch));
}

export async function scanSnapshot(io: FileIO, snapshot: Snapshot | undefined): Promise<TableScan> {
  const manifests = snapshot ? readManifestList(await io.read(snapshot['manifest-list'])) : [];
  let live: Promise<LiveFile[]> | undefined;
  return {
    snapshot,
    manifests,
    liveFiles: () =>
      (live ??= (async () => {
        const out: LiveFile[] = [];
        for (const manifest of manifests.filter((m) => m.content === 0)) {
          const { entries } = readManifest(await io.read(manifest.manifestPath), manifest);
          for (const entry of entries) if (entry.status !== STATUS_DELETED) out.push({ entry, manifest });
        }
        return out;
      })()),
  };
}

/** What a commit changes: files to add, live files to remove. */
export interface Change {
  operation: 'append' | 'overwrite' | 'replace' | 'delete';
  added: DataFile[];
  deleted: LiveFile[];
  /** Extra summary properties (dativo.checkpoint, …). */
  summary: Record<string, string>;
  /** Table properties set in the same commit. */
  properties?: Record<string, string>;
}

export interface CommitContext extends ConflictRetryContext {
  io: FileIO;
  branch: string;
}

/**
 * Commits a change as a new snapshot on the branch, with optimistic concurrency: on a conflict the
 * table is reloaded, `plan` is asked again against the new head (so overwrite and merge see files
 * others added meanwhile) and the commit retried with backoff. `isMine` recognises a commit that in
 * fact succeeded before a lost response, so it is never applied twice.
 */
export async function commitChange(
  ctx: CommitContext,
  table: LoadedTable,
  plan: (base: LoadedTable, scan: TableScan) => Promise<Change | undefined>,
  isMine: (snapshot: Snapshot) => boolean,
): Promise<{ table: LoadedTable; snapshot: Snapshot | undefined }> {
  return retryOnConflict(ctx, table, 'commit to', async (base, attempt) => {
    if (attempt > 1) {
      const mine = [...ancestors(base.metadata, branchSnapshot(base.metadata, ctx.branch))].find(isMine);
      if (mine) {
        ctx.log.info('the commit had already succeeded before the retry; not applying it again', { snapshot: String(mine['snapshot-id']) });
        return { table: base, snapshot: mine };
      }
    }
    const scan = await scanBranch(ctx.io, base.metadata, ctx.branch);
    const change = await plan(base, scan);
    if (!change) return { table: base, snapshot: undefined };
    const { updates, requirements, snapshot, written } = await prepareSnapshot(ctx.io, base.metadata, ctx.branch, scan, change);
    crashPoint('iceberg:manifests-written');
    let committed: LoadedTable;
    try {
      committed = await ctx.catalog.commitTable(ctx.id, base, requirements, updates);
    } catch (error) {
      // Files of a commit that surely failed go; after an unknown outcome they may be the table's.
      if (!CommitStateUnknownError.isInstance(error)) for (const uri of written) await ctx.io.delete(uri).catch(() => undefined);
      throw error;
    }
    crashPoint('iceberg:committed');
    return { table: committed, snapshot };
  });
}

function sum(values: Iterable<number>): number {
  let n = 0;
  for (const v of values) n += v;
  return n;
}

/** Writes the manifests and manifest list of a new snapshot and returns the catalog updates. */
async function prepareSnapshot(io: FileIO, metadata: TableMetadata, branch: string, scan: TableScan, change: Change) {
  const parent = scan.snapshot;
  const snapshotId = newSnapshotId();
  const sequenceNumber = BigInt(metadata['last-sequence-number']) + 1n;
  const schema = currentSchema(metadata);
  const written: string[] = [];
  const metaDir = joinUri(metadata.location, 'metadata');
  const specs = new Map(metadata['partition-specs'].map((s) => [s['spec-id'], s]));
  const columnsFor = (specId: number): PartitionColumn[] => bindSpec(specs.get(specId) ?? { 'spec-id': specId, fields: [] }, schema);
  const commitUuid = randomUUID();
  let manifestNo = 0;
  const writeOne = async (entries: ManifestEntry[], specId: number): Promise<ManifestFile> => {
    const spec = specs.get(specId);
    if (!spec) throw new DativoError(`partition spec ${specId} is not in the table metadata`, { kind: 'permanent' });
    const columns = columnsFor(specId);
    const bytes = writeManifest(entries, spec, columns, schema);
    const uri = joinUri(metaDir, `${commitUuid}-m${manifestNo++}.avro`);
    await io.write(uri, bytes);
    written.push(uri);
    const count = (status: number): number => entries.filter((e) => e.status === status).length;
    const rows = (status: number): number => sum(entries.filter((e) => e.status === status).map((e) => e.dataFile.recordCount));
    const seqs = entries.filter((e) => e.status !== STATUS_DELETED).map((e) => e.sequenceNumber ?? sequenceNumber);
    return {
      manifestPath: io.uri(uri),
      manifestLength: bytes.length,
      partitionSpecId: specId,
      content: 0,
      sequenceNumber,
      minSequenceNumber: seqs.length ? seqs.reduce((a, b) => (b < a ? b : a)) : sequenceNumber,
      addedSnapshotId: snapshotId,
      addedFilesCount: count(STATUS_ADDED),
      existingFilesCount: count(STATUS_EXISTING),
      deletedFilesCount: count(STATUS_DELETED),
      addedRowsCount: rows(STATUS_ADDED),
      existingRowsCount: rows(STATUS_EXISTING),
      deletedRowsCount: rows(STATUS_DELETED),
      partitions: partitionSummaries(entries.filter((e) => e.status !== STATUS_DELETED).map((e) => e.dataFile), columns),
    };
  };

  const manifests: ManifestFile[] = [];
  const bySpec = new Map<number, DataFile[]>();
  for (const f of change.added) bySpec.set(f.specId, [...(bySpec.get(f.specId) ?? []), f]);
  for (const [specId, files] of bySpec) manifests.push(await writeOne(files.map((dataFile) => ({ status: STATUS_ADDED, snapshotId: null, sequenceNumber: null, fileSequenceNumber: null, dataFile })), specId));

  const deletedPaths = new Set(change.deleted.map((d) => d.entry.dataFile.filePath));
  const touched = new Set(change.deleted.map((d) => d.manifest.manifestPath));
  for (const manifest of scan.manifests) {
    if (!touched.has(manifest.manifestPath)) {
      // Keep unchanged manifests; drop ones that only record deletions of earlier snapshots.
      if (manifest.addedFilesCount + manifest.existingFilesCount > 0 || manifest.content !== 0) manifests.push(manifest);
      continue;
    }
    const { entries, specId } = readManifest(await io.read(manifest.manifestPath), manifest);
    const rewritten: ManifestEntry[] = [];
    for (const e of entries) {
      if (e.status === STATUS_DELETED) continue;
      if (deletedPaths.has(e.dataFile.filePath)) rewritten.push({ ...e, status: STATUS_DELETED, snapshotId });
      else rewritten.push({ ...e, status: STATUS_EXISTING });
    }
    if (rewritten.length) manifests.push(await writeOne(rewritten, specId));
  }

  const listUri = joinUri(metaDir, `snap-${snapshotId}-1-${commitUuid}.avro`);
  await io.write(listUri, writeManifestList(manifests, snapshotId, parent ? BigInt(parent['snapshot-id']) : null, sequenceNumber));
  written.push(listUri);

  const addedRecords = sum(change.added.map((f) => f.recordCount));
  const addedSize = sum(change.added.map((f) => f.fileSizeInBytes));
  const deletedRecords = sum(change.deleted.map((d) => d.entry.dataFile.recordCount));
  const deletedSize = sum(change.deleted.map((d) => d.entry.dataFile.fileSizeInBytes));
  const parentSummary: Record<string, string> = parent?.summary ?? {};
  const total = async (key: string, compute: (live: LiveFile[]) => number): Promise<number> =>
    parent === undefined ? 0 : parentSummary[key] !== undefined ? Number(parentSummary[key]) : compute(await scan.liveFiles());
  const totalRecords = (await total('total-records', (l) => sum(l.map((f) => f.entry.dataFile.recordCount)))) + addedRecords - deletedRecords;
  const totalFiles = (await total('total-data-files', (l) => l.length)) + change.added.length - change.deleted.length;
  const totalSize = (await total('total-files-size', (l) => sum(l.map((f) => f.entry.dataFile.fileSizeInBytes)))) + addedSize - deletedSize;
  const partitions = new Set([...change.added, ...change.deleted.map((d) => d.entry.dataFile)].map((f) => `${f.specId}:${JSON.stringify(f.partition, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v))}`));
  const summary: Snapshot['summary'] = {
    operation: change.operation,
    ...(change.added.length ? { 'added-data-files': String(change.added.length), 'added-records': String(addedRecords), 'added-files-size': String(addedSize) } : {}),
    ...(change.deleted.length ? { 'deleted-data-files': String(change.deleted.length), 'deleted-records': String(deletedRecords), 'removed-files-size': String(deletedSize) } : {}),
    'changed-partition-count': String(partitions.size),
    'total-records': String(totalRecords),
    'total-files-size': String(totalSize),
    'total-data-files': String(totalFiles),
    'total-delete-files': '0',
    'total-position-deletes': '0',
    'total-equality-deletes': '0',
    ...change.summary,
  };
  const snapshot: Snapshot = {
    'snapshot-id': snapshotId,
    ...(parent ? { 'parent-snapshot-id': BigInt(parent['snapshot-id']) } : {}),
    'sequence-number': sequenceNumber,
    'timestamp-ms': Date.now(),
    'manifest-list': io.uri(listUri),
    summary,
    'schema-id': schema['schema-id'],
  };
  const updates: TableUpdate[] = [
    { action: 'add-snapshot', snapshot },
    { action: 'set-snapshot-ref', 'ref-name': branch, type: 'branch', 'snapshot-id': snapshotId },
    ...(change.properties ? [{ action: 'set-properties' as const, updates: change.properties }] : []),
  ];
  const requirements: TableRequirement[] = [
    { type: 'assert-table-uuid', uuid: metadata['table-uuid'] },
    { type: 'assert-ref-snapshot-id', ref: branch, 'snapshot-id': parent ? BigInt(parent['snapshot-id']) : null },
  ];
  return { updates, requirements, snapshot, written };
}
