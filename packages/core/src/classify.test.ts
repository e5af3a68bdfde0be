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
});
