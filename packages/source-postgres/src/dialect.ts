import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DativoError, type RunContext } from '@dativo/core';
import { classifySqlError, connectionParams, type ConnectionParams, driverEndpoint, nodeTlsOptions, statementTimeoutMs, type ColumnInfo, type SqlDialect, type SqlSession, type SqlSourceConfig } from '@dativo/sql-kit';
import pg from 'pg';
import { PgSession, quoteIdent, SESSION_SETTINGS } from './session.js';

function params(config: SqlSourceConfig, ctx: Pick<RunContext, 'cwd'>) {
  return connectionParams(config, { port: 5432, user: process.env.PGUSER ?? 'postgres' }, (file) => readFileSync(path.resolve(ctx.cwd, file), 'utf8'));
}

function clientConfig(config: SqlSourceConfig, p: ConnectionParams, tls: boolean): pg.ClientConfig {
  const timeout = statementTimeoutMs(config);
  return {
    ...driverEndpoint(p),
    connectionTimeoutMillis: Math.round(config.connection.connect_timeout_seconds * 1000),
    application_name: config.connection.application_name ?? 'dativo',
    ...(timeout ? { statement_timeout: timeout } : {}),
    ...(config.connection.lock_timeout_seconds ? { lock_timeout: Math.round(config.connection.lock_timeout_seconds * 1000) } : {}),
    ...(tls && p.tls ? { ssl: nodeTlsOptions(p.tls) } : {}),
  };
}

async function openClient(config: SqlSourceConfig, ctx: Pick<RunContext, 'cwd'>): Promise<pg.Client> {
  const p = params(config, ctx);
  const attempt = async (tls: boolean): Promise<pg.Client> => {
    const client = new pg.Client(clientConfig(config, p, tls));
    // An idle client's socket error must not crash the process; the next query reports it.
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query(SESSION_SETTINGS);
      return client;
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
  };
  try {
    return await attempt(p.tls !== undefined);
  } catch (error) {
    // sslmode=prefer: fall back to a plain connection when the server does not offer TLS.
    if (p.tlsOptional && /does not support SSL/i.test((error as Error).message)) return attempt(false);
    throw error;
  }
}

const SNAPSHOT_ID = /^[0-9A-F]+-[0-9A-F]+(-[0-9]+)?$/i;

/** PostgreSQL: COPY TO STDOUT streaming, pg_catalog introspection, exported snapshots for parallel reads. */
export const postgresDialect: SqlDialect = {
  id: 'postgres',
  displayName: 'PostgreSQL',
  quote: quoteIdent,
  param(column: ColumnInfo, index: number): string {
    return `CAST(current_setting('dativo.p${index}') AS ${column.dbType})`;
  },
  minusDays(column: ColumnInfo, value: string, days: number): string | undefined {
    if (!column.traits?.has('temporal')) return undefined;
    return `(${value} - INTERVAL '1 second' * ${Math.round(days * 86_400)})`;
  },
  nullsFirst(expression: string): string {
    return `${expression} NULLS FIRST`;
  },
  describeTarget(config: SqlSourceConfig): string {
    const p = connectionParams(config, { port: 5432 }, () => '');
    return `${p.host}:${p.port}${p.database ? `/${p.database}` : ''}`;
  },
  async connect(config, ctx): Promise<SqlSession> {
    const client = await openClient(config, ctx);
    return new PgSession(client, () => client.end());
  },
  async beginSnapshot(session) {
    await session.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  },
  async snapshotSessions(config, ctx, count) {
    // One transaction exports its snapshot; every reader adopts it, so all ranges see the same data.
    const coordinator = await openClient(config, ctx);
    const sessions: PgSession[] = [];
    try {
      await coordinator.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const { rows } = await coordinator.query<{ id: string }>('SELECT pg_export_snapshot() AS id');
      const id = rows[0]?.id ?? '';
      if (!SNAPSHOT_ID.test(id)) throw new DativoError(`unexpected snapshot id from PostgreSQL: ${id}`, { kind: 'permanent' });
      for (let i = 0; i < count; i++) {
        const client = await openClient(config, ctx);
        sessions.push(new PgSession(client, () => client.end()));
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        await client.query(`SET TRANSACTION SNAPSHOT '${id}'`);
      }
    } catch (error) {
      for (const s of sessions) await s.close().catch(() => undefined);
      await coordinator.end().catch(() => undefined);
      throw error;
    }
    return {
      sessions,
      release: async () => {
        await coordinator.query('COMMIT').catch(() => undefined);
        await coordinator.end().catch(() => undefined);
      },
    };
  },
  classify(error: unknown, config: SqlSourceConfig): DativoError {
    return classifySqlError(error, config, `PostgreSQL at ${postgresDialect.describeTarget(config)}`, (e, message) => {
      switch (e.code) {
        case '28P01':
        case '28000':
          return /no encryption/i.test(message) ? 'tls-required' : 'auth';
        case '3D000':
          return 'database';
        case '42501':
          return 'privilege';
        case '42P01':
        case '42703':
        case '42601':
          return 'statement';
        case '57014':
          if (/statement timeout/i.test(message)) return 'statement-timeout';
          break;
        case '55P03':
          return 'lock-timeout';
      }
      if (/does not support SSL/i.test(message)) return 'tls-refused';
      if (/timeout expired|Connection terminated due to connection timeout/i.test(message)) return 'connect-timeout';
      if (/Connection terminated|ECONNRESET|socket hang up/i.test(message)) return 'lost';
      return undefined;
    });
  },
};
