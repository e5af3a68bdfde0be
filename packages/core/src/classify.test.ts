import { describe, expect, it } from 'vitest';
import { classifyError, parseRetryAfter } from './classify.js';

describe('classifyError', () => {
  it('maps HTTP statuses', () => {
    expect(classifyError({ message: 'slow down', statusCode: 429, headers: { 'retry-after': '3' } })).toMatchObject({ kind: 'rate_limit', retryable: true, retryAfterMs: 3000, statusCode: 429 });
    expect(classifyError({ message: 'x', status: 401 }).kind).toBe('auth_expired');
    expect(classifyError({ message: 'x', status: 403 }).kind).toBe('permanent');
    expect(classifyError({ message: 'x', status: 404 }).kind).toBe('validation');
    expect(classifyError({ message: 'x', status: 503 })).toMatchObject({ kind: 'transient', retryable: true });
    expect(classifyError({ message: 'x', $metadata: { httpStatusCode: 500 } }).kind).toBe('transient');
    expect(classifyError({ message: 'x', response: { status: 502, headers: new Headers({ 'Retry-After': '1' }) } })).toMatchObject({ kind: 'transient', retryAfterMs: 1000 });
  });

  it('maps node network codes, PostgreSQL SQLSTATEs and MySQL errnos', () => {
    expect(classifyError(Object.assign(new Error('reset'), { code: 'ECONNRESET' })).kind).toBe('network');
    expect(classifyError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })).retryable).toBe(true);
    expect(classifyError(Object.assign(new Error('serialization'), { code: '40001' })).kind).toBe('transient');
    expect(classifyError(Object.assign(new Error('admin shutdown'), { code: '57P01' })).kind).toBe('transient');
    expect(classifyError(Object.assign(new Error('bad password'), { code: '28P01' })).kind).toBe('permanent');
    expect(classifyError(Object.assign(new Error('bad value'), { code: '22P02' })).kind).toBe('validation');
    expect(classifyError(Object.assign(new Error('deadlock'), { errno: 1213, code: 'ER_LOCK_DEADLOCK' })).kind).toBe('transient');
    expect(classifyError(Object.assign(new Error('denied'), { errno: 1045, code: 'ER_ACCESS_DENIED_ERROR' })).kind).toBe('permanent');
    expect(classifyError(new Error('anything else')).kind).toBe('permanent');
  });

  it('applies per-connector overrides by status, code or errno', () => {
    expect(classifyError({ message: 'x', status: 404 }, { overrides: { '404': 'transient' } }).kind).toBe('transient');
    expect(classifyError(Object.assign(new Error('x'), { code: 'ER_LOCK_DEADLOCK', errno: 1213 }), { overrides: { '1213': 'permanent' } }).kind).toBe('permanent');
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('120')).toBe(120_000);
    expect(parseRetryAfter('1.5')).toBe(1500);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });

  // The error types a run meets, each with the kind that decides retry, breaker and exit code.
  const cases: Array<[string, unknown, string, boolean]> = [
    ['HTTP 429 with Retry-After', { message: 'too many', status: 429, headers: { 'retry-after': '2' } }, 'rate_limit', true],
    ['HTTP 500', { message: 'oops', status: 500 }, 'transient', true],
    ['HTTP 502', { message: 'bad gateway', statusCode: 502 }, 'transient', true],
    ['HTTP 503', { message: 'unavailable', response: { status: 503 } }, 'transient', true],
    ['HTTP 408', { message: 'timeout', status: 408 }, 'transient', true],
    ['HTTP 401', { message: 'expired', status: 401 }, 'auth_expired', true],
    ['HTTP 400', { message: 'bad request', status: 400 }, 'validation', false],
    ['ECONNRESET', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'network', true],
    ['ETIMEDOUT', Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' }), 'network', true],
    ['EPIPE', Object.assign(new Error('broken pipe'), { code: 'EPIPE' }), 'network', true],
    ['ENOTFOUND', Object.assign(new Error('getaddrinfo ENOTFOUND db'), { code: 'ENOTFOUND' }), 'network', true],
    ['EAI_AGAIN', Object.assign(new Error('getaddrinfo EAI_AGAIN db'), { code: 'EAI_AGAIN' }), 'network', true],
    ['TLS: expired certificate', Object.assign(new Error('certificate has expired'), { code: 'CERT_HAS_EXPIRED' }), 'config', false],
    ['TLS: self-signed certificate', Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), 'config', false],
    ['TLS: host name mismatch', Object.assign(new Error("Hostname/IP does not match certificate's altnames"), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }), 'config', false],
    ['PostgreSQL 08006 connection failure', Object.assign(new Error('connection failure'), { code: '08006' }), 'transient', true],
    ['PostgreSQL 40P01 deadlock', Object.assign(new Error('deadlock detected'), { code: '40P01' }), 'transient', true],
    ['PostgreSQL 53300 too many connections', Object.assign(new Error('too many connections'), { code: '53300' }), 'transient', true],
    ['PostgreSQL 57P01 admin shutdown', Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }), 'transient', true],
    ['PostgreSQL 57014 statement timeout', Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }), 'transient', true],
    ['MySQL 1205 lock wait timeout', Object.assign(new Error('Lock wait timeout exceeded'), { errno: 1205, code: 'ER_LOCK_WAIT_TIMEOUT' }), 'transient', true],
    ['MySQL 1213 deadlock', Object.assign(new Error('Deadlock found'), { errno: 1213, code: 'ER_LOCK_DEADLOCK' }), 'transient', true],
    ['MySQL 2006 server gone away', Object.assign(new Error('MySQL server has gone away'), { errno: 2006 }), 'transient', true],
    ['MySQL 2013 lost connection', Object.assign(new Error('Lost connection to MySQL server during query'), { errno: 2013 }), 'transient', true],
    ['S3 SlowDown', Object.assign(new Error('Please reduce your request rate.'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } }), 'rate_limit', true],
    ['S3 RequestTimeout', Object.assign(new Error('Your socket connection to the server was not read from or written to within the timeout period.'), { name: 'RequestTimeout', $metadata: { httpStatusCode: 400 } }), 'transient', true],
    ['S3 503 ServiceUnavailable', Object.assign(new Error('Service Unavailable'), { name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } }), 'transient', true],
    ['S3 NoSuchBucket', Object.assign(new Error('The specified bucket does not exist'), { name: 'NoSuchBucket', $metadata: { httpStatusCode: 404 } }), 'config', false],
    ['Iceberg commit conflict', { message: 'Requirement failed: branch main has changed', error: { type: 'CommitFailedException', code: 409 }, status: 409 }, 'transient', true],
    ['disk full (ENOSPC)', Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }), 'permanent', false],
    ['quota exceeded (EDQUOT)', Object.assign(new Error('disk quota exceeded'), { code: 'EDQUOT' }), 'permanent', false],
    ['read-only file system (EROFS)', Object.assign(new Error('read-only file system'), { code: 'EROFS' }), 'config', false],
    ['Stripe rate limit', Object.assign(new Error('Too many requests'), { type: 'StripeRateLimitError', statusCode: 429 }), 'rate_limit', true],
    ['Stripe connection error', Object.assign(new Error('An error occurred with our connection to Stripe'), { type: 'StripeConnectionError' }), 'network', true],
    ['Stripe API error', Object.assign(new Error('An unknown error occurred'), { type: 'StripeAPIError', statusCode: 500 }), 'transient', true],
    ['Stripe authentication error', Object.assign(new Error('Invalid API Key provided'), { type: 'StripeAuthenticationError', statusCode: 401 }), 'config', false],
    ['HubSpot ApiException 429 (status in code)', Object.assign(new Error('HTTP-Code: 429'), { code: 429, body: { category: 'RATE_LIMITS' } }), 'rate_limit', true],
    ['HubSpot ApiException 502', Object.assign(new Error('HTTP-Code: 502'), { code: 502 }), 'transient', true],
    ['Google (gaxios) 503', Object.assign(new Error('backendError'), { status: 503, response: { status: 503 } }), 'transient', true],
    ['aborted request (AbortError)', Object.assign(new Error('This operation was aborted'), { name: 'AbortError' }), 'transient', true],
  ];
  it.each(cases)('%s', (_name, error, kind, retryable) => {
    const classified = classifyError(error);
    expect(classified.kind).toBe(kind);
    expect(classified.retryable).toBe(retryable);
  });
});
