import { describe, expect, it } from 'vitest';
import { v1Resilience } from './resilience.js';

describe('v1Resilience', () => {
  it("maps a recipe's rate_limits and the job's retry_config onto the run's resilience", () => {
    expect(v1Resilience({ rate_limits: { rps_default: 7, burst_default: 14, retry: { max_retries: 5, backoff: 'exponential', max_backoff_seconds: 64 } } }, undefined)).toEqual({
      rateLimit: { requestsPerSecond: 7, burst: 14 },
      retry: { maxRetries: 5, maxDelayMs: 64_000, backoff: 'exponential' },
    });
    expect(v1Resilience({ rate_limits: { rps_default: '10' } }, { max_attempts: 3, initial_delay_seconds: 2, max_delay_seconds: '30' })).toEqual({
      rateLimit: { requestsPerSecond: 10 },
      retry: { maxRetries: 2, baseDelayMs: 2000, maxDelayMs: 30_000 },
    });
    expect(v1Resilience({}, undefined)).toEqual({});
  });
});
