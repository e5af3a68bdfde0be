import { DativoError, DISK_FULL_CODES, DISK_FULL_HINT, type ErrorKind } from './errors.js';

/**
 * Maps whatever a driver, SDK or HTTP client threw to an {@link ErrorKind}. Connectors pass
 * overrides for codes they know better (`{ '40001': 'transient' }`), keyed by HTTP status, error
 * code, SQLSTATE or errno.
 */
export type ClassifierOverrides = Record<string, ErrorKind>;

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'PROTOCOL_CONNECTION_LOST',
  'ER_CON_COUNT_ERROR',
]);

/** TLS failures: retrying cannot help, the certificate or the settings must change. */
const TLS_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'HOSTNAME_MISMATCH',
]);

/** Local disk not writable (a full one: DISK_FULL_CODES). */
const DISK_DENIED = new Set(['EACCES', 'EPERM', 'EROFS']);

/** Errors named by S3, the Stripe SDK and Iceberg catalogs, by their name / type / code. */
const NAMED: Record<string, ErrorKind> = {
  // S3 (and S3-compatible servers)
  SlowDown: 'rate_limit',
  RequestTimeout: 'transient',
  RequestTimeTooSkewed: 'transient',
  InternalError: 'transient',
  ServiceUnavailable: 'transient',
  NoSuchBucket: 'config',
  AccessDenied: 'config',
  InvalidAccessKeyId: 'config',
  SignatureDoesNotMatch: 'config',
  // Stripe SDK (error.type)
  StripeRateLimitError: 'rate_limit',
  StripeConnectionError: 'network',
  StripeAPIError: 'transient',
  StripeAuthenticationError: 'config',
  StripePermissionError: 'config',
  StripeInvalidRequestError: 'validation',
  StripeIdempotencyError: 'permanent',
  // Iceberg catalogs (REST error type, Java exception names)
  CommitFailedException: 'transient',
  CommitStateUnknownException: 'transient',
  NoSuchTableException: 'config',
  NoSuchNamespaceException: 'config',
};

/** PostgreSQL SQLSTATE classes and codes worth retrying. */
const PG_TRANSIENT = new Set(['40001', '40P01', '55P03', '57P01', '57P02', '57P03', '53300', '08000', '08003', '08006', '08001', '08004']);
/** MySQL / MariaDB errnos worth retrying (deadlock, lock wait timeout, server gone, too many connections). */
const MYSQL_TRANSIENT = new Set([1213, 1205, 2006, 2013, 1040, 1053, 1927]);
const MYSQL_AUTH = new Set([1044, 1045, 1698]);

function pick(obj: unknown, key: string): unknown {
  return typeof obj === 'object' && obj !== null ? (obj as Record<string, unknown>)[key] : undefined;
}

