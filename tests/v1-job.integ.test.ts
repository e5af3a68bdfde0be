import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '@dativo/testing';
import { queryDuckDb, sqlString } from '@dativo/testing/duckdb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parquetFiles, runCli } from './helpers.js';

/**
 * Acceptance: a v1-format job (CSV + ODCS asset using every schema type) produces Parquet whose
 * full content DuckDB reads back equal to the input; the same data as UTF-16-LE works too.
 */
const scratch = tempDir('dativo-v1-');
afterAll(() => scratch.cleanup());

const ROWS = 5000;
let seed = 20_261_125;
const rand = (): number => {
  seed = (seed * 48271) % 2147483647;
  return seed / 2147483647;
};
const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
const digits = (n: number): string => Array.from({ length: n }, () => int(0, 9)).join('');
const pick = <T>(xs: T[]): T => xs[int(0, xs.length - 1)] as T;
const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

interface Expected {
  id: string;
  label: string | null;
  qty: string | null;
  price: number | null;
  amount: string | null;
  big: string | null;
  flag: boolean | null;
  day: string | null;
  at: string | null;
  at_tz: string | null;
  blob: string | null;
  doc: string | null;
}

const csvField = (v: string): string => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
const WORDS = ['plain', 'comma, inside', 'quote "x"', 'multi\nline', 'ünïcödé', '数据', 'emoji 🚀', ' padded ', 'semi;colon'];

function generate(): { csv: string; expected: Expected[] } {
  const expected: Expected[] = [];
  const lines = ['id,label,qty,price,amount,big,flag,day,at,at_tz,blob,doc'];
  for (let i = 0; i < ROWS; i++) {
    const nul = (): boolean => rand() < 0.08;
    const id = i % 10 === 0 ? (2n ** 53n + BigInt(i)).toString() : String(i);
    const label = nul() ? null : `${pick(WORDS)} ${i}`;
    // v1's `integer` is 64-bit: values past 32 bits must load.
    const qty = nul() ? null : String(int(-(2 ** 40), 2 ** 40));
    const price = nul() ? null : (rand() - 0.5) * 10 ** int(-5, 12);
    const scale4 = `${int(0, 1) ? '-' : ''}${String(int(0, 99999999999999))}.${digits(4)}`;
    const amount = nul() ? null : scale4.replace(/^(-?)0+(\d)/, '$1$2');
    const big = nul() ? null : `${digits(1).replace('0', '1')}${digits(27)}.${digits(10)}`;
    const flag = nul() ? null : rand() < 0.5;
    const y = int(1900, 2099);
    const m = int(1, 12);
    const d = int(1, 28);
    const day = nul() ? null : `${y}-${pad(m)}-${pad(d)}`;
    const micros = int(0, 999999);
    const at = nul() ? null : `${y}-${pad(m)}-${pad(d)} ${pad(int(0, 23))}:${pad(int(0, 59))}:${pad(int(0, 59))}.${pad(micros, 6)}`;
    const offsetH = int(-11, 12);
    const localMs = Date.UTC(y, m - 1, d, int(0, 23), int(0, 59), int(0, 59));
    const atTzText = `${new Date(localMs).toISOString().slice(0, 19)}${offsetH >= 0 ? '+' : '-'}${pad(Math.abs(offsetH))}:00`;
    const at_tz = nul() ? null : `${new Date(localMs - offsetH * 3600_000).toISOString().slice(0, 19).replace('T', ' ')}.000000`;
    const bytes = Buffer.from(Array.from({ length: int(0, 24) }, () => int(0, 255)));
    // A quoted empty field (`""`) is null with v1's null texts, as an empty one is.
    const blob = nul() || bytes.length === 0 ? null : bytes.toString('hex').toUpperCase();
    const docValue = { i, tags: [pick(WORDS), i % 3 === 0], nested: { ok: flag } };
    const doc = nul() ? null : JSON.stringify(docValue);
    expected.push({ id, label, qty, price, amount, big, flag, day, at, at_tz, blob, doc });
    lines.push(
      [
        id,
        label === null ? '' : csvField(label),
        qty ?? '',
        price === null ? '' : String(price),
        amount ?? '',
        big ?? '',
        flag === null ? '' : pick(flag ? ['true', 'TRUE', 't', '1', 'yes'] : ['false', 'F', '0', 'no']),
        day ?? '',
        at ?? '',
        at_tz === null ? '' : atTzText,
        blob === null ? '' : bytes.length === 0 ? '""' : bytes.toString('base64'),
        doc === null ? '' : csvField(doc),
      ].join(','),
    );
  }
  return { csv: `${lines.join('\r\n')}\r\n`, expected };
}

