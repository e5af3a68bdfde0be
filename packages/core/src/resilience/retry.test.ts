import { describe, expect, it } from 'vitest';
import { DativoError } from '../errors.js';
import { backoffDelay, defaultRetryPolicy, retryDelay, withRetry } from './retry.js';

const noSleep = { sleep: async () => undefined };

describe('backoff', () => {
  it('grows exponentially up to the cap, without jitter', () => {
    const policy = { ...defaultRetryPolicy, baseDelayMs: 100, maxDelayMs: 1000, jitter: 'none' as const };
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(policy, a))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('full jitter stays within [0, backoff] and uses the random source', () => {
    const policy = { ...defaultRetryPolicy, baseDelayMs: 100, maxDelayMs: 10_000, jitter: 'full' as const };
    expect(backoffDelay(policy, 3, () => 0)).toBe(0);
    expect(backoffDelay(policy, 3, () => 0.5)).toBe(200);
    expect(backoffDelay(policy, 3, () => 0.999999)).toBe(400);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(policy, 4);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(800);
    }
  });

  it('equal jitter stays within [backoff/2, backoff]', () => {
    const policy = { ...defaultRetryPolicy, baseDelayMs: 100, maxDelayMs: 10_000, jitter: 'equal' as const };
    expect(backoffDelay(policy, 2, () => 0)).toBe(100);
    expect(backoffDelay(policy, 2, () => 1)).toBe(200);
  });

  it('waits at least as long as Retry-After asks, up to the allowed maximum', () => {
    const policy = { ...defaultRetryPolicy, baseDelayMs: 100, jitter: 'none' as const, maxRetryAfterMs: 60_000 };
    const limited = new DativoError('429', { kind: 'rate_limit', retryAfterMs: 5000 });
    expect(retryDelay(policy, 1, limited)).toBe(5000);
    expect(retryDelay(policy, 1, new DativoError('429', { kind: 'rate_limit', retryAfterMs: 10 }))).toBe(100);
  });
});

describe('withRetry', () => {
  it('retries transient failures and returns the eventual result', async () => {
    let calls = 0;
    const delays: number[] = [];
    const result = await withRetry(
      async () => {
        calls++;
        if (calls < 3) throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
        return 'ok';
      },
      { ...noSleep, random: () => 1, policy: { baseDelayMs: 10, jitter: 'none' }, onRetry: (i) => delays.push(i.delayMs) },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(3);
    expect(delays).toEqual([10, 20]);
  });

  it('does not retry validation errors', async () => {
    let calls = 0;
    await expect(
      withRetry(async () => {
        calls++;
        throw new DativoError('bad record', { kind: 'validation' });
      }, noSleep),
    ).rejects.toMatchObject({ kind: 'validation', message: 'bad record' });
    expect(calls).toBe(1);
  });

  it('gives up after maxRetries with the classified last error', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw { message: 'unavailable', statusCode: 503 };
        },
        { ...noSleep, policy: { maxRetries: 2 } },
      ),
    ).rejects.toMatchObject({ kind: 'transient', statusCode: 503 });
    expect(calls).toBe(3);
  });

  it('honours Retry-After from a 429 and fails when it is longer than allowed', async () => {
    const waits: number[] = [];
    let calls = 0;
    await withRetry(
      async () => {
        calls++;
        if (calls === 1) throw { message: 'rate limited', status: 429, headers: { 'retry-after': '2' } };
        return 1;
      },
      { sleep: async (ms) => void waits.push(ms), policy: { baseDelayMs: 1, jitter: 'none' } },
    );
    expect(waits).toEqual([2000]);
    await expect(
      withRetry(
        async () => {
          throw { message: 'rate limited', status: 429, headers: { 'retry-after': '7200' } };
        },
        { ...noSleep, policy: { maxRetryAfterMs: 60_000 } },
      ),
    ).rejects.toThrow(/server asked to wait 7200 s, more than the 60 s allowed/);
  });

  it('stops when the signal is aborted during a wait', async () => {
    const controller = new AbortController();
    const promise = withRetry(
      async () => {
        throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
      },
      { signal: controller.signal, policy: { baseDelayMs: 60_000, jitter: 'none' } },
    );
    setTimeout(() => controller.abort(new Error('stop')), 20);
    await expect(promise).rejects.toMatchObject({ code: 'ABORTED' });
  });
});
