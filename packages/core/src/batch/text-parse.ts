/**
 * Parsers that read values straight from UTF-8 bytes, without creating a JS string per value.
 * Each returns `undefined` (or NaN for numbers) when the text is not a valid value; the caller
 * turns that into a validation error naming the row and column.
 */

const C_0 = 48;
const C_9 = 57;
const C_PLUS = 43;
const C_MINUS = 45;
const C_DOT = 46;
const C_SPACE = 32;
const C_TAB = 9;

export function trimStart(buf: Uint8Array, start: number, end: number): number {
  while (start < end && (buf[start] === C_SPACE || buf[start] === C_TAB)) start++;
  return start;
}

export function trimEnd(buf: Uint8Array, start: number, end: number): number {
  while (end > start && (buf[end - 1] === C_SPACE || buf[end - 1] === C_TAB || buf[end - 1] === 13)) end--;
  return end;
}

/** Parses a base-10 integer that fits in ±2^53. Returns NaN for anything else. */
export function parseSafeInt(buf: Uint8Array, start: number, end: number): number {
  start = trimStart(buf, start, end);
  end = trimEnd(buf, start, end);
  if (start >= end) return NaN;
  let negative = false;
  const first = buf[start];
  if (first === C_MINUS || first === C_PLUS) {
    negative = first === C_MINUS;
    start++;
    if (start >= end) return NaN;
  }
  if (end - start > 16) return NaN;
  let value = 0;
  for (let i = start; i < end; i++) {
    const d = (buf[i] as number) - C_0;
    if (d < 0 || d > 9) return NaN;
    value = value * 10 + d;
  }
  if (value > Number.MAX_SAFE_INTEGER) return NaN;
  return negative ? -value : value;
}

/** Parses any base-10 integer to a BigInt (slow path for values past 2^53). */
export function parseBigIntText(buf: Uint8Array, start: number, end: number): bigint | undefined {
  start = trimStart(buf, start, end);
  end = trimEnd(buf, start, end);
  let i = start;
  if (buf[i] === C_MINUS || buf[i] === C_PLUS) i++;
  if (i >= end) return undefined;
  for (let j = i; j < end; j++) {
    const c = buf[j] as number;
    if (c < C_0 || c > C_9) return undefined;
  }
  return BigInt(latin1(buf, start, end));
}

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

/**
 * Parses a decimal floating point number. Values whose significand fits in 2^53 with a power of
 * ten up to 22 are computed exactly with one IEEE multiplication or division (Clinger's fast
 * path); everything else falls back to `Number()` on the text, so the result always equals
 * JavaScript's own correctly-rounded parse.
 */
export function parseFloatText(buf: Uint8Array, start: number, end: number): number {
  start = trimStart(buf, start, end);
  end = trimEnd(buf, start, end);
  if (start >= end) return NaN;
  let i = start;
  let negative = false;
  if (buf[i] === C_MINUS || buf[i] === C_PLUS) {
    negative = buf[i] === C_MINUS;
    i++;
  }
  let mantissa = 0;
  let exp10 = 0;
  let sawDigit = false;
  while (i < end) {
    const d = (buf[i] as number) - C_0;
    if (d < 0 || d > 9) break;
    sawDigit = true;
    mantissa = mantissa * 10 + d;
    i++;
  }
  if (i < end && buf[i] === C_DOT) {
    i++;
    while (i < end) {
      const d = (buf[i] as number) - C_0;
      if (d < 0 || d > 9) break;
      sawDigit = true;
      mantissa = mantissa * 10 + d;
      exp10--;
      i++;
    }
  }
  if (!sawDigit) return parseSpecialFloat(buf, start, end);
  if (i < end) {
    const c = buf[i];
    if (c !== 101 && c !== 69) return NaN; // e / E
    i++;
    let expNegative = false;
    if (buf[i] === C_MINUS || buf[i] === C_PLUS) {
      expNegative = buf[i] === C_MINUS;
      i++;
    }
    if (i >= end) return NaN;
    let e = 0;
    while (i < end) {
      const d = (buf[i] as number) - C_0;
      if (d < 0 || d > 9) return NaN;
      e = e * 10 + d;
      if (e > 100000) break;
      i++;
    }
    if (i < end) return slowFloat(buf, start, end);
    exp10 += expNegative ? -e : e;
  }
  // Clinger's fast path: the digits as an integer below 2^53 are exact (the accumulation only grows,
  // so every step was exact too), and so is 10^k for k ≤ 22; one IEEE multiplication or division
  // then rounds correctly. That covers 16-digit values such as 123456.3333333333 as well.
  if (mantissa <= Number.MAX_SAFE_INTEGER) {
    let value: number;
    if (exp10 === 0) value = mantissa;
    else if (exp10 < 0 && exp10 >= -22) value = mantissa / (POW10[-exp10] as number);
    else if (exp10 > 0 && exp10 <= 22) value = mantissa * (POW10[exp10] as number);
    else return slowFloat(buf, start, end);
    return negative ? -value : value;
  }
  return slowFloat(buf, start, end);
}

