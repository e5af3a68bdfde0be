/** True for plain objects (mappings), false for arrays, null and class instances. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Merges `over` onto `base`: mappings merge key by key, everything else (lists included) in
 * `over` replaces what `base` had. Neither input is modified.
 */
export function deepMerge<T>(base: unknown, over: T): T {
  if (over === undefined) return base as T;
  if (!isPlainObject(base) || !isPlainObject(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) out[key] = key in base ? deepMerge(base[key], value) : value;
  return out as T;
}
