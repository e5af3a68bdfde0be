import { DativoError, formatDataType, type DataType, type FieldSpec } from '@dativo/core';
import {
  Binary,
  Bool,
  DateDay,
  Decimal,
  Field,
  Float32,
  Float64,
  Int32,
  Int64,
  List,
  Schema,
  Struct,
  TimeMicrosecond,
  TimestampMicrosecond,
  Utf8,
  type DataType as ArrowType,
} from 'apache-arrow';
import type { IcebergField, IcebergSchema, IcebergType } from './types.js';

/** Arrow field metadata key arrow-rs (parquet-wasm) turns into Parquet field ids. */
export const PARQUET_FIELD_ID = 'PARQUET:field_id';

const DECIMAL = /^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$/;

/** Iceberg type of a Dativo logical type; nested ids are assigned from `nextId`. */
export function toIcebergType(type: DataType, nextId: () => number): IcebergType {
  switch (type.kind) {
    case 'string':
    case 'json':
      return 'string';
    case 'binary':
      return 'binary';
    case 'boolean':
      return 'boolean';
    case 'int16':
    case 'int32':
      return 'int';
    case 'int64':
      return 'long';
    case 'float32':
      return 'float';
    case 'float64':
      return 'double';
    case 'decimal':
      return `decimal(${type.precision}, ${type.scale})`;
    case 'date':
      return 'date';
    case 'time':
      return 'time';
    case 'timestamp':
      return type.withTimeZone ? 'timestamptz' : 'timestamp';
    case 'list':
      return { type: 'list', 'element-id': nextId(), element: toIcebergType(type.element, nextId), 'element-required': false };
    case 'struct': {
      const ids = type.fields.map(() => nextId());
      return { type: 'struct', fields: type.fields.map((f, i) => ({ id: ids[i] as number, name: f.name, required: !f.nullable, type: toIcebergType(f.type, nextId) })) };
    }
  }
}

/** A new table schema from the asset's fields: ids 1…n for top-level columns, then nested ids. */
export function schemaFromFields(fields: readonly FieldSpec[], identifierFields: readonly string[] = []): { schema: IcebergSchema; lastColumnId: number } {
  let last = fields.length;
  const nextId = (): number => ++last;
  const columns: IcebergField[] = fields.map((f, i) => ({ id: i + 1, name: f.name, required: !f.nullable || identifierFields.includes(f.name), type: toIcebergType(f.type, nextId), ...(f.description ? { doc: f.description } : {}) }));
  const identifierIds = identifierFields.map((name) => columns.find((c) => c.name === name)?.id).filter((id): id is number => id !== undefined);
  return { schema: { type: 'struct', 'schema-id': 0, fields: columns, ...(identifierIds.length ? { 'identifier-field-ids': identifierIds } : {}) }, lastColumnId: last };
}

/** Dativo logical type of an Iceberg type (what batches written to the table carry). */
export function fromIcebergType(type: IcebergType, column: string): DataType {
  if (typeof type === 'string') {
    const decimal = DECIMAL.exec(type);
    if (decimal) return { kind: 'decimal', precision: Number(decimal[1]), scale: Number(decimal[2]) };
    switch (type) {
      case 'boolean':
        return { kind: 'boolean' };
      case 'int':
        return { kind: 'int32' };
      case 'long':
        return { kind: 'int64' };
      case 'float':
        return { kind: 'float32' };
      case 'double':
        return { kind: 'float64' };
      case 'date':
        return { kind: 'date' };
      case 'time':
        return { kind: 'time' };
      case 'timestamp':
        return { kind: 'timestamp', withTimeZone: false };
      case 'timestamptz':
        return { kind: 'timestamp', withTimeZone: true };
      case 'string':
        return { kind: 'string' };
      case 'binary':
        return { kind: 'binary' };
      default:
        throw new DativoError(`column '${column}' has Iceberg type ${type}, which Dativo cannot write yet`, { kind: 'permanent', code: 'ICEBERG_UNSUPPORTED_TYPE' });
    }
  }
  if (type.type === 'list') return { kind: 'list', element: fromIcebergType(type.element, `${column}.element`) };
  if (type.type === 'struct') return { kind: 'struct', fields: type.fields.map((f) => ({ name: f.name, type: fromIcebergType(f.type, `${column}.${f.name}`), nullable: !f.required })) };
  throw new DativoError(`column '${column}' is an Iceberg ${type.type}, which Dativo cannot write yet`, { kind: 'permanent', code: 'ICEBERG_UNSUPPORTED_TYPE' });
}

