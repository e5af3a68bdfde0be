/** Iceberg table metadata (format v2), as serialised in metadata JSON files and the REST API. */

export type IcebergPrimitive =
  | 'boolean'
  | 'int'
  | 'long'
  | 'float'
  | 'double'
  | 'date'
  | 'time'
  | 'timestamp'
  | 'timestamptz'
  | 'string'
  | 'uuid'
  | 'binary'
  | `decimal(${number}, ${number})`
  | `decimal(${number},${number})`
  | `fixed[${number}]`;

export interface IcebergStruct {
  type: 'struct';
  fields: IcebergField[];
}

export interface IcebergList {
  type: 'list';
  'element-id': number;
  element: IcebergType;
  'element-required': boolean;
}

export interface IcebergMap {
  type: 'map';
  'key-id': number;
  key: IcebergType;
  'value-id': number;
  value: IcebergType;
  'value-required': boolean;
}

export type IcebergType = IcebergPrimitive | string | IcebergStruct | IcebergList | IcebergMap;

export interface IcebergField {
  id: number;
  name: string;
  required: boolean;
  type: IcebergType;
  doc?: string;
}

export interface IcebergSchema extends IcebergStruct {
  'schema-id': number;
  'identifier-field-ids'?: number[];
}

export interface PartitionField {
  'source-id': number;
  'field-id': number;
  name: string;
  transform: string;
}

export interface PartitionSpec {
  'spec-id': number;
  fields: PartitionField[];
}

export interface SortOrder {
  'order-id': number;
  fields: Array<{ 'source-id': number; transform: string; direction: 'asc' | 'desc'; 'null-order': 'nulls-first' | 'nulls-last' }>;
}

export interface Snapshot {
  'snapshot-id': bigint | number;
  'parent-snapshot-id'?: bigint | number;
  'sequence-number': bigint | number;
  'timestamp-ms': number;
  'manifest-list': string;
  summary: { operation: 'append' | 'replace' | 'overwrite' | 'delete'; [key: string]: string };
  'schema-id'?: number;
}

export interface SnapshotRef {
  'snapshot-id': bigint | number;
  type: 'branch' | 'tag';
  'max-ref-age-ms'?: number;
  'max-snapshot-age-ms'?: number;
  'min-snapshots-to-keep'?: number;
}

export interface TableMetadata {
  'format-version': 2;
  'table-uuid': string;
  location: string;
  'last-sequence-number': bigint | number;
  'last-updated-ms': number;
  'last-column-id': number;
  schemas: IcebergSchema[];
  'current-schema-id': number;
  'partition-specs': PartitionSpec[];
  'default-spec-id': number;
  'last-partition-id': number;
  properties?: Record<string, string>;
  'current-snapshot-id'?: bigint | number | null;
  snapshots?: Snapshot[];
  'snapshot-log'?: Array<{ 'timestamp-ms': number; 'snapshot-id': bigint | number }>;
  'metadata-log'?: Array<{ 'timestamp-ms': number; 'metadata-file': string }>;
  'sort-orders': SortOrder[];
  'default-sort-order-id': number;
  refs?: Record<string, SnapshotRef>;
  statistics?: unknown[];
  'partition-statistics'?: unknown[];
}

/** `namespace.table` split into its parts. */
export interface TableIdentifier {
  namespace: string[];
  name: string;
}

export function formatIdentifier(id: TableIdentifier): string {
  return [...id.namespace, id.name].join('.');
}

export function currentSchema(metadata: TableMetadata): IcebergSchema {
  const schema = metadata.schemas.find((s) => s['schema-id'] === metadata['current-schema-id']);
  if (!schema) throw new Error(`table metadata has no schema ${metadata['current-schema-id']}`);
  return schema;
}

export function defaultSpec(metadata: TableMetadata): PartitionSpec {
  const spec = metadata['partition-specs'].find((s) => s['spec-id'] === metadata['default-spec-id']);
  if (!spec) throw new Error(`table metadata has no partition spec ${metadata['default-spec-id']}`);
  return spec;
}

/** The snapshot a branch points at (`main` by default). */
export function branchSnapshot(metadata: TableMetadata, branch = 'main'): Snapshot | undefined {
  const ref = metadata.refs?.[branch];
  const id = ref ? ref['snapshot-id'] : branch === 'main' ? metadata['current-snapshot-id'] : undefined;
  if (id === undefined || id === null || BigInt(id) === -1n) return undefined;
  return metadata.snapshots?.find((s) => BigInt(s['snapshot-id']) === BigInt(id));
}

/** Snapshots from `snapshot` back through its parents. */
export function* ancestors(metadata: TableMetadata, snapshot: Snapshot | undefined): Generator<Snapshot> {
  const byId = new Map((metadata.snapshots ?? []).map((s) => [BigInt(s['snapshot-id']), s]));
  let current = snapshot;
  while (current) {
    yield current;
    const parent = current['parent-snapshot-id'];
    current = parent === undefined || parent === null ? undefined : byId.get(BigInt(parent));
  }
}
