/**
 * JSON with exact 64-bit integers. Iceberg snapshot ids and sequence numbers exceed 2^53, where
 * `JSON.parse` silently rounds. Integers that are not safe are parsed as `bigint`; everything else
 * exactly as `JSON.parse` would. `stringifyJson` writes bigints as plain number literals.
 */
export function parseJsonLossless(text: string): unknown {
  let i = 0;
  const n = text.length;
  const ws = (): void => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 10 || c === 13 || c === 9) i++;
      else break;
    }
  };
  const fail = (what: string): never => {
    throw new SyntaxError(`invalid JSON at position ${i}: ${what}`);
  };
  const value = (): unknown => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const out: Record<string, unknown> = {};
      ws();
      if (text[i] === '}') {
        i++;
        return out;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a key');
        const key = string();
        ws();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        out[key] = value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return out;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const out: unknown[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return out;
      }
      for (;;) {
        out.push(value());
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return out;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return string();
    if (text.startsWith('true', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return false;
    }
    if (text.startsWith('null', i)) {
      i += 4;
      return null;
    }
    return number();
  };
  const string = (): string => {
    const start = i;
    i++;
    let escaped = false;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 92) {
        escaped = true;
        i += 2;
        continue;
      }
      if (c === 34) break;
      i++;
    }
    if (i >= n) fail('unterminated string');
    i++;
    const raw = text.slice(start, i);
    return escaped ? (JSON.parse(raw) as string) : raw.slice(1, -1);
  };
  const number = (): number | bigint => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) fail('unexpected character');
    const token = (m as RegExpExecArray)[0];
    i += token.length;
    if (!/[.eE]/.test(token)) {
      const v = Number(token);
      if (!Number.isSafeInteger(v)) return BigInt(token);
      return v;
    }
    return Number(token);
  };
  const result = value();
  ws();
  if (i !== n) fail('trailing characters');
  return result;
}

/** JSON.stringify that writes bigints as number literals (exactly). */
export function stringifyJsonLossless(value: unknown, indent?: number): string {
  const marker = '"\\u0000bigint:';
  const text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `\u0000bigint:${v.toString()}` : v), indent);
  return text.includes(marker) ? text.replace(/"\\u0000bigint:(-?\d+)"/g, '$1') : text;
}

/** A 64-bit id as bigint whatever JSON gave (number or bigint). */
export function toBigInt(value: unknown): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
  throw new TypeError(`expected a 64-bit integer, got ${String(value)}`);
}
