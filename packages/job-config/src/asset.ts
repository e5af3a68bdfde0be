import { z } from 'zod';
import { boolLike, ConfigError, ConfigErrors, intLike, isPlainObject, makeDecimal, parseDataType, TYPE_NAMES, TypeParseError, type DataType, type FieldSpec } from '@dativo/core/definition';
import { formatPath } from './env.js';
import type { ConfigWarning, Located } from './issues.js';

const anyValue = z.unknown().optional();

/** One column of an asset's `schema:` (v1 flat form, with ODCS property names accepted too). */
export interface AssetFieldInput {
  name: string;
  type?: string | undefined;
  logicalType?: string | undefined;
  physicalType?: string | undefined;
  required?: boolean | undefined;
  nullable?: boolean | undefined;
  precision?: number | undefined;
  scale?: number | undefined;
  description?: string | undefined;
  classification?: string | undefined;
  primaryKey?: boolean | undefined;
  primary_key?: boolean | undefined;
  primaryKeyPosition?: number | undefined;
  items?: unknown;
  properties?: AssetFieldInput[] | undefined;
}

export const assetFieldSchema: z.ZodType<AssetFieldInput> = z.lazy(() =>
  z.object({
    name: z.string().min(1),
    type: z.string().min(1).optional(),
    logicalType: z.string().optional(),
    physicalType: z.string().optional(),
    logicalTypeOptions: anyValue,
    required: boolLike.optional(),
    nullable: boolLike.optional(),
    precision: intLike.optional(),
    scale: intLike.optional(),
    description: z.string().nullish().transform((v) => v ?? undefined),
    classification: z.string().optional(),
    pii: anyValue,
    primaryKey: boolLike.optional(),
    primary_key: boolLike.optional(),
    primaryKeyPosition: intLike.optional(),
    unique: anyValue,
    partitioned: anyValue,
    partitionKeyPosition: anyValue,
    businessName: anyValue,
    authoritativeDefinitions: anyValue,
    tags: anyValue,
    customProperties: anyValue,
    encryptedName: anyValue,
    transformSourceObjects: anyValue,
    transformLogic: anyValue,
    transformDescription: anyValue,
    examples: anyValue,
    example: anyValue,
    criticalDataElement: anyValue,
    dataGranularityDescription: anyValue,
    quality: anyValue,
    format: anyValue,
    default: anyValue,
    physicalName: anyValue,
    items: anyValue,
    properties: z.array(assetFieldSchema).optional(),
  }),
);

/** The v1 asset: an ODCS v3.0.2 data contract, flat, with Dativo extensions. */
export const assetSchema = z.object({
  $schema: z.string().optional(),
  apiVersion: z.string().default('v3.0.2'),
  kind: z.literal('DataContract').default('DataContract'),
  id: z.string().optional(),
  name: z.string().min(1),
  version: z.union([z.string(), z.number()]).transform(String).default('1.0'),
  status: z.string().optional(),
  domain: z.string().optional(),
  dataProduct: z.string().optional(),
  tenant: z.string().optional(),
  description: z.union([z.string(), z.object({ purpose: z.string().nullish(), limitations: z.string().nullish(), usage: z.string().nullish() }).catchall(z.unknown())]).optional(),
  tags: z.array(z.string()).optional(),
  source_type: z.string().optional(),
  object: z.string().optional(),
  primary_key: z.array(z.string()).optional(),
  target: z
    .object({
      file_format: z.string().optional(),
      partitioning: z.array(z.string()).optional(),
      mode: z.string().optional(),
    })
    .catchall(z.unknown())
    .optional(),
  schema: z.array(assetFieldSchema).min(1),
  data_quality: z
    .object({
      expectations: z.array(z.unknown()).optional(),
      monitoring: z.object({ enabled: boolLike.optional(), oncall_rotation: z.string().optional() }).catchall(z.unknown()).optional(),
      alerts: z.unknown().optional(),
    })
    .catchall(z.unknown())
    .optional(),
  team: z.object({ owner: z.string().min(1).optional() }).catchall(z.unknown()).optional(),
  compliance: z.record(z.string(), z.unknown()).optional(),
  change_management: z.record(z.string(), z.unknown()).optional(),
  /** Dativo v1 extension: cost attribution (cost_center, business_tags, project, environment). */
  finops: z.record(z.string(), z.unknown()).optional(),
  // Other ODCS v3 sections, kept as they are.
  support: anyValue,
  price: anyValue,
  roles: anyValue,
  slaProperties: anyValue,
  slaDefaultElement: anyValue,
  authoritativeDefinitions: anyValue,
  customProperties: anyValue,
  contractCreatedTs: anyValue,
  servers: anyValue,
  quality: anyValue,
});

