import { DativoError } from '@dativo/core';
import type { Data, RecordBatch } from 'apache-arrow';
import { partitionAvroType, partitionAvroValue, transformFor, type RawValue, type Transform } from './transforms.js';
import type { AvroSchema } from './avro/codec.js';
import type { IcebergSchema, PartitionField, PartitionSpec } from './types.js';

/** The v1 default partition column: the day data was ingested (UTC), added when the asset lacks it. */
export const INGEST_DATE = 'ingest_date';

export interface PartitionRequest {
  column: string;
  transform: string;
}

const CALL = /^\s*(identity|year|month|day|hour|void|bucket|truncate)\s*(?:\[\s*(\d+)\s*\])?\s*\(\s*(?:(\d+)\s*,\s*)?([^,()]+?)\s*(?:,\s*(\d+)\s*)?\)\s*$/i;

/**
 * Reads the asset's `target.partitioning` entries: `region` (identity), `day(created_at)`,
 * `bucket(16, id)` or `bucket[16](id)`, `truncate(4, name)`, or `{ column, transform }`.
 */
export function parsePartitioning(entries: readonly unknown[], where: string): PartitionRequest[] {
  return entries.map((entry, i) => {
    if (entry && typeof entry === 'object') {
      const e = entry as { column?: unknown; source?: unknown; transform?: unknown };
      const column = e.column ?? e.source;
      if (typeof column !== 'string') throw new DativoError(`${where}[${i}]: expected { column, transform }`, { kind: 'config', code: 'ICEBERG_PARTITIONING' });
      return { column, transform: typeof e.transform === 'string' ? e.transform.toLowerCase() : 'identity' };
    }
    if (typeof entry !== 'string') throw new DativoError(`${where}[${i}]: expected a column name or transform(column)`, { kind: 'config', code: 'ICEBERG_PARTITIONING' });
    const m = CALL.exec(entry);
    if (!m) {
      if (/[()[\]]/.test(entry)) {
        const unbalanced = (entry.match(/\(/g) ?? []).length !== (entry.match(/\)/g) ?? []).length;
        throw new DativoError(
          `${where}[${i}]: cannot read '${entry}'; expected identity(c), year(c), month(c), day(c), hour(c), bucket(N, c), truncate(W, c) or a column name${unbalanced ? ' (in a YAML [list], quote entries that contain a comma: ["bucket(16, id)"])' : ''}`,
          { kind: 'config', code: 'ICEBERG_PARTITIONING' },
        );
      }
      return { column: entry.trim(), transform: 'identity' };
    }
    const name = (m[1] as string).toLowerCase();
    const param = m[2] ?? m[3] ?? m[5];
    if ((name === 'bucket' || name === 'truncate') && !param) throw new DativoError(`${where}[${i}]: ${name} needs a number: ${name}(N, column)`, { kind: 'config', code: 'ICEBERG_PARTITIONING' });
    return { column: (m[4] as string).trim(), transform: param ? `${name}[${param}]` : name };
  });
}

function fieldName(column: string, transform: string): string {
  if (transform === 'identity') return column;
  const base = transform.replace(/\[.*$/, '');
  return `${column}_${base === 'truncate' ? 'trunc' : base === 'void' ? 'null' : base}`;
}

/** A partition spec for a new table (field ids from 1000, as Iceberg assigns them). */
export function buildSpec(requests: readonly PartitionRequest[], schema: IcebergSchema, where: string): { spec: PartitionSpec; lastPartitionId: number } {
  let id = 999;
  const fields: PartitionField[] = requests.map((r) => {
    const source = schema.fields.find((f) => f.name === r.column);
    if (!source) throw new DativoError(`${where}: partition column '${r.column}' is not in the schema (columns: ${schema.fields.map((f) => f.name).join(', ')})`, { kind: 'config', code: 'ICEBERG_PARTITIONING' });
    if (typeof source.type !== 'string') throw new DativoError(`${where}: partition column '${r.column}' must be a primitive column`, { kind: 'config', code: 'ICEBERG_PARTITIONING' });
    transformFor(r.transform, source.type); // validates transform against the type
    return { 'source-id': source.id, 'field-id': ++id, name: fieldName(r.column, r.transform), transform: r.transform };
  });
  return { spec: { 'spec-id': 0, fields }, lastPartitionId: Math.max(999, id) };
}

export function sameSpec(a: PartitionSpec, b: PartitionSpec): boolean {
  return a.fields.length === b.fields.length && a.fields.every((f, i) => f['source-id'] === b.fields[i]?.['source-id'] && f.transform === b.fields[i]?.transform && f.name === b.fields[i]?.name);
}

// --- Reading raw values out of Arrow columns ---

function isValid(data: Data, idx: number): boolean {
  const bitmap = data.nullBitmap;
  return !(data.nullCount > 0 && bitmap && bitmap.length > 0 && (((bitmap[idx >> 3] as number) >> (idx & 7)) & 1) === 0);
}

const DECODER = new TextDecoder();

/** Reads row `i` of an Arrow column as the raw value transforms take. */
export function rawReader(data: Data, icebergType: string): (i: number) => RawValue {
  const values = data.values as unknown as ArrayLike<number | bigint>;
  const offsets = data.valueOffsets as Int32Array | undefined;
  const base = data.offset;
  if (icebergType === 'string' || icebergType === 'binary') {
    const bytes = data.values as Uint8Array;
    return (i) => {
      const idx = base + i;
      if (!isValid(data, idx)) return null;
      const slice = bytes.subarray(offsets?.[idx] as number, offsets?.[idx + 1] as number);
      return icebergType === 'string' ? DECODER.decode(slice) : slice;
    };
  }
  if (icebergType.startsWith('decimal')) {
    const words = data.values as Uint32Array;
    return (i) => {
      const idx = base + i;
      if (!isValid(data, idx)) return null;
      let v = 0n;
      for (let k = 3; k >= 0; k--) v = (v << 32n) | BigInt(words[idx * 4 + k] as number);
      return BigInt.asIntN(128, v);
    };
  }
  if (icebergType === 'boolean') {
    const bits = data.values as Uint8Array;
    return (i) => {
      const idx = base + i;
      return isValid(data, idx) ? ((((bits[idx >> 3] as number) >> (idx & 7)) & 1) === 1) : null;
    };
  }
  return (i) => {
    const idx = base + i;
    return isValid(data, idx) ? (values[idx] as number | bigint) : null;
  };
}

export interface PartitionColumn {
  field: PartitionField;
  transform: Transform;
  /** Index of the source column among the batch's (top-level) columns. */
  column: number;
}

/** The partition tuple of each row, grouped: key → row indices. */
export interface PartitionGroup {
  key: string;
  values: RawValue[];
  rows: number[] | undefined; // undefined: every row of the batch
}

/** Binds a partition spec to the columns of the table schema batches are written with. */
export function bindSpec(spec: PartitionSpec, schema: IcebergSchema): PartitionColumn[] {
  return spec.fields.map((field) => {
    const index = schema.fields.findIndex((f) => f.id === field['source-id']);
    const source = schema.fields[index];
    if (!source || typeof source.type !== 'string') throw new DativoError(`partition field ${field.name} refers to a missing or non-primitive column (id ${field['source-id']})`, { kind: 'permanent' });
    return { field, transform: transformFor(field.transform, source.type), column: index };
  });
}

function keyOf(values: RawValue[]): string {
  return JSON.stringify(values, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : typeof v === 'number' && Number.isNaN(v) ? { nan: true } : v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v));
}