/** The table's columns as Dativo fields. */
export function fieldsOf(schema: IcebergSchema): FieldSpec[] {
  return schema.fields.map((f) => ({ name: f.name, type: fromIcebergType(f.type, f.name), nullable: !f.required }));
}

function idMeta(id: number): Map<string, string> {
  return new Map([[PARQUET_FIELD_ID, String(id)]]);
}

function arrowTypeOf(type: IcebergType, column: string): ArrowType {
  if (typeof type === 'string') {
    const t = fromIcebergType(type, column);
    switch (t.kind) {
      case 'boolean':
        return new Bool();
      case 'int32':
        return new Int32();
      case 'int64':
        return new Int64();
      case 'float32':
        return new Float32();
      case 'float64':
        return new Float64();
      case 'decimal':
        return new Decimal(t.scale, t.precision, 128);
      case 'date':
        return new DateDay();
      case 'time':
        return new TimeMicrosecond();
      case 'timestamp':
        return t.withTimeZone ? new TimestampMicrosecond('UTC') : new TimestampMicrosecond();
      case 'binary':
        return new Binary();
      default:
        return new Utf8();
    }
  }
  if (type.type === 'list') return new List(new Field('element', arrowTypeOf(type.element, column), !type['element-required'], idMeta(type['element-id'])));
  if (type.type === 'struct') return new Struct(type.fields.map((f) => arrowField(f)));
  throw new DativoError(`column '${column}': Iceberg maps are not supported yet`, { kind: 'permanent', code: 'ICEBERG_UNSUPPORTED_TYPE' });
}

function arrowField(f: IcebergField): Field {
  return new Field(f.name, arrowTypeOf(f.type, f.name), !f.required, idMeta(f.id));
}

/** Arrow schema of data files: every field (nested ones too) carries its Iceberg field id. */
export function arrowSchemaWithIds(schema: IcebergSchema): Schema {
  return new Schema(schema.fields.map(arrowField));
}

function typeText(type: IcebergType): string {
  return typeof type === 'string' ? type : type.type === 'list' ? `list<${typeText(type.element)}>` : type.type === 'struct' ? `struct<${type.fields.map((f) => `${f.name}: ${typeText(f.type)}`).join(', ')}>` : 'map';
}

function normalise(type: IcebergType): IcebergType {
  if (typeof type !== 'string') return type;
  const decimal = DECIMAL.exec(type);
  return decimal ? `decimal(${decimal[1]}, ${decimal[2]})` : type;
}

type Comparison = { kind: 'same' } | { kind: 'widen'; to: IcebergType } | { kind: 'cast' } | { kind: 'incompatible' };

/**
 * How a source column of `source` type fits a table column of `table` type. Iceberg's safe
 * promotions: int → long, float → double, decimal(P,S) → decimal(P',S) with P' > P.
 */
