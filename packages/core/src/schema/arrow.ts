import { Field, Schema } from 'apache-arrow';
import { createColumnBuilder } from '../batch/builders/index.js';
import { formatDataType, type FieldSpec } from './types.js';

/** Metadata keys Dativo puts on Arrow fields so sinks can keep logical types Arrow lacks. */
export const FIELD_META_TYPE = 'dativo.type';
export const FIELD_META_CLASSIFICATION = 'dativo.classification';

export function toArrowField(field: FieldSpec): Field {
  const metadata = new Map<string, string>([[FIELD_META_TYPE, formatDataType(field.type)]]);
  if (field.classification) metadata.set(FIELD_META_CLASSIFICATION, field.classification);
  return new Field(field.name, createColumnBuilder(field, 8).arrowType, field.nullable, metadata);
}

/** The Arrow schema batches of a stream carry. */
export function toArrowSchema(fields: readonly FieldSpec[]): Schema {
  return new Schema(fields.map(toArrowField));
}
