import { stringifyJsonLossless } from './json.js';
import { readAvroFile, writeAvroFile, type AvroSchema } from './avro/codec.js';
import { partitionAvroSchema, partitionRecord, type PartitionColumn } from './partition.js';
import { minBigEndian, type RawValue } from './transforms.js';
import type { IcebergSchema, PartitionSpec } from './types.js';

/** A data file as tracked in a manifest (content 0: data). */
export interface DataFile {
  filePath: string;
  fileFormat: 'PARQUET';
  specId: number;
  /** Partition values in spec field order. */
  partition: RawValue[];
  recordCount: number;
  fileSizeInBytes: number;
  valueCounts?: Map<number, number>;
  nullValueCounts?: Map<number, number>;
  nanValueCounts?: Map<number, number>;
  lowerBounds?: Map<number, Uint8Array>;
  upperBounds?: Map<number, Uint8Array>;
  splitOffsets?: number[];
  sortOrderId?: number | null;
}

export const STATUS_EXISTING = 0;
export const STATUS_ADDED = 1;
export const STATUS_DELETED = 2;

export interface ManifestEntry {
  status: 0 | 1 | 2;
  snapshotId: bigint | null;
  sequenceNumber: bigint | null;
  fileSequenceNumber: bigint | null;
  dataFile: DataFile;
}

/** An entry of a manifest list. */
export interface ManifestFile {
  manifestPath: string;
  manifestLength: number;
  partitionSpecId: number;
  content: 0 | 1;
  sequenceNumber: bigint;
  minSequenceNumber: bigint;
  addedSnapshotId: bigint;
  addedFilesCount: number;
  existingFilesCount: number;
  deletedFilesCount: number;
  addedRowsCount: number;
  existingRowsCount: number;
  deletedRowsCount: number;
  partitions: Array<{ containsNull: boolean; containsNan: boolean | null; lowerBound: Uint8Array | null; upperBound: Uint8Array | null }> | null;
}

const nullable = (type: AvroSchema): AvroSchema => ['null', type];
/** Iceberg maps in Avro: arrays of key/value records marked `logicalType: map`. */
const idMap = (name: string, keyId: number, valueId: number, valueType: 'long' | 'bytes'): AvroSchema =>
  nullable({
    type: 'array',
    logicalType: 'map',
    items: { type: 'record', name, fields: [{ name: 'key', type: 'int', 'field-id': keyId }, { name: 'value', type: valueType, 'field-id': valueId }] },
  });

/** The v2 `manifest_entry` Avro schema for a partition spec (field ids from the Iceberg spec). */
export function manifestEntrySchema(columns: readonly PartitionColumn[]): AvroSchema {
  return {
    type: 'record',
    name: 'manifest_entry',
    fields: [
      { name: 'status', type: 'int', 'field-id': 0 },
      { name: 'snapshot_id', type: nullable('long'), default: null, 'field-id': 1 },
      { name: 'sequence_number', type: nullable('long'), default: null, 'field-id': 3 },
      { name: 'file_sequence_number', type: nullable('long'), default: null, 'field-id': 4 },
      {
        name: 'data_file',
        'field-id': 2,
        type: {
          type: 'record',
          name: 'r2',
          fields: [
            { name: 'content', type: 'int', doc: 'Contents of the file: 0=data, 1=position deletes, 2=equality deletes', 'field-id': 134 },
            { name: 'file_path', type: 'string', doc: 'Location URI with FS scheme', 'field-id': 100 },
            { name: 'file_format', type: 'string', doc: 'File format name: avro, orc, or parquet', 'field-id': 101 },
            { name: 'partition', type: partitionAvroSchema(columns), doc: 'Partition data tuple, schema based on the partition spec', 'field-id': 102 },
            { name: 'record_count', type: 'long', doc: 'Number of records in the file', 'field-id': 103 },
            { name: 'file_size_in_bytes', type: 'long', doc: 'Total file size in bytes', 'field-id': 104 },
            { name: 'column_sizes', type: idMap('k117_v118', 117, 118, 'long'), default: null, 'field-id': 108 },
            { name: 'value_counts', type: idMap('k119_v120', 119, 120, 'long'), default: null, 'field-id': 109 },
            { name: 'null_value_counts', type: idMap('k121_v122', 121, 122, 'long'), default: null, 'field-id': 110 },
            { name: 'nan_value_counts', type: idMap('k138_v139', 138, 139, 'long'), default: null, 'field-id': 137 },
            { name: 'lower_bounds', type: idMap('k126_v127', 126, 127, 'bytes'), default: null, 'field-id': 125 },
            { name: 'upper_bounds', type: idMap('k129_v130', 129, 130, 'bytes'), default: null, 'field-id': 128 },
            { name: 'key_metadata', type: nullable('bytes'), default: null, 'field-id': 131 },
            { name: 'split_offsets', type: nullable({ type: 'array', items: 'long', 'element-id': 133 }), default: null, 'field-id': 132 },
            { name: 'equality_ids', type: nullable({ type: 'array', items: 'int', 'element-id': 136 }), default: null, 'field-id': 135 },
            { name: 'sort_order_id', type: nullable('int'), default: null, 'field-id': 140 },
          ],
        },
      },
    ],
  };
}

