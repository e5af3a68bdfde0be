import { DataType, DateUnit, Precision, type Field, type Schema } from 'apache-arrow';

/** The Arrow IPC buffers of one column type, as the encoding thread's writer (arrow-ipc.mjs) lays them out. */
export type IpcLayout =
  | { k: 'fixed'; width: number }
  | { k: 'bool' }
  | { k: 'bytes' }
  | { k: 'list'; child: IpcLayout }
  | { k: 'fixedList'; size: number; child: IpcLayout }
  | { k: 'struct'; children: IpcLayout[] };

/** What the encoding thread needs to know of a schema without loading Apache Arrow. */
export interface SchemaLayout {
  /** One per column; undefined when some column has a type the thread's writer does not lay out (it then uses Arrow's). */
  columns: IpcLayout[] | undefined;
  /** Top-level columns: name, and whether they are strings or integer-like (encoding choices). */
  fields: { name: string; string: boolean; integerLike: boolean }[];
}

const FLOAT_BYTES: Record<Precision, number> = { [Precision.HALF]: 2, [Precision.SINGLE]: 4, [Precision.DOUBLE]: 8 };

/** The layout of a type, or undefined for types laid out only by Arrow's own writer (unions, views, intervals, 64-bit offsets, …; dictionaries are refused before, see unsupportedColumns). */
export function ipcLayout(type: DataType): IpcLayout | undefined {
  if (DataType.isInt(type) || DataType.isTime(type) || DataType.isDecimal(type)) return { k: 'fixed', width: type.bitWidth / 8 };
  if (DataType.isFloat(type)) return { k: 'fixed', width: FLOAT_BYTES[type.precision] };
  if (DataType.isDate(type)) return { k: 'fixed', width: type.unit === DateUnit.DAY ? 4 : 8 };
  if (DataType.isTimestamp(type)) return { k: 'fixed', width: 8 };
  if (DataType.isFixedSizeBinary(type)) return { k: 'fixed', width: type.byteWidth };
  if (DataType.isBool(type)) return { k: 'bool' };
  if (DataType.isUtf8(type) || DataType.isBinary(type)) return { k: 'bytes' };
  if (DataType.isList(type)) {
    const child = ipcLayout((type.children[0] as Field).type);
    return child && { k: 'list', child };
  }
  if (DataType.isFixedSizeList(type)) {
    const child = ipcLayout((type.children[0] as Field).type);
    return child && { k: 'fixedList', size: type.listSize, child };
  }
  if (DataType.isStruct(type)) {
    const children = type.children.map((f) => ipcLayout(f.type));
    return children.every((c) => c !== undefined) ? { k: 'struct', children: children as IpcLayout[] } : undefined;
  }
  return undefined;
}

/** Columns (dotted paths) the encoder cannot take: dictionary-encoded ones (parquet-wasm fails on them). */
export function unsupportedColumns(schema: Schema): string[] {
  const out: string[] = [];
  const visit = (field: Field, path: string): void => {
    if (DataType.isDictionary(field.type)) out.push(`${path} (${String(field.type)})`);
    else for (const child of field.type.children ?? []) visit(child, `${path}.${child.name}`);
  };
  for (const field of schema.fields) visit(field, field.name);
  return out;
}

export function schemaLayout(schema: Schema): SchemaLayout {
  const columns = schema.fields.map((f) => ipcLayout(f.type));
  return {
    columns: columns.every((c) => c !== undefined) ? (columns as IpcLayout[]) : undefined,
    fields: schema.fields.map((f) => ({
      name: f.name,
      string: DataType.isUtf8(f.type) || DataType.isLargeUtf8(f.type),
      integerLike: DataType.isInt(f.type) || DataType.isDate(f.type) || DataType.isTimestamp(f.type) || DataType.isTime(f.type),
    })),
  };
}
