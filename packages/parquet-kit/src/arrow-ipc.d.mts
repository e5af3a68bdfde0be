import type { IpcLayout } from './ipc-layout.js';
import type { DataNode } from './batch-transfer.js';

/** Null values among bits [from, from + count) of a validity bitmap. */
export function countNulls(bitmap: Uint8Array, from: number, count: number): number;

/** Writes Arrow IPC streams of one schema from transferred batches (see arrow-ipc.mjs). */
export class IpcStreamWriter {
  constructor(schemaStream: Uint8Array, layouts: IpcLayout[]);
  /** The IPC stream of rows [start, start + count): a view of a buffer the next call overwrites. */
  write(columns: DataNode[], start: number, count: number): Uint8Array;
}
