import { defineConnector, type V1SectionContext, type V1SectionResult } from '@dativo/core';
import { v1S3Connection } from '@dativo/sink-parquet';
import { icebergSink } from './sink.js';

export { icebergSink, icebergTarget, type IcebergTarget } from './sink.js';
export { icebergSinkConfigSchema, catalogSchema, tableRef, WRITE_MODES, type IcebergSinkConfig, type CatalogConfig, type WriteMode } from './config.js';
export { IcebergSinkWriter, SUMMARY, withIngestDate } from './writer.js';
export type { Catalog, CreateTableRequest, LoadedTable } from './catalog/catalog.js';
export { FileSystemCatalog } from './catalog/filesystem.js';
export { SqlCatalog, safeUri, type SqlCatalogOptions } from './catalog/sql.js';
export { RestCatalog, type RestCatalogOptions } from './catalog/rest.js';
export { createCatalog, nessieRestUri, warehouseOf } from './catalog/factory.js';
export { applyUpdates, checkRequirements, CommitConflictError, CommitStateUnknownError, newSnapshotId, newTableMetadata, type TableRequirement, type TableUpdate } from './metadata.js';
export { FileIO, joinUri, localPath } from './fileio.js';
export { readManifest, readManifestList, writeManifest, writeManifestList, type DataFile, type ManifestEntry, type ManifestFile } from './manifest.js';
export { readAvroFile, writeAvroFile, type AvroSchema } from './avro/codec.js';
export { murmur3, hashValue, transformFor } from './transforms.js';
export { parsePartitioning, buildSpec, INGEST_DATE } from './partition.js';
export { planEvolution, schemaFromFields, arrowSchemaWithIds, fieldsOf } from './schema.js';
export { scanBranch, scanSnapshot, commitChange, type Change, type LiveFile, type TableScan } from './snapshot.js';
export { compactTable, expireSnapshots, type CompactOptions, type CompactResult, type ExpireOptions, type ExpireResult } from './maintenance.js';
export * from './types.js';
export { VERSION } from './version.js';

/** v1 targets: data files on S3 may be described in any of v1's connection shapes, with environment fallbacks. */
function icebergV1Target(section: Record<string, unknown>, context: V1SectionContext): V1SectionResult {
  if (section.connection === undefined) return { config: section };
  const { s3, rest } = v1S3Connection(section.connection, context.env, { bucketFromEnv: false });
  return { config: { ...section, connection: s3 ? { ...rest, s3 } : rest } };
}

/** Loaded by the CLI for `target_connector: iceberg` with a catalog. */
export const dativoConnector = defineConnector({ specificationVersion: 'v1', ids: ['iceberg'], sink: icebergSink, v1Target: icebergV1Target });
