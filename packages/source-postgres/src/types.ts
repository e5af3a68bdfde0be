import { DEFAULT_DECIMAL, type DataType } from '@dativo/core';

/** What the catalog says about a column's type (domains already resolved to their base type). */
export interface PgTypeFacts {
  /** Internal name of the (base) type: `int4`, `numeric`, `_text` for arrays… */
  typname: string;
  /** `b` base, `c` composite, `d` domain, `e` enum, `r` range, `m` multirange, `p` pseudo. */
  typtype: string;
  /** `A` array, `N` numeric, `S` string… */
  typcategory: string;
  /** `format_type(...)`: `numeric(12,2)`, `character varying(64)`, `timestamp with time zone`. */
  formatted: string;
  /** For arrays: the element's facts. */
  element?: PgTypeFacts;
}

const SIMPLE: Record<string, DataType> = {
  int2: { kind: 'int16' },
  int4: { kind: 'int32' },
  int8: { kind: 'int64' },
  oid: { kind: 'int64' },
  xid: { kind: 'int64' },
  float4: { kind: 'float32' },
  float8: { kind: 'float64' },
  bool: { kind: 'boolean' },
  date: { kind: 'date' },
  time: { kind: 'time' },
  timestamp: { kind: 'timestamp', withTimeZone: false },
  timestamptz: { kind: 'timestamp', withTimeZone: true },
  json: { kind: 'json' },
  jsonb: { kind: 'json' },
  bytea: { kind: 'binary' },
  money: { kind: 'decimal', precision: 19, scale: 2 },
};

/**
 * The Dativo type of a PostgreSQL type. `numeric(p,s)` keeps p and s (unconstrained `numeric`
 * becomes decimal(38,9): values with more digits are rejected, never rounded); arrays become lists;
 * enums, uuid, interval (ISO 8601), network types and anything else without an exact counterpart
 * become strings, so nothing is lost.
 */
export function pgDataType(t: PgTypeFacts): DataType {
  if (t.typcategory === 'A' && t.element) return { kind: 'list', element: pgDataType(t.element) };
  if (t.typtype === 'c') return { kind: 'json' };
  if (t.typname === 'numeric') {
    const m = /numeric\((\d+)(?:,\s*(-?\d+))?\)/.exec(t.formatted);
    if (!m) return { kind: 'decimal', ...DEFAULT_DECIMAL };
    const precision = Number(m[1]);
    const scale = Number(m[2] ?? 0);
    if (precision > 38 || scale < 0 || scale > precision) return { kind: 'string' };
    return { kind: 'decimal', precision, scale };
  }
  return SIMPLE[t.typname] ?? { kind: 'string' };
}

/** Traits of a column the reader needs, from its type facts. */
export function pgTraits(t: PgTypeFacts): Set<string> {
  const traits = new Set<string>();
  if (t.typcategory === 'A') traits.add('array');
  if (t.typtype === 'c') traits.add('composite');
  if (t.typtype === 'e') traits.add('enum');
  if (t.typname === 'money') traits.add('money');
  if (['date', 'timestamp', 'timestamptz'].includes(t.typname)) traits.add('temporal');
  return traits;
}