/** The v2 `manifest_file` Avro schema (manifest list entries). */
export const MANIFEST_FILE_SCHEMA: AvroSchema = {
  type: 'record',
  name: 'manifest_file',
  fields: [
    { name: 'manifest_path', type: 'string', doc: 'Location URI with FS scheme', 'field-id': 500 },
    { name: 'manifest_length', type: 'long', doc: 'Total file size in bytes', 'field-id': 501 },
    { name: 'partition_spec_id', type: 'int', doc: 'Spec ID used to write', 'field-id': 502 },
    { name: 'content', type: 'int', doc: 'Contents of the manifest: 0=data, 1=deletes', 'field-id': 517 },
    { name: 'sequence_number', type: 'long', doc: 'Sequence number when the manifest was added', 'field-id': 515 },
    { name: 'min_sequence_number', type: 'long', doc: 'Lowest sequence number in the manifest', 'field-id': 516 },
    { name: 'added_snapshot_id', type: 'long', doc: 'Snapshot ID that added the manifest', 'field-id': 503 },
    { name: 'added_files_count', type: 'int', doc: 'Added entry count', 'field-id': 504 },
    { name: 'existing_files_count', type: 'int', doc: 'Existing entry count', 'field-id': 505 },
    { name: 'deleted_files_count', type: 'int', doc: 'Deleted entry count', 'field-id': 506 },
    { name: 'added_rows_count', type: 'long', doc: 'Added rows count', 'field-id': 512 },
    { name: 'existing_rows_count', type: 'long', doc: 'Existing rows count', 'field-id': 513 },
    { name: 'deleted_rows_count', type: 'long', doc: 'Deleted rows count', 'field-id': 514 },
    {
      name: 'partitions',
      type: nullable({
        type: 'array',
        'element-id': 508,
        items: {
          type: 'record',
          name: 'r508',
          fields: [
            { name: 'contains_null', type: 'boolean', doc: 'True if any file has a null partition value', 'field-id': 509 },
            { name: 'contains_nan', type: nullable('boolean'), doc: 'True if any file has a nan partition value', 'field-id': 518 },
            { name: 'lower_bound', type: nullable('bytes'), doc: 'Partition lower bound for all files', 'field-id': 510 },
            { name: 'upper_bound', type: nullable('bytes'), doc: 'Partition upper bound for all files', 'field-id': 511 },
          ],
        },
      }),
      default: null,
      doc: 'Summary for each partition',
      'field-id': 507,
    },
  ],
};

const mapOut = <V>(m: Map<number, V> | undefined): Array<{ key: number; value: V }> | null => (m && m.size ? [...m].map(([key, value]) => ({ key, value })) : null);
const mapIn = <V>(list: unknown): Map<number, V> | undefined =>
  Array.isArray(list) ? new Map((list as Array<{ key: number; value: V }>).map((e) => [Number(e.key), typeof e.value === 'bigint' ? (Number(e.value) as V) : e.value])) : undefined;

function entryRecord(e: ManifestEntry, columns: readonly PartitionColumn[]): Record<string, unknown> {
  const f = e.dataFile;
  return {
    status: e.status,
    snapshot_id: e.snapshotId,
    sequence_number: e.sequenceNumber,
    file_sequence_number: e.fileSequenceNumber,
    data_file: {
      content: 0,
      file_path: f.filePath,
      file_format: f.fileFormat,
      partition: partitionRecord(columns, f.partition),
      record_count: f.recordCount,
      file_size_in_bytes: f.fileSizeInBytes,
      column_sizes: null,
      value_counts: mapOut(f.valueCounts),
      null_value_counts: mapOut(f.nullValueCounts),
      nan_value_counts: mapOut(f.nanValueCounts),
      lower_bounds: mapOut(f.lowerBounds),
      upper_bounds: mapOut(f.upperBounds),
      key_metadata: null,
      split_offsets: f.splitOffsets ?? null,
      equality_ids: null,
      sort_order_id: f.sortOrderId ?? 0,
    },
  };
}