export type AssetConfig = z.output<typeof assetSchema>;

/**
 * v1's legacy asset form, wrapped in `asset:` with a `governance:` block, becomes the flat ODCS
 * form as v1 migrates it on load: `governance.owner` → `team.owner`, `governance.tags` → `tags`,
 * `governance.classification` / `retention_days` → `compliance`. Paths in messages still point
 * into the file as written (`at`).
 */
export function migrateLegacyAsset(data: unknown): { data: unknown; at?: (path: (string | number)[]) => (string | number)[] } {
  if (!isPlainObject(data) || !isPlainObject(data.asset) || 'schema' in data) return { data };
  const legacy = data.asset;
  const out: Record<string, unknown> = { apiVersion: 'v3.0.2', kind: 'DataContract', status: 'active', ...legacy };
  const moved = new Map<string, (string | number)[]>();
  if (isPlainObject(legacy.governance)) {
    const governance = legacy.governance;
    delete out.governance;
    if (governance.owner !== undefined) {
      out.team = { ...(isPlainObject(out.team) ? out.team : {}), owner: governance.owner };
      moved.set('team', ['governance']);
    }
    if (governance.tags !== undefined && out.tags === undefined) {
      out.tags = governance.tags;
      moved.set('tags', ['governance', 'tags']);
    }
    const compliance: Record<string, unknown> = {};
    if (governance.classification !== undefined) compliance.classification = governance.classification;
    if (governance.retention_days !== undefined) compliance.retention_days = governance.retention_days;
    if (Object.keys(compliance).length && out.compliance === undefined) {
      out.compliance = compliance;
      moved.set('compliance', ['governance']);
    }
  }
  for (const key of Object.keys(data)) if (key !== 'asset' && out[key] === undefined) out[key] = data[key];
  return {
    data: out,
    at: (path) => {
      const head = typeof path[0] === 'string' ? moved.get(path[0]) : undefined;
      if (head) return [...head, ...path.slice(1)];
      return key0InRoot(data, path) ? path : ['asset', ...path];
    },
  };
}

function key0InRoot(root: Record<string, unknown>, path: (string | number)[]): boolean {
  return typeof path[0] === 'string' && path[0] !== 'asset' && path[0] in root;
}

const NON_PROD = new Set(['dev', 'development', 'test', 'testing', 'local', 'sandbox', 'ci']);

/**
 * v1 requires `team.owner`, `compliance`, `data_quality.monitoring` and `change_management` in
 * production assets: errors there, warnings in dev/test environments.
 */
export function checkGovernance(asset: AssetConfig, environment: string, where: Located): { errors: ConfigError[]; warnings: ConfigWarning[] } {
  const missing: Array<[string, string]> = [];
  if (!asset.team?.owner) missing.push(['team.owner', 'an owner is required (team.owner: data-team@example.com)']);
  if (!asset.compliance) missing.push(['compliance', 'a compliance section is required (classification, regulations, retention_days)']);
  if (!asset.data_quality?.monitoring) missing.push(['data_quality.monitoring', 'a monitoring section is required (enabled, oncall_rotation)']);
  if (!asset.change_management) missing.push(['change_management', 'a change_management section is required (policy, approval_required)']);
  const prod = !NON_PROD.has(environment.toLowerCase());
  const errors: ConfigError[] = [];
  const warnings: ConfigWarning[] = [];
  for (const [path, message] of missing) {
    if (prod) errors.push(new ConfigError(`${message} in environment '${environment}'`, { ...(where.file ? { file: where.file } : {}), path }));
    else warnings.push({ ...(where.file ? { file: where.file } : {}), path, message: `${message} (only a warning in environment '${environment}')` });
  }
  return { errors, warnings };
}

/** Called for a type name v1 did not know either: the column is stored as a string, as v1 did. */
type OnUnknownType = (field: AssetFieldInput, typeText: string) => void;

