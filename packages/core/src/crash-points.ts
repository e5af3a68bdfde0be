import { DativoError } from './errors.js';

const counts = new Map<string, number>();

/** Failures armed by {@link failAt}, shared by every copy of this module in the process. */
const ARMED = Symbol.for('@dativo/core/armedFailures');
function armed(): Map<string, number> {
  const g = globalThis as { [ARMED]?: Map<string, number> };
  return (g[ARMED] ??= new Map());
}

/**
 * A fault-injection hook for crash tests, placed at the points of a commit where a failure is
 * hardest to survive. Does nothing unless a test asked for it:
 * - when the environment variable `DATIVO_CRASH_AT` names this point (`iceberg:manifests-written`,
 *   optionally `@N` for its N-th occurrence), the process kills itself with SIGKILL, exactly as
 *   `kill -9` would;
 * - when {@link failAt} armed this point in the process, it throws a transient `DativoError`
 *   (code `INJECTED_FAILURE`), as a lost connection would.
 */
export function crashPoint(name: string): void {
  const failures = armed();
  const left = failures.get(name);
  if (left !== undefined) {
    if (left <= 1) {
      failures.delete(name);
      throw new DativoError(`injected failure at ${name}`, { kind: 'transient', code: 'INJECTED_FAILURE' });
    }
    failures.set(name, left - 1);
  }
  const want = process.env.DATIVO_CRASH_AT;
  if (!want) return;
  const [point, nth] = want.split('@');
  if (point !== name) return;
  const seen = (counts.get(name) ?? 0) + 1;
  counts.set(name, seen);
  if (seen >= Number(nth ?? 1)) process.kill(process.pid, 'SIGKILL');
}

/**
 * Arms a failure: the `nth` time (default the next time) code in this process reaches the crash
 * point `name`, it throws. Returns a function that disarms it (when the point was never reached).
 */
export function failAt(name: string, nth = 1): () => void {
  armed().set(name, nth);
  return () => {
    armed().delete(name);
  };
}
