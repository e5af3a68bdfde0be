import { boolLike, numberLike, positiveIntLike, intLike } from '@dativo/core/definition';
import { z } from 'zod';

const sslSchema = z.union([
  boolLike,
  z.enum(['disable', 'prefer', 'require', 'verify-ca', 'verify-full']),
  z.object({
    /** `require`: encrypt, do not verify; `verify-ca` / `verify-full` (default when an object is given): verify the server. */
    mode: z.enum(['disable', 'prefer', 'require', 'verify-ca', 'verify-full']).default('verify-full'),
    /** PEM text or a path to a PEM file. */
    ca: z.string().optional(),
    cert: z.string().optional(),
    key: z.string().optional(),
    reject_unauthorized: boolLike.optional(),
  }),
]);

/** `source.connection` of a database job (v1 keys, plus TLS, pool and timeouts). */
export const sqlConnectionSchema = z
  .object({
    /** `postgresql://user:password@host:5432/db` or `mysql://…`; keys below override its parts. */
    uri: z.string().min(1).optional(),
    host: z.string().min(1).optional(),
    port: intLike.pipe(z.number().int().min(1).max(65_535)).optional(),
    user: z.string().min(1).optional(),
    username: z.string().min(1).optional(),
    password: z.string().optional(),
    database: z.string().min(1).optional(),
    dbname: z.string().min(1).optional(),
    ssl: sslSchema.optional(),
    /** Connections the source may open (parallel reads use one each). MySQL's v1 default is 5. */
    pool_size: positiveIntLike.optional(),
    /** Cancel a statement that runs longer than this (the server enforces it). */
    statement_timeout_seconds: numberLike.pipe(z.number().positive()).optional(),
    statement_timeout_ms: positiveIntLike.optional(),
    connect_timeout_seconds: numberLike.pipe(z.number().positive()).default(30),
    /**
     * Give up waiting for a lock another session holds on a table (a migration, `LOCK TABLE`)
     * after this long; the read is retried with backoff (`max_retries`), so a short lock is
     * ridden out. Default: the server's (wait as long as the statement may).
     */
    lock_timeout_seconds: numberLike.pipe(z.number().positive()).optional(),
    /**
     * A read that waits this long for the server's next rows (while the pipeline is ready for
     * them) is a stalled connection: it is dropped, and the read reconnects and resumes after its
     * last batch. Default 600; the wait for a big query's first row counts too.
     */
    read_timeout_seconds: numberLike.pipe(z.number().positive()).default(600),
    /** MySQL parallel reads: how long to wait for the brief global read lock that aligns the readers' snapshots (default 10). */
    snapshot_lock_timeout_seconds: numberLike.pipe(z.number().positive()).optional(),
    application_name: z.string().optional(),
  })
  .catchall(z.unknown());

/** One entry of `source.tables`. */
export const sqlTableSchema = z.object({
  /** `schema.table` (quote parts with dots or odd characters: `"my.schema"."Order Items"`). */
  name: z.string().min(1),
  /** Stream name (v1 `object`); default: the table name. */
  object: z.string().min(1).optional(),
  /** A custom query read instead of the table; `name` then only names it. */
  query: z.string().min(1).optional(),
  /** The column incremental reads follow; `null` reads the table whole each run (v1's full sync). */
  cursor_field: z.string().min(1).nullable().optional(),
  /** Columns that identify a row (default: the asset's primary key, then the table's). */
  primary_key: z.array(z.string().min(1)).optional(),
});

export type SqlTableConfig = z.output<typeof sqlTableSchema>;

export const sqlSourceConfigSchema = z.object({
  connection: sqlConnectionSchema.default({ connect_timeout_seconds: 30, read_timeout_seconds: 600 }),
  tables: z
    .array(z.union([z.string().min(1).transform((name): SqlTableConfig => ({ name })), sqlTableSchema]))
    .min(1, 'name at least one table (or leave tables out: discover then lists every table)')
    .optional(),
  /** A custom SQL query as the job's stream (instead of `tables`). */
  query: z.string().min(1).optional(),
  incremental: z
    .object({
      /** v1: `updated_at`, `created`, `cursor`…; any value reads by the cursor column. */
      strategy: z.string().optional(),
      /** `null`: no cursor, every run reads the tables whole (v1's "full sync"). */
      cursor_field: z.string().min(1).nullable().optional(),
      /** Re-read this many days before the last cursor value (late-arriving rows). */
      lookback_days: numberLike.pipe(z.number().min(0)).default(0),
    })
    .catchall(z.unknown())
    .optional(),
  /**
   * Count the rows a read covers (`COUNT(*)`, in the same snapshot as the read) and fail the run
   * when fewer or more arrived: no silent partial success. Costs one extra scan (an index-only
   * count where the database can); `false` skips it.
   */
  verify_counts: boolLike.default(true),
  /** Read a full refresh in this many key ranges at once, in one consistent snapshot. */
  parallelism: positiveIntLike.default(1),
  /** Schemas `discover` lists when no tables are given (default: every non-system schema). */
  schemas: z.array(z.string().min(1)).optional(),
  /** Rows per Arrow batch (each batch is a resume point). */
  batch_rows: positiveIntLike.optional(),
  /** Reconnect and resume this many times after a transient error (dropped connection, failover). */
  max_retries: intLike.pipe(z.number().int().min(0)).default(5),
  /** v1 keys accepted and ignored (the engine choice, recipe credentials). */
  engine: z.unknown().optional(),
  credentials: z.unknown().optional(),
  rate_limits: z.unknown().optional(),
});

