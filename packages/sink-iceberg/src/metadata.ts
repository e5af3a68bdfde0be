import { randomBytes, randomUUID } from 'node:crypto';
import { DativoError } from '@dativo/core';
import { branchSnapshot, type IcebergSchema, type PartitionSpec, type Snapshot, type SnapshotRef, type SortOrder, type TableMetadata } from './types.js';

/** A change to table metadata (the REST spec's TableUpdate actions Dativo uses). */
export type TableUpdate =
  | { action: 'assign-uuid'; uuid: string }
  | { action: 'upgrade-format-version'; 'format-version': number }
  | { action: 'add-schema'; schema: IcebergSchema; 'last-column-id'?: number }
  | { action: 'set-current-schema'; 'schema-id': number }
  | { action: 'add-spec'; spec: PartitionSpec }
  | { action: 'set-default-spec'; 'spec-id': number }
  | { action: 'add-sort-order'; 'sort-order': SortOrder }
  | { action: 'set-default-sort-order'; 'sort-order-id': number }
  | { action: 'add-snapshot'; snapshot: Snapshot }
  | ({ action: 'set-snapshot-ref'; 'ref-name': string } & SnapshotRef)
  | { action: 'remove-snapshots'; 'snapshot-ids': Array<bigint | number> }
  | { action: 'remove-snapshot-ref'; 'ref-name': string }
  | { action: 'set-location'; location: string }
  | { action: 'set-properties'; updates: Record<string, string> }
  | { action: 'remove-properties'; removals: string[] };

/** A precondition of a commit (the REST spec's TableRequirement types). */
export type TableRequirement =
  | { type: 'assert-create' }
  | { type: 'assert-table-uuid'; uuid: string }
  | { type: 'assert-ref-snapshot-id'; ref: string; 'snapshot-id': bigint | number | null }
  | { type: 'assert-last-assigned-field-id'; 'last-assigned-field-id': number }
  | { type: 'assert-current-schema-id'; 'current-schema-id': number }
  | { type: 'assert-last-assigned-partition-id'; 'last-assigned-partition-id': number }
  | { type: 'assert-default-spec-id'; 'default-spec-id': number }
  | { type: 'assert-default-sort-order-id'; 'default-sort-order-id': number };

/** The table changed since it was read: reload and try again. */
export class CommitConflictError extends DativoError {
  static override readonly brand: string = 'CommitConflictError';
  constructor(message: string) {
    super(message, { kind: 'transient', code: 'ICEBERG_COMMIT_CONFLICT' });
    this.name = 'CommitConflictError';
  }
}

/** The catalog did not say whether the commit happened (a timeout, a 5xx): check before retrying. */
export class CommitStateUnknownError extends DativoError {
  static override readonly brand: string = 'CommitStateUnknownError';
  constructor(message: string, cause?: unknown) {
    super(message, { kind: 'transient', code: 'ICEBERG_COMMIT_STATE_UNKNOWN', ...(cause === undefined ? {} : { cause }) });
    this.name = 'CommitStateUnknownError';
  }
}

/**
 * A new random positive snapshot id in [2^62, 2^63): 62 random bits, and always past 2^53, so it is
 * read back as a bigint every time (a random 63-bit id fell under 2^53 once in 1,024 and came back
 * from the metadata JSON as a number).
 */
export function newSnapshotId(): bigint {
  return (randomBytes(8).readBigUInt64BE() & 0x3fffffffffffffffn) | 0x4000000000000000n;
}

export interface NewTable {
  location: string;
  schema: IcebergSchema;
  lastColumnId: number;
  spec: PartitionSpec;
  lastPartitionId: number;
  properties?: Record<string, string>;
}

/** Metadata of a new, empty v2 table. */
export function newTableMetadata(t: NewTable, now = Date.now()): TableMetadata {
  return {
    'format-version': 2,
    'table-uuid': randomUUID(),
    location: t.location.replace(/\/+$/, ''),
    'last-sequence-number': 0,
    'last-updated-ms': now,
    'last-column-id': t.lastColumnId,
    schemas: [t.schema],
    'current-schema-id': t.schema['schema-id'],
    'partition-specs': [t.spec],
    'default-spec-id': t.spec['spec-id'],
    'last-partition-id': t.lastPartitionId,
    properties: { 'write.format.default': 'parquet', 'write.parquet.compression-codec': 'zstd', ...t.properties },
    'current-snapshot-id': -1,
    snapshots: [],
    'snapshot-log': [],
    'metadata-log': [],
    'sort-orders': [{ 'order-id': 0, fields: [] }],
    'default-sort-order-id': 0,
    refs: {},
  };
}

