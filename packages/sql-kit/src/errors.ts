import { classifyError, DativoError } from '@dativo/core';
import { statementTimeoutMs, type SqlSourceConfig } from './config.js';

/** What went wrong, as a dialect recognises it from its driver's error codes and messages. */
export type SqlFailure =
  | 'auth'
  | 'privilege'
  | 'database'
  | 'statement'
  | 'statement-timeout'
  | 'lock-timeout'
  | 'tls-required'
  | 'tls-refused'
  | 'certificate'
  | 'unreachable'
  | 'connect-timeout'
  | 'lost';

interface DriverError {
  code?: string;
  message?: string;
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT']);
const CERTIFICATE = /self[- ]signed|certificate|unable to verify/i;

/** The message, kind and code of each failure: one wording for every database source. */
function describe(failure: SqlFailure, where: string, e: DriverError, message: string, config: SqlSourceConfig): { text: string; kind: DativoError['kind']; code?: string | undefined } {
  switch (failure) {
    case 'auth':
      return { text: `${where}: ${message}; check source.connection.user and password`, kind: 'permanent', code: e.code };
    case 'privilege':
      return { text: `${where}: ${message}; grant SELECT to the job's user`, kind: 'permanent', code: e.code };
    case 'database':
      return { text: `${where}: ${message}; check source.connection.database`, kind: 'config', code: e.code };
    case 'statement':
      return { text: `${where}: ${message}`, kind: 'config', code: e.code };
    case 'statement-timeout':
      return {
        text: `${where}: the statement was cancelled by the statement timeout (${statementTimeoutMs(config)} ms, source.connection.statement_timeout_seconds); raise it, or read in smaller parts`,
        kind: 'permanent',
        code: e.code,
      };
    case 'lock-timeout':
      return {
        text: `${where}: another session holds a lock on the table and it was not granted within ${config.connection.lock_timeout_seconds ?? "the server's lock timeout"}${config.connection.lock_timeout_seconds ? ' s' : ''} (source.connection.lock_timeout_seconds): ${message}`,
        kind: 'transient',
        code: e.code ?? 'SQL_LOCK_TIMEOUT',
      };
    case 'tls-required':
      return { text: `${where}: ${message}; the server accepts only TLS connections: set source.connection.ssl (require, verify-ca or verify-full)`, kind: 'config', code: 'SQL_TLS' };
    case 'tls-refused':
      return { text: `${where}: the server does not accept TLS connections; set source.connection.ssl: disable (or prefer)`, kind: 'config', code: 'SQL_TLS' };
    case 'certificate':
      return { text: `${where}: TLS certificate check failed (${message}); set source.connection.ssl.ca, or ssl: require to skip verification`, kind: 'config', code: 'SQL_TLS' };
    case 'unreachable':
      return { text: `${where} is unreachable (${e.code}); check source.connection.host and port`, kind: 'network', code: e.code };
    case 'connect-timeout':
      return { text: `${where}: connection timed out after ${config.connection.connect_timeout_seconds} s`, kind: 'network', code: 'ETIMEDOUT' };
    case 'lost':
      return { text: `${where}: the connection was lost (${message})`, kind: 'network', code: e.code ?? 'ECONNRESET' };
  }
}

/**
 * A driver error as a DativoError naming the server (`where`) and what to do. Unreachable hosts
 * and certificate failures are recognised here for every driver; `recognise` maps the driver's
 * own codes; anything else keeps the driver's message with the generic classification.
 */
export function classifySqlError(error: unknown, config: SqlSourceConfig, where: string, recognise: (e: DriverError & Record<string, unknown>, message: string) => SqlFailure | undefined): DativoError {
  if (DativoError.isInstance(error)) return error;
  const e = error as DriverError & Record<string, unknown>;
  const message = e.message ?? String(error);
  const failure = (e.code && UNREACHABLE.has(e.code) ? 'unreachable' : undefined) ?? recognise(e, message) ?? (CERTIFICATE.test(message) ? 'certificate' : undefined);
  if (failure) {
    const { text, kind, code } = describe(failure, where, e, message, config);
    return new DativoError(text, { kind, cause: error, ...(code ? { code } : {}) });
  }
  const base = classifyError(error);
  return new DativoError(`${where}: ${message}`, { kind: base.kind, cause: error, ...(base.code ? { code: base.code } : {}) });
}
