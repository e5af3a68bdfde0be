import { describe, expect, it, vi } from 'vitest';
import { RateLimiter } from './limiter.js';

describe('RateLimiter', () => {
  it('never runs more calls at once than maxConcurrent', async () => {
    const limiter = new RateLimiter({ maxConcurrent: 2 });
    let running = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 10 }, () =>
        limiter.schedule(async () => {
          running++;
          peak = Math.max(peak, running);
          await new Promise((r) => setTimeout(r, 5));
          running--;
        }),
      ),
    );
    expect(peak).toBe(2);
    await limiter.stop();
  });

  it('holds calls past the per-window budget until the window refills', async () => {
    const limiter = new RateLimiter({ perWindow: { requests: 3, windowMs: 300 } });
    const started: number[] = [];
    const t0 = Date.now();
    await Promise.all(Array.from({ length: 4 }, () => limiter.schedule(async () => void started.push(Date.now() - t0))));
    started.sort((a, b) => a - b);
    // The first three run at once; the fourth waits for the refill (a lower bound, safe on a busy machine).
    expect(started[3]).toBeGreaterThanOrEqual(250);
    await limiter.stop();
  });

  it('spaces calls to the sustained rate once the burst is used (simulated clock)', async () => {
    vi.useFakeTimers();
    try {
      const limiter = new RateLimiter({ requestsPerSecond: 20, burst: 2 });
      let started = 0;
      const all = Promise.all(Array.from({ length: 6 }, () => limiter.schedule(async () => void started++)));
      await vi.advanceTimersByTimeAsync(5);
      expect(started).toBe(2); // the burst
      await vi.advanceTimersByTimeAsync(100);
      expect(started).toBe(4); // one token per 50 ms
      await vi.advanceTimersByTimeAsync(100);
      expect(started).toBe(6);
      await all;
      await limiter.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it('a pause holds every request, even while many are queued and pauses overlap (simulated clock)', async () => {
    vi.useFakeTimers();
    try {
      const limiter = new RateLimiter({ requestsPerSecond: 1000, burst: 100 });
      let started = 0;
      await limiter.pause(300);
      const all = Promise.all(Array.from({ length: 20 }, () => limiter.schedule(async () => void started++)));
      await limiter.pause(200);
      await vi.advanceTimersByTimeAsync(250);
      expect(started).toBe(0);
      await vi.advanceTimersByTimeAsync(100);
      expect(started).toBe(20);
      await all;
      await limiter.stop();
    } finally {
      vi.useRealTimers();
    }
  });
});