const same = (a: bigint | number | null | undefined, b: bigint | number | null | undefined): boolean =>
  (a === null || a === undefined || BigInt(a) === -1n ? null : BigInt(a)) === (b === null || b === undefined || BigInt(b) === -1n ? null : BigInt(b));

/** Checks commit requirements against the table as it is now; throws a CommitConflictError naming the first that fails. */
export function checkRequirements(metadata: TableMetadata | undefined, requirements: readonly TableRequirement[]): void {
  for (const r of requirements) {
    if (r.type === 'assert-create') {
      if (metadata) throw new CommitConflictError('requirement failed: the table already exists');
      continue;
    }
    if (!metadata) throw new CommitConflictError(`requirement ${r.type} failed: the table does not exist`);
    switch (r.type) {
      case 'assert-table-uuid':
        if (metadata['table-uuid'] !== r.uuid) throw new CommitConflictError(`requirement failed: table uuid is ${metadata['table-uuid']}, expected ${r.uuid}`);
        break;
      case 'assert-ref-snapshot-id': {
        const current = branchSnapshot(metadata, r.ref)?.['snapshot-id'] ?? null;
        if (!same(current, r['snapshot-id'])) throw new CommitConflictError(`requirement failed: branch ${r.ref} is at snapshot ${String(current)}, expected ${String(r['snapshot-id'])}`);
        break;
      }
      case 'assert-last-assigned-field-id':
        if (metadata['last-column-id'] !== r['last-assigned-field-id']) throw new CommitConflictError(`requirement failed: last column id is ${metadata['last-column-id']}, expected ${r['last-assigned-field-id']}`);
        break;
      case 'assert-current-schema-id':
        if (metadata['current-schema-id'] !== r['current-schema-id']) throw new CommitConflictError(`requirement failed: current schema is ${metadata['current-schema-id']}, expected ${r['current-schema-id']}`);
        break;
      case 'assert-last-assigned-partition-id':
        if (metadata['last-partition-id'] !== r['last-assigned-partition-id']) throw new CommitConflictError('requirement failed: last partition id changed');
        break;
      case 'assert-default-spec-id':
        if (metadata['default-spec-id'] !== r['default-spec-id']) throw new CommitConflictError('requirement failed: default partition spec changed');
        break;
      case 'assert-default-sort-order-id':
        if (metadata['default-sort-order-id'] !== r['default-sort-order-id']) throw new CommitConflictError('requirement failed: default sort order changed');
        break;
    }
  }
}

