import type { ZodType } from 'zod';
import { ConfigError, ConfigErrors } from '../errors.js';
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
    case 'invalid_value':
      return `expected one of ${(issue.values ?? []).map((v) => JSON.stringify(v)).join(', ')}, got ${describeValue(value)}`;
    case 'invalid_union': {
      const nested = issue.errors?.flat().find((e) => e.code !== 'invalid_type') ?? issue.errors?.flat()[0];
      return nested ? issueMessage({ ...nested, path: [...issue.path, ...nested.path] }, input) : `has an unexpected shape (${describeValue(value)})`;
    }
    case 'too_small':
      return issue.origin === 'string' ? `must not be empty` : issue.origin === 'array' ? `expected at least ${String(issue.minimum)} item(s)` : `must be at least ${String(issue.minimum)}, got ${describeValue(value)}`;
    case 'too_big':
      return `must be at most ${String(issue.maximum)}, got ${describeValue(value)}`;
    default:
      return `${issue.message.replace(/^Invalid input: /, '')}${value === undefined ? '' : ` (got ${describeValue(value)})`}`;
  }
}

/**
 * Validates `input` against a zod schema. Failures become one {@link ConfigErrors} listing every
 * problem with file, YAML path, line and what was expected; keys the schema does not know are
 * returned as warnings.
 */
export function validateConfig<T>(schema: ZodType<T>, input: unknown, where: Located = {}): { value: T; warnings: ConfigWarning[] } {
  const prefix = where.prefix ?? [];
  const result = schema.safeParse(input);
  if (!result.success) {
    const errors = (result.error.issues as unknown as ZodIssueLike[]).map((issue) => {
      const full = [...prefix, ...(issue.path as (string | number)[])];
      return new ConfigError(issueMessage(issue, input), { ...locate(where, full), path: formatPath(full) });
    });
    throw new ConfigErrors(errors);
  }
  const warnings = unknownKeys(schema, input, []).map((p) => {
    const full = [...prefix, ...p];
    return {
      ...locate(where, full),
      path: formatPath(full),
      message: 'unknown key (ignored); check the spelling',
    };
  });
  return { value: result.data, warnings };
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
  const d = def(schema);
  switch (d.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'catch':
    case 'readonly':
    case 'nonoptional':
      return d.innerType ? unknownKeys(d.innerType, value, path) : [];
    case 'pipe':
      return d.in && def(d.in).type !== 'transform' ? unknownKeys(d.in, value, path) : d.out ? unknownKeys(d.out, value, path) : [];
    case 'array':
      return Array.isArray(value) && d.element ? value.flatMap((v, i) => unknownKeys(d.element as ZodType, v, [...path, i])) : [];
    case 'record':
      return value && typeof value === 'object' && d.valueType ? Object.entries(value).flatMap(([k, v]) => unknownKeys(d.valueType as ZodType, v, [...path, k])) : [];
    case 'union': {
      const options = d.options ?? [];
      const matching = options.find((o) => o.safeParse(value).success);
      return matching ? unknownKeys(matching, value, path) : [];
    }
    case 'object': {
      if (!value || typeof value !== 'object' || Array.isArray(value)) return [];
      const shape = d.shape ?? {};
      const open = d.catchall !== undefined && def(d.catchall).type !== 'never';
      const out: (string | number)[][] = [];
      for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
        const field = shape[key];
        if (field) out.push(...unknownKeys(field, v, [...path, key]));
        else if (!open) out.push([...path, key]);
      }
      return out;
    }
    default:
      return [];
  }
}
