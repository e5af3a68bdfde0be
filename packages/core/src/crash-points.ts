const counts = new Map<string, number>();

/**
 * A fault-injection hook for crash tests: when the environment variable `DATIVO_CRASH_AT` names
 * this point (`iceberg:manifests-written`, optionally `@N` for its N-th occurrence), the process
 * kills itself with SIGKILL, exactly as `kill -9` would. Does nothing otherwise.
 */
export function crashPoint(name: string): void {
  const want = process.env.DATIVO_CRASH_AT;
  if (!want) return;
  const [point, nth] = want.split('@');
  if (point !== name) return;
  const seen = (counts.get(name) ?? 0) + 1;
  counts.set(name, seen);
  if (seen >= Number(nth ?? 1)) process.kill(process.pid, 'SIGKILL');
}
