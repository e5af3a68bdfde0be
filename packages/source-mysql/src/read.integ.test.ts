import { randomBytes } from 'node:crypto';
import { parseDataType, readRows, type Checkpoint, type ConfiguredStream, type ExtractMessage, type FieldSpec } from '@dativo/core';
import type { SqlSourceConfig } from '@dativo/sql-kit';
import { describeExtractorConformance, recordSecret, reliabilityRow, testRunContext } from '@dativo/testing';
import { tempMysqlDatabase, type TempMysqlDatabase } from '@dativo/testing/sql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mysqlPromise from 'mysql2/promise';
import { mysqlSource } from './index.js';

let db: TempMysqlDatabase;
const source = mysqlSource();

const FIELDS: FieldSpec[] = [
  { name: 'id', type: parseDataType('bigint'), nullable: false },
  { name: 'name', type: parseDataType('string'), nullable: true },
  { name: 'updated_at', type: parseDataType('timestamp'), nullable: true },
];

function config(extra: Record<string, unknown> = {}): SqlSourceConfig {
  return source.configSchema.parse({ connection: { uri: db.uri }, tables: [{ name: 'events' }], batch_rows: 100, ...extra });
}

const stream = (syncMode: 'full_refresh' | 'incremental', resumeFrom?: Checkpoint, name = 'events'): ConfiguredStream => ({ name, schema: FIELDS, syncMode, primaryKey: ['id'], ...(resumeFrom ? { resumeFrom } : {}) });

