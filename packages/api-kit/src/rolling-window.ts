/**
 * A client-side mirror of a server's rolling-window limit ("at most `max` requests in any
 * `intervalMs`"), learned from the limit headers an API sends (HubSpot's
 * `X-HubSpot-RateLimit-Max / -Remaining / -Interval-Milliseconds`). Each request waits until the
 * window, counted by this client's own send times plus what others using the same quota spent (the
 * server's count less ours), has room; so a client running at the limit never draws a 429, and one
 * sharing the quota with other apps slows down instead of failing. Until the first answer names
 * the limit, requests pass.
 */
export class RollingWindow {
  private max: number | undefined;
  private intervalMs = 0;
  private readonly sent: number[] = [];
  /** Requests in the server's window that are not this client's (from the last answer). */
  private others = 0;

  /**
   * @param margin slots left unused, for the jitter between when this client sends and when the
   * server counts
   */
  constructor(private readonly margin = 1) {}

  /** Updates the limit and the others' share from an answer's headers. */
  observe(limit: { max: number; remaining: number; intervalMs: number }): void {
    this.max = limit.max;
    this.intervalMs = limit.intervalMs;
    this.prune(Date.now());
    const used = limit.max - limit.remaining;
    this.others = Math.max(0, used - this.sent.length);
  }

  /** Waits for room in the window, then counts the request as sent now. */
  async acquire(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const now = Date.now();
      if (this.max === undefined) return;
      this.prune(now);
      const room = this.max - this.margin - this.others - this.sent.length;
      if (room > 0) {
        this.sent.push(now);
        return;
      }
      // The oldest of our requests leaves the window first; when the window is all others', wait a slot's share.
      const oldest = this.sent[0];
      const wait = oldest !== undefined ? oldest + this.intervalMs - now + 1 : Math.ceil(this.intervalMs / this.max);
      await new Promise<void>((resolve) => setTimeout(resolve, Math.max(1, wait)));
      if (signal?.aborted) return;
      // Others' requests age out as well: forget them once a whole window has passed without news.
      if (oldest === undefined) this.others = Math.max(0, this.others - 1);
    }
  }

  private prune(now: number): void {
    while (this.sent.length && (this.sent[0] as number) <= now - this.intervalMs) this.sent.shift();
  }
}
