/** Keys whose values are secrets wherever they appear (config, errors, log fields). */
export const SECRET_KEY_PATTERN = /pass(word|wd)?|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential|authorization|auth[_-]?header|cookie|session[_-]?id|client[_-]?secret|connection[_-]?string|dsn/i;

export const REDACTED = '[REDACTED]';

/**
 * Removes secrets from values before they are logged, written to the dead-letter queue or shown in
 * an error: values under secret-looking keys, every registered secret value wherever it appears in
 * text, and passwords inside URLs (`postgres://user:pw@host`).
 */
export class Redactor {
  private readonly values = new Set<string>();

  /** Registers a secret value so it is masked wherever it appears. */
  addSecret(value: string | undefined | null): void {
    if (typeof value === 'string' && value.length >= 4) this.values.add(value);
  }

  redactText(text: string): string {
    // A URL's password (`scheme://user:password@`); the scheme's length is bounded so that a huge
    // value (a 20 MB field in a dead letter) costs one pass, not one per character.
    let out = text.includes('://') ? text.replace(/(?<![a-z0-9+.-])([a-z][a-z0-9+.-]{0,31}:\/\/[^/\s:@]+:)([^@\s/]+)@/gi, `$1${REDACTED}@`) : text;
    for (const secret of this.values) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    return out;
  }

  redact<T>(value: T, depth = 0): T {
    return this.walk(value, depth, new WeakSet()) as T;
  }

  private walk(value: unknown, depth: number, seen: WeakSet<object>): unknown {
    if (typeof value === 'string') return this.redactText(value);
    if (value === null || typeof value !== 'object') return value;
    if (depth > 8 || seen.has(value)) return '[…]';
    seen.add(value);
    if (value instanceof Error) {
      const out: Record<string, unknown> = { name: value.name, message: this.redactText(value.message) };
      const extra = value as unknown as Record<string, unknown>;
      for (const key of ['kind', 'code', 'statusCode', 'details']) if (extra[key] !== undefined) out[key] = this.walk(extra[key], depth + 1, seen);
      if (value.cause !== undefined) out.cause = this.walk(value.cause, depth + 1, seen);
      return out;
    }
    if (Array.isArray(value)) return value.map((v) => this.walk(v, depth + 1, seen));
    if (ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
    if (value instanceof Date) return value.toISOString();
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      out[key] = SECRET_KEY_PATTERN.test(key) && v !== null && v !== undefined && v !== '' && typeof v !== 'boolean' ? REDACTED : this.walk(v, depth + 1, seen);
    }
    return out;
  }
}
