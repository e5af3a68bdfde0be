import { DativoError, type RunContext } from '@dativo/core';
import type { LoadedTable } from './catalog/catalog.js';
import { tableRef, type IcebergSinkConfig } from './config.js';
import { conformBatch } from './conform.js';
import { DataWriter, dataWriterOptions } from './data-writer.js';
import { readManifest, readManifestList, STATUS_DELETED, type DataFile } from './manifest.js';
import { retryOnConflict } from './optimistic.js';
import { bindSpec } from './partition.js';
import { readParquetBatches } from './read-parquet.js';
import { arrowSchemaWithIds } from './schema.js';
import { icebergTarget, type IcebergTarget } from './sink.js';
import { commitChange, type LiveFile } from './snapshot.js';
import { ancestors, branchSnapshot, currentSchema, defaultSpec, formatIdentifier, type Snapshot } from './types.js';

async function withTable<T>(config: IcebergSinkConfig, table: string, ctx: RunContext, run: (target: IcebergTarget, loaded: LoadedTable) => Promise<T>): Promise<T> {
  const target = icebergTarget(config, table, ctx);
  try {
    const loaded = await target.catalog.loadTable(target.id);
    if (!loaded) throw new DativoError(`table ${formatIdentifier(target.id)} does not exist in the ${target.catalog.description}`, { kind: 'config', code: 'ICEBERG_NO_TABLE' });
    return await run(target, loaded);
  } finally {
    await target.catalog.close();
    await target.io.close();
  }
}

export interface ExpireOptions {
  /** Snapshots older than this are expired (default: 5 days ago). */
  olderThanMs?: number;
  /** Snapshots to keep on the branch whatever their age (default 1). */
  retainLast?: number;
}

export interface ExpireResult {
  table: string;
  expired: number;
  kept: number;
  deletedFiles: number;
}

/**
 * Expires old snapshots (keeping the last `retainLast` of the branch, anything newer than the cut-off
 * and the heads of other refs), commits that, then deletes the manifest lists, manifests and data
 * files only expired snapshots referenced. The current table stays readable throughout.
 */
export async function expireSnapshots(config: IcebergSinkConfig, table: string, ctx: RunContext, options: ExpireOptions = {}): Promise<ExpireResult> {
  return withTable(config, table, ctx, async (target, loaded) => {
    const cutoff = options.olderThanMs ?? Date.now() - 5 * 86_400_000;
    const retainLast = Math.max(1, options.retainLast ?? 1);
    const { io, catalog, id } = target;
    return retryOnConflict({ catalog, id, log: ctx.log, signal: ctx.signal, maxAttempts: 5 }, loaded, 'expire snapshots of', async (current) => {
      const m = current.metadata;
      const snapshots = m.snapshots ?? [];
      const keep = new Set<bigint>();
      const lineage = [...ancestors(m, branchSnapshot(m, tableRef(config)))];
      lineage.slice(0, retainLast).forEach((s) => keep.add(BigInt(s['snapshot-id'])));
      for (const s of snapshots) if (s['timestamp-ms'] >= cutoff) keep.add(BigInt(s['snapshot-id']));
      for (const ref of Object.values(m.refs ?? {})) keep.add(BigInt(ref['snapshot-id']));
      const expired = snapshots.filter((s) => !keep.has(BigInt(s['snapshot-id'])));
      if (expired.length === 0) return { table: formatIdentifier(id), expired: 0, kept: snapshots.length, deletedFiles: 0 };
      const head = branchSnapshot(m, tableRef(config));
      const committed = await catalog.commitTable(id, current, [{ type: 'assert-table-uuid', uuid: m['table-uuid'] }, { type: 'assert-ref-snapshot-id', ref: tableRef(config), 'snapshot-id': head ? BigInt(head['snapshot-id']) : null }], [{ action: 'remove-snapshots', 'snapshot-ids': expired.map((s) => BigInt(s['snapshot-id'])) }]);
      const deletedFiles = await deleteUnreachable(target, committed.metadata.snapshots ?? [], expired);
      ctx.log.info('expired Iceberg snapshots', { table: formatIdentifier(id), expired: expired.length, deletedFiles });
      return { table: formatIdentifier(id), expired: expired.length, kept: snapshots.length - expired.length, deletedFiles };
    });
  });
}

