import { BatchBuilder, parseDataType, type FieldSpec } from '@dativo/core';
import { describe, expect, it } from 'vitest';
import { bindSpec, buildSpec, groupByPartition, parsePartitioning, partitionPath } from './partition.js';
import { schemaFromFields } from './schema.js';

const FIELDS: FieldSpec[] = [
  { name: 'id', type: parseDataType('bigint'), nullable: false },
  { name: 'region', type: parseDataType('string'), nullable: true },
  { name: 'at', type: parseDataType('timestamptz'), nullable: true },
  { name: 'score', type: parseDataType('double'), nullable: true },
];

function setup(partitioning: unknown[]) {
  const { schema } = schemaFromFields(FIELDS);
  const { spec } = buildSpec(parsePartitioning(partitioning, 'target.partitioning'), schema, 'target.partitioning');
  const columns = bindSpec(spec, schema);
  const types = columns.map((c) => schema.fields[c.column]?.type as string);
  return { spec, columns, types };
}

function batch(rows: Array<{ id: number; region: string | null; at?: string | null; score?: number | null }>) {
  const b = new BatchBuilder(FIELDS);
  for (const r of rows) b.appendRecord({ id: BigInt(r.id), region: r.region, at: r.at ? new Date(r.at) : null, score: r.score ?? null });
  return b.flush()!;
}

describe('parsePartitioning', () => {
  it('reads column names, transform calls in both spellings and objects', () => {
    expect(parsePartitioning(['region', 'day(at)', 'bucket(16, id)', 'bucket[8](id)', 'truncate(4, region)', { column: 'at', transform: 'HOUR' }], 'p')).toEqual([
      { column: 'region', transform: 'identity' },
      { column: 'at', transform: 'day' },
      { column: 'id', transform: 'bucket[16]' },
      { column: 'id', transform: 'bucket[8]' },
      { column: 'region', transform: 'truncate[4]' },
      { column: 'at', transform: 'hour' },
    ]);
  });

  it('explains entries it cannot read, including the YAML flow-list comma trap', () => {
    expect(() => parsePartitioning(['bucket(16'], 'job.yaml: target.partitioning')).toThrow(/job\.yaml: target\.partitioning\[0\]: cannot read 'bucket\(16'.*quote entries that contain a comma/);
    expect(() => parsePartitioning(['bucket(id)'], 'p')).toThrow(/p\[0\]: bucket needs a number: bucket\(N, column\)/);
    expect(() => parsePartitioning([3], 'p')).toThrow(/p\[0\]: expected a column name/);
  });
});

describe('buildSpec', () => {
  it('assigns partition field ids from 1000 and names fields as Iceberg does', () => {
    const { spec } = setup(['region', 'month(at)', 'bucket(4, id)', 'truncate(2, region)']);
    expect(spec.fields.map((f) => [f['field-id'], f.name, f.transform])).toEqual([
      [1000, 'region', 'identity'],
      [1001, 'at_month', 'month'],
      [1002, 'id_bucket', 'bucket[4]'],
      [1003, 'region_trunc', 'truncate[2]'],
    ]);
  });

  it('rejects unknown columns and transforms that do not fit the type', () => {
    const { schema } = schemaFromFields(FIELDS);
    expect(() => buildSpec([{ column: 'nope', transform: 'identity' }], schema, 'asset.yaml: target.partitioning')).toThrow(/partition column 'nope' is not in the schema \(columns: id, region, at, score\)/);
    expect(() => buildSpec([{ column: 'region', transform: 'day' }], schema, 'p')).toThrow();
  });
});

describe('groupByPartition', () => {
  it('returns one group without row lists when every row shares the tuple', () => {
    const { columns, types } = setup(['region']);
    const groups = groupByPartition(batch([{ id: 1, region: 'eu' }, { id: 2, region: 'eu' }, { id: 3, region: 'eu' }]), columns, types);
    expect(groups).toEqual([{ key: '["eu"]', values: ['eu'], rows: undefined }]);
  });

  it('lists the rows of each tuple when rows alternate, keeping each row exactly once', () => {
    const { columns, types } = setup(['region', 'day(at)']);
    const rows = [
      { id: 0, region: 'eu', at: '2024-03-01T10:00:00Z' },
      { id: 1, region: 'eu', at: '2024-03-01T23:00:00Z' },
      { id: 2, region: 'us', at: '2024-03-01T10:00:00Z' },
      { id: 3, region: 'eu', at: '2024-03-01T11:00:00Z' },
      { id: 4, region: null, at: null },
      { id: 5, region: 'eu', at: '2024-03-02T00:00:00Z' },
      { id: 6, region: null, at: null },
    ];
    const groups = groupByPartition(batch(rows), columns, types);
    expect(groups.map((g) => [g.values, g.rows])).toEqual([
      [['eu', 19783], [0, 1, 3]],
      [['us', 19783], [2]],
      [[null, null], [4, 6]],
      [['eu', 19784], [5]],
    ]);
    expect(groups.flatMap((g) => g.rows ?? []).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(partitionPath(columns, ['eu', 19783])).toBe('region=eu/at_day=2024-03-01/');
    expect(partitionPath(columns, [null, null])).toBe('region=null/at_day=null/');
  });

  it('keeps NaN and null partition values apart and groups NaN rows together', () => {
    const { columns, types } = setup(['score']);
    const groups = groupByPartition(batch([{ id: 0, region: 'x', score: Number.NaN }, { id: 1, region: 'x', score: Number.NaN }, { id: 2, region: 'x', score: null }]), columns, types);
    expect(groups.map((g) => g.rows)).toEqual([[0, 1], [2]]);
  });

  it('splits the first run correctly when a second tuple appears late', () => {
    const { columns, types } = setup(['bucket(2, id)']);
    const ids = [...Array.from({ length: 50 }, () => 4), 5, 4];
    const groups = groupByPartition(batch(ids.map((id) => ({ id, region: null }))), columns, types);
    expect(groups.map((g) => g.rows?.length)).toEqual([51, 1]);
    expect(groups[1]?.rows).toEqual([50]);
  });
});