/** Parses a `Retry-After` header value (seconds or HTTP date) into milliseconds. */
export function parseRetryAfter(value: string | number | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value * 1000 : undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

export function kindForHttpStatus(status: number): ErrorKind {
  if (status === 429) return 'rate_limit';
  if (status === 401) return 'auth_expired';
  if (status === 403) return 'permanent';
  if (status === 408 || status === 425) return 'transient';
  if (status >= 500) return 'transient';
  if (status >= 400) return 'validation';
  return 'permanent';
}

export interface ClassifyOptions {
  overrides?: ClassifierOverrides;
}

/** Returns the error as a DativoError with its kind decided. DativoErrors pass through unchanged. */
export function classifyError(error: unknown, options: ClassifyOptions = {}): DativoError {
  if (DativoError.isInstance(error)) return error;
  const overrides = options.overrides ?? {};
  const message = error instanceof Error ? error.message : String(error);

  let status = numeric(pick(error, 'statusCode') ?? pick(error, 'status') ?? pick(pick(error, 'response'), 'status') ?? pick(pick(error, '$metadata'), 'httpStatusCode'));
  const code = pick(error, 'code');
  // SDKs that put the HTTP status in `code` (HubSpot's ApiException, gaxios).
  if (status === undefined && typeof code === 'number' && code >= 100 && code < 600) status = code;
  const errno = pick(error, 'errno');
  const headers = pick(error, 'headers') ?? pick(pick(error, 'response'), 'headers');
  const retryAfterMs = parseRetryAfter(headerValue(headers, 'retry-after'));

  const candidates: string[] = [];
  if (status !== undefined) candidates.push(String(status));
  if (typeof code === 'string' || typeof code === 'number') candidates.push(String(code));
  if (typeof errno === 'number') candidates.push(String(errno));
  const name = pick(error, 'name');
  if (typeof name === 'string') candidates.push(name);
  for (const key of candidates) {
    const kind = overrides[key];
    if (kind) return make(message, kind, error, status, retryAfterMs, key);
  }

  for (const key of [pick(error, 'type'), code, name, pick(pick(error, 'error'), 'type')]) {
    if (typeof key === 'string' && NAMED[key]) return make(message, NAMED[key], error, status, retryAfterMs, key);
  }
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code)) return make(message, 'network', error, status, retryAfterMs, code);
    if (TLS_CODES.has(code)) return make(`${message} (TLS: check the server's certificate, the CA given to the connection and its ssl settings)`, 'config', error, status, retryAfterMs, code);
    if (DISK_FULL_CODES.has(code)) return make(`${message} ${DISK_FULL_HINT}`, 'permanent', error, status, retryAfterMs, code);
    if (DISK_DENIED.has(code)) return make(message, 'config', error, status, retryAfterMs, code);
    if (/^[0-9A-Z]{5}$/.test(code) && /\d/.test(code)) {
      // PostgreSQL SQLSTATE
      if (PG_TRANSIENT.has(code) || code.startsWith('08')) return make(message, 'transient', error, status, retryAfterMs, code);
      if (code === '28P01' || code === '28000') return make(message, 'permanent', error, status, retryAfterMs, code);
      if (code.startsWith('22') || code.startsWith('23')) return make(message, 'validation', error, status, retryAfterMs, code);
      if (code === '57014') return make(message, 'transient', error, status, retryAfterMs, code);
      return make(message, 'permanent', error, status, retryAfterMs, code);
    }
  }
  if (typeof errno === 'number') {
    if (MYSQL_TRANSIENT.has(errno)) return make(message, 'transient', error, status, retryAfterMs, String(errno));
    if (MYSQL_AUTH.has(errno)) return make(message, 'permanent', error, status, retryAfterMs, String(errno));
  }
  if (status !== undefined) return make(message, kindForHttpStatus(status), error, status, retryAfterMs, code === undefined ? undefined : String(code));
  if (name === 'AbortError' || name === 'TimeoutError') return make(message, 'transient', error, status, retryAfterMs, String(name));
  if (pick(error, '$retryable') !== undefined) return make(message, 'transient', error, status, retryAfterMs, undefined);
  return make(message, 'permanent', error, status, retryAfterMs, typeof code === 'string' ? code : undefined);
}

function make(message: string, kind: ErrorKind, cause: unknown, statusCode: number | undefined, retryAfterMs: number | undefined, code: string | undefined): DativoError {
  return new DativoError(message, {
    kind,
    cause,
    ...(statusCode === undefined ? {} : { statusCode }),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    ...(code === undefined ? {} : { code }),
  });
}

function numeric(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^\d{3}$/.test(value)) return Number(value);
  return undefined;
}

function headerValue(headers: unknown, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as { get?: unknown }).get === 'function') {
    const value = (headers as { get(n: string): unknown }).get(name);
    return typeof value === 'string' ? value : undefined;
  }
  if (typeof headers === 'object') {
    for (const [key, value] of Object.entries(headers as Record<string, unknown>)) {
      if (key.toLowerCase() === name) return Array.isArray(value) ? String(value[0]) : String(value);
    }
  }
  return undefined;
}
