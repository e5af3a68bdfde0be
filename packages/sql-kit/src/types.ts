import { formatDataType, type DataType } from '@dativo/core';
import type { StreamPlan } from './plan.js';

/** Types a cursor column can have: ordered, comparable values. */
export function orderableForCursor(type: DataType): boolean {
  return ['int16', 'int32', 'int64', 'decimal', 'date', 'timestamp', 'string'].includes(type.kind);
}

const INT_BITS: Partial<Record<DataType['kind'], number>> = { int16: 16, int32: 32, int64: 64 };

/** Why values of `from` may not fit `to` (undefined when every value fits). */
export function narrowing(from: DataType, to: DataType): string | undefined {
  const fb = INT_BITS[from.kind];
  const tb = INT_BITS[to.kind];
  if (fb !== undefined && tb !== undefined) return fb > tb ? 'values outside its range' : undefined;
  if (from.kind === 'decimal' && tb !== undefined) return from.scale > 0 ? 'fractional values' : from.precision > (tb === 64 ? 18 : tb === 32 ? 9 : 4) ? 'values outside its range' : undefined;
  if (from.kind === 'decimal' && to.kind === 'decimal') {
    if (from.scale > to.scale) return 'values with more decimal places';
    if (from.precision - from.scale > to.precision - to.scale) return 'values with more integer digits';
    return undefined;
  }
  if (from.kind === 'float64' && to.kind === 'float32') return 'values that need double precision';
  if ((from.kind === 'float32' || from.kind === 'float64') && (tb !== undefined || to.kind === 'decimal')) return 'fractional or out-of-range values';
  if (fb !== undefined && to.kind === 'decimal') return to.precision - to.scale < (fb === 64 ? 19 : fb === 32 ? 10 : 5) ? 'values outside its range' : undefined;
  return undefined;
}

/** One warning per stream naming asset columns narrower than the database's (their misfits are rejected, never rounded). */
export function narrowingWarnings(plan: StreamPlan): string[] {
  const notes: string[] = [];
  for (const s of plan.select) {
    if (!s.field) continue;
    const why = narrowing(s.column.type, s.field.type);
    if (why) notes.push(`${s.column.name} (${s.column.dbType} → ${formatDataType(s.field.type)}: ${why})`);
  }
  return notes.length ? [`${plan.source}: asset types narrower than the database's; rows with such values go to the dead-letter queue (or fail the run in strict mode): ${notes.join('; ')}`] : [];
}
