import Bottleneck from 'bottleneck';

export interface RateLimitPolicy {
  /** Sustained requests per second (v1 recipe `rate_limits.rps_default`). */
  requestsPerSecond?: number;
  /** Requests allowed at once above the sustained rate (v1 `burst_default`). */
  burst?: number;
  /** Requests per window, for APIs that state limits like "100 per 10 s". */
  perWindow?: { requests: number; windowMs: number };
  /** Calls in flight at once. */
  maxConcurrent?: number;
}

/**
 * A token-bucket rate limiter (built on bottleneck). Connectors declare their API's limit and run
 * every request through {@link RateLimiter.schedule}; the pipeline never sends faster.
 */
export class RateLimiter {
  private readonly bottleneck: Bottleneck;
  private pausedUntil = 0;

  constructor(policy: RateLimitPolicy = {}) {
    const options: { -readonly [K in keyof Bottleneck.ConstructorOptions]: Bottleneck.ConstructorOptions[K] } = {};
    if (policy.maxConcurrent !== undefined) options.maxConcurrent = policy.maxConcurrent;
    if (policy.perWindow) {
      options.reservoir = policy.perWindow.requests;
      options.reservoirRefreshAmount = policy.perWindow.requests;
      options.reservoirRefreshInterval = policy.perWindow.windowMs;
    } else if (policy.requestsPerSecond !== undefined && policy.requestsPerSecond > 0) {
      const burst = Math.max(1, Math.floor(policy.burst ?? policy.requestsPerSecond));
      // bottleneck refills only on its heartbeat: tick often enough and add the tokens one tick
      // earns (fractions accumulate), up to `burst` tokens.
      const tick = Math.max(10, Math.min(250, Math.round(1000 / policy.requestsPerSecond)));
      options.reservoir = burst;
      options.reservoirIncreaseInterval = tick;
      options.reservoirIncreaseAmount = (policy.requestsPerSecond * tick) / 1000;
      options.reservoirIncreaseMaximum = burst;
      options.heartbeatInterval = tick;
    }
    this.bottleneck = new Bottleneck(options);
  }

  schedule<T>(fn: () => Promise<T>): Promise<T> {
    return this.bottleneck.schedule(async () => {
      const wait = this.pausedUntil - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      return fn();
    });
  }

  /**
   * Holds every request for `ms` (a 429 told us to back off): requests that start before then wait
   * for the end of the pause. Pauses overlap into the longest.
   */
  async pause(ms: number): Promise<void> {
    this.pausedUntil = Math.max(this.pausedUntil, Date.now() + ms);
  }

  async stop(): Promise<void> {
    await this.bottleneck.stop({ dropWaitingJobs: true });
  }
}