function compare(table: IcebergType, source: IcebergType): Comparison {
  const t = normalise(table);
  const s = normalise(source);
  if (typeof t === 'string' && typeof s === 'string') {
    if (t === s) return { kind: 'same' };
    if (t === 'int' && s === 'long') return { kind: 'widen', to: 'long' };
    if (t === 'long' && s === 'int') return { kind: 'cast' };
    if (t === 'float' && s === 'double') return { kind: 'widen', to: 'double' };
    if (t === 'double' && s === 'float') return { kind: 'cast' };
    const td = DECIMAL.exec(t);
    const sd = DECIMAL.exec(s);
    if (td && sd && td[2] === sd[2]) return Number(sd[1]) > Number(td[1]) ? { kind: 'widen', to: s } : { kind: 'cast' };
    return { kind: 'incompatible' };
  }
  if (typeof t !== 'string' && typeof s !== 'string' && t.type === 'list' && s.type === 'list') {
    const inner = compare(t.element, s.element);
    return inner.kind === 'widen' ? { kind: 'widen', to: { ...t, element: inner.to } } : inner;
  }
  if (typeof t !== 'string' && typeof s !== 'string' && t.type === 'struct' && s.type === 'struct') return { kind: 'same' }; // fields are reconciled one by one
  return { kind: 'incompatible' };
}

export interface EvolutionPlan {
  /** The evolved schema, when anything changed. */
  schema?: IcebergSchema;
  lastColumnId: number;
  /** What changed, for logs: "added column x (long)", "widened y from int to long". */
  changes: string[];
}

/**
 * Reconciles the table's schema with the source's fields: new source columns are added as
 * optional fields with new ids, safe widenings are applied, and anything else fails with a message
 * naming the column and both types. Existing field ids never change; table columns the source does
 * not have stay (written as null).
 */
export function planEvolution(table: IcebergSchema, lastColumnId: number, source: readonly FieldSpec[], where: string, nextSchemaId = table['schema-id'] + 1): EvolutionPlan {
  let last = lastColumnId;
  const nextId = (): number => ++last;
  const changes: string[] = [];
  const evolveFields = (fields: IcebergField[], incoming: readonly FieldSpec[], prefix: string): IcebergField[] => {
    const out = fields.map((f) => ({ ...f }));
    for (const spec of incoming) {
      const name = `${prefix}${spec.name}`;
      const existing = out.find((f) => f.name === spec.name);
      if (!existing) {
        const id = nextId(); // the column's id first, then ids of nested fields
        const type = toIcebergType(spec.type, nextId);
        out.push({ id, name: spec.name, required: false, type, ...(spec.description ? { doc: spec.description } : {}) });
        changes.push(`added column ${name} (${typeText(type)})`);
        continue;
      }
      const sourceType = toIcebergType(spec.type, () => 0);
      const result = compare(existing.type, sourceType);
      if (result.kind === 'incompatible') {
        throw new DativoError(
          `${where}: column '${name}' cannot change from ${typeText(existing.type)} (table) to ${typeText(sourceType)} (source, ${formatDataType(spec.type)}); Iceberg allows int → long, float → double and larger decimal precision only`,
          { kind: 'validation', code: 'ICEBERG_INCOMPATIBLE_SCHEMA', details: { column: name, tableType: typeText(existing.type), sourceType: typeText(sourceType) } },
        );
      }
      if (result.kind === 'widen') {
        changes.push(`widened ${name} from ${typeText(existing.type)} to ${typeText(result.to)}`);
        existing.type = result.to;
      }
      if (spec.nullable && existing.required && !(table['identifier-field-ids'] ?? []).includes(existing.id)) {
        existing.required = false;
        changes.push(`made ${name} optional`);
      }
      if (typeof existing.type !== 'string' && existing.type.type === 'struct' && spec.type.kind === 'struct') {
        const before = changes.length;
        const nested = evolveFields(existing.type.fields, spec.type.fields, `${name}.`);
        if (changes.length > before) existing.type = { ...existing.type, fields: nested };
      }
    }
    return out;
  };
  const fields = evolveFields(table.fields, source, '');
  for (const f of table.fields) {
    if (f.required && !source.some((s) => s.name === f.name)) {
      throw new DativoError(`${where}: column '${f.name}' is required in the table but the source does not have it`, { kind: 'validation', code: 'ICEBERG_MISSING_REQUIRED' });
    }
  }
  if (changes.length === 0) return { lastColumnId, changes };
  return { schema: { ...table, fields, 'schema-id': nextSchemaId }, lastColumnId: last, changes };
}
