import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { reliabilityRow, tempDir } from '@dativo/testing';
import { queryDuckDb, sqlString } from '@dativo/testing/duckdb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parquetFiles, runCli } from './helpers.js';

/**
 * A malformed-record corpus through the CLI: bad encodings, ragged rows, overflowing numbers,
 * invalid dates and timestamps, deeply nested and broken JSON, a 20 MB field and NUL bytes each land
 * in the dead-letter queue with a clear error naming the row, the line and the column; the good
 * row is loaded. After the fixes (the asset widened, the entries' raw values edited) `dativo dlq
 * replay` delivers every one of them exactly once, which DuckDB checks value by value.
 */
const scratch = tempDir('dativo-malformed-');
const dir = scratch.path;
const BIG = 20 * 1024 * 1024;
const GOOD = ['2024-01-02', '2024-01-02 03:04:05'];

/** One CSV line per case: [id, the line's bytes, the error code, what the message must say]. */
const CASES: Array<{ id: number; line: Buffer; code: string; says: RegExp }> = [];
const add = (id: number, line: string | Buffer, code: string, says: RegExp) => CASES.push({ id, line: typeof line === 'string' ? Buffer.from(line) : line, code, says });

beforeAll(() => {
  add(2, Buffer.concat([Buffer.from(`2,5,1.5,9.99,${GOOD.join(',')},{},caf`), Buffer.from([0xe9]), Buffer.from(' in latin1')]), 'CSV_ENCODING', /row 2 \(line 3\): invalid UTF-8 bytes; set source.engine.options.encoding/);
  add(3, `3,5,1.5,9.99,${GOOD.join(',')},{},three,extra,fields`, 'CSV_RAGGED_ROW', /row 3 \(line 4\): expected 8 fields, found 10/);
  add(4, '4,5,1.5', 'CSV_RAGGED_ROW', /row 4 \(line 5\): expected 8 fields, found 3/);
  add(5, `5,99999999999,1.5,9.99,${GOOD.join(',')},{},int overflow`, 'CSV_BAD_VALUE', /column 'qty': '99999999999' is out of range for integer/);
  add(6, `99999999999999999999,5,1.5,9.99,${GOOD.join(',')},{},bigint overflow`, 'CSV_BAD_VALUE', /column 'id': '99999999999999999999' is out of range for bigint/);
  add(7, `7,5,1e400,9.99,${GOOD.join(',')},{},double overflow`, 'CSV_BAD_VALUE', /column 'amount': '1e400' is out of range for double/);
  add(8, `8,5,1.5,123456789012.34,${GOOD.join(',')},{},decimal overflow`, 'CSV_BAD_VALUE', /column 'price': '123456789012.34' needs 12 digits before the decimal point; decimal\(10,2\) allows 8/);
  add(9, `9,5,1.5,9.99,2024-02-30,${GOOD[1]},{},invalid date`, 'CSV_BAD_VALUE', /column 'day': '2024-02-30' is not a date/);
  add(10, `10,5,1.5,9.99,${GOOD[0]},2024-13-01 25:00:00,{},invalid timestamp`, 'CSV_BAD_VALUE', /column 'seen': '2024-13-01 25:00:00' is not a timestamp/);
  add(11, `11,5,1.5,9.99,${GOOD.join(',')},"${'['.repeat(100_000)}${']'.repeat(100_000)}",deep json`, 'CSV_BAD_VALUE', /column 'payload': .* is nested more than 500 levels deep/);
  add(12, `12,5,1.5,9.99,${GOOD.join(',')},{},${'x'.repeat(BIG)}`, 'CSV_FIELD_TOO_LARGE', /column 'note': the field is 20 MiB, over the 16 MiB limit \(source.engine.options.max_field_mb\)/);
  add(13, `13,5,1.5,9.99,${GOOD.join(',')},{},nul\u0000byte`, 'CSV_NUL_BYTE', /column 'note': contains a NUL byte/);
  add(14, `14,5,1.5,9.99,${GOOD.join(',')},"{""bad json",broken json`, 'CSV_BAD_VALUE', /column 'payload': '\{""bad json' is not valid JSON/);
  const lines = [Buffer.from('id,qty,amount,price,day,seen,payload,note'), Buffer.from(`1,5,1.5,9.99,${GOOD.join(',')},"{""a"":1}",good`), ...CASES.map((c) => c.line)];
  writeFileSync(path.join(dir, 'corpus.csv'), Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])));
  asset('int', 'decimal(10,2)');
  writeFileSync(
    path.join(dir, 'job.yaml'),
    'tenant_id: acme\nenvironment: dev\nsource_connector: csv\ntarget_connector: parquet\nasset: corpus\nasset_path: asset.yaml\nsource:\n  files: [{ path: corpus.csv }]\ntarget:\n  path: out\n  partitioning: []\nschema_validation_mode: warn\n',
  );
});
afterAll(() => scratch.cleanup());

function asset(qty: string, price: string): void {
  writeFileSync(
    path.join(dir, 'asset.yaml'),
    `name: corpus\nschema:\n  - { name: id, type: bigint, required: true }\n  - { name: qty, type: ${qty} }\n  - { name: amount, type: double }\n  - { name: price, type: "${price}" }\n  - { name: day, type: date }\n  - { name: seen, type: timestamp }\n  - { name: payload, type: json }\n  - { name: note, type: string }\nprimary_key: [id]\n`,
  );
}