const ASSET = `$schema: schemas/odcs/dativo-odcs-3.0.2-extended.schema.json
apiVersion: v3.0.2
kind: DataContract
id: 7e4f4a57-1f5e-4d40-8f55-0a9b1c2d3e4f
name: csv_all_types
version: "1.0"
status: active
domain: dativo
dataProduct: qa
tenant: acme
description: { purpose: "every type", limitations: null, usage: tests }
tags: [qa]
source_type: csv
object: AllTypes
target: { file_format: parquet, partitioning: [ingest_date], mode: strict }
schema:
  - { name: id, type: long, required: true }
  - { name: label, type: string }
  - { name: qty, type: integer }
  - { name: price, type: float }
  - { name: amount, type: "decimal(18,4)" }
  - { name: big, type: decimal, precision: 38, scale: 10 }
  - { name: flag, type: boolean }
  - { name: day, type: date }
  - { name: at, type: timestamp }
  - { name: at_tz, type: timestamp with time zone }
  - { name: blob, type: binary }
  - { name: doc, type: json }
data_quality:
  expectations: []
  monitoring: { enabled: true, oncall_rotation: qa@acme.example }
  alerts: { channels: [email], thresholds: {} }
team: { owner: qa@acme.example }
compliance: { classification: [], regulations: [], retention_days: 30, security: { access_control: role_based, encryption_required: false } }
change_management: { policy: non-breaking, approval_required: false }
`;

const job = (name: string, file: string, encoding?: string): string => `tenant_id: acme
environment: prod
source_connector: csv
source_connector_path: connectors/csv.yaml
target_connector: iceberg
target_connector_path: connectors/iceberg.yaml
asset: csv_all_types
asset_path: assets/csv/v1.0/all_types.yaml
source:
  files:
    - path: ${file}
      object: AllTypes
${encoding ? `  engine:\n    type: pandas\n    options:\n      encoding: ${encoding}\n` : ''}target:
  warehouse: "\${OUT_DIR}/${name}"
schema_validation_mode: strict
logging: { level: INFO, redaction: true }
`;

let expected: Expected[];
const dir = path.join(scratch.path, 'v1');

beforeAll(() => {
  const generated = generate();
  expected = generated.expected;
  for (const sub of ['connectors', 'assets/csv/v1.0', 'jobs/acme', 'data']) mkdirSync(path.join(dir, sub), { recursive: true });
  writeFileSync(path.join(dir, 'connectors/csv.yaml'), 'name: csv\ntype: csv\nroles: [source]\ndefault_engine: { type: pandas, options: { delimiter: "," } }\n');
  writeFileSync(path.join(dir, 'connectors/iceberg.yaml'), 'name: iceberg\ntype: iceberg\nroles: [target]\ndefault_engine: { type: pyiceberg }\n');
  writeFileSync(path.join(dir, 'assets/csv/v1.0/all_types.yaml'), ASSET);
  writeFileSync(path.join(dir, 'data/all_types.csv'), generated.csv);
  writeFileSync(path.join(dir, 'data/all_types_utf16.csv'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(generated.csv, 'utf16le')]));
  writeFileSync(path.join(dir, 'jobs/acme/all_types.yaml'), job('utf8', 'data/all_types.csv'));
  writeFileSync(path.join(dir, 'jobs/acme/all_types_utf16.yaml'), job('utf16', 'data/all_types_utf16.csv', 'UTF-16-LE'));
});

async function readBack(table: string): Promise<Record<string, unknown>[]> {
  const files = parquetFiles(path.join(dir, 'out', table));
  expect(files.length).toBe(1);
  return queryDuckDb(`SELECT id::VARCHAR AS id, label, qty::VARCHAR AS qty, price, amount::VARCHAR AS amount, big::VARCHAR AS big, flag, day::VARCHAR AS day,
      strftime("at", '%Y-%m-%d %H:%M:%S.%f') AS "at", strftime(at_tz AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S.%f') AS at_tz, hex(blob) AS blob, doc
    FROM read_parquet(${sqlString(files[0] as string)}, hive_partitioning = false) ORDER BY id::HUGEINT`);
}

const sortedExpected = (): Expected[] => [...expected].sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));

describe('v1 job, every schema type', () => {
  it('lands the CSV in Parquet that DuckDB reads back equal: row count, column types and every value', async () => {
    const result = await runCli(['run', '--config', 'jobs/acme/all_types.yaml'], { cwd: dir, env: { OUT_DIR: 'out' } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('target_connector iceberg without a catalog (no target.connection.nessie): writing plain Parquet files, as v1 does');
    const files = parquetFiles(path.join(dir, 'out', 'utf8'));
    const types = await queryDuckDb(`SELECT column_name AS c, column_type AS t FROM (DESCRIBE SELECT * FROM read_parquet(${sqlString(files[0] as string)}, hive_partitioning = false))`);
    expect(types.map((r) => `${r.c}:${r.t}`)).toEqual([
      'id:BIGINT',
      'label:VARCHAR',
      'qty:BIGINT',
      'price:DOUBLE',
      'amount:DECIMAL(18,4)',
      'big:DECIMAL(38,10)',
      'flag:BOOLEAN',
      'day:DATE',
      'at:TIMESTAMP',
      'at_tz:TIMESTAMP WITH TIME ZONE',
      'blob:BLOB',
      'doc:VARCHAR',
    ]);
    const rows = await readBack('utf8');
    expect(rows.length).toBe(ROWS);
    const want = sortedExpected();
    for (let i = 0; i < ROWS; i++) expect(rows[i], `row ${i}`).toEqual(want[i]);
  });

  it('reads the same data from a UTF-16-LE file (source.engine.options.encoding)', async () => {
    const result = await runCli(['run', 'jobs/acme/all_types_utf16.yaml'], { cwd: dir, env: { OUT_DIR: 'out' } });
    expect(result.code, result.stderr).toBe(0);
    const rows = await readBack('utf16');
    expect(rows).toEqual(sortedExpected());
  });
});