/** Files referenced by a set of snapshots: manifest lists, manifests, and live data files (or all). */
async function filesOf(target: IcebergTarget, snapshots: readonly Snapshot[], includeDeleted: boolean): Promise<Set<string>> {
  const out = new Set<string>();
  for (const s of snapshots) {
    out.add(s['manifest-list']);
    for (const manifest of readManifestList(await target.io.read(s['manifest-list']))) {
      out.add(manifest.manifestPath);
      const { entries } = readManifest(await target.io.read(manifest.manifestPath), manifest);
      for (const e of entries) if (includeDeleted || e.status !== STATUS_DELETED) out.add(e.dataFile.filePath);
    }
  }
  return out;
}

async function deleteUnreachable(target: IcebergTarget, kept: readonly Snapshot[], expired: readonly Snapshot[]): Promise<number> {
  const reachable = await filesOf(target, kept, false);
  const candidates = await filesOf(target, expired, true);
  let deleted = 0;
  for (const uri of candidates) {
    if (reachable.has(uri)) continue;
    await target.io.delete(uri);
    deleted++;
  }
  return deleted;
}

export interface CompactOptions {
  /** Size of the rewritten files (default: the target's target_file_size_mb). */
  targetFileSizeMb?: number;
  /** Only partitions with at least this many small files are rewritten (default 2). */
  minInputFiles?: number;
}

export interface CompactResult {
  table: string;
  rewrittenFiles: number;
  addedFiles: number;
  rows: number;
}

/**
 * Rewrites the small data files of each partition into files of the target size, committed as one
 * `replace` snapshot (same rows; readers see the old or the new files, never both).
 */
export async function compactTable(config: IcebergSinkConfig, table: string, ctx: RunContext, options: CompactOptions = {}): Promise<CompactResult> {
  return withTable(config, table, ctx, async (target, loaded) => {
    const targetBytes = (options.targetFileSizeMb ?? config.target_file_size_mb) * 1024 * 1024;
    const minFiles = Math.max(2, options.minInputFiles ?? 2);
    const metadata = loaded.metadata;
    const schema = currentSchema(metadata);
    const spec = defaultSpec(metadata);
    const columns = bindSpec(spec, schema);
    const writer = new DataWriter(
      target.io,
      metadata.location,
      schema,
      arrowSchemaWithIds(schema),
      spec,
      columns,
      dataWriterOptions(config, targetBytes),
      ctx,
    );
    let planned: { deleted: Set<string>; added: DataFile[] } | undefined;
    try {
      const result = await commitChange(
        { io: target.io, catalog: target.catalog, id: target.id, branch: tableRef(config), log: ctx.log, signal: ctx.signal },
        loaded,
        async (_base, scan) => {
          const live = await scan.liveFiles();
          if (planned) {
            const still = new Set(live.map((l) => l.entry.dataFile.filePath));
            if ([...planned.deleted].some((p) => !still.has(p))) throw new DativoError('the table changed during compaction (files it was rewriting are gone); run it again', { kind: 'transient', code: 'ICEBERG_COMPACT_CONFLICT' });
            return { operation: 'replace', added: planned.added, deleted: live.filter((l) => planned?.deleted.has(l.entry.dataFile.filePath)), summary: { 'dativo.compaction': 'true' } };
          }
          const groups = new Map<string, LiveFile[]>();
          for (const l of live) {
            const f = l.entry.dataFile;
            if (f.specId !== spec['spec-id'] || f.fileSizeInBytes >= targetBytes * 0.75) continue;
            const key = JSON.stringify(f.partition, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));
            groups.set(key, [...(groups.get(key) ?? []), l]);
          }
          const deleted: LiveFile[] = [];
          for (const files of groups.values()) {
            if (files.length < minFiles) continue;
            for (const l of files) {
              for (const batch of readParquetBatches(await target.io.read(l.entry.dataFile.filePath))) await writer.write(conformBatch(batch, writer.arrowSchema));
              deleted.push(l);
            }
          }
          if (deleted.length === 0) return undefined;
          const added = await writer.finish();
          planned = { deleted: new Set(deleted.map((d) => d.entry.dataFile.filePath)), added };
          return { operation: 'replace', added, deleted, summary: { 'dativo.compaction': 'true' } };
        },
        () => false,
      );
      const s: Record<string, string> = result.snapshot?.summary ?? {};
      const out = { table: formatIdentifier(target.id), rewrittenFiles: Number(s['deleted-data-files'] ?? 0), addedFiles: Number(s['added-data-files'] ?? 0), rows: Number(s['added-records'] ?? 0) };
      ctx.log.info('compacted Iceberg table', out);
      return out;
    } catch (error) {
      await writer.abort();
      throw error;
    } finally {
      await writer.terminate();
    }
  });
}