async function read(cfg: SqlSourceConfig, s: ConfiguredStream, ctx = testRunContext()) {
  const messages: ExtractMessage[] = [];
  const ids: number[] = [];
  for await (const m of source.read(cfg, { streams: [s] }, ctx)) {
    messages.push(m);
    if (m.kind === 'batch') for (const row of readRows(m.batch, FIELDS)) ids.push(Number(row.id));
  }
  const checkpoints = messages.filter((m) => m.kind === 'checkpoint').map((m) => (m as { checkpoint: Checkpoint }).checkpoint);
  return { messages, ids, checkpoints, last: checkpoints.at(-1), ctx };
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

beforeAll(async () => {
  db = await tempMysqlDatabase('dativo_my_read');
  await db.exec(`CREATE TABLE events (id bigint PRIMARY KEY, name varchar(100), updated_at datetime(6));
    INSERT INTO events WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 1000)
      SELECT n, CONCAT('event ', n), TIMESTAMP '2024-01-01 00:00:00' + INTERVAL n MINUTE FROM g;
    UPDATE events SET updated_at = NULL WHERE id IN (5, 6);`);
});
afterAll(async () => {
  await db?.drop();
});

describeExtractorConformance('source-mysql', {
  create: () => mysqlSource(),
  // A table of its own: the incremental case adds rows to it.
  setup: async () => {
    await db.exec(`CREATE TABLE conformance_events (id bigint PRIMARY KEY, name varchar(100), updated_at datetime(6) NOT NULL);
      INSERT INTO conformance_events WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 1000)
        SELECT n, CONCAT('event ', n), TIMESTAMP '2024-01-01 00:00:00' + INTERVAL n MINUTE FROM g;`);
  },
  config: () => ({ connection: { uri: db.uri }, tables: [{ name: 'conformance_events' }], batch_rows: 100 }),
  invalidConfigs: () => [
    { config: { connection: { uri: db.uri }, tables: [] }, field: 'tables' },
    { config: { connection: { uri: db.uri }, tables: [{ name: 'conformance_events' }], batch_rows: -1 }, field: 'batch_rows' },
    { config: { connection: { uri: db.uri }, tables: [{ name: 'no_such_table' }] }, field: 'tables' },
  ],
  incremental: {
    streams: (discovered) => discovered.map((d) => ({ name: d.name, schema: d.schema, syncMode: 'incremental', cursorField: 'updated_at', ...(d.primaryKey ? { primaryKey: d.primaryKey } : {}) })),
    append: async () => {
      await db.exec(`INSERT INTO conformance_events WITH RECURSIVE g(n) AS (SELECT 1001 UNION ALL SELECT n + 1 FROM g WHERE n < 1150)
        SELECT n, CONCAT('later ', n), TIMESTAMP '2025-01-01 00:00:00' + INTERVAL n MINUTE FROM g`);
      return 150;
    },
  },
});

describe('full refresh', () => {
  it('reads in key order with a checkpoint per batch, and resumes after any of them exactly', async () => {
    const all = await read(config(), stream('full_refresh'));
    expect(all.ids).toEqual(range(1, 1000));
    expect(all.checkpoints[2]).toEqual({ stream: 'events', state: { v: 1, done: false, key: ['300'] } });
    const resumed = await read(config(), stream('full_refresh', all.checkpoints[2]));
    expect(resumed.ids).toEqual(range(301, 1000));
  });

  it('reads key ranges in parallel inside one consistent snapshot, each row once', async () => {
    const ctx = testRunContext();
    const all = await read(config({ parallelism: 3 }), stream('full_refresh'), ctx);
    expect([...all.ids].sort((a, b) => a - b)).toEqual(range(1, 1000));
    expect((all.checkpoints[3]?.state as { ranges: unknown[] }).ranges).toHaveLength(3);
    expect(ctx.logs.records().some((e) => String(e.msg).startsWith('the global read lock'))).toBe(false);
  });

  it('does not wait long for the global read lock (it would block every writer): warns, then reads each row once', async () => {
    // Another session's table lock (on another table: the readers are not held up) makes the
    // global read lock wait.
    await db.exec('CREATE TABLE IF NOT EXISTS busy (id int PRIMARY KEY)');
    const holder = await mysqlPromise.createConnection({ uri: db.uri });
    try {
      await holder.query('LOCK TABLES busy WRITE');
      const ctx = testRunContext();
      const all = await read(config({ parallelism: 2, connection: { uri: db.uri, snapshot_lock_timeout_seconds: 1 } }), stream('full_refresh'), ctx);
      expect([...all.ids].sort((a, b) => a - b)).toEqual(range(1, 1000));
      expect(ctx.logs.records().map((e) => String(e.msg))).toContain(
        "the global read lock that aligns the parallel readers' snapshots was not granted within 1 s (another session holds a table lock or runs DDL; source.connection.snapshot_lock_timeout_seconds); each reader starts its own snapshot, moments apart",
      );
    } finally {
      await holder.end();
      await db.exec('DROP TABLE busy');
    }
  });

  it('caps parallelism at the pool size (v1 default 5) with a warning', async () => {
    const ctx = testRunContext();
    const all = await read(config({ parallelism: 8 }), stream('full_refresh'), ctx);
    expect([...all.ids].sort((a, b) => a - b)).toEqual(range(1, 1000));
    expect((all.last?.state as { done: boolean }).done).toBe(true);
    expect((all.checkpoints[0]?.state as { ranges: unknown[] }).ranges).toHaveLength(5);
    expect(ctx.logs.records().map((e) => String(e.msg)).filter((m) => m.endsWith('parallelism 8 is above source.connection.pool_size 5 (the default); reading 5 key ranges at once'))).toHaveLength(1);
    const two = await read(config({ parallelism: 8, connection: { uri: db.uri, pool_size: 2 } }), stream('full_refresh'));
    expect((two.checkpoints[0]?.state as { ranges: unknown[] }).ranges).toHaveLength(2);
    // A resumed read keeps its five ranges; a smaller pool cannot serve them.
    await expect(read(config({ parallelism: 8, connection: { uri: db.uri, pool_size: 2 } }), stream('full_refresh', all.checkpoints[0]))).rejects.toThrow(
      'parallel reads need 5 connections but source.connection.pool_size is 2 (a resumed read keeps the ranges it started with; raise pool_size or reset the state)',
    );
    expect([...two.ids].sort((a, b) => a - b)).toEqual(range(1, 1000));
  });
});

describe('row counts', () => {
  it("counts each read's rows in its own consistent snapshot: writes during the read change neither the rows nor the total", async () => {
    await db.exec(`SET SESSION max_recursive_iterations = 10000; CREATE TABLE counted (id bigint PRIMARY KEY, name varchar(100), updated_at datetime(6));
      INSERT INTO counted WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 3000) SELECT n, CONCAT('n', n), NULL FROM g;`);
    for (const parallelism of [1, 3]) {
      const messages: ExtractMessage[] = [];
      let rows = 0;
      let wrote = false;
      for await (const m of source.read(config({ tables: ['counted'], parallelism, batch_rows: 500 }), { streams: [stream('full_refresh', undefined, 'counted')] }, testRunContext())) {
        messages.push(m);
        if (m.kind !== 'batch') continue;
        rows += m.batch.numRows;
        if (!wrote) {
          wrote = true;
          await db.exec("DELETE FROM counted WHERE id > 2500; INSERT INTO counted VALUES (3001, 'late', NULL), (3002, 'late', NULL)");
        }
      }
      expect(rows, `parallelism ${parallelism}`).toBe(3000);
      expect(messages.filter((m) => m.kind === 'total')).toEqual([{ kind: 'total', stream: 'counted', records: 3000, basis: expect.stringMatching(/^COUNT\(\*\) in the read's snapshot of .*counted$/) }]);
      expect(messages.findIndex((m) => m.kind === 'total')).toBe(messages.length - 2);
      await db.exec(`DELETE FROM counted WHERE id > 3000;
        INSERT INTO counted WITH RECURSIVE g(n) AS (SELECT 2501 UNION ALL SELECT n + 1 FROM g WHERE n < 3000) SELECT n, CONCAT('n', n), NULL FROM g;`);
    }
    await db.exec('DROP TABLE counted');
    reliabilityRow({ connector: 'MySQL source', fault: 'rows deleted and inserted by another session during a read', outcome: 'the read sees its snapshot: every row of it once, and its `COUNT(*)` in the same snapshot matches' });
  });
});

describe('incremental', () => {
  it('reads NULL cursors first, then by cursor; the next run reads exactly the changed rows', async () => {
    const cfg = config({ incremental: { cursor_field: 'updated_at' } });
    const first = await read(cfg, stream('incremental'));
    expect(first.ids.slice(0, 3)).toEqual([5, 6, 1]);
    expect(first.ids).toHaveLength(1000);
    expect(first.last?.state).toEqual({ v: 1, done: true, cursor: '2024-01-01 16:40:00.000000', key: ['1000'] });
    await db.exec(`UPDATE events SET name = 'changed', updated_at = '2024-06-01' WHERE id IN (10, 20, 30);
                   INSERT INTO events VALUES (1001, 'new', '2024-06-02'), (1002, 'also new', '2024-06-01')`);
    const second = await read(cfg, stream('incremental', first.last));
    expect(second.ids).toEqual([10, 20, 30, 1002, 1001]);
    const third = await read(cfg, stream('incremental', second.last));
    expect(third.ids).toEqual([]);
    await db.exec(`DELETE FROM events WHERE id > 1000; UPDATE events SET name = CONCAT('event ', id), updated_at = TIMESTAMP '2024-01-01 00:00:00' + INTERVAL id MINUTE WHERE id IN (10, 20, 30)`);
  });

  it('re-reads lookback_days before the last cursor value, and resumes mid-run without the lookback', async () => {
    const cfg = config({ incremental: { cursor_field: 'updated_at', lookback_days: 0.25 } });
    const last: Checkpoint = { stream: 'events', state: { v: 1, done: true, cursor: '2024-01-01 16:40:00.000000', key: ['1000'] } };
    const run = await read(cfg, stream('incremental', last));
    expect(run.ids).toEqual(range(640, 1000));
    const resumed = await read(cfg, stream('incremental', run.checkpoints[1]));
    expect(resumed.ids).toEqual(range(840, 1000));
  });

  it('reads a custom query as a stream', async () => {
    const cfg = source.configSchema.parse({ connection: { uri: db.uri }, query: "SELECT id, UPPER(name) AS name, updated_at FROM events WHERE name LIKE 'event%'", batch_rows: 50 });
    const run = await read(cfg, stream('full_refresh', undefined, 'query'));
    expect(run.ids).toHaveLength(1000);
    expect([...readRows((run.messages.find((m) => m.kind === 'batch') as { batch: Parameters<typeof readRows>[0] }).batch, FIELDS)][0]).toMatchObject({ name: 'EVENT 1' });
  });
});

describe('errors', () => {
  it('names an unknown table and an unknown column', async () => {
    await expect(read(source.configSchema.parse({ connection: { uri: db.uri }, tables: ['nope'] }), stream('full_refresh'))).rejects.toThrow(/source\.tables \(nope\): table 'nope' not found in the MySQL database, or the job's user may not read it \(grant SELECT\); tables it can read: dativo_my_read_\w+\.conformance_events, dativo_my_read_\w+\.events$/);
    const s = { ...stream('full_refresh'), schema: [...FIELDS, { name: 'colour', type: parseDataType('string'), nullable: true }] };
    await expect(read(config(), s)).rejects.toThrow(/asset column 'colour': column 'colour' is not in dativo_my_read_\w+\.events \(columns: id, name, updated_at\)/);
  });

  it('names a database that does not exist, and a database the user may not read', async () => {
    const missing = await source.check(source.configSchema.parse({ connection: { host: db.host, port: db.port, user: db.user, password: db.password, database: 'dativo_no_such_db' }, tables: ['events'], max_retries: 0 }), testRunContext()).then(() => undefined, (e: Error) => e);
    expect(missing?.message).toBe(`MySQL at ${db.host}:${db.port}/dativo_no_such_db: Unknown database 'dativo_no_such_db'; check source.connection.database`);
    const user = `dativo_noperm_${randomBytes(3).toString('hex')}`;
    await db.exec(`CREATE USER '${user}'@'%' IDENTIFIED BY 'pw'; CREATE USER '${user}'@'localhost' IDENTIFIED BY 'pw'`);
    try {
      const cfg = source.configSchema.parse({ connection: { host: db.host, port: db.port, user, password: 'pw', database: db.name }, tables: ['events'], max_retries: 0 });
      const error = await source.check(cfg, testRunContext()).then(() => undefined, (e: Error) => e);
      expect(error?.message).toMatch(new RegExp(`^MySQL at ${db.host}:${db.port}/${db.name}: Access denied for user '${user}'@'[^']+' to database '${db.name}'; grant SELECT to the job's user$`));
    } finally {
      await db.exec(`DROP USER IF EXISTS '${user}'@'%'; DROP USER IF EXISTS '${user}'@'localhost'`);
    }
  });

  it('reconnects after the server kills the connection mid-stream and continues after the last batch', async () => {
    // Large enough that the server is still sending when the connection is killed.
    const digits = '(SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)';
    await db.exec(`CREATE TABLE big (id bigint PRIMARY KEY, name text, updated_at datetime);
      INSERT INTO big SELECT 1 + a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d, REPEAT('x', 300), NULL FROM ${digits} a, ${digits} b, ${digits} c, ${digits} e, ${digits} f`);
    const cfg = source.configSchema.parse({ connection: { uri: db.uri }, tables: ['big'], batch_rows: 1000 });
    const ctx = testRunContext();
    const ids: number[] = [];
    let batches = 0;
    for await (const m of source.read(cfg, { streams: [stream('full_refresh', undefined, 'big')] }, ctx)) {
      if (m.kind !== 'batch') continue;
      for (const row of readRows(m.batch, FIELDS)) ids.push(Number(row.id));
      if (++batches === 3) {
        const victims = (await db.exec(`SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = '${db.name}' AND INFO LIKE '%\`big\`%' AND INFO NOT LIKE '%PROCESSLIST%' AND ID <> CONNECTION_ID()`)) as Array<{ id: number }>;
        expect(victims.length).toBe(1);
        await db.exec(`KILL CONNECTION ${Number(victims[0]?.id)}`);
      }
    }
    expect(ids).toEqual(range(1, 100000));
    expect(ctx.logs.records().some((e) => e.msg === 'read failed; reconnecting and resuming after the last batch')).toBe(true);
    reliabilityRow({ connector: 'MySQL source', fault: 'connection killed (`KILL CONNECTION`) mid-stream', outcome: 'reconnects and resumes after the last batch: every row once' });
  });

  it('reports a statement timeout clearly and does not retry it', async () => {
    const cfg = source.configSchema.parse({ connection: { uri: db.uri, statement_timeout_ms: 200 }, tables: [{ name: 'slow', query: 'SELECT id, name, updated_at FROM events WHERE SLEEP(0.01) = 0' }] });
    const ctx = testRunContext();
    await expect(read(cfg, stream('full_refresh', undefined, 'slow'), ctx)).rejects.toThrow(/the statement was cancelled by the statement timeout \(200 ms, source\.connection\.statement_timeout_seconds\)/);
    expect(ctx.logs.records().filter((e) => String(e.msg).startsWith('read failed'))).toHaveLength(0);
    reliabilityRow({ connector: 'MySQL source', fault: 'statement timeout', outcome: 'fails at once, classified, naming the setting' });
  });

  it('rejects a wrong password with a message that names the user and never the password', async () => {
    const user = `dativo_pw_${randomBytes(3).toString('hex')}`;
    recordSecret('right-password', 'database password');
    await db.exec(`CREATE USER '${user}'@'%' IDENTIFIED BY 'right-password'; CREATE USER '${user}'@'localhost' IDENTIFIED BY 'right-password'; GRANT SELECT ON \`${db.name}\`.* TO '${user}'@'%'; GRANT SELECT ON \`${db.name}\`.* TO '${user}'@'localhost'`);
    try {
      recordSecret('hunter2-secret', 'database password (wrong)');
      const wrong = source.configSchema.parse({ connection: { host: db.host, port: db.port, user, password: 'hunter2-secret', database: db.name }, tables: ['events'], max_retries: 0 });
      const error = await source.check(wrong, testRunContext()).then(() => undefined, (e: Error) => e);
      expect(error?.message).toMatch(new RegExp(`^MySQL at ${db.host}:${db.port}/${db.name}: Access denied for user '${user}'@'[^']+' \\(using password: YES\\); check source\\.connection\\.user and password$`));
      expect(JSON.stringify({ message: error?.message, stack: error?.stack })).not.toContain('hunter2');
      const right = source.configSchema.parse({ connection: { host: db.host, port: db.port, user, password: 'right-password', database: db.name }, tables: ['events'] });
      await expect(source.check(right, testRunContext())).resolves.toBeUndefined();
    } finally {
      await db.exec(`DROP USER IF EXISTS '${user}'@'%'; DROP USER IF EXISTS '${user}'@'localhost'`);
    }
    reliabilityRow({ connector: 'MySQL source', fault: 'wrong password', outcome: 'fails at once naming the user, never the password' });
  });

  it('explains an unreachable server', async () => {
    const closed = source.configSchema.parse({ connection: { host: '127.0.0.1', port: 1, user: 'root' }, tables: ['events'], max_retries: 0 });
    await expect(source.check(closed, testRunContext())).rejects.toThrow('MySQL at 127.0.0.1:1 is unreachable (ECONNREFUSED); check source.connection.host and port');
  });
});
