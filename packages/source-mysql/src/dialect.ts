import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { DativoError, type RunContext } from '@dativo/core';
import { classifySqlError, connectionParams, type ConnectionParams, driverEndpoint, nodeTlsOptions, statementTimeoutMs, type ColumnInfo, type SqlDialect, type SqlSession, type SqlSourceConfig } from '@dativo/sql-kit';
import mysql, { type Connection, type ConnectionOptions } from 'mysql2';
import { MysqlSession, quoteIdent } from './session.js';
import { mysqlParam } from './types.js';

/** MySQL's v1 default connection pool size. */
export const DEFAULT_POOL_SIZE = 5;

/** How long a parallel read waits for the global read lock before each reader snapshots on its own. */
const SNAPSHOT_LOCK_TIMEOUT_SECONDS = 10;

function params(config: SqlSourceConfig, ctx: Pick<RunContext, 'cwd'>) {
  return connectionParams(config, { port: 3306, user: 'root' }, (file) => readFileSync(path.resolve(ctx.cwd, file), 'utf8'));
}

function options(config: SqlSourceConfig, p: ConnectionParams, tls: boolean): ConnectionOptions {
  return {
    ...driverEndpoint(p),
    charset: 'utf8mb4',
    timezone: 'Z',
    connectTimeout: Math.round(config.connection.connect_timeout_seconds * 1000),
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    // mysql2 checks the host name only with its own `verifyIdentity` flag (it ignores checkServerIdentity).
    ...(tls && p.tls ? { ssl: { ...nodeTlsOptions(p.tls), verifyIdentity: p.tls.checkHostname } } : {}),
  } as ConnectionOptions;
}

function run(connection: Connection, sql: string): Promise<Array<Record<string, unknown>>> {
  return new Promise((resolve, reject) => connection.query(sql, (error, rows) => (error ? reject(error) : resolve(rows as Array<Record<string, unknown>>))));
}

async function openConnection(config: SqlSourceConfig, ctx: Pick<RunContext, 'cwd'>, tls = true): Promise<Connection> {
  const p = params(config, ctx);
  const connection = mysql.createConnection(options(config, p, tls && p.tls !== undefined));
  // An idle connection's socket error must not crash the process; the next query reports it.
  connection.on('error', () => undefined);
  try {
    await new Promise<void>((resolve, reject) => connection.connect((error) => (error ? reject(error) : resolve())));
    if (tls && p.tls?.checkHostname && net.isIP(p.host)) verifyIpIdentity(connection, p.host);
    const [version] = await run(connection, 'SELECT VERSION() AS v');
    const mariadb = /mariadb/i.test(String(version?.v ?? ''));
    const timeout = statementTimeoutMs(config);
    // UTC for TIMESTAMP values; a long write timeout so a paused reader (slow sink) is not cut off.
    const settings = ["time_zone = '+00:00'", 'net_write_timeout = 3600'];
    if (timeout) settings.push(mariadb ? `max_statement_time = ${timeout / 1000}` : `max_execution_time = ${Math.round(timeout)}`);
    // Metadata locks (LOCK TABLES, DDL) and row locks: whole seconds, at least 1.
    const lockWait = config.connection.lock_timeout_seconds;
    if (lockWait) {
      const seconds = Math.max(1, Math.ceil(lockWait));
      settings.push(`lock_wait_timeout = ${seconds}`, `innodb_lock_wait_timeout = ${seconds}`);
    }
    await run(connection, `SET SESSION ${settings.join(', ')}`);
    return connection;
  } catch (error) {
    connection.destroy();
    if (p.tlsOptional && tls && /ssl|tls/i.test((error as Error).message)) return openConnection(config, ctx, false);
    throw error;
  }
}

/**
 * mysql2 sends no server name for an IP address and Node then checks the certificate against
 * `localhost`; for verify-full to an IP the certificate must name that IP, so check it here.
 */
function verifyIpIdentity(connection: Connection, host: string): void {
  const socket = (connection as unknown as { stream?: { getPeerCertificate?: (detailed: boolean) => tls.PeerCertificate } }).stream;
  const certificate = socket?.getPeerCertificate?.(true);
  const error = certificate ? tls.checkServerIdentity(host, certificate) : new Error('no server certificate to verify');
  if (error) throw error;
}