export type SqlSourceConfig = z.output<typeof sqlSourceConfigSchema>;

/** The statement timeout in milliseconds, when one is set. */
export function statementTimeoutMs(config: SqlSourceConfig): number | undefined {
  const c = config.connection;
  if (c.statement_timeout_ms !== undefined) return c.statement_timeout_ms;
  return c.statement_timeout_seconds !== undefined ? Math.round(c.statement_timeout_seconds * 1000) : undefined;
}

/** TLS settings for a driver: `undefined` means no TLS. */
export interface TlsOptions {
  rejectUnauthorized: boolean;
  /** Check the host name against the certificate (verify-full). */
  checkHostname: boolean;
  ca?: string;
  cert?: string;
  key?: string;
}

export interface ConnectionParams {
  host: string;
  port: number;
  user: string | undefined;
  password: string | undefined;
  database: string | undefined;
  tls: TlsOptions | undefined;
  /** `prefer`: try TLS, fall back to plain. */
  tlsOptional: boolean;
}

function pem(value: string | undefined, readFile: (path: string) => string): string | undefined {
  if (value === undefined) return undefined;
  return value.includes('-----BEGIN') ? value : readFile(value);
}

/**
 * Host, port, credentials, database and TLS of `source.connection`, from its keys and its `uri`
 * (keys win). `readFile` resolves certificate paths.
 */
export function connectionParams(config: SqlSourceConfig, defaults: { port: number; user?: string }, readFile: (path: string) => string): ConnectionParams {
  const c = config.connection;
  let fromUri: Partial<ConnectionParams> & { sslmode?: string } = {};
  if (c.uri) {
    let url: URL;
    try {
      url = new URL(c.uri);
    } catch {
      throw new Error('source.connection.uri: not a valid URI (expected scheme://user:password@host:port/database)');
    }
    fromUri = {
      ...(url.hostname ? { host: decodeURIComponent(url.hostname) } : {}),
      ...(url.port ? { port: Number(url.port) } : {}),
      ...(url.username ? { user: decodeURIComponent(url.username) } : {}),
      ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
      ...(url.pathname.length > 1 ? { database: decodeURIComponent(url.pathname.slice(1)) } : {}),
      ...(url.searchParams.get('sslmode') ? { sslmode: url.searchParams.get('sslmode') as string } : {}),
    };
  }
  const ssl = c.ssl ?? fromUri.sslmode;
  let mode: string;
  let files: { ca?: string; cert?: string; key?: string; reject_unauthorized?: boolean } = {};
  if (ssl === undefined || ssl === false) mode = 'disable';
  else if (ssl === true) mode = 'verify-full';
  else if (typeof ssl === 'string') mode = ssl;
  else {
    mode = ssl.mode;
    files = ssl;
  }
  const verify = mode === 'verify-ca' || mode === 'verify-full';
  const tls: TlsOptions | undefined =
    mode === 'disable'
      ? undefined
      : {
          rejectUnauthorized: files.reject_unauthorized ?? verify,
          checkHostname: mode === 'verify-full',
          ...(files.ca ? { ca: pem(files.ca, readFile) as string } : {}),
          ...(files.cert ? { cert: pem(files.cert, readFile) as string } : {}),
          ...(files.key ? { key: pem(files.key, readFile) as string } : {}),
        };
  return {
    host: c.host ?? fromUri.host ?? '127.0.0.1',
    port: c.port ?? fromUri.port ?? defaults.port,
    user: c.user ?? c.username ?? fromUri.user ?? defaults.user,
    password: c.password ?? fromUri.password,
    database: c.database ?? c.dbname ?? fromUri.database,
    tls,
    tlsOptional: mode === 'prefer',
  };
}

/** Host, port, user, password and database under the names Node drivers (pg, mysql2) use. */
export function driverEndpoint(p: ConnectionParams): { host: string; port: number; user?: string; password?: string; database?: string } {
  return {
    host: p.host,
    port: p.port,
    ...(p.user ? { user: p.user } : {}),
    ...(p.password !== undefined ? { password: p.password } : {}),
    ...(p.database ? { database: p.database } : {}),
  };
}

/** A driver's `ssl` option (Node TLS options) for these TLS settings. */
export function nodeTlsOptions(tls: TlsOptions): { rejectUnauthorized: boolean; checkServerIdentity?: () => undefined; ca?: string; cert?: string; key?: string } {
  return {
    rejectUnauthorized: tls.rejectUnauthorized,
    ...(tls.checkHostname ? {} : { checkServerIdentity: () => undefined }),
    ...(tls.ca ? { ca: tls.ca } : {}),
    ...(tls.cert ? { cert: tls.cert } : {}),
    ...(tls.key ? { key: tls.key } : {}),
  };
}
