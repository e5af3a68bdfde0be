import type { ZodType } from 'zod';
import { ConfigError, ConfigErrors } from '@dativo/core/definition';
import { formatPath } from './env.js';

export interface Located {
  file?: string;
  /** Prefix of every reported path (`source` when validating a job's source section). */
  prefix?: (string | number)[];
  lineOf?: (path: (string | number)[]) => number | undefined;
  /** Where a value really came from when it is not `file` (a default merged in from another file). */
  origin?: (path: (string | number)[]) => { file: string; line?: number | undefined } | undefined;
}

function locate(where: Located, full: (string | number)[]): { file?: string; line?: number } {
  const origin = where.origin?.(full);
  if (origin) return { file: origin.file, ...(origin.line ? { line: origin.line } : {}) };
  const line = where.lineOf?.(full);
  return { ...(where.file ? { file: where.file } : {}), ...(line ? { line } : {}) };
}

/** A problem that does not stop the run (unknown key, deprecated field). */
export interface ConfigWarning {
  file?: string;
  path: string;
  line?: number;
  message: string;
}

export function formatWarning(w: ConfigWarning): string {
  return `${w.file ? `${w.file}${w.line ? `:${w.line}` : ''}: ` : ''}${w.path}: ${w.message}`;
}

interface ZodIssueLike {
  code: string;
  path: PropertyKey[];
  message: string;
  expected?: string;
  values?: unknown[];
  keys?: string[];
  minimum?: unknown;
  maximum?: unknown;
  origin?: string;
  errors?: ZodIssueLike[][];
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string '${value.length > 40 ? `${value.slice(0, 37)}...` : value}'`;
  return `${typeof value} ${String(value)}`;
}

function valueAt(root: unknown, path: PropertyKey[]): unknown {
  let node = root;
  for (const part of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[part];
  }
  return node;
}

function issueMessage(issue: ZodIssueLike, input: unknown): string {
  const value = valueAt(input, issue.path);
  switch (issue.code) {
    case 'invalid_type':
      if (value === undefined) return `is required (expected ${issue.expected ?? 'a value'})`;
      return `expected ${issue.expected === 'array' ? 'a list' : issue.expected === 'object' ? 'a mapping' : issue.expected}, got ${describeValue(value)}`;
    case 'invalid_value': {
      const meant = typeof value === 'string' ? closestName(value, (issue.values ?? []).map(String)) : undefined;
      return `expected one of ${(issue.values ?? []).map((v) => JSON.stringify(v)).join(', ')}, got ${describeValue(value)}${meant ? ` — did you mean ${meant}?` : ''}`;
    }
    case 'invalid_union': {
      const nested = issue.errors?.flat().find((e) => e.code !== 'invalid_type') ?? issue.errors?.flat()[0];
      return nested ? issueMessage({ ...nested, path: [...issue.path, ...nested.path] }, input) : `has an unexpected shape (${describeValue(value)})`;
    }
    case 'too_small':
      return issue.origin === 'string' ? `must not be empty` : issue.origin === 'array' ? `expected at least ${String(issue.minimum)} item(s)` : `must be at least ${String(issue.minimum)}, got ${describeValue(value)}`;
    case 'too_big':
      return `must be at most ${String(issue.maximum)}, got ${describeValue(value)}`;
    case 'custom':
      return issue.message;
    default:
      return `${issue.message.replace(/^Invalid input: /, '')}${value === undefined ? '' : ` (got ${describeValue(value)})`}`;
  }
}

/** Edit distance between two names (insertions, deletions, substitutions, swaps of neighbours), case-insensitive. */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let before: number[] = [];
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) {
      let d = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + (x[i - 1] === y[j - 1] ? 0 : 1));
      // Two letters swapped is one slip, not two.
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) d = Math.min(d, (before[j - 2] as number) + 1);
      cur[j] = d;
    }
    before = prev;
    prev = cur;
  }
  return prev[y.length] as number;
}

/** The known name closest to a misspelled one, when it is close enough to be meant. */
export function closestName(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = distance(name, k);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(Math.max(name.length, best.length) / 3)) ? best : undefined;
}

/**
 * Validates `input` against a zod schema. Failures become one {@link ConfigErrors} listing every
 * problem with file, YAML path, line and what was expected; keys the schema does not know are
 * returned as warnings, with the known key they probably meant. A misspelled key that leaves a
 * required one missing is named in that error ("found `tenant_Id` — did you mean tenant_id?").
 */
export function validateConfig<T>(schema: ZodType<T>, input: unknown, where: Located = {}): { value: T; warnings: ConfigWarning[] } {
  const prefix = where.prefix ?? [];
  const unknown = unknownKeysKnown(schema, input, []);
  const result = schema.safeParse(input);
  if (!result.success) {
    const errors = (result.error.issues as unknown as ZodIssueLike[]).map((issue) => {
      const full = [...prefix, ...(issue.path as (string | number)[])];
      return new ConfigError(issueMessage(issue, input) + misspellingHint(issue, input, unknown), { ...locate(where, full), path: formatPath(full) });
    });
    throw new ConfigErrors(errors);
  }
  const warnings = unknown.map(({ path: p, known }) => {
    const full = [...prefix, ...p];
    const meant = closestName(String(p[p.length - 1]), known);
    return {
      ...locate(where, full),
      path: formatPath(full),
      message: meant ? `unknown key (ignored); did you mean ${meant}?` : 'unknown key (ignored); check the spelling',
    };
  });
  return { value: result.data, warnings };
}

/**
 * For an error at some path: the unknown keys beside it that look like what was expected there
 * (the missing key itself, or any known key of the object the error is about).
 */
function misspellingHint(issue: ZodIssueLike, input: unknown, unknown: UnknownKey[]): string {
  const path = issue.path as (string | number)[];
  const missing = issue.code === 'invalid_type' && valueAt(input, path) === undefined ? path[path.length - 1] : undefined;
  const parent = missing !== undefined ? path.slice(0, -1) : path;
  const hints: string[] = [];
  for (const u of unknown) {
    const at = u.path.slice(0, -1);
    if (at.length !== parent.length || at.some((p, i) => p !== parent[i])) continue;
    const key = String(u.path[u.path.length - 1]);
    const meant = missing !== undefined ? closestName(key, [String(missing)]) : closestName(key, u.known);
    if (meant) hints.push(`found \`${key}\` — did you mean ${meant}?`);
  }
  return hints.length ? `; ${hints.join('; ')}` : '';
}

