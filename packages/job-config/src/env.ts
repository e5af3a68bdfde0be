import { ConfigError } from '@dativo/core/definition';

export interface SubstitutionResult<T> {
  value: T;
  errors: ConfigError[];
  /** The same errors with the YAML path of each, for callers that may excuse some (values overridden elsewhere). */
  unresolved: Array<{ path: (string | number)[]; error: ConfigError }>;
  /** Names of the variables used (their values are secrets candidates). */
  used: string[];
}

const PATTERN = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}/g;

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string of a parsed YAML tree (`$${` stays a
 * literal `${`). `${VAR:-d}` uses `d` when VAR is unset or empty; `${VAR-d}` only when unset.
 * A `${VAR}` whose variable is unset is an error naming the file and YAML path.
 */
export function substituteEnv<T>(value: T, env: NodeJS.ProcessEnv, where: { file?: string; lineOf?: (path: (string | number)[]) => number | undefined } = {}): SubstitutionResult<T> {
  const unresolved: SubstitutionResult<T>['unresolved'] = [];
  const used = new Set<string>();
  const walk = (node: unknown, path: (string | number)[]): unknown => {
    if (typeof node === 'string') return substituteString(node, env, path, where, unresolved, used);
    if (Array.isArray(node)) return node.map((v, i) => walk(v, [...path, i]));
    if (node !== null && typeof node === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(node as Record<string, unknown>)) out[k] = walk(v, [...path, k]);
      return out;
    }
    return node;
  };
  const result = walk(value, []) as T;
  return { value: result, errors: unresolved.map((u) => u.error), unresolved, used: [...used] };
}

function substituteString(
  text: string,
  env: NodeJS.ProcessEnv,
  path: (string | number)[],
  where: { file?: string; lineOf?: (path: (string | number)[]) => number | undefined },
  unresolved: SubstitutionResult<unknown>['unresolved'],
  used: Set<string>,
): string {
  if (!text.includes('${')) return text;
  return text.replace(PATTERN, (match: string, name: string | undefined, fallback: string | undefined) => {
    if (match === '$${') return '${';
    if (name === undefined) return match;
    used.add(name);
    const raw = env[name];
    const hasDefault = fallback !== undefined;
    const colon = match.includes(':-');
    if (raw !== undefined && !(colon && raw === '')) return raw;
    if (hasDefault) return fallback;
    const line = where.lineOf?.(path);
    const error = new ConfigError(`environment variable ${name} is not set (referenced as \${${name}}; set it or write \${${name}:-default})`, {
      ...(where.file ? { file: where.file } : {}),
      path: formatPath(path),
      ...(line ? { line } : {}),
    });
    unresolved.push({ path, error });
    return '';
  });
}

/** `['source', 'files', 0, 'path']` → `source.files[0].path`. */
export function formatPath(path: readonly (string | number | symbol)[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(root)';
}
