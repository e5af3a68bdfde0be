import { AbortedError } from '@dativo/core';
import type { StreamEvent } from './dialect.js';

/**
 * The hand-over between a push-based driver (socket and protocol callbacks) and the async
 * generator a session's `stream` returns. The driver pushes events, fails or finishes; `drain`
 * yields the events one by one and calls `afterEvent` once each is consumed, where the reader
 * resumes a paused socket, so at most one full batch waits at a time. Aborting the signal fails
 * the channel.
 */
export class EventChannel {
  private readonly queue: StreamEvent[] = [];
  private failure: unknown;
  private finished = false;
  private wake: (() => void) | undefined;
  /** True once `drain` returned after the driver finished (the result was read to its end). */
  completed = false;
  private readonly onAbort: () => void;

  constructor(private readonly signal: AbortSignal) {
    this.onAbort = () => this.fail(new AbortedError(signal.reason));
    signal.addEventListener('abort', this.onAbort, { once: true });
  }

  get pending(): number {
    return this.queue.length;
  }

  push(...events: StreamEvent[]): void {
    if (events.length === 0) return;
    this.queue.push(...events);
    this.notify();
  }

  /** The first failure wins; later ones are ignored. */
  fail(error: unknown): void {
    this.failure ??= error;
    this.notify();
  }

  finish(): void {
    this.finished = true;
    this.notify();
  }

  /**
   * Yields queued events until the driver finishes (then the events `end` returns) or fails
   * (then throws its error). Events queued before a failure are still yielded first.
   */
  async *drain(end: () => Iterable<StreamEvent>, afterEvent: (event: StreamEvent) => void): AsyncGenerator<StreamEvent> {
    try {
      for (;;) {
        const event = this.queue.shift();
        if (event) {
          yield event;
          afterEvent(event);
          continue;
        }
        if (this.failure !== undefined) throw this.failure;
        if (this.finished) {
          yield* end();
          this.completed = true;
          return;
        }
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          if (this.queue.length || this.finished || this.failure !== undefined) this.notify();
        });
      }
    } finally {
      this.signal.removeEventListener('abort', this.onAbort);
    }
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
}
