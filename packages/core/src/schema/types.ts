/**
 * The logical types a Dativo schema (an asset's `schema:` list) may use, independent of Arrow,
 * Parquet or any source. Sources coerce into these; sinks map them to their own storage types.
 */
export type DataType =
  | { kind: 'string' }
  | { kind: 'json' }
  | { kind: 'binary' }
  | { kind: 'boolean' }
  | { kind: 'int16' }
  | { kind: 'int32' }
  | { kind: 'int64' }
  | { kind: 'float32' }
  | { kind: 'float64' }
  | { kind: 'decimal'; precision: number; scale: number }
  | { kind: 'date' }
  | { kind: 'time' }
  | { kind: 'timestamp'; withTimeZone: boolean }
  | { kind: 'list'; element: DataType }
  | { kind: 'struct'; fields: FieldSpec[] };

export interface FieldSpec {
  name: string;
  type: DataType;
  /** `required: true` in the asset means not nullable. */
  nullable: boolean;
  description?: string;
  /** Governance classification (`PII`, …); carried into metadata, never changes values. */
  classification?: string;
}

/** Classifications whose values never appear in messages or logs (`PII`, `PHI`, `PCI`, `sensitive`). */
export const SENSITIVE_CLASSIFICATION = /(^|[^a-z])(pii|phi|pci|sensitive)([^a-z]|$)/i;

/** What a message shows instead of a value of a sensitive column. */
export const HIDDEN_VALUE = '(value hidden: the column is classified PII)';

/** Whether the asset classifies the field as personal or otherwise sensitive data. */
export function isSensitiveField(field: Pick<FieldSpec, 'classification'> | undefined): boolean {
  return field?.classification !== undefined && SENSITIVE_CLASSIFICATION.test(field.classification);
}

export const DEFAULT_DECIMAL = { precision: 38, scale: 9 } as const;
export const MAX_DECIMAL_PRECISION = 38;

const SIMPLE: Record<string, DataType> = {
  string: { kind: 'string' },
  str: { kind: 'string' },
  text: { kind: 'string' },
  varchar: { kind: 'string' },
  char: { kind: 'string' },
  uuid: { kind: 'string' },
  json: { kind: 'json' },
  jsonb: { kind: 'json' },
  object: { kind: 'json' },
  variant: { kind: 'json' },
  binary: { kind: 'binary' },
  bytes: { kind: 'binary' },
  bytea: { kind: 'binary' },
  blob: { kind: 'binary' },
  boolean: { kind: 'boolean' },
  bool: { kind: 'boolean' },
  smallint: { kind: 'int16' },
  int16: { kind: 'int16' },
  short: { kind: 'int16' },
  // v1: `integer` is a 64-bit integer (int64 in Parquet, long in Iceberg); `int` is 32-bit.
  integer: { kind: 'int64' },
  int: { kind: 'int32' },
  int32: { kind: 'int32' },
  bigint: { kind: 'int64' },
  long: { kind: 'int64' },
  int64: { kind: 'int64' },
  double: { kind: 'float64' },
  float: { kind: 'float64' },
  float64: { kind: 'float64' },
  number: { kind: 'float64' },
  'double precision': { kind: 'float64' },
  real: { kind: 'float32' },
  float32: { kind: 'float32' },
  date: { kind: 'date' },
  time: { kind: 'time' },
  timestamp: { kind: 'timestamp', withTimeZone: false },
  datetime: { kind: 'timestamp', withTimeZone: false },
  timestamp_ntz: { kind: 'timestamp', withTimeZone: false },
  'timestamp without time zone': { kind: 'timestamp', withTimeZone: false },
  timestamptz: { kind: 'timestamp', withTimeZone: true },
  timestamp_tz: { kind: 'timestamp', withTimeZone: true },
  timestamp_ltz: { kind: 'timestamp', withTimeZone: true },
  'timestamp with time zone': { kind: 'timestamp', withTimeZone: true },
};

/** Every type name accepted, for error messages. */
export const TYPE_NAMES = [
  'string',
  'integer/bigint/long',
  'int',
  'double/float',
  'real',
  'decimal(p,s)',
  'boolean',
  'date',
  'time',
  'timestamp',
  'timestamptz',
  'binary',
  'json',
  'array<T>',
  'struct<name:T,…>',
];

