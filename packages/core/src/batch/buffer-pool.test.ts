import { afterEach, describe, expect, it, vi } from 'vitest';
import { clearBufferPool, MAX_POOLED_BYTES, pooledBufferBytes, recycleBatchBuffers, zeroedBuffer } from './buffer-pool.js';

afterEach(() => clearBufferPool());

describe('batch buffer pool', () => {
  it('hands a recycled buffer of the same size back zero-filled, once', () => {
    const a = new ArrayBuffer(64 * 1024);
    new Uint8Array(a).fill(7);
    recycleBatchBuffers([a, a]); // listed twice: kept once
    expect(pooledBufferBytes()).toBe(64 * 1024);
    expect(zeroedBuffer(32 * 1024)).not.toBe(a); // another size: a new buffer
    const again = zeroedBuffer(64 * 1024);
    expect(again).toBe(a);
    expect(new Uint8Array(again).every((b) => b === 0)).toBe(true);
    expect(pooledBufferBytes()).toBe(0);
    expect(zeroedBuffer(64 * 1024)).not.toBe(a);
  });

  it('skips small and detached buffers and keeps at most MAX_POOLED_BYTES, dropping the oldest', () => {
    const detached = new ArrayBuffer(64 * 1024);
    structuredClone(detached, { transfer: [detached] });
    recycleBatchBuffers([new ArrayBuffer(1024), detached]);
    expect(pooledBufferBytes()).toBe(0);
    const size = MAX_POOLED_BYTES / 4;
    const buffers = Array.from({ length: 5 }, () => new ArrayBuffer(size));
    recycleBatchBuffers(buffers);
    expect(pooledBufferBytes()).toBe(MAX_POOLED_BYTES);
    const taken = [zeroedBuffer(size), zeroedBuffer(size), zeroedBuffer(size), zeroedBuffer(size)];
    expect(taken).not.toContain(buffers[0]); // the oldest made room for the fifth
    expect(new Set(taken)).toEqual(new Set(buffers.slice(1)));
  });

  it('is one pool for every copy of the package loaded in the thread', async () => {
    vi.resetModules();
    // A second instance of the module, as a second copy of the package would be.
    const other = (await import(`./buffer-pool.js?copy=${2}`)) as typeof import('./buffer-pool.js');
    const a = new ArrayBuffer(64 * 1024);
    expect(other.recycleBatchBuffers).not.toBe(recycleBatchBuffers); // really another instance
    other.recycleBatchBuffers([a]);
    expect(pooledBufferBytes()).toBe(64 * 1024);
    expect(zeroedBuffer(64 * 1024)).toBe(a);
    expect(other.pooledBufferBytes()).toBe(0);
  });
});
