import { AbortedError } from '@dativo/core';
import { describe, expect, it } from 'vitest';
import { EventChannel } from './channel.js';
import type { StreamEvent } from './dialect.js';

const warning = (message: string): StreamEvent => ({ kind: 'warning', message });

async function collect(channel: EventChannel, end: StreamEvent[] = [], after: (e: StreamEvent) => void = () => undefined): Promise<{ events: string[]; error?: unknown }> {
  const events: string[] = [];
  try {
    for await (const e of channel.drain(() => end, after)) events.push(e.kind === 'warning' ? e.message : e.kind);
  } catch (error) {
    return { events, error };
  }
  return { events };
}

describe('EventChannel', () => {
  it('yields pushed events in order, then the end events, and marks completion', async () => {
    const channel = new EventChannel(new AbortController().signal);
    const consumed: string[] = [];
    const done = collect(channel, [warning('end')], (e) => consumed.push(e.kind === 'warning' ? e.message : e.kind));
    channel.push(warning('a'), warning('b'));
    await new Promise((r) => setTimeout(r, 5));
    channel.push(warning('c'));
    channel.finish();
    expect(await done).toEqual({ events: ['a', 'b', 'c', 'end'] });
    expect(consumed).toEqual(['a', 'b', 'c']);
    expect(channel.completed).toBe(true);
  });

  it('yields what was queued before a failure, then throws the first error only', async () => {
    const channel = new EventChannel(new AbortController().signal);
    channel.push(warning('a'));
    channel.fail(new Error('first'));
    channel.fail(new Error('second'));
    const { events, error } = await collect(channel);
    expect(events).toEqual(['a']);
    expect((error as Error).message).toBe('first');
    expect(channel.completed).toBe(false);
  });

  it('fails with AbortedError when the signal aborts while waiting', async () => {
    const abort = new AbortController();
    const channel = new EventChannel(abort.signal);
    const done = collect(channel);
    setTimeout(() => abort.abort(new Error('stop')), 5);
    const { error } = await done;
    expect(error).toBeInstanceOf(AbortedError);
    expect(channel.completed).toBe(false);
  });
});