interface Entry {
  raw: Record<string, unknown>;
  error: { code: string; message: string };
  context: { row: number; line: number; column?: string };
}

describe('a malformed-record corpus', () => {
  it('each bad record lands in the dead-letter queue with a clear error; after the fixes, replay delivers every one exactly once', async () => {
    const first = await runCli(['run', 'job.yaml', '--json'], { cwd: dir });
    const report = JSON.parse(first.stdout) as { jobs: Array<{ runId: string; rows: number; rejected: number; deadLetterFile: string }> };
    // 13 of 14 records set aside: above the default max_dlq_ratio (0), so partial.
    expect(first.code, first.stderr.slice(-2000)).toBe(1);
    expect(report.jobs[0]).toMatchObject({ rows: 1, rejected: CASES.length });
    const file = report.jobs[0]?.deadLetterFile as string;
    const entries = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Entry);
    expect(entries).toHaveLength(CASES.length);
    CASES.forEach((c, i) => {
      const e = entries[i] as Entry;
      expect(e.error.code, `case ${c.id}`).toBe(c.code);
      expect(e.error.message, `case ${c.id}`).toMatch(c.says);
      expect(e.error.message, `case ${c.id}`).toMatch(/^corpus\.csv row \d+ \(line \d+\)/);
      expect(e.context, `case ${c.id}`).toMatchObject({ row: i + 2, line: i + 3 });
      // A message stays readable whatever the value (the 20 MB field, the deep JSON are cut short).
      expect(e.error.message.length, `case ${c.id}`).toBeLessThan(400);
    });
    // The raw record keeps the value as read (the 20 MB field whole, the NUL byte in place).
    expect((entries[10]?.raw.note as string).length).toBe(BIG);
    expect(entries[11]?.raw.note).toBe('nul\u0000byte');

    // The fixes: a wider asset for the overflowing integer and decimal, and the other values edited in the entries.
    asset('bigint', 'decimal(14,2)');
    const fixes: Record<number, Record<string, unknown>> = {
      0: { note: 'café in latin1' },
      1: { note: 'three' },
      2: { price: '9.99', day: GOOD[0], seen: GOOD[1], payload: '{}', note: 'short' },
      4: { id: '6' },
      5: { amount: '1e300' },
      7: { day: '2024-02-29' },
      8: { seen: '2024-12-01 23:00:00' },
      9: { payload: '[[[1]]]' },
      11: { note: 'nul byte' },
      12: { payload: '{"bad json": true}' },
    };
    const edited = entries.map((e, i) => JSON.stringify({ ...e, raw: { ...e.raw, ...(fixes[i] ?? {}) } }));
    writeFileSync(file, `${edited.join('\n')}\n`);

    const run = report.jobs[0]?.runId as string;
    const replay = await runCli(['dlq', 'replay', '--config', 'job.yaml', '--run', run, '--json'], { cwd: dir });
    expect(replay.code, replay.stderr.slice(-2000)).toBe(0);
    expect(JSON.parse(replay.stdout)).toMatchObject({ rows: CASES.length, rejected: 0 });
    // Again: refused (already replayed), nothing sent twice.
    const again = await runCli(['dlq', 'replay', '--config', 'job.yaml', '--run', run], { cwd: dir });
    expect(again.code).not.toBe(0);
    expect(again.stdout + again.stderr).toMatch(/were replayed already; --force sends them again/);

    const files = parquetFiles(path.join(dir, 'out'));
    const rows = await queryDuckDb(
      `SELECT id::VARCHAR AS id, qty::VARCHAR AS qty, amount::VARCHAR AS amount, price::VARCHAR AS price, day::VARCHAR AS day, seen::VARCHAR AS seen, length(payload)::INTEGER AS payload, note, length(note)::INTEGER AS len FROM read_parquet([${files.map(sqlString).join(', ')}], union_by_name = true) ORDER BY id::BIGINT`,
    );
    expect(rows.map((r) => r.id)).toEqual(Array.from({ length: 14 }, (_, i) => String(i + 1)));
    const by = (id: number) => rows.find((r) => r.id === String(id)) as Record<string, unknown>;
    expect(by(2).note).toBe('café in latin1');
    expect(by(4)).toMatchObject({ qty: '5', amount: '1.5', price: '9.99', note: 'short' });
    expect(by(5).qty).toBe('99999999999');
    expect(by(7).amount).toBe('1e+300');
    expect(by(8).price).toBe('123456789012.34');
    expect(by(9).day).toBe('2024-02-29');
    expect(by(10).seen).toBe('2024-12-01 23:00:00');
    expect(by(12).len).toBe(BIG);
    expect(by(13).note).toBe('nul byte');
    reliabilityRow({ connector: 'CSV source → Parquet', fault: 'a malformed-record corpus: bad encoding, ragged rows, overflowing numbers, invalid dates, deep and broken JSON, a 20 MB field, NUL bytes', outcome: 'each to the dead-letter queue with a clear error (row, line, column); after the fixes `dativo dlq replay` delivers each once' });
  });
});
