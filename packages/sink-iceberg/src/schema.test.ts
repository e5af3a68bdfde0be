import { parseDataType, type FieldSpec } from '@dativo/core';
import { describe, expect, it } from 'vitest';
import { applyUpdates, checkRequirements, CommitConflictError, newSnapshotId, newTableMetadata } from './metadata.js';
import { planEvolution, schemaFromFields } from './schema.js';
import type { Snapshot } from './types.js';

const f = (name: string, type: string, nullable = true): FieldSpec => ({ name, type: parseDataType(type), nullable });

describe('schemaFromFields', () => {
  it('numbers top-level columns 1…n, then nested fields, and marks identifier fields required', () => {
    const { schema, lastColumnId } = schemaFromFields([f('id', 'bigint'), f('tags', 'array<string>'), f('name', 'string')], ['id']);
    expect(schema.fields.map((c) => [c.id, c.name, c.required])).toEqual([
      [1, 'id', true],
      [2, 'tags', false],
      [3, 'name', false],
    ]);
    expect(schema.fields[1]?.type).toMatchObject({ type: 'list', 'element-id': 4, element: 'string' });
    expect(schema['identifier-field-ids']).toEqual([1]);
    expect(lastColumnId).toBe(4);
  });
});

describe('planEvolution', () => {
  const base = schemaFromFields([f('id', 'bigint', false), f('qty', 'int'), f('price', 'real'), f('amount', 'decimal(10,2)'), f('name', 'string')]);

  it('changes nothing when the source matches the table', () => {
    const plan = planEvolution(base.schema, base.lastColumnId, [f('id', 'bigint', false), f('qty', 'int'), f('price', 'real'), f('amount', 'decimal(10,2)'), f('name', 'string')], 'asset.yaml');
    expect(plan).toEqual({ lastColumnId: 5, changes: [] });
  });

  it('adds new columns as optional fields with new ids and widens int, float and decimal precision', () => {
    const plan = planEvolution(base.schema, base.lastColumnId, [f('id', 'bigint', false), f('qty', 'bigint'), f('price', 'double'), f('amount', 'decimal(18,2)'), f('name', 'string'), f('email', 'string', false)], 'asset.yaml');
    expect(plan.changes).toEqual(['widened qty from int to long', 'widened price from float to double', 'widened amount from decimal(10, 2) to decimal(18, 2)', 'added column email (string)']);
    expect(plan.schema?.['schema-id']).toBe(1);
    expect(plan.schema?.fields.map((c) => [c.id, c.name, c.type, c.required])).toEqual([
      [1, 'id', 'long', true],
      [2, 'qty', 'long', false],
      [3, 'price', 'double', false],
      [4, 'amount', 'decimal(18, 2)', false],
      [5, 'name', 'string', false],
      [6, 'email', 'string', false],
    ]);
    expect(plan.lastColumnId).toBe(6);
  });

  it('keeps table columns the source lacks, unless they are required', () => {
    expect(planEvolution(base.schema, base.lastColumnId, [f('id', 'bigint', false)], 'a').changes).toEqual([]);
    expect(() => planEvolution(base.schema, base.lastColumnId, [f('qty', 'int')], 'asset.yaml')).toThrow("asset.yaml: column 'id' is required in the table but the source does not have it");
  });

  it('fails on an incompatible change, naming the column and both types', () => {
    const retype = () => planEvolution(base.schema, base.lastColumnId, [f('id', 'string', false)], 'asset.yaml');
    expect(retype).toThrow(/asset\.yaml: column 'id' cannot change from long \(table\) to string \(source, string\)/);
    // A narrower source type is not a change: its values widen on write (int into a long column).
    expect(planEvolution(base.schema, base.lastColumnId, [f('id', 'int', false)], 'a').changes).toEqual([]);
    expect(() => planEvolution(base.schema, base.lastColumnId, [f('id', 'bigint', false), f('name', 'bigint')], 'a')).toThrow(/column 'name' cannot change from string \(table\) to long/);
    expect(() => planEvolution(base.schema, base.lastColumnId, [f('id', 'bigint', false), f('amount', 'decimal(12,4)')], 'a')).toThrow(/column 'amount' cannot change from decimal\(10, 2\)/);
  });

  it('evolves nested struct fields with ids above every existing id', () => {
    const table = schemaFromFields([f('id', 'bigint', false), { name: 'addr', type: { kind: 'struct', fields: [f('city', 'string')] }, nullable: true }]);
    const plan = planEvolution(table.schema, table.lastColumnId, [f('id', 'bigint', false), { name: 'addr', type: { kind: 'struct', fields: [f('city', 'string'), f('zip', 'string')] }, nullable: true }], 'a');
    expect(plan.changes).toEqual(['added column addr.zip (string)']);
    expect(plan.schema?.fields[1]?.type).toMatchObject({ type: 'struct', fields: [{ id: 3, name: 'city' }, { id: 4, name: 'zip', required: false }] });
  });
});