function slowFloat(buf: Uint8Array, start: number, end: number): number {
  const n = Number(latin1(buf, start, end));
  return n;
}

function parseSpecialFloat(buf: Uint8Array, start: number, end: number): number {
  const text = latin1(buf, start, end).toLowerCase();
  switch (text) {
    case 'nan':
      return Number.NaN; // caller checks isSpecialNaN
    case 'inf':
    case 'infinity':
    case '+inf':
    case '+infinity':
      return Number.POSITIVE_INFINITY;
    case '-inf':
    case '-infinity':
      return Number.NEGATIVE_INFINITY;
    default:
      return NaN;
  }
}

/** True when the text spells NaN (so a NaN result is a value, not a parse failure). */
export function isNaNText(buf: Uint8Array, start: number, end: number): boolean {
  start = trimStart(buf, start, end);
  end = trimEnd(buf, start, end);
  return end - start === 3 && (buf[start]! | 32) === 110 && (buf[start + 1]! | 32) === 97 && (buf[start + 2]! | 32) === 110;
}

/**
 * Parses a decimal into its unscaled integer at `scale`. Returns a JS number when the unscaled
 * value is safe, a bigint when it is not, or a string describing the problem.
 */
export function parseDecimalText(buf: Uint8Array, start: number, end: number, precision: number, scale: number): number | bigint | string {
  start = trimStart(buf, start, end);
  end = trimEnd(buf, start, end);
  let i = start;
  let negative = false;
  if (buf[i] === C_MINUS || buf[i] === C_PLUS) {
    negative = buf[i] === C_MINUS;
    i++;
  }
  let intDigits = 0;
  let value = 0;
  let big: bigint | undefined;
  let totalDigits = 0;
  let sawDigit = false;
  // skip leading zeros of the integer part so they do not count against precision
  while (i < end && buf[i] === C_0 && i + 1 < end && buf[i + 1] !== C_DOT) i++;
  while (i < end) {
    const d = (buf[i] as number) - C_0;
    if (d < 0 || d > 9) break;
    sawDigit = true;
    if (intDigits > 0 || d !== 0) intDigits++;
    totalDigits++;
    if (totalDigits > 15 && big === undefined) big = BigInt(value);
    if (big !== undefined) big = big * 10n + BigInt(d);
    else value = value * 10 + d;
    i++;
  }
  let fracDigits = 0;
  if (i < end && buf[i] === C_DOT) {
    i++;
    while (i < end) {
      const d = (buf[i] as number) - C_0;
      if (d < 0 || d > 9) break;
      sawDigit = true;
      fracDigits++;
      if (fracDigits > scale) {
        if (d !== 0) return `has more than ${scale} digits after the decimal point`;
        i++;
        continue;
      }
      totalDigits++;
      if (totalDigits > 15 && big === undefined) big = BigInt(value);
      if (big !== undefined) big = big * 10n + BigInt(d);
      else value = value * 10 + d;
      i++;
    }
  }
  if (!sawDigit || i !== end) {
    if (i < end && (buf[i] === 101 || buf[i] === 69)) return parseDecimalViaNumber(buf, start, end, precision, scale);
    return 'is not a decimal number';
  }
  if (intDigits > precision - scale) return `needs ${intDigits} digits before the decimal point; decimal(${precision},${scale}) allows ${precision - scale}`;
  const pad = scale - Math.min(fracDigits, scale);
  if (big === undefined && totalDigits + pad <= 15) {
    const scaled = value * (POW10[pad] as number);
    return negative ? -scaled : scaled;
  }
  let b = big ?? BigInt(value);
  if (pad > 0) b *= 10n ** BigInt(pad);
  return negative ? -b : b;
}