function resolveType(field: AssetFieldInput, onUnknown: OnUnknownType): DataType {
  if (field.properties && field.properties.length > 0 && !field.type) {
    return { kind: 'struct', fields: field.properties.map((p) => toFieldSpec(p, onUnknown)) };
  }
  const text = field.type ?? field.physicalType ?? odcsLogical(field);
  if (!text) throw new TypeParseError(`no type given; expected 'type: <string|integer|bigint|double|decimal(p,s)|boolean|date|timestamp|…>'`);
  let parsed: DataType;
  try {
    parsed = parseDataType(text);
  } catch (error) {
    if (!(error instanceof TypeParseError) || !error.unknownName) throw error;
    onUnknown(field, text);
    return { kind: 'string' };
  }
  if (parsed.kind === 'decimal' && (field.precision !== undefined || field.scale !== undefined) && !/\(/.test(text)) {
    return makeDecimal(field.precision ?? parsed.precision, field.scale ?? 0);
  }
  if (parsed.kind === 'list' && field.items && typeof field.items === 'object' && !/</.test(text)) {
    return { kind: 'list', element: resolveType({ name: 'element', ...(field.items as Omit<AssetFieldInput, 'name'>) }, onUnknown) };
  }
  return parsed;
}

function odcsLogical(field: AssetFieldInput): string | undefined {
  switch (field.logicalType) {
    case undefined:
      return undefined;
    case 'number':
      return 'double';
    case 'object':
      return 'json';
    case 'array':
      return field.items ? 'array<string>' : 'json';
    default:
      return field.logicalType;
  }
}

function toFieldSpec(field: AssetFieldInput, onUnknown: OnUnknownType): FieldSpec {
  const spec: FieldSpec = {
    name: field.name,
    type: resolveType(field, onUnknown),
    nullable: field.required === true ? false : field.nullable ?? true,
  };
  if (field.description) spec.description = field.description;
  if (field.classification) spec.classification = field.classification;
  return spec;
}

/**
 * The asset's columns as Dativo fields. Bad types are errors naming file, path and line; a type name
 * v1 did not know either (`array` without an element type…) is stored as a string with a warning,
 * as v1 did.
 */
export function assetFields(asset: AssetConfig, where: Located = {}, warnings: ConfigWarning[] = []): FieldSpec[] {
  const errors: ConfigError[] = [];
  const out: FieldSpec[] = [];
  const seen = new Set<string>();
  // ODCS nested form: `schema: [{ name: <object>, properties: [<columns>] }]`.
  const objects = asset.schema.every((f) => f.properties && !f.type && (f.logicalType === undefined || f.logicalType === 'object'));
  let columns = asset.schema;
  let base: (string | number)[] = [...(where.prefix ?? []), 'schema'];
  if (objects) {
    const index = Math.max(0, asset.schema.findIndex((f) => f.name.toLowerCase() === (asset.object ?? asset.name).toLowerCase()));
    columns = asset.schema[index]?.properties ?? [];
    base = [...base, index, 'properties'];
  }
  columns.forEach((field, i) => {
    const path = [...base, i];
    const onUnknown: OnUnknownType = (f, text) => {
      const typePath = f === field ? [...path, 'type'] : path;
      const line = where.lineOf?.(typePath);
      warnings.push({
        ...(where.file ? { file: where.file } : {}),
        path: formatPath(typePath),
        ...(line ? { line } : {}),
        message: `column '${field.name}': unknown type '${text}', stored as a string (as v1 did); expected one of ${TYPE_NAMES.join(', ')}`,
      });
    };
    try {
      if (seen.has(field.name)) throw new TypeParseError(`duplicate column name '${field.name}'`);
      seen.add(field.name);
      out.push(toFieldSpec(field, onUnknown));
    } catch (error) {
      if (!(error instanceof TypeParseError)) throw error;
      const typePath = [...path, field.type ? 'type' : 'name'];
      const line = where.lineOf?.(typePath);
      errors.push(new ConfigError(`column '${field.name}': ${error.message}`, { ...(where.file ? { file: where.file } : {}), path: formatPath(typePath), ...(line ? { line } : {}) }));
    }
  });
  if (errors.length) throw new ConfigErrors(errors);
  return out;
}

/** Primary key columns: `primaryKey: true` properties (by position) or the top-level `primary_key`. */
export function assetPrimaryKey(asset: AssetConfig): string[] | undefined {
  if (asset.primary_key?.length) return asset.primary_key;
  const keyed = asset.schema
    .map((f, i) => ({ f, i }))
    .filter(({ f }) => f.primaryKey === true || f.primary_key === true)
    .sort((a, b) => (a.f.primaryKeyPosition ?? a.i) - (b.f.primaryKeyPosition ?? b.i));
  return keyed.length ? keyed.map(({ f }) => f.name) : undefined;
}
