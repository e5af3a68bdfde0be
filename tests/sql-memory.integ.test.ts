import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { tempMysqlDatabase, tempPostgresDatabase } from '@dativo/testing/sql';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';

/**
 * Backpressure: a table much larger than the memory bound, read by a consumer slower than the
 * database, must stream with flat memory — the reader pauses the socket while a full batch waits
 * instead of letting the driver buffer the rest of the result. Each read runs in its own process,
 * whose peak RSS (`maxRSS`) is compared with its RSS before the read.
 */
const ROWS = 300_000;
const PAYLOAD = 1024; // bytes per row: ~300 MiB in all
const BOUND_MIB = 160;

const READER = `
const [pkg, factory, uri] = process.argv.slice(1);
const { parseDataType } = await import('@dativo/core');
const { testRunContext } = await import('@dativo/testing');
const source = (await import(pkg))[factory]();
const fields = [{ name: 'id', type: parseDataType('bigint'), nullable: false }, { name: 'payload', type: parseDataType('string'), nullable: true }];
const config = source.configSchema.parse({ connection: { uri }, tables: ['wide'] });
const ctx = testRunContext();
await source.check(config, ctx);
global.gc?.();
const base = process.resourceUsage().maxRSS;
let rows = 0;
let bytes = 0;
for await (const m of source.read(config, { streams: [{ name: 'wide', schema: fields, syncMode: 'full_refresh', primaryKey: ['id'] }] }, ctx)) {
  if (m.kind !== 'batch') continue;
  rows += m.batch.numRows;
  const payload = m.batch.getChildAt(1).data[0];
  bytes += Number(payload.valueOffsets[payload.length]) - Number(payload.valueOffsets[0]);
  // A slow sink: the database could send the whole table meanwhile.
  await new Promise((r) => setTimeout(r, 300));
}
console.log(JSON.stringify({ rows, bytes, growthMiB: Math.round((process.resourceUsage().maxRSS - base) / 1024) }));
`;

async function readInChild(pkg: string, factory: string, uri: string): Promise<{ rows: number; bytes: number; growthMiB: number }> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', READER, pkg, factory, uri], { cwd: ROOT, maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split('\n').at(-1) as string);
}

const engines = [
  {
    name: 'postgres',
    factory: ['@dativo/source-postgres', 'postgresSource'],
    timeoutMs: 120_000,
    async create() {
      const db = await tempPostgresDatabase('dativo_pg_mem');
      await db.exec(`CREATE TABLE wide (id bigint PRIMARY KEY, payload text); INSERT INTO wide SELECT g, repeat(md5(g::text), ${PAYLOAD / 32}) FROM generate_series(1, ${ROWS}) g;`);
      return db;
    },
  },
  {
    name: 'mysql',
    factory: ['@dativo/source-mysql', 'mysqlSource'],
    timeoutMs: 180_000,
    async create() {
      const db = await tempMysqlDatabase('dativo_my_mem');
      await db.exec(`SET SESSION max_recursive_iterations = ${ROWS}; CREATE TABLE wide (id bigint PRIMARY KEY, payload mediumtext);
        INSERT INTO wide WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ${ROWS}) SELECT n, REPEAT(MD5(n), ${PAYLOAD / 32}) FROM g;`);
      return db;
    },
  },
] as const;

describe('database sources stream with flat memory behind a slow consumer', () => {
  for (const engine of engines) {
    it(engine.name, async () => {
      const db = await engine.create();
      try {
        const result = await readInChild(engine.factory[0], engine.factory[1], db.uri);
        expect(result.rows).toBe(ROWS);
        expect(result.bytes).toBe(ROWS * PAYLOAD);
        expect(result.growthMiB, `RSS grew by ${result.growthMiB} MiB while reading ${(ROWS * PAYLOAD) >> 20} MiB`).toBeLessThan(BOUND_MIB);
      } finally {
        await db.drop();
      }
    }, engine.timeoutMs);
  }
});
