import type { FieldSpec, Logger } from '@dativo/core';

export interface RecordShaperOptions {
  /**
   * A `json` column of the asset that receives every field the asset does not declare (as one
   * object). Without it, undeclared fields are dropped with one warning per field name per run.
   */
  catchAll?: string | undefined;
  /** What a number in a date / timestamp column means: epoch seconds (Stripe) or milliseconds. */
  epochUnit?: 's' | 'ms';
  /** Fields the connector adds itself (`_deleted`…): never reported as undeclared. */
  own?: readonly string[];
  log: Logger;
  stream: string;
}

/**
 * Turns API records (parsed JSON) into rows for core's BatchBuilder, typed by the stream's schema:
 * epoch numbers in date / timestamp columns become times, nested objects in string or json columns
 * are kept as JSON text, fields the schema does not declare go to the catch-all column or are
 * reported once each.
 */
export class RecordShaper {
  private readonly declared: Set<string>;
  private readonly temporal: string[];
  private readonly catchAll: string | undefined;
  private readonly scale: number;
  private readonly warned = new Set<string>();
  private readonly options: RecordShaperOptions;

  constructor(fields: readonly FieldSpec[], options: RecordShaperOptions) {
    this.options = options;
    this.declared = new Set([...fields.map((f) => f.name), ...(options.own ?? [])]);
    this.temporal = fields.filter((f) => f.type.kind === 'timestamp' || f.type.kind === 'date').map((f) => f.name);
    const catchAll = options.catchAll;
    if (catchAll !== undefined && !fields.some((f) => f.name === catchAll)) {
      throw new Error(`catch-all column '${catchAll}' is not in the schema of stream '${options.stream}'`);
    }
    this.catchAll = catchAll;
    this.scale = (options.epochUnit ?? 's') === 's' ? 1000 : 1;
  }

  /** The row for `record` (a new object when anything changes; the record itself otherwise). */
  shape(record: Record<string, unknown>): Record<string, unknown> {
    let row = record;
    for (const name of this.temporal) {
      const v = record[name];
      if (typeof v === 'number') {
        if (row === record) row = { ...record };
        row[name] = new Date(v * this.scale);
      }
    }
    let extra: Record<string, unknown> | undefined;
    for (const key in record) {
      if (this.declared.has(key)) continue;
      if (this.catchAll) (extra ??= {})[key] = record[key];
      else if (!this.warned.has(key)) {
        this.warned.add(key);
        this.options.log.warn(`field '${key}' is not in the asset: dropped (declare it, or add a json catch-all column)`, { stream: this.options.stream, field: key });
      }
    }
    if (this.catchAll) {
      if (row === record) row = { ...record };
      row[this.catchAll] = extra ?? {};
    }
    return row;
  }
}
