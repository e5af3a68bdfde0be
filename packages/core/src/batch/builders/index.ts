import type { FieldSpec } from '../../schema/types.js';
import { BuilderCode, type ColumnBuilder } from './base.js';
import { BoolBuilder } from './bool.js';
import { ListBuilder, StructBuilder } from './nested.js';
import { DecimalBuilder, Float32Builder, Float64Builder, Int16Builder, Int32Builder, Int64Builder } from './numeric.js';
import { DateBuilder, TimeBuilder, TimestampBuilder } from './temporal.js';
import { BinaryBuilder, JsonBuilder, StringBuilder } from './variable.js';

export { BuilderCode, ColumnBuilder } from './base.js';
export { StringBuilder, JsonBuilder, BinaryBuilder, jsonReplacer } from './variable.js';
export { DecimalBuilder, Int64PairBuilder } from './numeric.js';
export { DateBuilder } from './temporal.js';

/** Creates the builder for a field's logical type. */
export function createColumnBuilder(field: FieldSpec, capacity: number): ColumnBuilder {
  switch (field.type.kind) {
    case 'string':
      return new StringBuilder(field, capacity);
    case 'json':
      return new JsonBuilder(field, capacity);
    case 'binary':
      return new BinaryBuilder(field, capacity);
    case 'boolean':
      return new BoolBuilder(field, capacity);
    case 'int16':
      return new Int16Builder(field, capacity);
    case 'int32':
      return new Int32Builder(field, capacity);
    case 'int64':
      return new Int64Builder(field, capacity);
    case 'float32':
      return new Float32Builder(field, capacity);
    case 'float64':
      return new Float64Builder(field, capacity);
    case 'decimal':
      return new DecimalBuilder(field, capacity);
    case 'date':
      return new DateBuilder(field, capacity);
    case 'time':
      return new TimeBuilder(field, capacity);
    case 'timestamp':
      return new TimestampBuilder(field, capacity);
    case 'list':
      return new ListBuilder(field, capacity, createColumnBuilder);
    case 'struct':
      return new StructBuilder(field, capacity, createColumnBuilder);
  }
}

/**
 * `column.appendText(...)` with one call site per builder class, so V8 can inline each one.
 * Hot loops over many columns of different types (CSV, COPY text) should call this.
 */
export function appendTextFast(column: ColumnBuilder, buf: Uint8Array, start: number, end: number): string | undefined {
  switch (column.code) {
    case BuilderCode.STRING:
      return (column as StringBuilder).appendText(buf, start, end);
    case BuilderCode.INT32:
      return (column as Int32Builder).appendText(buf, start, end);
    case BuilderCode.INT64:
      return (column as Int64Builder).appendText(buf, start, end);
    case BuilderCode.FLOAT64:
      return (column as Float64Builder).appendText(buf, start, end);
    case BuilderCode.DECIMAL:
      return (column as DecimalBuilder).appendText(buf, start, end);
    case BuilderCode.BOOL:
      return (column as BoolBuilder).appendText(buf, start, end);
    case BuilderCode.DATE:
      return (column as DateBuilder).appendText(buf, start, end);
    case BuilderCode.TIMESTAMP:
      return (column as TimestampBuilder).appendText(buf, start, end);
    case BuilderCode.INT16:
      return (column as Int16Builder).appendText(buf, start, end);
    case BuilderCode.FLOAT32:
      return (column as Float32Builder).appendText(buf, start, end);
    case BuilderCode.TIME:
      return (column as TimeBuilder).appendText(buf, start, end);
    case BuilderCode.JSON:
      return (column as JsonBuilder).appendText(buf, start, end);
    case BuilderCode.BINARY:
      return (column as BinaryBuilder).appendText(buf, start, end);
    default:
      return column.appendText(buf, start, end);
  }
}
