import type { RangeState } from './checkpoint.js';

/**
 * Splits the integer key span [min, max] into `count` ranges of equal width: [lo, hi) each, the
 * first unbounded below and the last unbounded above (rows inserted past `max` while reading still
 * land in a range). Fewer ranges when the span is small.
 */
export function splitRanges(min: bigint, max: bigint, count: number): RangeState[] {
  const span = max - min + 1n;
  const n = BigInt(Math.max(1, Math.min(count, Number(span < 1n ? 1n : span))));
  const bounds: Array<string | null> = [null];
  for (let i = 1n; i < n; i++) bounds.push(String(min + (span * i) / n));
  bounds.push(null);
  const out: RangeState[] = [];
  for (let i = 0; i < bounds.length - 1; i++) out.push({ lo: bounds[i] as string | null, hi: bounds[i + 1] as string | null, done: false });
  return out;
}

/**
 * Runs several async iterators at once and yields their values as they come, each tagged with its
 * source index. Each iterator is pulled again only after its previous value was consumed, so memory
 * stays bounded; the first error stops the others.
 */
export async function* mergeIterators<T>(iterators: Array<AsyncIterator<T>>): AsyncGenerator<{ index: number; value: T }> {
  const pending = new Map<number, Promise<{ index: number; result: IteratorResult<T> }>>();
  const active = new Set(iterators.map((_, i) => i));
  const pull = (index: number): void => {
    pending.set(
      index,
      (iterators[index] as AsyncIterator<T>).next().then((result) => ({ index, result })),
    );
  };
  iterators.forEach((_, i) => pull(i));
  try {
    while (pending.size > 0) {
      const { index, result } = await Promise.race(pending.values());
      pending.delete(index);
      if (result.done) {
        active.delete(index);
        continue;
      }
      yield { index, value: result.value };
      pull(index);
    }
  } finally {
    // Stop the others, including the one whose value was just taken (their `finally` blocks
    // release connections); ignore their late errors.
    for (const promise of pending.values()) promise.catch(() => undefined);
    for (const index of active) await (iterators[index] as AsyncIterator<T>).return?.(undefined)?.catch?.(() => undefined);
  }
}
