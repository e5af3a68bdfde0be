import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface TempDatabase {
  name: string;
  /** `postgresql://user@host:port/name` */
  uri: string;
  /** Runs statements in the database (several separated by `;`); returns the last result's rows. */
  exec(sql: string, params?: unknown[]): Promise<Array<Record<string, unknown>>>;
  drop(): Promise<void>;
}

/**
 * Creates a fresh PostgreSQL database for a test (on `PGHOST`/`PGPORT`/`PGUSER`, default
 * 127.0.0.1:5432, user postgres) and drops it afterwards.
 */
export async function tempPostgresDatabase(prefix = 'dativo_test'): Promise<TempDatabase> {
  const host = process.env.PGHOST ?? '127.0.0.1';
  const port = Number(process.env.PGPORT ?? 5432);
  const user = process.env.PGUSER ?? 'postgres';
  const password = process.env.PGPASSWORD;
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ host, port, user, ...(password ? { password } : {}), database: 'postgres' });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const auth = password ? `${encodeURIComponent(user)}:${encodeURIComponent(password)}` : encodeURIComponent(user);
  return {
    name,
    uri: `postgresql://${auth}@${host}:${port}/${name}`,
    exec: async (sql, params) => {
      const c = new pg.Client({ host, port, user, ...(password ? { password } : {}), database: name });
      await c.connect();
      try {
        const result = await c.query(sql, params);
        const last = Array.isArray(result) ? result.at(-1) : result;
        return (last?.rows ?? []) as Array<Record<string, unknown>>;
      } finally {
        await c.end();
      }
    },
    drop: async () => {
      const c = new pg.Client({ host, port, user, ...(password ? { password } : {}), database: 'postgres' });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
