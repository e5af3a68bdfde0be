/**
 * Buffers of finished batches, handed back to the column builders of the next ones.
 *
 * A batch sent to the Parquet encoding thread moves its buffers there (no copy); once that thread
 * has consumed it, it can move them back and {@link recycleBatchBuffers} keeps them here. Builders
 * take their per-batch buffers with {@link zeroedBuffer}: a kept buffer of the same size, cleared,
 * or a new one. Without this every batch allocates its ~4 MB anew on one thread and frees the old
 * one on another at that thread's next collection, and glibc's heap keeps what it freed (tens of
 * MB of peak RSS, varying from run to run).
 *
 * Only buffers nothing else can see may be recycled: the encoder hands back the buffers a builder
 * gave up with its batch (see `markBuffersOwned`), after they were moved to its thread and back.
 */

/** Bytes kept at most; beyond it returned buffers are left to the garbage collector. */
export const MAX_POOLED_BYTES = 32 * 1024 * 1024;
/** Buffers smaller than this are not worth keeping (the allocator recycles them well). */
const MIN_POOLED_BYTES = 16 * 1024;

interface Pool {
  bySize: Map<number, ArrayBuffer[]>;
  /** Kept buffers, oldest first: when full, the oldest go (sizes no builder asks for any more). */
  order: ArrayBuffer[];
  bytes: number;
}

// One pool per thread, shared by every copy of this package loaded in it (a connector may bring its
// own @dativo/core): the encoder hands buffers to whichever copy the builders take them from.
const POOL_KEY = Symbol.for('dativo.core.batchBufferPool');
const holder = globalThis as { [POOL_KEY]?: Pool };
const shared: Pool = (holder[POOL_KEY] ??= { bySize: new Map(), order: [], bytes: 0 });
const pool = shared.bySize;
const order = shared.order;

function drop(buffer: ArrayBuffer): void {
  const list = pool.get(buffer.byteLength);
  const at = list?.indexOf(buffer) ?? -1;
  if (list && at >= 0) {
    list.splice(at, 1);
    shared.bytes -= buffer.byteLength;
  }
}

/** A zero-filled buffer of exactly `bytes` bytes: a recycled one when one of that size is kept. */
export function zeroedBuffer(bytes: number): ArrayBuffer {
  if (bytes >= MIN_POOLED_BYTES) {
    const kept = pool.get(bytes)?.pop();
    if (kept) {
      shared.bytes -= bytes;
      order.splice(order.indexOf(kept), 1);
      new Uint8Array(kept).fill(0);
      return kept;
    }
  }
  return new ArrayBuffer(bytes);
}

/** Keeps buffers of a consumed batch for the next ones (detached or small ones are skipped). */
export function recycleBatchBuffers(buffers: Iterable<ArrayBuffer>): void {
  for (const buffer of buffers) {
    const bytes = buffer.byteLength; // 0 once detached (moved to another thread)
    if (bytes < MIN_POOLED_BYTES || bytes > MAX_POOLED_BYTES || order.includes(buffer)) continue;
    while (shared.bytes + bytes > MAX_POOLED_BYTES) drop(order.shift() as ArrayBuffer);
    let list = pool.get(bytes);
    if (!list) pool.set(bytes, (list = []));
    list.push(buffer);
    order.push(buffer);
    shared.bytes += bytes;
  }
}

/** Bytes currently kept (for tests and diagnostics). */
export function pooledBufferBytes(): number {
  return shared.bytes;
}

/** Drops every kept buffer. */
export function clearBufferPool(): void {
  pool.clear();
  order.length = 0;
  shared.bytes = 0;
}
