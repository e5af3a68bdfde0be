import { setFlagsFromString } from 'node:v8';
import type { ConnectorSpec, Logger } from '@dativo/core';

/**
 * Tunes V8's heap policy for the job about to run. With a network-bound source (a SaaS API) the
 * pipeline parses many short-lived JSON objects while waiting on the network: V8's default policy
 * lets the old generation grow to ~130 MB of garbage before collecting it (the live heap stays near
 * 30 MB), so the run is switched to `--optimize-for-size`, which collects sooner at no measurable
 * cost there (bench/api-throughput). Compute-bound runs (files, databases) keep the default: the
 * flag also makes the JIT less aggressive, which costs them ~15 % (measured on CSV → Parquet).
 * The flag is read by V8 while the process runs, so each job of `--job-dir` gets its own setting.
 */
export function tuneHeapFor(spec: ConnectorSpec, log: Logger): void {
  if (process.env.DATIVO_HEAP_POLICY === 'default') return;
  const lean = spec.workload === 'network' || process.env.DATIVO_HEAP_POLICY === 'lean';
  setFlagsFromString(lean ? '--optimize-for-size' : '--no-optimize-for-size');
  log.debug('heap policy', { policy: lean ? 'lean' : 'default', workload: spec.workload ?? 'compute' });
}
