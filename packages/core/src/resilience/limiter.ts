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
  private refill: { rate: number; burst: number; last: number; carry: number; tick: number } | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  /** Jobs scheduled and not finished: while there are any, the top-up timer keeps the process alive. */
  private pending = 0;

  constructor(policy: RateLimitPolicy = {}) {
    const options: { -readonly [K in keyof Bottleneck.ConstructorOptions]: Bottleneck.ConstructorOptions[K] } = {};
    if (policy.maxConcurrent !== undefined) options.maxConcurrent = policy.maxConcurrent;
    if (policy.perWindow) {
      options.reservoir = policy.perWindow.requests;
      options.reservoirRefreshAmount = policy.perWindow.requests;
      options.reservoirRefreshInterval = policy.perWindow.windowMs;
    } else if (policy.requestsPerSecond !== undefined && policy.requestsPerSecond > 0) {
      const burst = Math.max(1, Math.floor(policy.burst ?? policy.requestsPerSecond));
      // Tokens are added by the time that really passed since the last top-up (a timer's ticks
      // drift late under load, and a fixed amount per tick then loses 10-15 % of the rate).
      options.reservoir = burst;
      this.refill = { rate: policy.requestsPerSecond / 1000, burst, last: Date.now(), carry: 0, tick: Math.max(10, Math.min(100, Math.round(1000 / policy.requestsPerSecond))) };
    }
    this.bottleneck = new Bottleneck(options);
  }

  schedule<T>(fn: () => Promise<T>): Promise<T> {
    if (this.refill && this.pending++ === 0) this.startTopUp();
    const job = this.bottleneck.schedule(async () => {
      const wait = this.pausedUntil - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      return fn();
    });
    if (!this.refill) return job;
    return job.finally(() => {
      if (--this.pending === 0) this.stopTopUp();
    });
  }

  private startTopUp(): void {
    const r = this.refill;
    if (!r || this.timer) return;
    r.last = Date.now();
    this.timer = setInterval(() => void this.topUp(), r.tick);
  }

  private stopTopUp(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    // The bucket keeps filling while idle: credit the idle time at the next start.
    void this.topUp();
  }

  private async topUp(): Promise<void> {
    const r = this.refill;
    if (!r) return;
    const now = Date.now();
    const earned = r.rate * (now - r.last) + r.carry;
    r.last = now;
    const whole = Math.floor(earned);
    r.carry = earned - whole;
    if (whole <= 0) return;
    const current = (await this.bottleneck.currentReservoir()) ?? 0;
    const room = Math.max(0, r.burst - current);
    if (whole >= room) r.carry = 0;
    if (Math.min(whole, room) > 0) await this.bottleneck.incrementReservoir(Math.min(whole, room));
  }

  /**
   * Holds every request for `ms` (a 429 told us to back off): requests that start before then wait
   * for the end of the pause. Pauses overlap into the longest.
   */
  async pause(ms: number): Promise<void> {
    this.pausedUntil = Math.max(this.pausedUntil, Date.now() + ms);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.refill = undefined;
    await this.bottleneck.stop({ dropWaitingJobs: true });
  }
}
