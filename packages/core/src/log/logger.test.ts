import { describe, expect, it } from 'vitest';
import { DativoError } from '../errors.js';
import { JsonLogger, MemoryLogSink, parseLogLevel } from './logger.js';
import { Redactor } from './redact.js';

describe('JsonLogger', () => {
  it('writes one JSON object per line with the run id and child fields', () => {
    const sink = new MemoryLogSink();
    const log = new JsonLogger({ sink, fields: { runId: 'r-1', tenant: 'acme' }, now: () => new Date('2026-01-01T00:00:00Z') });
    log.child({ stream: 'orders' }).info('batch written', { rows: 10 });
    log.debug('hidden');
    expect(sink.records()).toEqual([{ time: '2026-01-01T00:00:00.000Z', level: 'info', msg: 'batch written', runId: 'r-1', tenant: 'acme', stream: 'orders', rows: 10 }]);
  });

  it('redacts secret keys, registered secret values, URL passwords and secrets inside errors', () => {
    const sink = new MemoryLogSink();
    const redactor = new Redactor();
    redactor.addSecret('sk_live_abcdef123456');
    const log = new JsonLogger({ sink, redactor });
    log.error('request failed with sk_live_abcdef123456', {
      config: { host: 'db', password: 'pw-1234', api_key: 'k-999', nested: { clientSecret: 'cs' } },
      url: 'postgres://app:supersecret@db:5432/prod',
      error: new DativoError('auth failed for token sk_live_abcdef123456', { kind: 'auth_expired' }),
    });
    const line = sink.lines[0] ?? '';
    for (const secret of ['sk_live_abcdef123456', 'pw-1234', 'k-999', 'supersecret', '"cs"']) expect(line).not.toContain(secret);
    const record = sink.records()[0] as Record<string, any>;
    expect(record.config).toEqual({ host: 'db', password: '[REDACTED]', api_key: '[REDACTED]', nested: { clientSecret: '[REDACTED]' } });
    expect(record.url).toBe('postgres://app:[REDACTED]@db:5432/prod');
    expect(record.error).toMatchObject({ name: 'DativoError', kind: 'auth_expired', message: 'auth failed for token [REDACTED]' });
  });

  it('redacts huge values (a 20 MB dead-lettered field) in one pass, URLs in them included', () => {
    const redactor = new Redactor();
    const big = 'x'.repeat(20 * 1024 * 1024);
    // Without a bound on the URL scheme this took one pass per character (hours).
    expect(redactor.redactText(big)).toBe(big);
    const withUrl = `https://${big} and mysql://u:pw-secret@db/x ${big}`;
    const out = redactor.redactText(withUrl);
    expect(out).toContain('mysql://u:[REDACTED]@db/x');
    expect(out).not.toContain('pw-secret');
  });

  it('writes readable text lines for terminals, still redacted', () => {
    const sink = new MemoryLogSink();
    const log = new JsonLogger({ sink, format: 'text', fields: { runId: 'r' }, now: () => new Date('2026-01-01T07:35:12Z') });
    log.warn('columns ignored', { file: 'a.csv', token: 'abc123', n: 2n });
    expect(sink.lines).toEqual(['07:35:12 warn  columns ignored  file=a.csv token=[REDACTED] n=2\n']);
  });

  it('reads v1 level names', () => {
    expect(parseLogLevel('INFO')).toBe('info');
    expect(parseLogLevel('WARNING')).toBe('warn');
    expect(parseLogLevel('CRITICAL')).toBe('error');
    expect(parseLogLevel('nonsense', 'debug')).toBe('debug');
  });
});
