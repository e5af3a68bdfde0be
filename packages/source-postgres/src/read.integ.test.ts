import net from 'node:net';
import type { RecordBatch } from 'apache-arrow';
import { parseDataType, readRows, type Checkpoint, type ConfiguredStream, type ExtractMessage, type FieldSpec } from '@dativo/core';
import type { SqlSourceConfig } from '@dativo/sql-kit';
import { describeExtractorConformance, recordSecret, reliabilityRow, testRunContext } from '@dativo/testing';
import { tempPostgresDatabase, type TempDatabase } from '@dativo/testing/sql';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresSource } from './index.js';

let db: TempDatabase;
const source = postgresSource();

const FIELDS: FieldSpec[] = [
  { name: 'id', type: parseDataType('bigint'), nullable: false },
  { name: 'name', type: parseDataType('string'), nullable: true },
  { name: 'updated_at', type: parseDataType('timestamp'), nullable: true },
];

async function sql(text: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: db.uri });
  await client.connect();
  try {
    return await client.query(text, params);
  } finally {
    await client.end();
  }
}

function config(extra: Record<string, unknown> = {}): SqlSourceConfig {
  return source.configSchema.parse({ connection: { uri: db.uri }, tables: [{ name: 'events' }], batch_rows: 100, ...extra });
}

const stream = (syncMode: 'full_refresh' | 'incremental', resumeFrom?: ConfiguredStream['resumeFrom']): ConfiguredStream => ({
  name: 'events',
  schema: FIELDS,
  syncMode,
  primaryKey: ['id'],
  ...(resumeFrom ? { resumeFrom } : {}),
});

async function read(cfg: SqlSourceConfig, s: ConfiguredStream, ctx = testRunContext()) {
  const messages: ExtractMessage[] = [];
  const ids: number[] = [];
  for await (const m of source.read(cfg, { streams: [s] }, ctx)) {
    messages.push(m);
    if (m.kind === 'batch') for (const row of readRows(m.batch as RecordBatch, FIELDS)) ids.push(Number(row.id));
  }
  const checkpoints = messages.filter((m) => m.kind === 'checkpoint').map((m) => (m as { checkpoint: Checkpoint }).checkpoint);
  return { messages, ids, checkpoints, last: checkpoints.at(-1), ctx };
}

beforeAll(async () => {
  db = await tempPostgresDatabase('dativo_pg_read');
  await sql(`CREATE TABLE events (id bigint PRIMARY KEY, name text, updated_at timestamp);
    INSERT INTO events SELECT g, 'event ' || g, TIMESTAMP '2024-01-01' + g * INTERVAL '1 minute' FROM generate_series(1, 1000) g;
    UPDATE events SET updated_at = NULL WHERE id IN (5, 6);`);
});
afterAll(async () => {
  await db?.drop();
});

describeExtractorConformance('source-postgres', {
  create: () => postgresSource(),
  // A table of its own: the incremental case adds rows to it.
  setup: async () => {
    await sql(`CREATE TABLE conformance_events (id bigint PRIMARY KEY, name text, updated_at timestamp NOT NULL);
      INSERT INTO conformance_events SELECT g, 'event ' || g, TIMESTAMP '2024-01-01' + g * INTERVAL '1 minute' FROM generate_series(1, 1000) g;`);
  },
  config: () => ({ connection: { uri: db.uri }, tables: [{ name: 'conformance_events' }], batch_rows: 100 }),
  streams: (discovered) => discovered.map((d) => ({ name: d.name, schema: d.schema, syncMode: 'full_refresh', ...(d.primaryKey ? { primaryKey: d.primaryKey } : {}) })),
  invalidConfigs: () => [
    { config: { connection: { uri: db.uri }, tables: [] }, field: 'tables' },
    { config: { connection: { uri: db.uri }, tables: [{ name: 'conformance_events' }], batch_rows: -1 }, field: 'batch_rows' },
    { config: { connection: { uri: db.uri }, tables: [{ name: 'no_such_table' }] }, field: 'tables' },
  ],
  incremental: {
    streams: (discovered) => discovered.map((d) => ({ name: d.name, schema: d.schema, syncMode: 'incremental', cursorField: 'updated_at', ...(d.primaryKey ? { primaryKey: d.primaryKey } : {}) })),
    append: async () => {
      await sql(`INSERT INTO conformance_events SELECT g, 'later ' || g, TIMESTAMP '2025-01-01' + g * INTERVAL '1 minute' FROM generate_series(1001, 1150) g`);
      return 150;
    },
  },
});

