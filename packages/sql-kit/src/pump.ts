import type { Readable } from 'node:stream';
import { AbortedError } from '@dativo/core';
import type { StreamEvent } from './dialect.js';

/** Turns a driver's input (byte chunks or rows) into stream events, synchronously. */
export interface InputParser<I> {
  /** Takes input (kept until parsed). */
  push(input: I): void;
  /** Parses buffered input until an event is due (returned) or the input runs out (undefined). */
  next(): StreamEvent | undefined;
  /** The input ended: the last events (the final flush). */
  end(): StreamEvent[];
}

/**
 * Drives a driver's Readable through a parser and yields its events. Input is parsed in the
 * `data` handler itself (no promise per row or chunk); when a batch is full the stream is paused
 * until the consumer took the flush, so at most one batch plus the driver's buffers is in memory.
 * Returning early (or an abort) destroys the stream.
 */
export async function* pumpReadable<I>(readable: Readable, parser: InputParser<I>, signal: AbortSignal): AsyncGenerator<StreamEvent> {
  const queue: StreamEvent[] = [];
  let blocked = false; // a flush waits for the consumer: parse nothing more
  let ended = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const drain = (): void => {
    while (!blocked) {
      const event = parser.next();
      if (!event) return;
      queue.push(event);
      if (event.kind === 'flush') {
        blocked = true;
        readable.pause();
      }
    }
  };
  const onAbort = (): void => {
    failure = new AbortedError(signal.reason);
    readable.destroy();
    notify();
  };
  readable.on('data', (input: I) => {
    parser.push(input);
    drain();
    if (queue.length) notify();
  });
  readable.once('end', () => {
    ended = true;
    notify();
  });
  readable.once('error', (error) => {
    failure ??= error;
    notify();
  });
  readable.once('close', () => {
    if (!ended && failure === undefined) failure = new Error('the connection closed before the result ended');
    notify();
  });
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      const event = queue.shift();
      if (event) {
        yield event;
        if (event.kind === 'flush') {
          blocked = false;
          drain();
          if (!blocked && !ended) readable.resume();
        }
        continue;
      }
      if (failure !== undefined) throw failure;
      if (ended) {
        drain();
        if (queue.length) continue;
        for (const e of parser.end()) yield e;
        return;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        if (queue.length || ended || failure !== undefined) notify();
      });
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    if (!ended) readable.destroy();
  }
}
