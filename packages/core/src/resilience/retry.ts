import pRetry, { AbortError as PRetryAbort } from 'p-retry';
import { classifyError, type ClassifierOverrides } from '../classify.js';
import { AbortedError, DativoError } from '../errors.js';
import { abortableSleep } from './sleep.js';

export interface RetryPolicy {
  /** Retries after the first attempt. v1 recipes: `rate_limits.retry.max_retries`. */
  maxRetries: number;
  /** First backoff in milliseconds. */
  baseDelayMs: number;
  /** Upper bound of one backoff (v1: `max_backoff_seconds`). */
  maxDelayMs: number;
  /** `exponential` (default) or `constant`. */
  backoff: 'exponential' | 'constant';
  /** `full` jitter draws uniformly from [0, backoff]; `equal` from [backoff/2, backoff]; `none`. */
  jitter: 'full' | 'equal' | 'none';
  /** Upper bound honoured for a server's Retry-After; longer waits fail instead of hanging a run. */
  maxRetryAfterMs: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  maxRetries: 5,
  baseDelayMs: 500,
  maxDelayMs: 64_000,
  backoff: 'exponential',
  jitter: 'full',
  maxRetryAfterMs: 15 * 60_000,
};

export interface RetryAttemptInfo {
  attempt: number;
  error: DativoError;
  delayMs: number;
  retriesLeft: number;
}

export interface RetryOptions {
  policy?: Partial<RetryPolicy>;
  signal?: AbortSignal;
  overrides?: ClassifierOverrides;
  /** Called before each wait; use it to log. */
  onRetry?: (info: RetryAttemptInfo) => void;
  /** Injected for tests. */
  random?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** The wait before retry number `attempt` (1-based), before Retry-After is considered. */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const raw = policy.backoff === 'constant' ? policy.baseDelayMs : policy.baseDelayMs * 2 ** (attempt - 1);
  const capped = Math.min(policy.maxDelayMs, raw);
  switch (policy.jitter) {
    case 'full':
      return Math.round(random() * capped);
    case 'equal':
      return Math.round(capped / 2 + (random() * capped) / 2);
    default:
      return capped;
  }
}

/** The wait actually used: the server's Retry-After wins when it asks for longer than the backoff. */
export function retryDelay(policy: RetryPolicy, attempt: number, error: DativoError, random: () => number = Math.random): number {
  const backoff = backoffDelay(policy, attempt, random);
  if (error.retryAfterMs !== undefined) return Math.max(backoff, Math.min(error.retryAfterMs, policy.maxRetryAfterMs));
  return backoff;
}

/**
 * Runs `fn` and retries it while the classified error is retryable, with exponential backoff,
 * jitter and `Retry-After`. Non-retryable errors (validation, permanent, config) fail at once.
 * The error thrown at the end is the classified {@link DativoError} of the last attempt.
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const policy: RetryPolicy = { ...defaultRetryPolicy, ...options.policy };
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? abortableSleep;
  const signal = options.signal;
  try {
    return await pRetry(
      async (attempt) => {
        if (signal?.aborted) throw new PRetryAbort(new AbortedError(signal.reason));
        try {
          return await fn(attempt);
        } catch (error) {
          const classified = classifyError(error, options.overrides ? { overrides: options.overrides } : {});
          if (!classified.retryable) throw new PRetryAbort(classified);
          if (classified.retryAfterMs !== undefined && classified.retryAfterMs > policy.maxRetryAfterMs) {
            throw new PRetryAbort(
              new DativoError(`${classified.message} (server asked to wait ${Math.round(classified.retryAfterMs / 1000)} s, more than the ${Math.round(policy.maxRetryAfterMs / 1000)} s allowed)`, {
                kind: classified.kind,
                retryable: false,
                cause: classified,
              }),
            );
          }
          throw classified;
        }
      },
      {
        retries: policy.maxRetries,
        minTimeout: 0,
        maxTimeout: 0,
        factor: 1,
        randomize: false,
        ...(signal ? { signal } : {}),
        onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
          if (retriesLeft <= 0) return;
          const classified = DativoError.isInstance(error) ? error : classifyError(error);
          const delayMs = retryDelay(policy, attemptNumber, classified, random);
          options.onRetry?.({ attempt: attemptNumber, error: classified, delayMs, retriesLeft });
          await sleep(delayMs, signal);
        },
      },
    );
  } catch (error) {
    if (signal?.aborted && !DativoError.isInstance(error)) throw new AbortedError(signal.reason);
    throw DativoError.isInstance(error) ? error : classifyError(error);
  }
}
