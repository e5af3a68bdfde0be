import { isPlainObject, type ResilienceSettings } from '@dativo/core/definition';

const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : undefined);

/**
 * A connector's resilience settings from a v1 job: the section's `rate_limits` (the recipe's,
 * under the job's own) — `rps_default`, `burst_default`, `retry: { max_retries, backoff,
 * max_backoff_seconds }` — and the job's `retry_config` (`max_attempts`, `initial_delay_seconds`,
 * `max_delay_seconds`), which wins for retries.
 */
export function v1Resilience(section: Record<string, unknown>, retryConfig: unknown): ResilienceSettings {
  const out: ResilienceSettings = {};
  const limits = isPlainObject(section.rate_limits) ? section.rate_limits : {};
  const rps = num(limits.rps_default);
  const burst = num(limits.burst_default);
  if (rps !== undefined || burst !== undefined) out.rateLimit = { ...(rps !== undefined ? { requestsPerSecond: rps } : {}), ...(burst !== undefined ? { burst } : {}) };
  const retry = isPlainObject(limits.retry) ? limits.retry : {};
  const maxRetries = num(retry.max_retries);
  const maxBackoff = num(retry.max_backoff_seconds);
  if (maxRetries !== undefined) (out.retry ??= {}).maxRetries = maxRetries;
  if (maxBackoff !== undefined) (out.retry ??= {}).maxDelayMs = maxBackoff * 1000;
  if (retry.backoff === 'constant' || retry.backoff === 'exponential') (out.retry ??= {}).backoff = retry.backoff;
  if (isPlainObject(retryConfig)) {
    const attempts = num(retryConfig.max_attempts);
    const initial = num(retryConfig.initial_delay_seconds);
    const max = num(retryConfig.max_delay_seconds);
    if (attempts !== undefined) (out.retry ??= {}).maxRetries = Math.max(0, attempts - 1);
    if (initial !== undefined) (out.retry ??= {}).baseDelayMs = initial * 1000;
    if (max !== undefined) (out.retry ??= {}).maxDelayMs = max * 1000;
  }
  return out;
}
