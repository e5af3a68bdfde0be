import { utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseDataType, readRows, type ConfiguredStream, type ExtractMessage, type FieldSpec, type RejectedMessage } from '@dativo/core';
import { describeExtractorConformance, reliabilityRow, tempDir, testRunContext } from '@dativo/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { csvSource } from './connector.js';

const dir = tempDir('dativo-csv-');
afterAll(() => dir.cleanup());

const f = (name: string, type: string, nullable = true): FieldSpec => ({ name, type: parseDataType(type), nullable });
const PEOPLE: FieldSpec[] = [f('id', 'bigint', false), f('name', 'string'), f('age', 'int'), f('balance', 'decimal(10,2)'), f('joined', 'date'), f('seen', 'timestamp'), f('vip', 'boolean')];

function file(name: string, content: string | Buffer, mtimeSeconds?: number): string {
  const p = path.join(dir.path, name);
  writeFileSync(p, content);
  if (mtimeSeconds !== undefined) utimesSync(p, mtimeSeconds, mtimeSeconds);
  return p;
}

async function read(config: Record<string, unknown>, stream: Partial<ConfiguredStream> = {}, options = {}) {
  const source = csvSource(options);
  const parsed = source.configSchema.parse(config);
  const ctx = testRunContext({ cwd: dir.path });
  const s: ConfiguredStream = { name: 'people', schema: PEOPLE, syncMode: 'full_refresh', ...stream };
  const messages: ExtractMessage[] = [];
  for await (const m of source.read(parsed, { streams: [s] }, ctx)) messages.push(m);
  const rows = messages.flatMap((m) => (m.kind === 'batch' ? [...readRows(m.batch, s.schema)] : []));
  const rejected = messages.filter((m): m is RejectedMessage => m.kind === 'rejected');
  const checkpoints = messages.filter((m) => m.kind === 'checkpoint').map((m) => (m.kind === 'checkpoint' ? m.checkpoint : undefined));
  const warnings = messages.flatMap((m) => (m.kind === 'warning' ? [m.message] : []));
  return { rows, rejected, checkpoints, warnings, ctx };
}

const HEADER = 'id,name,age,balance,joined,seen,vip\n';

