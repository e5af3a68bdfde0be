import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';

export interface TempMysqlDatabase {
  name: string;
  host: string;
  port: number;
  user: string;
  password: string;
  /** `mysql://user@host:port/name` */
  uri: string;
  /** Runs statements in the database (several separated by `;`). */
  exec(sql: string, params?: unknown[]): Promise<unknown>;
  drop(): Promise<void>;
}

/**
 * Creates a fresh MySQL / MariaDB database for a test (on `MYSQL_HOST`/`MYSQL_PORT`/`MYSQL_USER`/
 * `MYSQL_PASSWORD`, default 127.0.0.1:3306, root with no password) and drops it afterwards.
 */
export async function tempMysqlDatabase(prefix = 'dativo_test'): Promise<TempMysqlDatabase> {
  const host = process.env.MYSQL_HOST ?? '127.0.0.1';
  const port = Number(process.env.MYSQL_PORT ?? 3306);
  const user = process.env.MYSQL_USER ?? 'root';
  const password = process.env.MYSQL_PASSWORD ?? '';
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const admin = () => mysql.createConnection({ host, port, user, password, multipleStatements: true });
  const a = await admin();
  try {
    await a.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  } finally {
    await a.end();
  }
  const auth = password ? `${encodeURIComponent(user)}:${encodeURIComponent(password)}` : encodeURIComponent(user);
  return {
    name,
    host,
    port,
    user,
    password,
    uri: `mysql://${auth}@${host}:${port}/${name}`,
    exec: async (sql, params = []) => {
      const c = await mysql.createConnection({ host, port, user, password, database: name, multipleStatements: true, timezone: 'Z', charset: 'utf8mb4' });
      try {
        await c.query("SET time_zone = '+00:00'");
        const [result] = await c.query(sql, params);
        return result;
      } finally {
        await c.end();
      }
    },
    drop: async () => {
      const c = await admin();
      try {
        await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
      } finally {
        await c.end();
      }
    },
  };
}