/** Writes a v2 data manifest (Avro container with the schema and spec in its metadata). */
export function writeManifest(entries: readonly ManifestEntry[], spec: PartitionSpec, columns: readonly PartitionColumn[], schema: IcebergSchema): Buffer {
  return writeAvroFile(
    manifestEntrySchema(columns),
    entries.map((e) => entryRecord(e, columns)),
    {
      metadata: {
        schema: stringifyJsonLossless(schema),
        'schema-id': String(schema['schema-id']),
        'partition-spec': stringifyJsonLossless(spec.fields),
        'partition-spec-id': String(spec['spec-id']),
        'format-version': '2',
        content: 'data',
      },
    },
  );
}

function decodePartitionValue(value: unknown): RawValue {
  if (value === null || value === undefined) return null;
  if (value instanceof Uint8Array) return value;
  return value as RawValue;
}

/**
 * Reads a manifest (ours or another engine's). Partition values are returned in the order of the
 * manifest's own partition spec; `null` sequence numbers and snapshot ids of added entries are
 * inherited from the manifest list entry, as the spec requires.
 */
export function readManifest(bytes: Uint8Array, owner: ManifestFile): { entries: ManifestEntry[]; specId: number } {
  const file = readAvroFile(bytes);
  const specFields = JSON.parse(file.metadata['partition-spec'] ?? '[]') as Array<{ name: string }>;
  const specId = Number(file.metadata['partition-spec-id'] ?? owner.partitionSpecId);
  const entries = (file.records as Array<Record<string, any>>).map((r) => {
    const df = r.data_file as Record<string, any>;
    const status = Number(r.status) as 0 | 1 | 2;
    const inherit = (v: unknown, fallback: bigint): bigint | null => (v === null || v === undefined ? (status === STATUS_ADDED ? fallback : null) : BigInt(v as number));
    const partition = df.partition as Record<string, unknown>;
    const lower = mapIn<Uint8Array>(df.lower_bounds);
    const upper = mapIn<Uint8Array>(df.upper_bounds);
    const dataFile: DataFile = {
      filePath: String(df.file_path),
      fileFormat: 'PARQUET',
      specId,
      partition: specFields.map((f) => decodePartitionValue(partition[f.name])),
      recordCount: Number(df.record_count),
      fileSizeInBytes: Number(df.file_size_in_bytes),
      ...(df.value_counts ? { valueCounts: mapIn<number>(df.value_counts) as Map<number, number> } : {}),
      ...(df.null_value_counts ? { nullValueCounts: mapIn<number>(df.null_value_counts) as Map<number, number> } : {}),
      ...(df.nan_value_counts ? { nanValueCounts: mapIn<number>(df.nan_value_counts) as Map<number, number> } : {}),
      ...(lower ? { lowerBounds: lower } : {}),
      ...(upper ? { upperBounds: upper } : {}),
      ...(Array.isArray(df.split_offsets) ? { splitOffsets: (df.split_offsets as Array<number | bigint>).map(Number) } : {}),
      sortOrderId: df.sort_order_id === null || df.sort_order_id === undefined ? null : Number(df.sort_order_id),
    };
    if (df.content !== undefined && Number(df.content) !== 0) (dataFile as DataFile & { content?: number }).content = Number(df.content);
    return {
      status,
      snapshotId: inherit(r.snapshot_id, owner.addedSnapshotId),
      sequenceNumber: inherit(r.sequence_number, owner.sequenceNumber),
      fileSequenceNumber: inherit(r.file_sequence_number, owner.sequenceNumber),
      dataFile,
    } satisfies ManifestEntry;
  });
  return { entries, specId };
}

function manifestRecord(m: ManifestFile): Record<string, unknown> {
  return {
    manifest_path: m.manifestPath,
    manifest_length: m.manifestLength,
    partition_spec_id: m.partitionSpecId,
    content: m.content,
    sequence_number: m.sequenceNumber,
    min_sequence_number: m.minSequenceNumber,
    added_snapshot_id: m.addedSnapshotId,
    added_files_count: m.addedFilesCount,
    existing_files_count: m.existingFilesCount,
    deleted_files_count: m.deletedFilesCount,
    added_rows_count: m.addedRowsCount,
    existing_rows_count: m.existingRowsCount,
    deleted_rows_count: m.deletedRowsCount,
    partitions: m.partitions?.map((p) => ({ contains_null: p.containsNull, contains_nan: p.containsNan, lower_bound: p.lowerBound, upper_bound: p.upperBound })) ?? null,
  };
}