interface UnknownKey {
  path: (string | number)[];
  /** The keys the object there does know. */
  known: string[];
}

interface Def {
  type: string;
  shape?: Record<string, ZodType>;
  catchall?: ZodType;
  innerType?: ZodType;
  element?: ZodType;
  options?: ZodType[];
  valueType?: ZodType;
  in?: ZodType;
  out?: ZodType;
}

function def(schema: ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

/** Paths of keys in `value` that the schema does not declare (objects with a catchall accept all). */
export function unknownKeys(schema: ZodType, value: unknown, path: (string | number)[]): (string | number)[][] {
  return unknownKeysKnown(schema, value, path).map((u) => u.path);
}

function unknownKeysKnown(schema: ZodType, value: unknown, path: (string | number)[]): UnknownKey[] {
  const d = def(schema);
  switch (d.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'catch':
    case 'readonly':
    case 'nonoptional':
      return d.innerType ? unknownKeysKnown(d.innerType, value, path) : [];
    case 'pipe':
      return d.in && def(d.in).type !== 'transform' ? unknownKeysKnown(d.in, value, path) : d.out ? unknownKeysKnown(d.out, value, path) : [];
    case 'array':
      return Array.isArray(value) && d.element ? value.flatMap((v, i) => unknownKeysKnown(d.element as ZodType, v, [...path, i])) : [];
    case 'record':
      return value && typeof value === 'object' && d.valueType ? Object.entries(value).flatMap(([k, v]) => unknownKeysKnown(d.valueType as ZodType, v, [...path, k])) : [];
    case 'union': {
      const options = d.options ?? [];
      const matching = options.find((o) => o.safeParse(value).success) ?? options.find((o) => def(o).type === 'object' && value !== null && typeof value === 'object' && !Array.isArray(value));
      return matching ? unknownKeysKnown(matching, value, path) : [];
    }
    case 'object': {
      if (!value || typeof value !== 'object' || Array.isArray(value)) return [];
      const shape = d.shape ?? {};
      const open = d.catchall !== undefined && def(d.catchall).type !== 'never';
      const out: UnknownKey[] = [];
      for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
        const field = shape[key];
        if (field) out.push(...unknownKeysKnown(field, v, [...path, key]));
        else if (!open) out.push({ path: [...path, key], known: Object.keys(shape) });
      }
      return out;
    }
    default:
      return [];
  }
}