describe('csvSource', () => {
  it('fails a file that shrank after it was listed instead of delivering part of it (file size as the total)', async () => {
    file('shrink-a.csv', `${HEADER}1,a,,,,,\n`, 1_000);
    const b = file('shrink-b.csv', `${HEADER}${Array.from({ length: 50 }, (_, i) => `${i + 2},b,,,,,`).join('\n')}\n`, 2_000);
    const source = csvSource();
    const parsed = source.configSchema.parse({ files: [{ path: 'shrink-*.csv' }] });
    const s: ConfiguredStream = { name: 'people', schema: PEOPLE, syncMode: 'full_refresh' };
    const seen: ExtractMessage['kind'][] = [];
    const run = async () => {
      for await (const m of source.read(parsed, { streams: [s] }, testRunContext({ cwd: dir.path }))) {
        seen.push(m.kind);
        // The second file is cut short after both were listed.
        if (m.kind === 'batch') writeFileSync(b, `${HEADER}2,b,,,,,\n`);
      }
    };
    await expect(run()).rejects.toMatchObject({
      code: 'FILE_CHANGED',
      message: expect.stringMatching(/^shrink-b\.csv: the file ended after \d+ bytes but was \d+ bytes when the run listed it: it shrank during the run/),
    });
    // Only the first file's batch reached the pipeline: nothing of the shrunk one.
    expect(seen.filter((k) => k === 'batch')).toHaveLength(1);
    reliabilityRow({ connector: 'CSV source', fault: 'a file cut short after the run listed it', outcome: 'fails (`FILE_CHANGED`) before any row of it is delivered; no silent part' });
  });

  it('coerces every column to the asset schema, matching columns by name in any order', async () => {
    file('a.csv', `vip,id,name,age,balance,joined,seen,extra\nyes,1,"Smith, Jo",40,12.5,2024-01-02,2024-01-02 03:04:05,x\n0,2,,,,,,y\n`);
    const { rows, warnings } = await read({ files: [{ path: 'a.csv' }] });
    expect(rows).toEqual([
      { id: 1n, name: 'Smith, Jo', age: 40, balance: '12.50', joined: '2024-01-02', seen: '2024-01-02T03:04:05.000000', vip: true },
      { id: 2n, name: null, age: null, balance: null, joined: null, seen: null, vip: false },
    ]);
    expect(warnings).toEqual(['a.csv: columns not in the asset schema are ignored: extra']);
  });

  it('reads across chunk boundaries exactly (quoted delimiters, quotes and newlines in fields)', async () => {
    const expected: Array<{ id: bigint; name: string }> = [];
    let text = 'id,name\n';
    for (let i = 0; i < 60_000; i++) {
      const name = i % 7 === 0 ? `multi\nline "${i}", ok` : i % 5 === 0 ? `comma, ${i}` : `plain${i}`;
      expected.push({ id: BigInt(i), name });
      text += `${i},${/[",\n]/.test(name) ? `"${name.replace(/"/g, '""')}"` : name}${i % 3 === 0 ? '\r\n' : '\n'}`;
    }
    file('big.csv', text);
    const schema = [f('id', 'bigint'), f('name', 'string')];
    const { rows, checkpoints } = await read({ files: ['big.csv'] }, { schema }, { batchRows: 5000 });
    expect(Buffer.byteLength(text)).toBeGreaterThan(1 << 20);
    expect(rows).toEqual(expected);
    expect(checkpoints.length).toBe(14); // 12 batches, end of file, end of stream
  });

  it('reads UTF-16-LE, latin1 and gzip input', async () => {
    const content = `${HEADER}1,Zoë 😀,30,1.00,2024-01-01,2024-01-01 00:00:00,true\n`;
    file('u16.csv', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(content, 'utf16le')]));
    file('l1.csv', Buffer.from(content.replace(' 😀', ''), 'latin1'));
    file('g.csv.gz', gzipSync(Buffer.from(`\uFEFF${content}`)));
    expect((await read({ files: ['u16.csv'], engine: { options: { encoding: 'UTF_16_LE' } } })).rows[0]?.name).toBe('Zoë 😀');
    expect((await read({ files: ['l1.csv'], csv: { encoding: 'latin1' } })).rows[0]?.name).toBe('Zoë');
    expect((await read({ files: ['g.csv.gz'] })).rows[0]?.name).toBe('Zoë 😀');
  });

  it('honours delimiter, header, skip_rows, null_values and empty_as options', async () => {
    file('opt.csv', 'generated by export tool\n1;NULL;;1.5;;;f\n2;"";N/A;;;;t\n');
    const { rows } = await read({ files: ['opt.csv'], engine: { options: { sep: ';', header: false, skiprows: 1, na_values: ['NULL', 'N/A'] } } });
    expect(rows.map((r) => [r.id, r.name, r.age, r.balance])).toEqual([
      [1n, null, null, '1.50'],
      [2n, '', null, null],
    ]);
    file('empty.csv', 'id,name\n1,\n2,""\n');
    const schema = [f('id', 'bigint'), f('name', 'string')];
    expect((await read({ files: ['empty.csv'], csv: { empty_as: 'empty_string' } }, { schema })).rows.map((r) => r.name)).toEqual(['', '']);
    // v1's null texts by default: "", NULL, null and None, quoted or not.
    expect((await read({ files: ['empty.csv'] }, { schema })).rows.map((r) => r.name)).toEqual([null, null]);
    expect((await read({ files: ['empty.csv'], csv: { null_values: [] } }, { schema })).rows.map((r) => r.name)).toEqual([null, '']);
    file('nulls.csv', 'id,name\n1,NULL\n2,null\n3,None\n4,"NULL"\n5,none\n6,N/A\n');
    expect((await read({ files: ['nulls.csv'] }, { schema })).rows.map((r) => r.name)).toEqual([null, null, null, null, 'none', 'N/A']);
    expect((await read({ files: ['nulls.csv'], csv: { null_values: ['N/A'] } }, { schema })).rows.map((r) => r.name)).toEqual(['NULL', 'null', 'None', 'NULL', 'none', null]);
  });

  it('rejects bad rows with file, row, line, column and value; the rest goes on', async () => {
    file('bad.csv', `${HEADER}1,ok,1,1,2024-01-01,2024-01-01,t\n2,"two\nlines",abc,1,2024-01-01,2024-01-01,t\n3,short\n4,ok,4,1.234,2024-01-01,2024-01-01,t\n,missing id,5,1,2024-01-01,2024-01-01,t\n6,"bad"quote,6,1,2024-01-01,2024-01-01,t\n7,ok,7,1,2024-01-01,2024-01-01,t\n`);
    const { rows, rejected } = await read({ files: ['bad.csv'] });
    expect(rows.map((r) => r.id)).toEqual([1n, 7n]);
    expect(rejected.map((r) => r.error.message)).toEqual([
      "bad.csv row 2 (line 3), column 'age': 'abc' is not an integer",
      'bad.csv row 3 (line 5): expected 7 fields, found 2',
      "bad.csv row 4 (line 6), column 'balance': '1.234' has more than 2 digits after the decimal point",
      "bad.csv row 5 (line 7), column 'id': '' is required but empty",
      'bad.csv row 6 (line 8): unexpected character after a closing quote',
    ]);
    expect(rejected[0]?.raw).toEqual({ id: '2', name: 'two\nlines', age: 'abc', balance: '1', joined: '2024-01-01', seen: '2024-01-01', vip: 't' });
    expect(rejected[1]?.raw).toEqual({ id: '3', name: 'short' });
    expect(rejected[0]?.context).toEqual({ file: 'bad.csv', row: 2, line: 3, column: 'age' });
    expect(rejected.every((r) => r.error.kind === 'validation')).toBe(true);
  });

  it('an unclosed quote rejects the line it opened on, whole, and the rows after it are read as rows', async () => {
    // The shape of v1's Product_malformed.csv: a quote that is never closed, then good and ragged rows.
    file('unclosed.csv', `${HEADER}1,ok,1,1,2024-01-01,2024-01-01,t\n"Unclosed quote,2,1,2024-01-01,2024-01-01,t\n3,ok,3,1,2024-01-01,2024-01-01,t\n4,too,many,fields,here,1,2,3,4\n5,ok,5,1,2024-01-01,2024-01-01,t\n`);
    const { rows, rejected } = await read({ files: ['unclosed.csv'] });
    expect(rows.map((r) => r.id)).toEqual([1n, 3n, 5n]);
    expect(rejected.map((r) => r.error.message)).toEqual([
      'unclosed.csv row 2 (line 3): unclosed quote: the quoted field opened on line 3 is never closed; the line is rejected and reading continues on line 4',
      'unclosed.csv row 4 (line 5): expected 7 fields, found 9',
    ]);
    expect(rejected[0]?.raw).toBe('"Unclosed quote,2,1,2024-01-01,2024-01-01,t');
    expect(rejected[0]?.context).toEqual({ file: 'unclosed.csv', row: 2, line: 3 });
    expect(rejected[0]?.error.code).toBe('CSV_UNCLOSED_QUOTE');
    expect(rejected[1]?.raw).toEqual({ id: '4', name: 'too', age: 'many', balance: 'fields', joined: 'here', seen: '1', vip: '2', _extra_8: '3', _extra_9: '4' });
  });

  it('does not buffer a never-closed quote without bound: past max_row_mb its line is rejected and reading goes on', async () => {
    const good = (i: number): string => `${i},name ${i},${i},1,2024-01-01,2024-01-01,t\n`;
    let text = `${HEADER}${good(1)}"never closed,2,2,1,2024-01-01,2024-01-01,t\n`;
    for (let i = 3; i < 20_000; i++) text += good(i);
    file('long.csv', text);
    const { rows, rejected } = await read({ files: ['long.csv'], csv: { max_row_mb: 0.1 } });
    expect(rejected.map((r) => r.error.code)).toEqual(['CSV_UNCLOSED_QUOTE']);
    expect(rows).toHaveLength(19_998);
    expect(rows.at(-1)?.id).toBe(19_999n);
  });

  it("honours the run's batch limits (a job's batch.max_rows)", async () => {
    file('batches.csv', `${HEADER}${Array.from({ length: 7 }, (_, i) => `${i},n,1,1,2024-01-01,2024-01-01,t`).join('\n')}\n`);
    const source = csvSource();
    const ctx = testRunContext({ cwd: dir.path });
    ctx.batchLimits = { maxRows: 3, maxBytes: 1 << 20 };
    const sizes: number[] = [];
    for await (const m of source.read(source.configSchema.parse({ files: ['batches.csv'] }), { streams: [{ name: 'people', schema: PEOPLE, syncMode: 'full_refresh' }] }, ctx)) if (m.kind === 'batch') sizes.push(m.batch.numRows);
    expect(sizes).toEqual([3, 3, 1]);
  });

  it('fails clearly on a missing file, a missing required column, an empty file and an unknown encoding', async () => {
    await expect(read({ files: ['nope.csv'] })).rejects.toThrow(/^source\.files\[0\]\.path: input file 'nope\.csv' not found/);
    file('noid.csv', 'name\nx\n');
    await expect(read({ files: ['noid.csv'] })).rejects.toThrow("noid.csv: the header has no column 'id' required by the asset (header: name)");
    file('zero.csv', '');
    await expect(read({ files: ['zero.csv'] })).rejects.toThrow('zero.csv: the file is empty; expected a header row');
    file('enc.csv', HEADER);
    await expect(read({ files: ['enc.csv'], csv: { encoding: 'klingon' } })).rejects.toThrow("unsupported encoding 'klingon'");
  });

  it('reads globs in modification-time order and, incrementally, only new or changed files', async () => {
    const base = 1_700_000_000;
    file('inc-b.csv', `${HEADER}2,b,1,1,2024-01-01,2024-01-01,t\n`, base + 20);
    file('inc-a.csv', `${HEADER}1,a,1,1,2024-01-01,2024-01-01,t\n`, base + 10);
    const first = await read({ files: [{ path: 'inc-*.csv' }], incremental: { strategy: 'file_modified_time' } }, { syncMode: 'incremental' });
    expect(first.rows.map((r) => r.name)).toEqual(['a', 'b']);
    const done = first.checkpoints.at(-1);
    expect(done?.state).toMatchObject({ v: 1, done: true });
    const none = await read({ files: ['inc-*.csv'] }, { syncMode: 'incremental', resumeFrom: done! });
    expect(none.rows).toEqual([]);
    file('inc-c.csv', `${HEADER}3,c,1,1,2024-01-01,2024-01-01,t\n`, base + 30);
    file('inc-a.csv', `${HEADER}1,a2,1,1,2024-01-01,2024-01-01,t\n`, base + 40);
    const next = await read({ files: ['inc-*.csv'] }, { syncMode: 'incremental', resumeFrom: done! });
    expect(next.rows.map((r) => r.name)).toEqual(['c', 'a2']);
    // A finished full refresh starts over.
    const full = await read({ files: ['inc-*.csv'] }, { syncMode: 'full_refresh', resumeFrom: done! });
    expect(full.rows.map((r) => r.name)).toEqual(['b', 'c', 'a2']);
  });
});