export function writeManifestList(manifests: readonly ManifestFile[], snapshotId: bigint, parentId: bigint | null, sequenceNumber: bigint): Buffer {
  return writeAvroFile(MANIFEST_FILE_SCHEMA, manifests.map(manifestRecord), {
    metadata: { 'snapshot-id': snapshotId.toString(), 'parent-snapshot-id': parentId === null ? 'null' : parentId.toString(), 'sequence-number': sequenceNumber.toString(), 'format-version': '2' },
  });
}

export function readManifestList(bytes: Uint8Array): ManifestFile[] {
  return (readAvroFile(bytes).records as Array<Record<string, any>>).map((r) => {
    const n = (v: unknown, fallback = 0): number => (v === null || v === undefined ? fallback : Number(v));
    return {
      manifestPath: String(r.manifest_path),
      manifestLength: n(r.manifest_length),
      partitionSpecId: n(r.partition_spec_id),
      content: n(r.content) as 0 | 1,
      sequenceNumber: BigInt(r.sequence_number ?? 0),
      minSequenceNumber: BigInt(r.min_sequence_number ?? 0),
      addedSnapshotId: BigInt(r.added_snapshot_id),
      addedFilesCount: n(r.added_files_count ?? r.added_data_files_count),
      existingFilesCount: n(r.existing_files_count ?? r.existing_data_files_count),
      deletedFilesCount: n(r.deleted_files_count ?? r.deleted_data_files_count),
      addedRowsCount: n(r.added_rows_count),
      existingRowsCount: n(r.existing_rows_count),
      deletedRowsCount: n(r.deleted_rows_count),
      partitions: Array.isArray(r.partitions)
        ? (r.partitions as Array<Record<string, any>>).map((p) => ({ containsNull: Boolean(p.contains_null), containsNan: p.contains_nan ?? null, lowerBound: p.lower_bound ?? null, upperBound: p.upper_bound ?? null }))
        : null,
    };
  });
}

/** Binary single-value serialisation (spec Appendix D) of a value of an Iceberg primitive type. */
export function serializeValue(type: string, value: RawValue): Uint8Array | null {
  if (value === null) return null;
  const buf = (n: number): DataView => new DataView(new ArrayBuffer(n));
  switch (true) {
    case type === 'boolean':
      return Uint8Array.from([value ? 1 : 0]);
    case type === 'int' || type === 'date': {
      const v = buf(4);
      v.setInt32(0, Number(value), true);
      return new Uint8Array(v.buffer);
    }
    case type === 'long' || type === 'time' || type === 'timestamp' || type === 'timestamptz': {
      const v = buf(8);
      v.setBigInt64(0, BigInt(value as number | bigint), true);
      return new Uint8Array(v.buffer);
    }
    case type === 'float': {
      const v = buf(4);
      v.setFloat32(0, Number(value), true);
      return new Uint8Array(v.buffer);
    }
    case type === 'double': {
      const v = buf(8);
      v.setFloat64(0, Number(value), true);
      return new Uint8Array(v.buffer);
    }
    case type === 'string':
      return Buffer.from(String(value), 'utf8');
    case type === 'binary':
      return value as Uint8Array;
    case type.startsWith('decimal'):
      return minBigEndian(BigInt(value as bigint));
    default:
      return null;
  }
}

function compareRaw(a: RawValue, b: RawValue): number {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.compare(a, b);
  if (typeof a === 'string' && typeof b === 'string') return Buffer.compare(Buffer.from(a), Buffer.from(b));
  if (typeof a === 'boolean' || typeof b === 'boolean') return Number(a) - Number(b);
  const x = typeof a === 'bigint' || typeof b === 'bigint' ? BigInt(a as number) - BigInt(b as number) : (a as number) - (b as number);
  return x > 0 ? 1 : x < 0 ? -1 : 0;
}

/** The manifest list's per-partition-field summary of a set of data files. */
export function partitionSummaries(files: readonly DataFile[], columns: readonly PartitionColumn[]): ManifestFile['partitions'] {
  if (columns.length === 0) return [];
  return columns.map((c, i) => {
    let containsNull = false;
    let lo: RawValue = null;
    let hi: RawValue = null;
    for (const f of files) {
      const v = f.partition[i] ?? null;
      if (v === null) {
        containsNull = true;
        continue;
      }
      if (lo === null || compareRaw(v, lo) < 0) lo = v;
      if (hi === null || compareRaw(v, hi) > 0) hi = v;
    }
    const type = c.transform.resultType;
    return { containsNull, containsNan: null, lowerBound: serializeValue(type, lo), upperBound: serializeValue(type, hi) };
  });
}