function sameValue(a: RawValue, b: RawValue): boolean {
  if (a === b) return true;
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.compare(a, b) === 0;
  return false;
}

/**
 * Splits a batch's rows by partition tuple (one group when every row has the same tuple). Runs of
 * rows with the previous row's tuple skip the key lookup, so constant or clustered partition values
 * (`ingest_date`, data sorted by time) cost one comparison per row.
 */
export function groupByPartition(batch: RecordBatch, columns: readonly PartitionColumn[], sourceTypes: readonly string[]): PartitionGroup[] {
  if (columns.length === 0) return [{ key: '[]', values: [], rows: undefined }];
  const width = columns.length;
  const readers = columns.map((c, k) => rawReader(batch.data.children[c.column] as Data, sourceTypes[k] as string));
  const transforms = columns.map((c) => c.transform);
  const groups = new Map<string, PartitionGroup>();
  const current: RawValue[] = new Array<RawValue>(width);
  let previous: PartitionGroup | undefined;
  let single = true; // every row so far belongs to `previous`, whose rows are not listed yet
  for (let i = 0; i < batch.numRows; i++) {
    let same = previous !== undefined;
    for (let k = 0; k < width; k++) {
      const v = (transforms[k] as Transform).apply((readers[k] as (i: number) => RawValue)(i));
      current[k] = v;
      if (same && !sameValue(v, (previous as PartitionGroup).values[k] as RawValue)) same = false;
    }
    if (same) {
      if (!single) (previous as PartitionGroup).rows?.push(i);
      continue;
    }
    const key = keyOf(current);
    let group = groups.get(key);
    if (!group) {
      group = { key, values: current.slice(), rows: [] };
      groups.set(key, group);
      if (previous && single) {
        single = false;
        const rows = previous.rows as number[];
        for (let r = 0; r < i; r++) rows.push(r);
      }
    }
    if (!single) group.rows?.push(i);
    previous = group;
  }
  if (single && previous) return [{ ...previous, rows: undefined }];
  return [...groups.values()];
}

/** `day=2024-03-15/id_bucket=3/`: the Hive-style directory of a partition tuple. */
export function partitionPath(columns: readonly PartitionColumn[], values: readonly RawValue[]): string {
  return columns.map((c, i) => `${encodeURIComponent(c.field.name)}=${encodeURIComponent(c.transform.pathValue(values[i] ?? null))}/`).join('');
}

/** The Avro record type of the `partition` struct in manifests of this spec. */
export function partitionAvroSchema(columns: readonly PartitionColumn[]): AvroSchema {
  return {
    type: 'record',
    name: 'r102',
    fields: columns.map((c) => ({ name: c.field.name, type: partitionAvroType(c.transform.resultType), 'field-id': c.field['field-id'] })),
  };
}

export function partitionRecord(columns: readonly PartitionColumn[], values: readonly RawValue[]): Record<string, unknown> {
  return Object.fromEntries(columns.map((c, i) => [c.field.name, partitionAvroValue(c.transform.resultType, values[i] ?? null)]));
}
