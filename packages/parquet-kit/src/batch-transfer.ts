import { buffersOwned } from '@dativo/core';
import type { Data, RecordBatch } from 'apache-arrow';

/** One Arrow Data node as plain values, ready for `postMessage`. */
export interface DataNode {
  length: number;
  nullCount: number;
  offset: number;
  values?: ArrayBufferView;
  valueOffsets?: ArrayBufferView;
  nullBitmap?: ArrayBufferView;
  children: DataNode[];
}

export interface TransferredBatch {
  length: number;
  columns: DataNode[];
}

/**
 * Prepares a batch for another thread. Buffers a builder handed over (see `markBuffersOwned`) are
 * moved without copying; other buffers are copied (only the viewed bytes), so the caller's batch
 * stays intact. `owned`: the buffers are the builder's own (they may come back for reuse, see
 * `recycleBatchBuffers`).
 */
export function serializeBatch(batch: RecordBatch): { payload: TransferredBatch; transfer: ArrayBuffer[]; owned: boolean } {
  const owned = buffersOwned(batch);
  const transfer = new Set<ArrayBuffer>();
  const take = (view: ArrayBufferView | undefined): ArrayBufferView | undefined => {
    if (!view || view.byteLength === 0) return view;
    const buffer = view.buffer as ArrayBuffer;
    if (owned && !transfer.has(buffer)) {
      transfer.add(buffer);
      return view;
    }
    if (owned) return view; // already moving with another view of the same buffer
    const copy = (view as Uint8Array).slice();
    transfer.add(copy.buffer as ArrayBuffer);
    return copy;
  };
  const node = (data: Data): DataNode => ({
    length: data.length,
    nullCount: data.nullCount,
    offset: data.offset,
    ...(data.values ? { values: take(data.values as ArrayBufferView) } : {}),
    ...(data.valueOffsets ? { valueOffsets: take(data.valueOffsets as ArrayBufferView) } : {}),
    ...(data.nullBitmap && data.nullCount > 0 ? { nullBitmap: take(data.nullBitmap) } : {}),
    children: data.children.map(node),
  });
  return { payload: { length: batch.numRows, columns: batch.data.children.map(node) }, transfer: [...transfer], owned };
}
