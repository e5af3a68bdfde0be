import type { RecordedRequest } from './http.js';

/** The part of an OpenAPI 3 document a request contract needs: paths, operations, parameters. */
export interface OpenApiDocument {
  paths: Record<string, Record<string, { parameters?: OpenApiParameter[] } | unknown>>;
  components?: { schemas?: Record<string, unknown>; parameters?: Record<string, OpenApiParameter> };
}

export interface OpenApiParameter {
  name: string;
  in: 'query' | 'path' | 'header' | 'cookie';
  required?: boolean;
  style?: string;
  explode?: boolean;
  schema?: JsonSchema;
  $ref?: string;
}

interface JsonSchema {
  type?: string;
  enum?: unknown[];
  maxLength?: number;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  $ref?: string;
}

/** Why a request breaks the document: the parameter (when one is to blame) and a message. */
export interface ContractViolation {
  status: 400 | 404 | 405;
  param?: string;
  message: string;
}

export interface OpenApiOperation {
  method: string;
  /** The path template (`/v1/customers/{customer}`). */
  template: string;
  params: Record<string, string>;
  parameters: OpenApiParameter[];
}

/** Follows a local `$ref` (`#/components/...`) to what it names. */
function resolveRef<T>(doc: unknown, x: T & { $ref?: string }): T {
  if (!x || typeof x !== 'object' || !x.$ref) return x;
  let at: unknown = doc;
  for (const part of x.$ref.replace(/^#\//, '').split('/')) at = (at as Record<string, unknown>)?.[part];
  if (at === undefined) throw new Error(`unresolvable $ref ${x.$ref}`);
  return resolveRef(doc, at as T & { $ref?: string });
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

/**
 * Requests checked against an API's official OpenAPI document, for fake servers: the path and
 * method must be an operation of the document, every query parameter must be declared, required
 * ones present, and values must fit the declared schema (integers, booleans, enums, lengths,
 * `deepObject` keys, arrays). Query keys follow the form style the big APIs use: `created[gte]=1`
 * (deepObject), `expand[]=a` / `expand[0]=a` (arrays).
 */
export class OpenApiContract {
  private readonly templates: Array<{ template: string; regex: RegExp; names: string[] }>;

  constructor(private readonly doc: OpenApiDocument) {
    this.templates = Object.keys(doc.paths).map((template) => {
      const names: string[] = [];
      const pattern = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{([^}]+)\}/g, (_m, name: string) => {
        names.push(name);
        return '([^/]+)';
      });
      return { template, regex: new RegExp(`^${pattern}$`), names };
    });
    // Literal paths win over templated ones (`/v1/customers/search` before `/v1/customers/{id}`).
    this.templates.sort((a, b) => a.names.length - b.names.length);
  }

  /** The operation a request addresses, or why there is none. */
  operation(method: string, path: string): OpenApiOperation | ContractViolation {
    for (const t of this.templates) {
      const m = t.regex.exec(path);
      if (!m) continue;
      const item = this.doc.paths[t.template] as Record<string, { parameters?: OpenApiParameter[] }>;
      const op = item[method.toLowerCase()];
      if (!op) {
        const allowed = METHODS.filter((x) => item[x]).map((x) => x.toUpperCase());
        return { status: 405, message: `${method} is not an operation of ${t.template} (allowed: ${allowed.join(', ')})` };
      }
      const shared = (item as { parameters?: OpenApiParameter[] }).parameters ?? [];
      const parameters = [...shared, ...(op.parameters ?? [])].map((p) => this.resolve(p));
      return { method: method.toUpperCase(), template: t.template, params: Object.fromEntries(t.names.map((n, i) => [n, decodeURIComponent(m[i + 1] as string)])), parameters };
    }
    return { status: 404, message: `${method} ${path} is not in the API document` };
  }

  /** Checks a recorded request; undefined when it follows the document. */
  check(request: Pick<RecordedRequest, 'method' | 'path' | 'query'>): ContractViolation | undefined {
    const op = this.operation(request.method, request.path);
    if ('status' in op) return op;
    const declared = new Map(op.parameters.filter((p) => p.in === 'query').map((p) => [p.name, p]));
    const given = new Map<string, { scalar?: string; keys: Map<string, string>; list: string[] }>();
    for (const [key, value] of request.query) {
      const m = /^([^[]+)(?:\[([^\]]*)\])?$/.exec(key);
      const name = m?.[1] ?? key;
      const entry = given.get(name) ?? { keys: new Map<string, string>(), list: [] };
      given.set(name, entry);
      const sub = m?.[2];
      if (sub === undefined) {
        if (entry.scalar !== undefined) entry.list.push(entry.scalar);
        entry.scalar = value;
      } else if (sub === '' || /^\d+$/.test(sub)) entry.list.push(value);
      else entry.keys.set(sub, value);
    }
    for (const [name, value] of given) {
      const p = declared.get(name);
      if (!p) return { status: 400, param: name, message: `unknown query parameter ${name}` };
      const problem = this.value(p.schema ?? {}, value);
      if (problem) return { status: 400, param: name, message: `query parameter ${name}: ${problem}` };
    }
    for (const p of declared.values()) if (p.required && !given.has(p.name)) return { status: 400, param: p.name, message: `missing required query parameter ${p.name}` };
    return undefined;
  }

  private resolve<T>(x: T & { $ref?: string }): T {
    return resolveRef(this.doc, x);
  }

  private value(raw: JsonSchema, v: { scalar?: string; keys: Map<string, string>; list: string[] }): string | undefined {
    const schema = this.resolve(raw);
    const alternatives = schema.anyOf ?? schema.oneOf;
    if (alternatives) {
      const problems = alternatives.map((a) => this.value(a, v));
      return problems.every((p) => p !== undefined) ? problems[0] : undefined;
    }
    if (v.keys.size) {
      if (schema.type !== 'object' || !schema.properties) return 'is not an object parameter';
      for (const [k, value] of v.keys) {
        const prop = schema.properties[k];
        if (!prop) return `has no key ${k}`;
        const problem = this.scalar(this.resolve(prop), value);
        if (problem) return `[${k}] ${problem}`;
      }
      return undefined;
    }
    if (v.list.length) {
      if (schema.type !== 'array') return 'is not a list';
      for (const item of v.list) {
        const problem = this.scalar(this.resolve(schema.items ?? {}), item);
        if (problem) return problem;
      }
      return undefined;
    }
    return this.scalar(schema, v.scalar ?? '');
  }

  private scalar(schema: JsonSchema, value: string): string | undefined {
    const alternatives = schema.anyOf ?? schema.oneOf;
    if (alternatives) {
      const problems = alternatives.map((a) => this.scalar(this.resolve(a), value));
      return problems.every((p) => p !== undefined) ? problems[0] : undefined;
    }
    if (schema.type === 'integer' && !/^-?\d+$/.test(value)) return `expected an integer, got '${value}'`;
    if (schema.type === 'number' && (value.trim() === '' || !Number.isFinite(Number(value)))) return `expected a number, got '${value}'`;
    if (schema.type === 'boolean' && value !== 'true' && value !== 'false') return `expected true or false, got '${value}'`;
    if (schema.type === 'object' || schema.type === 'array') return `expected ${schema.type === 'object' ? 'keys' : 'a list'}, got '${value}'`;
    if (schema.enum && !schema.enum.includes(value)) return `expected one of ${schema.enum.join(', ')}, got '${value}'`;
    if (schema.maxLength !== undefined && value.length > schema.maxLength) return `longer than ${schema.maxLength} characters`;
    return undefined;
  }
}

/**
 * The operations and parameters of an OpenAPI document, with descriptions, response schemas and
 * examples dropped: small enough to keep as a test fixture next to a fake server.
 */
export function requestContractOf(doc: OpenApiDocument, paths: readonly string[]): OpenApiDocument {
  // $refs are inlined: the result holds no components.
  const strip = (x: unknown, depth = 0): unknown => {
    if (depth > 20) throw new Error('parameter schemas nest too deep (recursive $ref?)');
    if (Array.isArray(x)) return x.map((v) => strip(v, depth + 1));
    if (x && typeof x === 'object' && '$ref' in x) return strip(resolveRef(doc, x as { $ref?: string }), depth + 1);
    if (x && typeof x === 'object') {
      return Object.fromEntries(Object.entries(x).filter(([k]) => !['description', 'title', 'x-stripeParam', 'example', 'examples'].includes(k)).map(([k, v]) => [k, strip(v, depth + 1)]));
    }
    return x;
  };
  const out: OpenApiDocument = { paths: {} };
  for (const path of paths) {
    const item = doc.paths[path];
    if (!item) throw new Error(`${path} is not in the document`);
    out.paths[path] = Object.fromEntries(Object.entries(item).filter(([k]) => METHODS.includes(k) || k === 'parameters').map(([k, v]) => [k, k === 'parameters' ? strip(v) : { parameters: strip((v as { parameters?: unknown }).parameters ?? []) }]));
  }
  return out;
}
