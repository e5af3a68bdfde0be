import { describe, expect, it } from 'vitest';
import { ConfigError, ConfigErrors, DativoError, toDativoError } from './errors.js';

describe('DativoError', () => {
  it('defaults retryability from the kind', () => {
    expect(new DativoError('x', { kind: 'transient' }).retryable).toBe(true);
    expect(new DativoError('x', { kind: 'rate_limit' }).retryable).toBe(true);
    expect(new DativoError('x', { kind: 'validation' }).retryable).toBe(false);
    expect(new DativoError('x', { kind: 'permanent', retryable: true }).retryable).toBe(true);
  });

  it('is recognised across package copies through a global symbol', () => {
    const foreign = Object.assign(new Error('from another copy'), { kind: 'network' });
    Object.defineProperty(foreign, Symbol.for('@dativo/core/DativoError'), { value: true });
    expect(DativoError.isInstance(foreign)).toBe(true);
    expect(DativoError.isInstance(new Error('plain'))).toBe(false);
    expect(DativoError.isInstance(null)).toBe(false);
  });

  it('wraps other errors without losing DativoErrors', () => {
    const original = new DativoError('keep', { kind: 'network' });
    expect(toDativoError(original)).toBe(original);
    const wrapped = toDativoError(new TypeError('boom'), 'validation');
    expect(wrapped.kind).toBe('validation');
    expect(wrapped.message).toBe('boom');
    expect(wrapped.cause).toBeInstanceOf(TypeError);
  });

  it('formats config errors with file, line and path', () => {
    const e = new ConfigError('expected string, got number 5', { file: 'jobs/a.yaml', line: 7, path: 'source.files[0].path' });
    expect(e.message).toBe('jobs/a.yaml:7: source.files[0].path: expected string, got number 5');
    expect(e.kind).toBe('config');
    expect(new ConfigErrors([e, new ConfigError('b', { file: 'f.yaml' })]).message).toBe('jobs/a.yaml:7: source.files[0].path: expected string, got number 5\nf.yaml: b');
  });
});