describe('full refresh', () => {
  it('reads in key order with a checkpoint per batch, and resumes after any of them exactly', async () => {
    const all = await read(config(), stream('full_refresh'));
    expect(all.ids).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(all.checkpoints).toHaveLength(11);
    expect(all.checkpoints[2]).toEqual({ stream: 'events', state: { v: 1, done: false, key: ['300'] } });
    expect(all.last?.state).toEqual({ v: 1, done: true });
    const resumed = await read(config(), stream('full_refresh', all.checkpoints[2]));
    expect(resumed.ids).toEqual(Array.from({ length: 700 }, (_, i) => i + 301));
    expect(resumed.messages[0]).toEqual({ kind: 'start', stream: 'events', resumed: true });
    // A finished full refresh starts over.
    const again = await read(config(), stream('full_refresh', all.last));
    expect(again.ids).toHaveLength(1000);
  });

  it('reads key ranges in parallel inside one snapshot, each row once, and resumes per range', async () => {
    const ctx = testRunContext();
    const all = await read(config({ parallelism: 4 }), stream('full_refresh'), ctx);
    expect([...all.ids].sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    const mid = all.checkpoints[5]?.state as { ranges: Array<{ lo: string | null; hi: string | null; after?: string[]; done: boolean }> };
    expect(mid.ranges).toHaveLength(4);
    expect(mid.ranges.map((r) => [r.lo, r.hi])).toEqual([
      [null, '251'],
      ['251', '501'],
      ['501', '751'],
      ['751', null],
    ]);
    expect(ctx.logs.records().some((e) => e.msg === 'reading key ranges in parallel')).toBe(true);
    // Resume: each range continues after its own last key; together: exactly the unread rows.
    const readBefore = all.ids.slice(0, idsBefore(all, 5));
    const resumed = await read(config({ parallelism: 4 }), stream('full_refresh', all.checkpoints[5]));
    const union = [...readBefore, ...resumed.ids].sort((a, b) => a - b);
    expect(union).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
  });
});

describe('row counts', () => {
  it("counts each read's rows in the read's own snapshot (a total after its last batch): writes during the read change neither; a resumed read counts what is left", async () => {
    await sql(`CREATE TABLE counted AS SELECT g::bigint AS id, 'n' || g AS name, NULL::timestamp AS updated_at FROM generate_series(1, 3000) g; ALTER TABLE counted ADD PRIMARY KEY (id);`);
    const counted = (resumeFrom?: Checkpoint): ConfiguredStream => ({ ...stream('full_refresh', resumeFrom), name: 'counted' });
    for (const parallelism of [1, 3]) {
      const messages: ExtractMessage[] = [];
      let rows = 0;
      let wrote = false;
      for await (const m of source.read(config({ tables: ['counted'], parallelism, batch_rows: 500 }), { streams: [counted()] }, testRunContext())) {
        messages.push(m);
        if (m.kind !== 'batch') continue;
        rows += m.batch.numRows;
        if (!wrote) {
          // Another session deletes and inserts while the read is under way.
          wrote = true;
          await sql('DELETE FROM counted WHERE id > 2500; INSERT INTO counted SELECT g, \'late\', NULL FROM generate_series(3001, 3100) g');
        }
      }
      expect(rows, `parallelism ${parallelism}`).toBe(3000);
      const totals = messages.filter((m) => m.kind === 'total');
      expect(totals).toEqual([{ kind: 'total', stream: 'counted', records: 3000, basis: "COUNT(*) in the read's snapshot of public.counted" }]);
      // After every batch, before the checkpoint that ends the read.
      expect(messages.findIndex((m) => m.kind === 'total')).toBe(messages.length - 2);
      expect(messages.at(-1)).toMatchObject({ kind: 'checkpoint', checkpoint: { state: { done: true } } });
      await sql("DELETE FROM counted WHERE id > 3000; INSERT INTO counted SELECT g, 'n' || g, NULL FROM generate_series(2501, 3000) g");
    }
    const first = await read(config({ tables: ['counted'], batch_rows: 500 }), counted());
    const resumed = await read(config({ tables: ['counted'], batch_rows: 500 }), counted(first.checkpoints[1]));
    expect(resumed.ids).toHaveLength(2000);
    expect(resumed.messages.filter((m) => m.kind === 'total')).toMatchObject([{ records: 2000 }]);
    // Incremental: the rows past the cursor.
    const incremental = await read(config({ tables: ['events'], incremental: { cursor_field: 'updated_at' } }), stream('incremental', { stream: 'events', state: { v: 1, done: true, cursor: '2024-01-01 10:00:00', key: ['600'] } }));
    expect(incremental.messages.filter((m) => m.kind === 'total')).toEqual([{ kind: 'total', stream: 'events', records: incremental.ids.length, basis: "COUNT(*) in the read's snapshot of public.events" }]);
    expect(incremental.ids.length).toBeGreaterThan(0);
    // verify_counts: false skips the count.
    const unchecked = await read(config({ tables: ['counted'], verify_counts: false }), counted());
    expect(unchecked.messages.some((m) => m.kind === 'total')).toBe(false);
    await sql('DROP TABLE counted');
    reliabilityRow({ connector: 'PostgreSQL source', fault: 'rows deleted and inserted by another session during a read', outcome: 'the read sees its snapshot: every row of it once, and its `COUNT(*)` in the same snapshot matches' });
  });
});

/** How many rows were yielded before checkpoint number `n` (0-based). */
function idsBefore(outcome: Awaited<ReturnType<typeof read>>, n: number): number {
  let rows = 0;
  let seen = 0;
  for (const m of outcome.messages) {
    if (m.kind === 'batch') rows += m.batch.numRows;
    if (m.kind === 'checkpoint') {
      if (seen === n) return rows;
      seen++;
    }
  }
  return rows;
}

describe('incremental', () => {
  it('reads rows with a NULL cursor first, then by cursor; the next run reads exactly the changed rows', async () => {
    const cfg = config({ incremental: { cursor_field: 'updated_at' } });
    const first = await read(cfg, stream('incremental'));
    expect(first.ids.slice(0, 3)).toEqual([5, 6, 1]);
    expect(first.ids).toHaveLength(1000);
    expect(first.last?.state).toEqual({ v: 1, done: true, cursor: '2024-01-01 16:40:00', key: ['1000'] });

    await sql(`UPDATE events SET name = 'changed', updated_at = TIMESTAMP '2024-06-01' WHERE id IN (10, 20, 30);
               INSERT INTO events VALUES (1001, 'new', TIMESTAMP '2024-06-02'), (1002, 'also new', TIMESTAMP '2024-06-01');`);
    const second = await read(cfg, stream('incremental', first.last));
    expect(second.ids).toEqual([10, 20, 30, 1002, 1001]);
    expect(second.messages[0]).toEqual({ kind: 'start', stream: 'events', resumed: true });
    const third = await read(cfg, stream('incremental', second.last));
    expect(third.ids).toEqual([]);
    expect(third.last?.state).toEqual(second.last?.state);
    await sql(`DELETE FROM events WHERE id > 1000; UPDATE events SET name = 'event ' || id, updated_at = TIMESTAMP '2024-01-01' + id * INTERVAL '1 minute' WHERE id IN (10, 20, 30)`);
  });

  it('re-reads lookback_days before the last cursor value, and resumes mid-run without the lookback', async () => {
    const cfg = config({ incremental: { cursor_field: 'updated_at', lookback_days: 0.25 } }); // 6 hours = 360 rows
    const last = { stream: 'events', state: { v: 1, done: true, cursor: '2024-01-01 16:40:00', key: ['1000'] } };
    const run = await read(cfg, stream('incremental', last));
    expect(run.ids).toEqual(Array.from({ length: 361 }, (_, i) => 640 + i));
    const mid = run.checkpoints[1] as Checkpoint;
    expect(mid.state).toEqual({ v: 1, done: false, cursor: '2024-01-01 13:59:00', key: ['839'] });
    const resumed = await read(cfg, stream('incremental', mid));
    expect(resumed.ids).toEqual(Array.from({ length: 161 }, (_, i) => 840 + i));
  });

  it('reads a custom query as a stream, filtered and resumed like a table', async () => {
    const cfg = source.configSchema.parse({
      connection: { uri: db.uri },
      tables: [{ name: 'recent', query: "SELECT id, upper(name) AS name, updated_at FROM events WHERE name LIKE 'event%'", primary_key: ['id'], cursor_field: 'updated_at' }],
      batch_rows: 50,
    });
    const run = await read(cfg, { ...stream('incremental'), name: 'recent' });
    expect(run.ids).toHaveLength(1000);
    const batch = run.messages.find((m) => m.kind === 'batch') as { batch: RecordBatch };
    expect([...readRows(batch.batch, FIELDS)][0]).toMatchObject({ name: 'EVENT 5' });
  });
});

describe('errors', () => {
  it('names an unknown table and lists what exists', async () => {
    const cfg = source.configSchema.parse({ connection: { uri: db.uri }, tables: ['public.nope'] });
    await expect(read(cfg, stream('full_refresh'))).rejects.toThrow(/source\.tables \(public\.nope\): table 'public\.nope' not found in the PostgreSQL database, or the job's user may not read it \(grant SELECT\); tables it can read: public\.conformance_events, public\.events$/);
  });

  it('names a database that does not exist, and a table the user may not read (in check and in a run)', async () => {
    const url = new URL(db.uri);
    url.pathname = '/dativo_no_such_db';
    const missing = await source.check(source.configSchema.parse({ connection: { uri: url.toString() }, tables: ['events'], max_retries: 0 }), testRunContext()).then(() => undefined, (e: Error) => e);
    expect(missing?.message).toBe(`PostgreSQL at ${url.hostname}:${url.port || 5432}/dativo_no_such_db: database "dativo_no_such_db" does not exist; check source.connection.database`);
    const role = `dativo_noperm_${Math.random().toString(16).slice(2, 8)}`;
    await sql(`CREATE ROLE ${role} LOGIN`);
    try {
      const cfg = source.configSchema.parse({ connection: { host: url.hostname, port: url.port || 5432, user: role, database: db.name }, tables: ['events'], max_retries: 0 });
      // The catalog lists only tables the user may read, so the table is reported as not readable.
      const hidden = "source.tables (events): table 'events' not found in the PostgreSQL database, or the job's user may not read it (grant SELECT); it can read no tables";
      await expect(source.check(cfg, testRunContext())).rejects.toThrow(hidden);
      await expect(read(cfg, stream('full_refresh'))).rejects.toThrow(hidden);
      // A custom query over it fails in the database, with the hint.
      const query = source.configSchema.parse({ ...cfg, tables: [{ name: 'q', query: 'SELECT id FROM events' }] });
      await expect(source.check(query, testRunContext())).rejects.toThrow(`PostgreSQL at ${url.hostname}:${url.port || 5432}/${db.name}: permission denied for table events; grant SELECT to the job's user`);
    } finally {
      await sql(`DROP ROLE ${role}`);
    }
  });

  it('names an asset column the table lacks, and a missing cursor', async () => {
    const s = { ...stream('full_refresh'), schema: [...FIELDS, { name: 'colour', type: parseDataType('string'), nullable: true }] };
    await expect(read(config(), s)).rejects.toThrow("asset column 'colour': column 'colour' is not in public.events (columns: id, name, updated_at)");
    await expect(read(config(), stream('incremental'))).rejects.toThrow(/incremental reads of public\.events need a cursor column: set source\.tables\[\]\.cursor_field/);
  });

  it('reconnects after the server drops the connection mid-stream and continues after the last batch', async () => {
    // Large enough that the server is still sending when the connection is killed.
    await sql(`CREATE TABLE big AS SELECT g::bigint AS id, repeat('x', 300) AS name, NULL::timestamp AS updated_at FROM generate_series(1, 100000) g; ALTER TABLE big ADD PRIMARY KEY (id);`);
    const cfg = source.configSchema.parse({ connection: { uri: db.uri, application_name: 'dativo-kill-me' }, tables: ['big'], batch_rows: 1000 });
    const ctx = testRunContext();
    const ids: number[] = [];
    let batches = 0;
    for await (const m of source.read(cfg, { streams: [{ ...stream('full_refresh'), name: 'big' }] }, ctx)) {
      if (m.kind !== 'batch') continue;
      for (const row of readRows(m.batch, FIELDS)) ids.push(Number(row.id));
      if (++batches === 3) await sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'dativo-kill-me'");
    }
    expect(ids).toEqual(Array.from({ length: 100000 }, (_, i) => i + 1));
    expect(ctx.logs.records().some((e) => e.msg === 'read failed; reconnecting and resuming after the last batch')).toBe(true);
    // The read went on outside the counted snapshot: its count is not compared (and says so).
    expect(ctx.logs.records().some((e) => /the row count is not checked: the read reconnected/.test(String(e.msg)))).toBe(true);
    reliabilityRow({ connector: 'PostgreSQL source', fault: 'backend terminated (`pg_terminate_backend`) mid-stream', outcome: 'reconnects and resumes after the last batch: every row once (the count is not compared: the read left its snapshot)' });
  });

  it('reports a statement timeout clearly and does not retry it', async () => {
    const cfg = source.configSchema.parse({ connection: { uri: db.uri, statement_timeout_ms: 100 }, tables: [{ name: 'slow', query: 'SELECT id, name, updated_at FROM events, pg_sleep(0.5)' }] });
    const ctx = testRunContext();
    await expect(read(cfg, { ...stream('full_refresh'), name: 'slow' }, ctx)).rejects.toThrow(/the statement was cancelled by the statement timeout \(100 ms, source\.connection\.statement_timeout_seconds\)/);
    expect(ctx.logs.records().filter((e) => String(e.msg).startsWith('read failed'))).toHaveLength(0);
    reliabilityRow({ connector: 'PostgreSQL source', fault: 'statement timeout', outcome: 'fails at once, classified, naming the setting' });
  });

  it('rejects a wrong password with a message that names the user and never the password', async () => {
    // This machine's PostgreSQL trusts local connections, so a stand-in speaks the protocol's
    // startup exchange and answers as a server with password authentication does.
    const server = net.createServer((socket) => {
      let stage = 0;
      socket.on('data', () => {
        stage++;
        if (stage > 2) return;
        if (stage === 1) {
          socket.write(Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 3])); // AuthenticationCleartextPassword
          return;
        }
        const fields = ['SFATAL', 'VFATAL', 'C28P01', 'Mpassword authentication failed for user "app"'];
        const body = Buffer.concat([...fields.map((f) => Buffer.from(`${f}\0`)), Buffer.from([0])]);
        const header = Buffer.alloc(5);
        header[0] = 0x45;
        header.writeUInt32BE(body.length + 4, 1);
        socket.end(Buffer.concat([header, body]));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      recordSecret('hunter2-secret', 'database password (wrong)');
      const cfg = source.configSchema.parse({ connection: { host: '127.0.0.1', port, user: 'app', password: 'hunter2-secret', database: 'x' }, tables: ['events'], max_retries: 0 });
      const error = await source.check(cfg, testRunContext()).then(() => undefined, (e: Error) => e);
      expect(error?.message).toBe(`PostgreSQL at 127.0.0.1:${port}/x: password authentication failed for user "app"; check source.connection.user and password`);
      expect(JSON.stringify(error)).not.toContain('hunter2');
      expect((error as { retryable?: boolean }).retryable).toBe(false);
    } finally {
      server.close();
    }
    reliabilityRow({ connector: 'PostgreSQL source', fault: 'wrong password (a server answering as PostgreSQL does)', outcome: 'fails at once naming the user, never the password' });
  });

  it('explains an unreachable server and a TLS mismatch', async () => {
    const closed = source.configSchema.parse({ connection: { host: '127.0.0.1', port: 1, user: 'postgres' }, tables: ['events'], max_retries: 0 });
    await expect(source.check(closed, testRunContext())).rejects.toThrow('PostgreSQL at 127.0.0.1:1 is unreachable (ECONNREFUSED); check source.connection.host and port');
    const tls = source.configSchema.parse({ connection: { uri: db.uri, ssl: 'require' }, tables: ['events'], max_retries: 0 });
    await expect(source.check(tls, testRunContext())).rejects.toThrow(/the server does not accept TLS connections; set source\.connection\.ssl: disable \(or prefer\)/);
    const prefer = source.configSchema.parse({ connection: { uri: db.uri, ssl: 'prefer' }, tables: ['events'] });
    await expect(source.check(prefer, testRunContext())).resolves.toBeUndefined();
  });
});
