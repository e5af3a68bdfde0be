import { describe, expect, it } from 'vitest';
import { DativoError } from '../errors.js';
import { Breaker } from './breaker.js';

const fail = async (): Promise<never> => {
  throw new DativoError('down', { kind: 'transient' });
};

describe('Breaker', () => {
  it('opens after the failure threshold, fails fast, half-opens after the reset timeout and closes on success', async () => {
    const breaker = new Breaker('api', { volumeThreshold: 3, errorThresholdPercentage: 50, resetTimeoutMs: 100 });
    const events: string[] = [];
    breaker.on('open', () => events.push('open'));
    breaker.on('halfOpen', () => events.push('halfOpen'));
    breaker.on('close', () => events.push('close'));
    for (let i = 0; i < 3; i++) await expect(breaker.fire(fail)).rejects.toThrow('down');
    expect(breaker.state).toBe('open');
    let called = false;
    await expect(
      breaker.fire(async () => {
        called = true;
      }),
    ).rejects.toMatchObject({ code: 'CIRCUIT_OPEN', kind: 'transient' });
    expect(called).toBe(false);
    await new Promise((r) => setTimeout(r, 150));
    expect(breaker.state).toBe('half-open');
    await expect(breaker.fire(async () => 'fine')).resolves.toBe('fine');
    expect(breaker.state).toBe('closed');
    expect(events).toEqual(['open', 'halfOpen', 'close']);
    breaker.shutdown();
  });

  it('a failed trial call in half-open state opens the circuit again', async () => {
    const breaker = new Breaker('api', { volumeThreshold: 1, resetTimeoutMs: 50 });
    await expect(breaker.fire(fail)).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 80));
    expect(breaker.state).toBe('half-open');
    await expect(breaker.fire(fail)).rejects.toThrow('down');
    expect(breaker.state).toBe('open');
    breaker.shutdown();
  });

  it('does not count validation errors (bad records) as failures', async () => {
    const breaker = new Breaker('api', { volumeThreshold: 2 });
    for (let i = 0; i < 5; i++) {
      await expect(
        breaker.fire(async () => {
          throw new DativoError('bad row', { kind: 'validation' });
        }),
      ).rejects.toThrow('bad row');
    }
    expect(breaker.state).toBe('closed');
    breaker.shutdown();
  });

  it('error policy: opens after failure_threshold consecutive failures (a success in between resets the count); closes only after success_threshold successes', async () => {
    // The percentage rule out of the way (a call in two fails throughout).
    const breaker = new Breaker('api', { volumeThreshold: 1_000, failureThreshold: 3, successThreshold: 2, resetTimeoutMs: 50 });
    const ok = async () => 'fine';
    await expect(breaker.fire(fail)).rejects.toThrow();
    await expect(breaker.fire(fail)).rejects.toThrow();
    await breaker.fire(ok);
    await expect(breaker.fire(fail)).rejects.toThrow();
    await expect(breaker.fire(fail)).rejects.toThrow();
    expect(breaker.state).toBe('closed');
    await expect(breaker.fire(fail)).rejects.toThrow('down');
    expect(breaker.state).toBe('open');
    await new Promise((r) => setTimeout(r, 80));
    expect(breaker.state).toBe('half-open');
    await breaker.fire(ok);
    // One success is not yet enough: a failure now opens it again at once.
    await expect(breaker.fire(fail)).rejects.toThrow('down');
    expect(breaker.state).toBe('open');
    await new Promise((r) => setTimeout(r, 80));
    await breaker.fire(ok);
    await breaker.fire(ok);
    await expect(breaker.fire(fail)).rejects.toThrow('down');
    expect(breaker.state).toBe('closed');
    breaker.shutdown();
  });
});
