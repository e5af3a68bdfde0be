import CircuitBreaker from 'opossum';
import { DativoError } from '../errors.js';

export interface BreakerPolicy {
  /** Failure percentage over the rolling window that opens the circuit. */
  errorThresholdPercentage: number;
  /** Minimum calls in the window before the percentage is considered. */
  volumeThreshold: number;
  /** Time the circuit stays open before one trial call is let through (half-open). */
  resetTimeoutMs: number;
  /** Rolling window length. */
  rollingCountTimeoutMs: number;
  /** Per-call timeout; `false` disables it. */
  timeoutMs: number | false;
  /**
   * Consecutive failures that open the circuit whatever the percentage (the error policy's
   * `failure_threshold`); undefined: the percentage rule only.
   */
  failureThreshold?: number;
  /** Successful calls after a half-open trial before failures stop reopening it at once (`success_threshold`); default 1. */
  successThreshold?: number;
}

export const defaultBreakerPolicy: BreakerPolicy = {
  errorThresholdPercentage: 50,
  volumeThreshold: 10,
  resetTimeoutMs: 30_000,
  rollingCountTimeoutMs: 60_000,
  timeoutMs: false,
};

export type BreakerState = 'closed' | 'open' | 'half-open';

/**
 * A circuit breaker around calls to one remote system (built on opossum). Only errors that say
 * something about the remote's health count as failures: validation errors (a bad record) do not
 * open the circuit.
 */
export class Breaker {
  readonly name: string;
  private readonly breaker: CircuitBreaker<[() => Promise<unknown>], unknown>;
  private readonly failureThreshold: number | undefined;
  private readonly successThreshold: number;
  /** Consecutive health failures (for `failureThreshold`). */
  private failures = 0;
  /** Successes still needed after a half-open trial before the circuit is trusted again. */
  private probation = 0;

  constructor(name: string, policy: Partial<BreakerPolicy> = {}) {
    const p = { ...defaultBreakerPolicy, ...policy };
    this.name = name;
    this.failureThreshold = p.failureThreshold;
    this.successThreshold = Math.max(1, p.successThreshold ?? 1);
    this.breaker = new CircuitBreaker((fn: () => Promise<unknown>) => fn(), {
      name,
      errorThresholdPercentage: p.errorThresholdPercentage,
      volumeThreshold: p.volumeThreshold,
      resetTimeout: p.resetTimeoutMs,
      rollingCountTimeout: p.rollingCountTimeoutMs,
      timeout: p.timeoutMs,
      // Bad input, bad config and throttling say nothing about the service's health: they never open the circuit.
      errorFilter: (error: unknown) => DativoError.isInstance(error) && (error.kind === 'validation' || error.kind === 'config' || error.kind === 'rate_limit'),
    });
    this.breaker.on('success', () => {
      this.failures = 0;
      if (this.probation > 0) this.probation--;
    });
    this.breaker.on('failure', () => {
      this.failures++;
      // A failure while on probation, or the consecutive-failure threshold reached, opens the circuit.
      if ((this.probation > 0 || (this.failureThreshold !== undefined && this.failures >= this.failureThreshold)) && !this.breaker.opened) this.breaker.open();
    });
    this.breaker.on('halfOpen', () => {
      this.probation = this.successThreshold;
    });
    this.breaker.on('open', () => {
      this.failures = 0;
    });
  }

  get state(): BreakerState {
    if (this.breaker.opened) return 'open';
    if (this.breaker.halfOpen) return 'half-open';
    return 'closed';
  }

  /** Runs `fn` through the breaker. When open, fails fast with a retryable `transient` error. */
  async fire<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return (await this.breaker.fire(fn)) as T;
    } catch (error) {
      if (error instanceof Error && (error as { code?: string }).code === 'EOPENBREAKER') {
        throw new DativoError(`circuit '${this.name}' is open after repeated failures; calls are paused until it half-opens`, {
          kind: 'transient',
          code: 'CIRCUIT_OPEN',
          cause: error,
        });
      }
      if (error instanceof Error && (error as { code?: string }).code === 'ETIMEDOUT') {
        throw new DativoError(`call through '${this.name}' timed out`, { kind: 'transient', code: 'ETIMEDOUT', cause: error });
      }
      throw error;
    }
  }

  on(event: 'open' | 'halfOpen' | 'close', listener: () => void): void {
    if (event === 'open') this.breaker.on('open', listener);
    else if (event === 'halfOpen') this.breaker.on('halfOpen', listener);
    else this.breaker.on('close', listener);
  }

  shutdown(): void {
    this.breaker.shutdown();
  }
}
