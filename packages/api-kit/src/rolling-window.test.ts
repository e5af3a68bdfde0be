import { describe, expect, it } from 'vitest';
import { RollingWindow } from './rolling-window.js';

describe('RollingWindow', () => {
  it('passes requests until an answer names the limit, then keeps any window of intervalMs at most max less the margin', async () => {
    const w = new RollingWindow(1);
    const times: number[] = [];
    const t0 = Date.now();
    await w.acquire();
    times.push(Date.now() - t0);
    w.observe({ max: 5, remaining: 4, intervalMs: 300 });
    for (let i = 0; i < 8; i++) {
      await w.acquire();
      times.push(Date.now() - t0);
    }
    // (max 5, margin 1): 4 sends at once, then the rest wait for the oldest to leave the window.
    expect(times.slice(0, 3).every((t) => t < 100)).toBe(true);
    for (let i = 4; i < times.length; i++) expect((times[i] as number) - (times[i - 4] as number)).toBeGreaterThanOrEqual(299);
  });

  it('leaves room for what other apps spent of the same quota', async () => {
    const w = new RollingWindow(0);
    w.observe({ max: 10, remaining: 3, intervalMs: 250 });
    const t0 = Date.now();
    for (let i = 0; i < 3; i++) await w.acquire();
    expect(Date.now() - t0).toBeLessThan(100);
    await w.acquire();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(240);
  });
});