function parseDecimalViaNumber(buf: Uint8Array, start: number, end: number, precision: number, scale: number): number | bigint | string {
  const text = latin1(buf, start, end);
  if (!/^[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+$/.test(text)) return 'is not a decimal number';
  const [mant = '', expText = '0'] = text.toLowerCase().split('e');
  const negative = mant.startsWith('-');
  const digitsText = mant.replace(/^[+-]/, '');
  const dot = digitsText.indexOf('.');
  const intPart = dot < 0 ? digitsText : digitsText.slice(0, dot);
  const fracPart = dot < 0 ? '' : digitsText.slice(dot + 1);
  let digits = (intPart + fracPart).replace(/^0+(?=\d)/, '');
  let exp = Number(expText) - fracPart.length + scale;
  if (exp < 0) {
    const cut = digits.slice(digits.length + exp);
    if (/[1-9]/.test(cut)) return `has more than ${scale} digits after the decimal point`;
    digits = digits.slice(0, digits.length + exp) || '0';
    exp = 0;
  }
  const unscaled = BigInt(digits) * 10n ** BigInt(exp);
  if (unscaled.toString().length > precision) return `does not fit decimal(${precision},${scale})`;
  return negative ? -unscaled : unscaled;
}

/** `true/false`, `t/f`, `yes/no`, `y/n`, `1/0`, `on/off` (any case). */
export function parseBoolText(buf: Uint8Array, start: number, end: number): boolean | undefined {
  start = trimStart(buf, start, end);
  end = trimEnd(buf, start, end);
  const n = end - start;
  const c = (buf[start]! | 32) as number;
  if (n === 1) {
    if (c === 116 || c === 121 || c === 49) return true; // t y 1
    if (c === 102 || c === 110 || c === 48) return false; // f n 0
    return undefined;
  }
  if (n === 4 && c === 116 && (buf[start + 1]! | 32) === 114 && (buf[start + 2]! | 32) === 117 && (buf[start + 3]! | 32) === 101) return true;
  if (n === 5 && c === 102 && (buf[start + 1]! | 32) === 97 && (buf[start + 2]! | 32) === 108 && (buf[start + 3]! | 32) === 115 && (buf[start + 4]! | 32) === 101) return false;
  const text = latin1(buf, start, end).toLowerCase();
  if (text === 'yes' || text === 'on') return true;
  if (text === 'no' || text === 'off') return false;
  return undefined;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function validDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const max = m === 2 && leap ? 29 : (DAYS_IN_MONTH[m - 1] as number);
  return d <= max;
}

function digitsAt(buf: Uint8Array, pos: number, count: number): number {
  let v = 0;
  for (let i = 0; i < count; i++) {
    const d = (buf[pos + i] as number) - C_0;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** Parses `YYYY-MM-DD` (also `YYYY/MM/DD`) to days since the epoch; NaN when invalid. */
export function parseDateText(buf: Uint8Array, start: number, end: number): number {
  start = trimStart(buf, start, end);
  end = trimEnd(buf, start, end);
  return parseDateAt(buf, start, end);
}

function parseDateAt(buf: Uint8Array, start: number, end: number): number {
  if (end - start === 10 && buf[start + 4] === C_MINUS && buf[start + 7] === C_MINUS) {
    const y1 = d2(buf, start);
    const y2 = d2(buf, start + 2);
    const m = d2(buf, start + 5);
    const d = d2(buf, start + 8);
    if ((y1 | y2 | m | d) < 0) return NaN;
    const y = y1 * 100 + y2;
    return validDate(y, m, d) ? daysFromCivil(y, m, d) : NaN;
  }
  let negative = false;
  if (buf[start] === C_MINUS) {
    negative = true;
    start++;
  }
  let yLen = 0;
  while (start + yLen < end && buf[start + yLen]! >= C_0 && buf[start + yLen]! <= C_9) yLen++;
  if (yLen < 4 || yLen > 6 || end - start !== yLen + 6) return NaN;
  const sep = buf[start + yLen];
  if ((sep !== C_MINUS && sep !== 47) || buf[start + yLen + 3] !== sep) return NaN;
  let y = digitsAt(buf, start, yLen);
  const m = digitsAt(buf, start + yLen + 1, 2);
  const d = digitsAt(buf, start + yLen + 4, 2);
  if (y < 0 || m < 0 || d < 0) return NaN;
  if (negative) y = -y;
  if (!validDate(y, m, d)) return NaN;
  return daysFromCivil(y, m, d);
}

const C_COLON = 58;

function d2(buf: Uint8Array, p: number): number {
  const a = (buf[p] as number) - C_0;
  const b = (buf[p + 1] as number) - C_0;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/**
 * `YYYY-MM-DD HH:MM:SS[.f{1,6}]` with no offset, the shape almost every export writes; NaN for
 * anything else (the general parser then decides).
 */
function fastTimestamp(buf: Uint8Array, start: number, end: number): number {
  const n = end - start;
  if (n < 19 || n > 26 || buf[start + 4] !== C_MINUS || buf[start + 7] !== C_MINUS || buf[start + 13] !== C_COLON || buf[start + 16] !== C_COLON) return NaN;
  const sep = buf[start + 10];
  if (sep !== C_SPACE && sep !== 84) return NaN;
  const y1 = d2(buf, start);
  const y2 = d2(buf, start + 2);
  const m = d2(buf, start + 5);
  const d = d2(buf, start + 8);
  const hh = d2(buf, start + 11);
  const mm = d2(buf, start + 14);
  const ss = d2(buf, start + 17);
  if ((y1 | y2 | m | d | hh | mm | ss) < 0 || hh > 23 || mm > 59 || ss > 59) return NaN;
  const y = y1 * 100 + y2;
  if (!validDate(y, m, d)) return NaN;
  let frac = 0;
  if (n > 19) {
    if (buf[start + 19] !== C_DOT || n === 20) return NaN;
    let scale = 100000;
    for (let i = start + 20; i < end; i++) {
      const digit = (buf[i] as number) - C_0;
      if (digit < 0 || digit > 9) return NaN;
      frac += digit * scale;
      scale /= 10;
    }
  }
  return daysFromCivil(y, m, d) * 86_400_000_000 + ((hh * 60 + mm) * 60 + ss) * 1_000_000 + frac;
}

/** Microseconds since midnight of `HH:MM[:SS[.ffffff]]`, NaN when invalid. */
export function parseTimeText(buf: Uint8Array, start: number, end: number): number {
  start = trimStart(buf, start, end);
  end = trimEnd(buf, start, end);
  const r = parseClock(buf, start, end);
  return r === undefined || r.next !== end ? NaN : r.micros;
}

function parseClock(buf: Uint8Array, start: number, end: number): { micros: number; next: number } | undefined {
  if (end - start < 5) return undefined;
  const hh = digitsAt(buf, start, 2);
  if (hh < 0 || buf[start + 2] !== 58) return undefined;
  const mm = digitsAt(buf, start + 3, 2);
  if (mm < 0) return undefined;
  let pos = start + 5;
  let ss = 0;
  let frac = 0;
  if (pos < end && buf[pos] === 58) {
    ss = digitsAt(buf, pos + 1, 2);
    if (ss < 0 || pos + 3 > end) return undefined;
    pos += 3;
    if (pos < end && (buf[pos] === C_DOT || buf[pos] === 44)) {
      pos++;
      let n = 0;
      let scale = 100000;
      while (pos < end) {
        const d = (buf[pos] as number) - C_0;
        if (d < 0 || d > 9) break;
        if (n < 6) frac += d * scale;
        scale /= 10;
        n++;
        pos++;
      }
      if (n === 0) return undefined;
    }
  }
  if (hh > 24 || mm > 59 || ss > 60 || (hh === 24 && (mm > 0 || ss > 0 || frac > 0))) return undefined;
  if (ss === 60) ss = 59; // leap second: clamp, as most engines do
  return { micros: ((hh * 60 + mm) * 60 + ss) * 1_000_000 + Math.floor(frac), next: pos };
}

/**
 * Parses `YYYY-MM-DD[ T]HH:MM[:SS[.f…]][Z|±HH[:MM]]` (or a bare date) to microseconds since the
 * epoch in UTC. Without an offset the wall time is taken as UTC. Returns NaN when invalid. Results
 * beyond ±2^53 µs (before 1685 or after 2255) are rounded: use {@link parseTimestampBig} there.
 */
export function parseTimestampText(buf: Uint8Array, start: number, end: number): number {
  start = trimStart(buf, start, end);
  end = trimEnd(buf, start, end);
  const fast = fastTimestamp(buf, start, end);
  if (fast === fast) return fast;
  const parts = timestampParts(buf, start, end);
  return parts ? parts.days * 86_400_000_000 + parts.micros - parts.offsetMinutes * 60_000_000 : NaN;
}

/** The exact microseconds of a timestamp anywhere in years 0000–9999 (and beyond), or undefined. */
export function parseTimestampBig(buf: Uint8Array, start: number, end: number): bigint | undefined {
  start = trimStart(buf, start, end);
  end = trimEnd(buf, start, end);
  const parts = timestampParts(buf, start, end);
  return parts ? BigInt(parts.days) * 86_400_000_000n + BigInt(parts.micros) - BigInt(parts.offsetMinutes) * 60_000_000n : undefined;
}

function timestampParts(buf: Uint8Array, start: number, end: number): { days: number; micros: number; offsetMinutes: number } | undefined {
  let dateEnd = start;
  if (buf[dateEnd] === C_MINUS) dateEnd++;
  while (dateEnd < end && buf[dateEnd] !== 84 && buf[dateEnd] !== C_SPACE && buf[dateEnd] !== 116) dateEnd++;
  const days = parseDateAt(buf, start, dateEnd);
  if (Number.isNaN(days)) return undefined;
  if (dateEnd === end) return { days, micros: 0, offsetMinutes: 0 };
  let pos = dateEnd + 1;
  const clock = parseClock(buf, pos, end);
  if (!clock) return undefined;
  pos = clock.next;
  while (pos < end && buf[pos] === C_SPACE) pos++;
  let offsetMinutes = 0;
  if (pos < end) {
    const c = buf[pos];
    if ((c === 90 || c === 122) && pos + 1 === end) {
      pos++;
    } else if (c === C_PLUS || c === C_MINUS) {
      const sign = c === C_MINUS ? -1 : 1;
      const oh = digitsAt(buf, pos + 1, 2);
      if (oh < 0) return undefined;
      let p = pos + 3;
      let om = 0;
      if (p < end) {
        if (buf[p] === 58) p++;
        om = digitsAt(buf, p, 2);
        if (om < 0) return undefined;
        p += 2;
      }
      if (p !== end || oh > 18 || om > 59) return undefined;
      offsetMinutes = sign * (oh * 60 + om);
      pos = p;
    } else if (end - pos === 3 && (buf[pos]! | 32) === 117 && (buf[pos + 1]! | 32) === 116 && (buf[pos + 2]! | 32) === 99) {
      pos = end; // "UTC"
    } else {
      return undefined;
    }
  }
  return { days, micros: clock.micros, offsetMinutes };
}

/** Latin-1 view of bytes: only for ASCII-only slow paths and error messages. */
export function latin1(buf: Uint8Array, start: number, end: number): string {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  return b.toString('latin1', start, end);
}

const DECODER = new TextDecoder('utf-8');

/** UTF-8 text of a byte range, for error messages and the few values that need a JS string. */
export function utf8Text(buf: Uint8Array, start: number, end: number): string {
  return DECODER.decode(buf.subarray(start, end));
}

/**
 * Copies `buf[start, end)` — the inside of a quoted CSV field — into `out` from `at`, each doubled
 * quote (`""`) collapsed to one; returns the position after the last byte written.
 */
export function collapseDoubledQuotes(buf: Uint8Array, start: number, end: number, quote: number, out: Uint8Array, at: number): number {
  let p = at;
  for (let i = start; i < end; i++) {
    const c = buf[i] as number;
    out[p++] = c;
    if (c === quote && buf[i + 1] === quote) i++;
  }
  return p;
}

/** A short preview of a value for error messages (never more than 60 characters). */
export function previewText(buf: Uint8Array, start: number, end: number): string {
  const text = utf8Text(buf, start, Math.min(end, start + 240));
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
