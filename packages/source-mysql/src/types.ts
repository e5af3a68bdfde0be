import type { DataType, FieldSpec } from '@dativo/core';
import type { ColumnInfo } from '@dativo/sql-kit';

/** What information_schema says about a column. */
export interface MysqlColumnFacts {
  /** `DATA_TYPE`: `int`, `varchar`, `datetime`… */
  dataType: string;
  /** `COLUMN_TYPE`: `int(10) unsigned`, `tinyint(1)`, `enum('a','b')`, `decimal(12,2)`… */
  columnType: string;
  /** A MariaDB `JSON` column (a longtext with a json_valid check). */
  json?: boolean;
}

const DECIMAL = /^decimal\((\d+)(?:,(\d+))?\)/;

/**
 * The Dativo type of a MySQL / MariaDB column. Unsigned integers move up a size so no value is
 * lost (`bigint unsigned` becomes decimal(20,0), exact past 2^63); `tinyint(1)` and `bit(1)` are
 * booleans; `timestamp` is UTC (timestamptz), `datetime` wall-clock time; `set` is a list of
 * strings; spatial values are WKT strings.
 */
export function mysqlDataType(f: MysqlColumnFacts): DataType {
  const t = f.dataType.toLowerCase();
  const ct = f.columnType.toLowerCase();
  const unsigned = ct.includes('unsigned');
  if (f.json || t === 'json') return { kind: 'json' };
  switch (t) {
    case 'tinyint':
      return ct.startsWith('tinyint(1)') && !unsigned ? { kind: 'boolean' } : { kind: 'int16' };
    case 'smallint':
      return { kind: unsigned ? 'int32' : 'int16' };
    case 'mediumint':
      return { kind: 'int32' };
    case 'int':
    case 'integer':
      return { kind: unsigned ? 'int64' : 'int32' };
    case 'bigint':
      return unsigned ? { kind: 'decimal', precision: 20, scale: 0 } : { kind: 'int64' };
    case 'decimal':
    case 'numeric': {
      const m = DECIMAL.exec(ct);
      const precision = Number(m?.[1] ?? 10);
      const scale = Number(m?.[2] ?? 0);
      return precision <= 38 ? { kind: 'decimal', precision, scale } : { kind: 'string' };
    }
    case 'float':
      return { kind: 'float32' };
    case 'double':
    case 'real':
      return { kind: 'float64' };
    case 'bit': {
      const bits = Number(/bit\((\d+)\)/.exec(ct)?.[1] ?? 1);
      return bits === 1 ? { kind: 'boolean' } : bits < 64 ? { kind: 'int64' } : { kind: 'decimal', precision: 20, scale: 0 };
    }
    case 'date':
      return { kind: 'date' };
    case 'datetime':
      return { kind: 'timestamp', withTimeZone: false };
    case 'timestamp':
      return { kind: 'timestamp', withTimeZone: true };
    case 'time':
      return { kind: 'time' };
    case 'year':
      return { kind: 'int16' };
    case 'set':
      return { kind: 'list', element: { kind: 'string' } };
    case 'binary':
    case 'varbinary':
    case 'tinyblob':
    case 'blob':
    case 'mediumblob':
    case 'longblob':
      return { kind: 'binary' };
    default:
      return { kind: 'string' };
  }
}

const SPATIAL = new Set(['geometry', 'point', 'linestring', 'polygon', 'multipoint', 'multilinestring', 'multipolygon', 'geometrycollection', 'geomcollection']);
const BINARY = new Set(['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob']);

export function mysqlTraits(f: MysqlColumnFacts): Set<string> {
  const t = f.dataType.toLowerCase();
  const traits = new Set<string>();
  if (['date', 'datetime', 'timestamp'].includes(t)) traits.add('temporal').add('zero-date');
  if (t === 'bit') traits.add('bit');
  if (t === 'set') traits.add('set');
  if (t === 'time') traits.add('time');
  if (BINARY.has(t)) traits.add('binary');
  if (SPATIAL.has(t)) traits.add('spatial');
  if (['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint', 'year', 'bit'].includes(t)) traits.add(f.columnType.toLowerCase().includes('unsigned') || t === 'bit' ? 'unsigned' : 'signed');
  if (['decimal', 'numeric'].includes(t)) traits.add('decimal');
  if (['float', 'double', 'real'].includes(t)) traits.add('float');
  if (t === 'time') traits.add('time');
  return traits;
}

/** How a value arrives and is appended. */
export const enum MysqlDecoder {
  /** Text bytes parsed by the builder. */
  TEXT,
  /** Raw bytes into a binary column. */
  BYTES,
  /** Date or datetime text that may be a zero date (`0000-00-00`): null plus a warning. */
  ZERO_DATE,
  /** `a,b,c` into a list of strings. */
  SET,
  /** A TIME, which MySQL lets run past 24 hours or below zero (durations). */
  TIME,
}

export interface MysqlCodec {
  expression: string;
  decoder: MysqlDecoder;
}

/** The select expression and decoder of a column read into a field (or only for the position). */
export function mysqlColumnCodec(quoted: string, column: ColumnInfo, field: FieldSpec | undefined): MysqlCodec {
  const traits = column.traits;
  const kind = field?.type.kind;
  if (traits?.has('bit')) return { expression: `CAST(${quoted} AS UNSIGNED)`, decoder: MysqlDecoder.TEXT };
  if (traits?.has('spatial')) return { expression: `ST_AsText(${quoted})`, decoder: MysqlDecoder.TEXT };
  if (traits?.has('binary') && (kind === undefined || kind === 'binary')) return { expression: quoted, decoder: MysqlDecoder.BYTES };
  if (traits?.has('binary')) return { expression: `HEX(${quoted})`, decoder: MysqlDecoder.TEXT };
  if (traits?.has('zero-date')) return { expression: quoted, decoder: MysqlDecoder.ZERO_DATE };
  if (traits?.has('set') && kind === 'list') return { expression: quoted, decoder: MysqlDecoder.SET };
  if (traits?.has('time') && kind === 'time') return { expression: quoted, decoder: MysqlDecoder.TIME };
  return { expression: quoted, decoder: MysqlDecoder.TEXT };
}

/** The CAST a text parameter needs to compare exactly with the column (integers never as doubles). */
export function mysqlParam(column: ColumnInfo): string {
  const traits = column.traits;
  const t = (column.nativeType ?? '').toLowerCase();
  if (traits?.has('binary')) return 'UNHEX(?)';
  if (traits?.has('unsigned')) return 'CAST(? AS UNSIGNED)';
  if (traits?.has('signed')) return 'CAST(? AS SIGNED)';
  if (traits?.has('decimal')) {
    const m = /decimal\((\d+)(?:,(\d+))?\)/.exec(column.dbType.toLowerCase());
    return `CAST(? AS DECIMAL(${Number(m?.[1] ?? 65)}, ${Number(m?.[2] ?? 0)}))`;
  }
  if (traits?.has('float')) return 'CAST(? AS DOUBLE)';
  if (t === 'date') return 'CAST(? AS DATE)';
  if (t === 'datetime' || t === 'timestamp') return 'CAST(? AS DATETIME(6))';
  if (t === 'time') return 'CAST(? AS TIME(6))';
  return '?';
}