describe('table metadata updates and requirements', () => {
  const { schema, lastColumnId } = schemaFromFields([f('id', 'bigint', false)]);
  const table = newTableMetadata({ location: 'file:///w/t/', schema, lastColumnId, spec: { 'spec-id': 0, fields: [] }, lastPartitionId: 999 }, 1000);
  const snapshot = (id: bigint, seq: number, parent?: bigint): Snapshot => ({
    'snapshot-id': id,
    ...(parent === undefined ? {} : { 'parent-snapshot-id': parent }),
    'sequence-number': seq,
    'timestamp-ms': 2000 + seq,
    'manifest-list': `file:///w/t/metadata/snap-${id}.avro`,
    summary: { operation: 'append' },
    'schema-id': 0,
  });

  it('creates v2 metadata with an empty history and 63-bit snapshot ids', () => {
    expect(table).toMatchObject({ 'format-version': 2, location: 'file:///w/t', 'current-snapshot-id': -1, 'last-sequence-number': 0, 'last-partition-id': 999 });
    // Always a bigint past 2^53 (read back as one), positive, 63 bits, and random.
    const ids = Array.from({ length: 5000 }, () => newSnapshotId());
    expect(ids.filter((id) => !(id >= 2n ** 62n && id < 2n ** 63n))).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('adds a snapshot, moves main and logs it; requirements see the new branch head', () => {
    const id = 2n ** 60n + 7n; // beyond 2^53: must stay exact
    checkRequirements(table, [{ type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': null }, { type: 'assert-table-uuid', uuid: table['table-uuid'] }]);
    const next = applyUpdates(table, [{ action: 'add-snapshot', snapshot: snapshot(id, 1) }, { action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': id }], 3000);
    expect(next['current-snapshot-id']).toBe(id);
    expect(next['last-sequence-number']).toBe(1);
    expect(next['snapshot-log']).toEqual([{ 'timestamp-ms': 2001, 'snapshot-id': id }]);
    expect(table.snapshots).toEqual([]); // the base is not modified
    expect(() => checkRequirements(next, [{ type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': null }])).toThrow(CommitConflictError);
    expect(() => checkRequirements(next, [{ type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': id - 1n }])).toThrow(`branch main is at snapshot ${id}, expected ${id - 1n}`);
    checkRequirements(next, [{ type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': id }]);
    expect(() => applyUpdates(next, [{ action: 'add-snapshot', snapshot: snapshot(id + 1n, 1, id) }])).toThrow(/sequence number 1 is not above the table's 1/);
  });

  it('rejects assert-create on an existing table and schema requirements after a change', () => {
    expect(() => checkRequirements(table, [{ type: 'assert-create' }])).toThrow('the table already exists');
    const evolved = applyUpdates(table, [{ action: 'add-schema', schema: { ...schema, 'schema-id': 1, fields: [...schema.fields, { id: 2, name: 'x', required: false, type: 'string' }] } }, { action: 'set-current-schema', 'schema-id': -1 }]);
    expect(evolved['current-schema-id']).toBe(1);
    expect(evolved['last-column-id']).toBe(2);
    expect(() => checkRequirements(evolved, [{ type: 'assert-current-schema-id', 'current-schema-id': 0 }])).toThrow('current schema is 1, expected 0');
    expect(() => checkRequirements(evolved, [{ type: 'assert-last-assigned-field-id', 'last-assigned-field-id': 1 }])).toThrow('last column id is 2, expected 1');
  });
});
