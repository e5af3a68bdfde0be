import { z } from 'zod';
import { ConfigError, ConfigErrors } from '../errors.js';
import { makeDecimal, parseDataType, TypeParseError, type DataType, type FieldSpec } from '../schema/types.js';
import { boolLike, intLike } from './coerce.js';
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
      markdown_kv_storage: z.record(z.string(), z.unknown()).optional(),
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

function resolveType(field: AssetFieldInput): DataType {
  if (field.properties && field.properties.length > 0 && !field.type) {
    return { kind: 'struct', fields: field.properties.map((p) => toFieldSpec(p)) };
  }
  const text = field.type ?? field.physicalType ?? odcsLogical(field);
  if (!text) throw new TypeParseError(`no type given; expected 'type: <string|integer|bigint|double|decimal(p,s)|boolean|date|timestamp|…>'`);
  const parsed = parseDataType(text);
  if (parsed.kind === 'decimal' && (field.precision !== undefined || field.scale !== undefined) && !/\(/.test(text)) {
    return makeDecimal(field.precision ?? parsed.precision, field.scale ?? 0);
  }
  if (parsed.kind === 'list' && field.items && typeof field.items === 'object' && !/</.test(text)) {
    return { kind: 'list', element: resolveType({ name: 'element', ...(field.items as Omit<AssetFieldInput, 'name'>) }) };
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

function toFieldSpec(field: AssetFieldInput): FieldSpec {
  const spec: FieldSpec = {
    name: field.name,
    type: resolveType(field),
    nullable: field.required === true ? false : field.nullable ?? true,
  };
  if (field.description) spec.description = field.description;
  if (field.classification) spec.classification = field.classification;
  return spec;
}

/** The asset's columns as Dativo fields. Bad types are errors naming file, path and line. */
export function assetFields(asset: AssetConfig, where: Located = {}): FieldSpec[] {
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
    try {
      if (seen.has(field.name)) throw new TypeParseError(`duplicate column name '${field.name}'`);
      seen.add(field.name);
      out.push(toFieldSpec(field));
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
