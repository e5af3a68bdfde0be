import { describe, expect, it } from 'vitest';
import { AbortedError, ConfigError, DativoError } from './errors.js';

class TableGoneError extends ConfigError {
  static override readonly brand = 'TableGoneError';
}

describe('error brands', () => {
  it('recognise each subclass, including across package copies (by brand, not by class identity)', () => {
    const config = new ConfigError('bad', { path: 'x' });
    expect(DativoError.isInstance(config)).toBe(true);
    expect(ConfigError.isInstance(config)).toBe(true);
    expect(AbortedError.isInstance(config)).toBe(false);
    const gone = new TableGoneError('gone');
    expect([DativoError.isInstance(gone), ConfigError.isInstance(gone), TableGoneError.isInstance(gone)]).toEqual([true, true, true]);
    // An instance made by another copy of the package carries the same brands under the same symbol.
    const foreign = Object.assign(new Error('x'), { [Symbol.for('@dativo/core/DativoError')]: new Set(['DativoError', 'ConfigError']) });
    expect(ConfigError.isInstance(foreign)).toBe(true);
    expect(AbortedError.isInstance(foreign)).toBe(false);
    expect(DativoError.isInstance(new Error('plain'))).toBe(false);
  });
});