/** Applies updates to a copy of the metadata (what a catalog does on commit). */
export function applyUpdates(base: TableMetadata, updates: readonly TableUpdate[], now = Date.now()): TableMetadata {
  const m: TableMetadata = structuredClone(base);
  m.snapshots ??= [];
  m.refs ??= {};
  m['snapshot-log'] ??= [];
  let lastAddedSchema: number | undefined;
  let lastAddedSpec: number | undefined;
  for (const u of updates) {
    switch (u.action) {
      case 'assign-uuid':
        m['table-uuid'] = u.uuid;
        break;
      case 'upgrade-format-version':
        if (u['format-version'] !== 2) throw new DativoError(`cannot upgrade to format version ${u['format-version']}`, { kind: 'validation' });
        break;
      case 'add-schema': {
        const maxId = m['last-column-id'];
        const highest = maxFieldId(u.schema);
        if (m.schemas.some((s) => s['schema-id'] === u.schema['schema-id'])) throw new DativoError(`schema ${u.schema['schema-id']} already exists`, { kind: 'validation' });
        m.schemas.push(u.schema);
        m['last-column-id'] = Math.max(maxId, highest, u['last-column-id'] ?? 0);
        lastAddedSchema = u.schema['schema-id'];
        break;
      }
      case 'set-current-schema': {
        const id = u['schema-id'] === -1 ? lastAddedSchema : u['schema-id'];
        if (id === undefined || !m.schemas.some((s) => s['schema-id'] === id)) throw new DativoError(`cannot set current schema to unknown schema ${u['schema-id']}`, { kind: 'validation' });
        m['current-schema-id'] = id;
        break;
      }
      case 'add-spec':
        m['partition-specs'].push(u.spec);
        m['last-partition-id'] = Math.max(m['last-partition-id'], ...u.spec.fields.map((f) => f['field-id']));
        lastAddedSpec = u.spec['spec-id'];
        break;
      case 'set-default-spec':
        m['default-spec-id'] = u['spec-id'] === -1 ? (lastAddedSpec as number) : u['spec-id'];
        break;
      case 'add-sort-order':
        m['sort-orders'].push(u['sort-order']);
        break;
      case 'set-default-sort-order':
        m['default-sort-order-id'] = u['sort-order-id'];
        break;
      case 'add-snapshot': {
        const snap = u.snapshot;
        if (m.snapshots.some((s) => BigInt(s['snapshot-id']) === BigInt(snap['snapshot-id']))) throw new DativoError(`snapshot ${snap['snapshot-id']} already exists`, { kind: 'validation' });
        if (BigInt(snap['sequence-number']) <= BigInt(m['last-sequence-number'])) {
          throw new CommitConflictError(`snapshot sequence number ${snap['sequence-number']} is not above the table's ${m['last-sequence-number']}`);
        }
        m.snapshots.push(snap);
        m['last-sequence-number'] = snap['sequence-number'];
        break;
      }
      case 'set-snapshot-ref': {
        const { action: _a, 'ref-name': name, ...ref } = u;
        m.refs[name] = ref;
        if (name === 'main') {
          m['current-snapshot-id'] = ref['snapshot-id'];
          const snap = m.snapshots.find((s) => BigInt(s['snapshot-id']) === BigInt(ref['snapshot-id']));
          m['snapshot-log'].push({ 'timestamp-ms': snap?.['timestamp-ms'] ?? now, 'snapshot-id': ref['snapshot-id'] });
        }
        break;
      }
      case 'remove-snapshots': {
        const ids = new Set(u['snapshot-ids'].map((id) => BigInt(id)));
        m.snapshots = m.snapshots.filter((s) => !ids.has(BigInt(s['snapshot-id'])));
        m['snapshot-log'] = m['snapshot-log'].filter((e) => !ids.has(BigInt(e['snapshot-id'])));
        break;
      }
      case 'remove-snapshot-ref':
        delete m.refs[u['ref-name']];
        if (u['ref-name'] === 'main') m['current-snapshot-id'] = -1;
        break;
      case 'set-location':
        m.location = u.location;
        break;
      case 'set-properties':
        m.properties = { ...m.properties, ...u.updates };
        break;
      case 'remove-properties':
        for (const k of u.removals) delete m.properties?.[k];
        break;
    }
  }
  m['last-updated-ms'] = now;
  return m;
}

function maxFieldId(schema: { fields: Array<{ id: number; type: unknown }> }): number {
  let max = 0;
  const visit = (type: unknown): void => {
    if (!type || typeof type !== 'object') return;
    const t = type as { type: string; fields?: Array<{ id: number; type: unknown }>; 'element-id'?: number; element?: unknown; 'key-id'?: number; 'value-id'?: number; key?: unknown; value?: unknown };
    if (t.fields) for (const f of t.fields) {
      max = Math.max(max, f.id);
      visit(f.type);
    }
    if (t['element-id'] !== undefined) {
      max = Math.max(max, t['element-id']);
      visit(t.element);
    }
    if (t['key-id'] !== undefined) max = Math.max(max, t['key-id'], t['value-id'] ?? 0);
  };
  visit({ type: 'struct', fields: schema.fields });
  return max;
}

/** Adds a metadata-log entry for the file the previous version lived in (catalogs that write files do). */
export function withMetadataLog(metadata: TableMetadata, previousFile: string | undefined, previousUpdatedMs: number | undefined, keep = 100): TableMetadata {
  if (!previousFile) return metadata;
  const log = [...(metadata['metadata-log'] ?? []), { 'timestamp-ms': previousUpdatedMs ?? metadata['last-updated-ms'], 'metadata-file': previousFile }];
  return { ...metadata, 'metadata-log': log.slice(-keep) };
}