/** Ends a connection politely; one already destroyed (or not answering within 5 s) is dropped. */
function endConnection(connection: Connection): Promise<void> {
  const state = connection as unknown as { _closing?: boolean; _fatalError?: unknown; stream?: { destroyed?: boolean } };
  if (state._closing || state._fatalError || state.stream?.destroyed) {
    connection.destroy();
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      connection.destroy();
      resolve();
    }, 5000);
    timer.unref();
    connection.end(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

const TIMEOUT_ERRNOS = new Set([1969, 3024]);
const LOST_ERRNOS = new Set([1927, 1317, 2013, 2006]);

/**
 * MySQL and MariaDB: rows streamed over the text protocol with backpressure, information_schema
 * introspection, and `FLUSH TABLES WITH READ LOCK` + consistent-snapshot transactions for
 * parallel reads.
 */
export const mysqlDialect: SqlDialect = {
  id: 'mysql',
  displayName: 'MySQL',
  quote: quoteIdent,
  param(column: ColumnInfo): string {
    return mysqlParam(column);
  },
  minusDays(column: ColumnInfo, value: string, days: number): string | undefined {
    if (!column.traits?.has('temporal')) return undefined;
    return `DATE_SUB(${value}, INTERVAL ${Math.round(days * 86_400)} SECOND)`;
  },
  nullsFirst(expression: string): string {
    return expression; // ascending order puts NULLs first in MySQL and MariaDB
  },
  defaultPoolSize: DEFAULT_POOL_SIZE,
  describeTarget(config: SqlSourceConfig): string {
    const p = connectionParams(config, { port: 3306 }, () => '');
    return `${p.host}:${p.port}${p.database ? `/${p.database}` : ''}`;
  },
  async connect(config, ctx): Promise<SqlSession> {
    const connection = await openConnection(config, ctx);
    return new MysqlSession(connection, () => endConnection(connection));
  },
  async beginSnapshot(session) {
    await session.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    await session.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
  },
  async snapshotSessions(config, ctx, count) {
    // A global read lock while every reader starts its consistent snapshot makes the snapshots
    // identical. The readers connect first so the lock is held only for the START TRANSACTIONs,
    // and the lock wait is bounded: a pending global read lock blocks every writer on the server.
    const sessions: MysqlSession[] = [];
    const coordinator = await openConnection(config, ctx);
    try {
      for (let i = 0; i < count; i++) {
        const connection = await openConnection(config, ctx);
        sessions.push(new MysqlSession(connection, () => endConnection(connection)));
        await run(connection, 'SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      }
      const waitSeconds = config.connection.snapshot_lock_timeout_seconds ?? SNAPSHOT_LOCK_TIMEOUT_SECONDS;
      let locked = false;
      try {
        await run(coordinator, `SET SESSION lock_wait_timeout = ${Math.max(1, Math.ceil(waitSeconds))}`);
        await run(coordinator, 'FLUSH TABLES WITH READ LOCK');
        locked = true;
      } catch (error) {
        const e = error as { errno?: number; message?: string };
        const why = e.errno === 1205 ? `not granted within ${waitSeconds} s (another session holds a table lock or runs DDL; source.connection.snapshot_lock_timeout_seconds)` : 'not permitted (needs the RELOAD privilege)';
        ctx.log.warn(`the global read lock that aligns the parallel readers' snapshots was ${why}; each reader starts its own snapshot, moments apart`, { error: e.message });
      }
      try {
        for (const session of sessions) await run(session.connection, 'START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
      } finally {
        if (locked) await run(coordinator, 'UNLOCK TABLES').catch(() => undefined);
      }
    } catch (error) {
      for (const s of sessions) await s.close().catch(() => undefined);
      throw error;
    } finally {
      await endConnection(coordinator);
    }
    return { sessions, release: async () => undefined };
  },
  classify(error: unknown, config: SqlSourceConfig): DativoError {
    return classifySqlError(error, config, `MySQL at ${mysqlDialect.describeTarget(config)}`, (e, message) => {
      const errno = typeof e.errno === 'number' ? e.errno : undefined;
      if (errno === 1045 || errno === 1698) return 'auth';
      if (errno === 1044 || errno === 1142 || errno === 1143) return 'privilege';
      if (errno === 1049) return 'database';
      if (errno === 1146 || errno === 1054 || errno === 1064) return 'statement';
      if (errno !== undefined && TIMEOUT_ERRNOS.has(errno)) return 'statement-timeout';
      if (errno === 1205) return 'lock-timeout';
      if ((errno !== undefined && LOST_ERRNOS.has(errno)) || e.code === 'PROTOCOL_CONNECTION_LOST' || e.code === 'ECONNRESET' || e.code === 'EPIPE') return 'lost';
      if (errno === 3159 || /insecure transport|require_secure_transport/i.test(message)) return 'tls-required';
      if (/server does not support secure connection|HANDSHAKE_NO_SSL_SUPPORT/i.test(`${message} ${e.code ?? ''}`)) return 'tls-refused';
      return undefined;
    });
  },
};