function conformanceFiles(): void {
  let text = HEADER;
  for (let i = 0; i < 2500; i++) text += `${i},"name ${i}",${i % 90},${i}.25,2024-01-01,2024-01-01 00:00:00,${i % 2 === 0}\n`;
  file('conf-plain.csv', text, 1_700_000_000);
  file('conf-zipped.csv.gz', gzipSync(Buffer.from(text)), 1_700_000_000);
}

/** A later file for the incremental case: rows no earlier file has. */
function moreRows(): string {
  let text = HEADER;
  for (let i = 2500; i < 2640; i++) text += `${i},"later ${i}",${i % 90},${i}.25,2024-02-01,2024-02-01 00:00:00,true\n`;
  return text;
}

for (const [label, pattern, later] of [
  ['csv (seekable)', 'conf-plain*.csv', () => file('conf-plain-2.csv', moreRows(), 1_700_000_100)],
  ['csv (gzip, resumed by row count)', 'conf-zipped*.csv.gz', () => file('conf-zipped-2.csv.gz', gzipSync(Buffer.from(moreRows())), 1_700_000_100)],
] as const) {
  describeExtractorConformance(label, {
    create: () => csvSource({ batchRows: 300 }),
    config: () => ({ files: [{ path: pattern, object: 'people' }] }),
    setup: async () => conformanceFiles(),
    context: () => testRunContext({ cwd: dir.path }),
    streams: (discovered) => discovered.map((d) => ({ name: d.name, schema: PEOPLE, syncMode: 'full_refresh' })),
    invalidConfigs: () => [
      { config: { files: [] }, field: 'files' },
      { config: { files: [pattern], csv: { delimiter: ';;' } }, field: 'csv.delimiter' },
      { config: { files: [pattern], csv: { encoding: 'klingon' } }, field: 'encoding' },
      { config: { files: ['no-such-dir/*.csv'] }, field: 'files' },
    ],
    incremental: {
      streams: (discovered) => discovered.map((d) => ({ name: d.name, schema: PEOPLE, syncMode: 'incremental' })),
      append: async () => {
        later();
        return 140;
      },
    },
  });
}