export class TypeParseError extends Error {
  /** True when the type name itself is unknown (not a malformed known type such as `decimal(40,2)`). */
  readonly unknownName: boolean;
  constructor(message: string, options: { unknownName?: boolean } = {}) {
    super(message);
    this.unknownName = options.unknownName ?? false;
  }
}

/**
 * Parses an asset type string: `integer`, `decimal(12,2)`, `timestamp with time zone`,
 * `array<string>`, `struct<a:int,b:array<date>>`. Throws {@link TypeParseError} naming what was
 * expected.
 */
export function parseDataType(input: string): DataType {
  const text = input.trim().toLowerCase().replace(/\s+/g, ' ');
  const simple = SIMPLE[text];
  if (simple) return simple;
  const decimal = /^(?:decimal|numeric|number)\s*\(\s*(\d+)\s*(?:,\s*(-?\d+)\s*)?\)$/.exec(text);
  if (decimal) return makeDecimal(Number(decimal[1]), decimal[2] === undefined ? 0 : Number(decimal[2]), input);
  if (text === 'decimal' || text === 'numeric') return { kind: 'decimal', ...DEFAULT_DECIMAL };
  const sized = /^(?:varchar|char|character varying|character|string)\s*\(\s*\d+\s*\)$/.exec(text);
  if (sized) return { kind: 'string' };
  const ts = /^timestamp\s*\(\s*\d\s*\)(\s+with(out)? time zone)?$/.exec(text);
  if (ts) return { kind: 'timestamp', withTimeZone: ts[1] !== undefined && ts[2] === undefined };
  const list = /^(?:array|list)\s*<(.*)>$/.exec(text);
  if (list) return { kind: 'list', element: parseDataType(list[1] ?? '') };
  const struct = /^struct\s*<(.*)>$/.exec(input.trim().replace(/\s+/g, ' '));
  if (struct) {
    const fields = splitTopLevel(struct[1] ?? '').map((part) => {
      const idx = part.indexOf(':');
      if (idx <= 0) throw new TypeParseError(`expected name:type inside struct<…>, got '${part.trim()}'`);
      return { name: part.slice(0, idx).trim(), type: parseDataType(part.slice(idx + 1)), nullable: true };
    });
    return { kind: 'struct', fields };
  }
  throw new TypeParseError(`unknown type '${input}'; expected one of ${TYPE_NAMES.join(', ')}`, { unknownName: /^[a-z_][a-z0-9_ ]*$/.test(text) });
}

export function makeDecimal(precision: number, scale: number, label = `decimal(${precision},${scale})`): DataType {
  if (!Number.isInteger(precision) || precision < 1 || precision > MAX_DECIMAL_PRECISION) {
    throw new TypeParseError(`'${label}': decimal precision must be 1..${MAX_DECIMAL_PRECISION}`);
  }
  if (!Number.isInteger(scale) || scale < 0 || scale > precision) {
    throw new TypeParseError(`'${label}': decimal scale must be 0..precision (${precision})`);
  }
  return { kind: 'decimal', precision, scale };
}

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '<' || c === '(') depth++;
    else if (c === '>' || c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (text.slice(start).trim()) parts.push(text.slice(start));
  return parts;
}

/** Renders a type back to the asset syntax. */
export function formatDataType(type: DataType): string {
  switch (type.kind) {
    case 'decimal':
      return `decimal(${type.precision},${type.scale})`;
    case 'timestamp':
      return type.withTimeZone ? 'timestamptz' : 'timestamp';
    case 'list':
      return `array<${formatDataType(type.element)}>`;
    case 'struct':
      return `struct<${type.fields.map((f) => `${f.name}:${formatDataType(f.type)}`).join(',')}>`;
    case 'int16':
      return 'smallint';
    case 'int32':
      return 'int';
    case 'int64':
      return 'bigint';
    case 'float32':
      return 'real';
    case 'float64':
      return 'double';
    default:
      return type.kind;
  }
}
