import { describe, expect, it } from 'vitest';
import { DativoError } from '../errors.js';
import { MemoryLogSink, JsonLogger } from '../log/logger.js';
import { MetricsRegistry } from '../metrics.js';
import { mergeResilience, ResilienceService } from './service.js';

const deps = () => {
  const logs = new MemoryLogSink();
  return { logs, log: new JsonLogger({ level: 'debug', sink: logs }), metrics: new MetricsRegistry({}) };
};

describe('ResilienceService', () => {
  it('layers settings: what a connector declares, then the recipe, then the job', () => {
    const merged = mergeResilience({ rateLimit: { requestsPerSecond: 100, burst: 100 }, retry: { maxRetries: 5 } }, { rateLimit: { requestsPerSecond: 7 } }, { retry: { maxRetries: 2, baseDelayMs: 1 } });
    expect(merged).toEqual({ rateLimit: { requestsPerSecond: 7, burst: 100 }, retry: { maxRetries: 2, baseDelayMs: 1 } });
  });

  it('retries retryable failures, logging the connector and endpoint, and stops at the policy', async () => {
    const d = deps();
    const service = new ResilienceService('widgets', { retry: { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 2 }, breaker: { enabled: false } }, d);
    let calls = 0;
    const ok = await service.call(async () => {
      calls++;
      if (calls < 3) throw Object.assign(new Error('busy'), { status: 503 });
      return 'done';
    }, { endpoint: 'GET /widgets' });
    expect(ok).toBe('done');
    expect(d.logs.records().filter((r) => r.msg === 'retrying after a failure').map((r) => [r.connector, r.endpoint, r.attempt])).toEqual([
      ['widgets', 'GET /widgets', 1],
      ['widgets', 'GET /widgets', 2],
    ]);
    calls = 0;
    await expect(service.call(async () => {
      calls++;
      throw Object.assign(new Error('busy'), { status: 503 });
    })).rejects.toMatchObject({ kind: 'transient' });
    expect(calls).toBe(3);
    // A permanent failure is not retried.
    calls = 0;
    await expect(service.call(async () => {
      calls++;
      throw new DativoError('bad request', { kind: 'validation' });
    })).rejects.toThrow('bad request');
    expect(calls).toBe(1);
    await service.stop();
  });

  it('opens its breaker after repeated failures and then fails fast', async () => {
    const d = deps();
    const service = new ResilienceService('flaky', { retry: { maxRetries: 0 }, breaker: { volumeThreshold: 2, errorThresholdPercentage: 50, resetTimeoutMs: 60_000 } }, d);
    let calls = 0;
    const failing = () => service.call(async () => {
      calls++;
      throw Object.assign(new Error('down'), { status: 500 });
    });
    for (let i = 0; i < 3; i++) await failing().catch(() => undefined);
    const before = calls;
    await expect(failing()).rejects.toMatchObject({ code: 'CIRCUIT_OPEN' });
    expect(calls).toBe(before);
    expect(d.logs.records().some((r) => String(r.msg).startsWith('circuit breaker opened') && r.connector === 'flaky')).toBe(true);
    await service.stop();
  });

  it('keeps to the rate limit', async () => {
    const service = new ResilienceService('slow', { rateLimit: { requestsPerSecond: 20, burst: 1 }, breaker: { enabled: false } }, deps());
    const started = Date.now();
    await Promise.all(Array.from({ length: 5 }, () => service.call(async () => 1)));
    // 5 calls with a burst of 1 at 20/s need at least 4 refills of 50 ms.
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    await service.stop();
  });
});
