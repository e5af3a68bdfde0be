import { DativoError, throwIfAborted } from '@dativo/core';
import { z } from 'zod';
import type { Page } from './pagination.js';

/**
 * Progress through a time range read as windows `[from + i·size, from + (i+1)·size)`, half-open so
 * an object on a boundary is read once. Bounded whatever the history: windows below `frontier`
 * are finished, `active` holds the started ones at or above it (at most twice the concurrency),
 * each with the token of its next page; windows from `next` on are not started.
 */
export const windowStateSchema = z.object({
  v: z.literal(1),
  from: z.number(),
  to: z.number(),
  size: z.number().positive(),
  frontier: z.number().int().nonnegative(),
  next: z.number().int().nonnegative(),
  active: z.array(z.object({ i: z.number().int().nonnegative(), token: z.string().nullable(), done: z.boolean() })),
});
export type WindowState = z.infer<typeof windowStateSchema>;

export interface TimeWindow {
  from: number;
  to: number;
}

/** Plans `[from, to)` as windows of `size`, at most `maxWindows` (wider windows for long ranges). */
export function planWindows(from: number, to: number, size: number, maxWindows = 256): WindowState {
  const span = Math.max(0, to - from);
  const width = Math.max(size, Math.ceil(span / maxWindows), 1);
  return { v: 1, from, to, size: width, frontier: 0, next: 0, active: [] };
}

export function windowCount(state: WindowState): number {
  return Math.ceil(Math.max(0, state.to - state.from) / state.size);
}

export function windowBounds(state: WindowState, i: number): TimeWindow {
  const from = state.from + i * state.size;
  return { from, to: Math.min(from + state.size, state.to) };
}

export function windowsDone(state: WindowState): boolean {
  return state.frontier >= windowCount(state);
}

export interface ReadWindowsOptions<T> {
  state: WindowState;
  /** Windows read at once; requests still go through the rate limiter, so this only hides latency. */
  concurrency: number;
  fetch: (window: TimeWindow, token: string | null) => Promise<Page<T>>;
  signal: AbortSignal;
}

type Settled<T> = { i: number; page: Page<T> } | { i: number; error: unknown };

const clone = (s: WindowState): WindowState => ({ ...s, active: s.active.map((a) => ({ ...a })) });

/**
 * Reads windows in parallel and yields each page as it arrives with the state that covers every
 * page yielded so far (a checkpoint taken after a page is exact: resuming from it re-reads no page
 * and skips none). Resumes from any state it yielded.
 */
export async function* readWindows<T>(options: ReadWindowsOptions<T>): AsyncGenerator<{ items: T[]; window: TimeWindow; state: WindowState }> {
  const state = clone(options.state);
  const total = windowCount(state);
  const concurrency = Math.max(1, options.concurrency);
  const inflight = new Map<number, Promise<Settled<T>>>();
  const start = (i: number, token: string | null): void => {
    inflight.set(
      i,
      options.fetch(windowBounds(state, i), token).then(
        (page) => ({ i, page }),
        (error: unknown) => ({ i, error }),
      ),
    );
  };
  const fill = (): void => {
    while (inflight.size < concurrency && state.next < total && state.active.length < 2 * concurrency) {
      state.active.push({ i: state.next, token: null, done: false });
      start(state.next, null);
      state.next++;
    }
  };
  for (const a of state.active) if (!a.done) start(a.i, a.token);
  fill();
  while (inflight.size > 0) {
    throwIfAborted(options.signal);
    const settled = await Promise.race(inflight.values());
    inflight.delete(settled.i);
    if (!('page' in settled)) throw settled.error;
    const entry = state.active.find((a) => a.i === settled.i);
    if (!entry) throw new DativoError(`time window ${settled.i} answered but is not active`, { kind: 'permanent' });
    const { page } = settled;
    if (page.next !== null) {
      entry.token = page.next;
      start(settled.i, page.next);
    } else {
      entry.done = true;
      entry.token = null;
    }
    while (state.active[0]?.done && state.active[0].i === state.frontier) {
      state.active.shift();
      state.frontier++;
    }
    state.active.sort((a, b) => a.i - b.i);
    fill();
    yield { items: page.items, window: windowBounds(state, settled.i), state: clone(state) };
  }
  if (!windowsDone(state)) throw new DativoError(`time windows stopped at ${state.frontier} of ${total} without an error`, { kind: 'permanent', code: 'API_WINDOWS_INCOMPLETE' });
}
