import { describe, expect, it } from 'vitest';
import { parseDataType, type FieldSpec } from '../schema/types.js';
import { BatchBuilder, buffersOwned } from './batch-builder.js';
import { readRows } from './read-rows.js';
import { takeRows } from './take.js';

const fields: FieldSpec[] = ['string', 'integer', 'bigint', 'decimal(20,3)', 'boolean', 'date', 'timestamptz', 'binary', 'array<string>', 'struct<a:integer,b:array<date>>'].map((t, i) => ({ name: `c${i}`, type: parseDataType(t), nullable: true }));

describe('takeRows', () => {
  it('gathers rows of every type, with nulls, into new buffers', () => {
    const b = new BatchBuilder(fields);
    for (let i = 0; i < 50; i++) {
      const nul = i % 7 === 0;
      b.appendValues([
        nul ? null : `s${i}`,
        nul ? null : i,
        nul ? null : BigInt(i) * 10_000_000_000n,
        nul ? null : `${i}.125`,
        nul ? null : i % 2 === 0,
        nul ? null : new Date(Date.UTC(2024, 0, 1 + i)),
        nul ? null : new Date(Date.UTC(2024, 0, 1, 0, 0, i)),
        nul ? null : Uint8Array.from([i, i + 1]),
        nul ? null : Array.from({ length: i % 4 }, (_, k) => `e${i}.${k}`),
        nul ? null : { a: i, b: i % 3 ? [new Date(Date.UTC(2020, 0, i))] : [] },
      ]);
    }
    const batch = b.flush()!;
    const all = [...readRows(batch, fields)];
    const indices = [49, 0, 7, 13, 13, 21, 2];
    const taken = takeRows(batch, indices);
    expect(taken.numRows).toBe(indices.length);
    expect(buffersOwned(taken)).toBe(true);
    expect([...readRows(taken, fields)]).toEqual(indices.map((i) => all[i]));
  });
});
