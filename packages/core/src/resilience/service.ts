import type { ClassifierOverrides } from '../classify.js';
import type { Logger } from '../log/logger.js';
import { classifyError } from '../classify.js';
import { endpointTemplate, type Metrics } from '../metrics.js';
import { Breaker, type BreakerPolicy } from './breaker.js';
import { RateLimiter, type RateLimitPolicy } from './limiter.js';
import { defaultRetryPolicy, withRetry, type RetryPolicy } from './retry.js';

/** How hard a connector may use its remote system, and how it recovers from its failures. */
export interface ResilienceSettings {
  rateLimit?: RateLimitPolicy;
  retry?: Partial<RetryPolicy>;
  /** `enabled: false` sends every call straight through. */
  breaker?: Partial<BreakerPolicy> & { enabled?: boolean };
  /** Error classification overrides for this connector (`{ 'HTTP 409': 'transient' }`…). */
  overrides?: ClassifierOverrides;
}

/** Settings layered in order, later ones winning key by key (declared limits < recipe < job). */
export function mergeResilience(...layers: Array<ResilienceSettings | undefined>): ResilienceSettings {
  const out: ResilienceSettings = {};
  for (const l of layers) {
    if (!l) continue;
    if (l.rateLimit) out.rateLimit = { ...out.rateLimit, ...l.rateLimit };
    if (l.retry) out.retry = { ...out.retry, ...l.retry };
    if (l.breaker) out.breaker = { ...out.breaker, ...l.breaker };
    if (l.overrides) out.overrides = { ...out.overrides, ...l.overrides };
  }
  return out;
}

export interface CallOptions {
  /** What is called, for logs and metrics: an endpoint template (`GET /v1/customers`), never a raw URL with ids. */
  endpoint?: string;
  signal?: AbortSignal;
  /** This call's own retry settings over the connector's (a connection retried more often…). */
  policy?: Partial<RetryPolicy>;
}

/**
 * The resilience of one connector in one run: its rate limiter (bottleneck), circuit breaker
 * (opossum) and retry policy (p-retry), built from what the connector declares, the recipe's
 * `rate_limits` and the job's settings. A connector sends each request through {@link call} and
 * never writes its own retry loop; every retry and breaker change is logged with the connector and
 * endpoint.
 */
export class ResilienceService {
  readonly connector: string;
  readonly limiter: RateLimiter;
  readonly breaker: Breaker | undefined;
  readonly retryPolicy: RetryPolicy;
  private readonly settings: ResilienceSettings;
  private readonly log: Logger;
  private readonly metrics: Metrics | undefined;
  /** Requests sent through {@link call} (every attempt), for the run's cost summary. */
  requests = 0;

  constructor(connector: string, settings: ResilienceSettings, deps: { log: Logger; metrics?: Metrics }) {
    this.connector = connector;
    this.settings = settings;
    this.log = deps.log;
    this.metrics = deps.metrics;
    this.limiter = new RateLimiter(settings.rateLimit ?? {});
    this.retryPolicy = { ...defaultRetryPolicy, ...settings.retry };
    if (settings.breaker?.enabled === false) this.breaker = undefined;
    else {
      const { enabled: _enabled, ...policy } = settings.breaker ?? {};
      this.breaker = new Breaker(connector, policy);
      const state = (value: number): void => this.metrics?.set('dativo_circuit_breaker_state', value, { connector });
      state(0);
      this.breaker.on('open', () => {
        state(2);
        this.log.warn('circuit breaker opened: calls are paused after repeated failures', { connector });
      });
      this.breaker.on('halfOpen', () => {
        state(1);
        this.log.info('circuit breaker half-open: trying one call', { connector });
      });
      this.breaker.on('close', () => {
        state(0);
        this.log.info('circuit breaker closed', { connector });
      });
    }
  }

  /**
   * One request to the remote system: rate-limited, through the breaker, retried while the
   * classified error is retryable (backoff with jitter; `Retry-After` honoured, and the limiter paused
   * for it so other requests wait too).
   */
  call<T>(fn: (attempt: number) => Promise<T>, options: CallOptions = {}): Promise<T> {
    const metrics = this.metrics;
    const labels = { connector: this.connector, endpoint: options.endpoint ? endpointTemplate(options.endpoint) : 'unknown' };
    const timed = async (attempt: number): Promise<T> => {
      const started = performance.now();
      let status = 'ok';
      try {
        return await fn(attempt);
      } catch (error) {
        const e = classifyError(error);
        status = e.statusCode !== undefined ? String(e.statusCode) : e.kind;
        throw error;
      } finally {
        this.requests++;
        metrics?.inc('dativo_api_requests_total', 1, { ...labels, status });
        metrics?.observe('dativo_api_request_duration_seconds', (performance.now() - started) / 1000, labels);
      }
    };
    const once = (attempt: number): Promise<T> => {
      const queued = performance.now();
      return this.limiter.schedule(() => {
        metrics?.inc('dativo_rate_limit_wait_seconds_total', (performance.now() - queued) / 1000, { connector: this.connector });
        return this.breaker ? this.breaker.fire(() => timed(attempt)) : timed(attempt);
      });
    };
    return this.retry(once, options);
  }

  /** Retries only (no rate limit, no breaker): connecting, or work that is not a request. */
  retry<T>(fn: (attempt: number) => Promise<T>, options: CallOptions = {}): Promise<T> {
    const endpoint = options.endpoint;
    return withRetry(fn, {
      policy: { ...this.retryPolicy, ...options.policy },
      ...(options.signal ? { signal: options.signal } : {}),
      ...(this.settings.overrides ? { overrides: this.settings.overrides } : {}),
      onRetry: ({ attempt, error, delayMs }) => {
        this.log.warn('retrying after a failure', { connector: this.connector, ...(endpoint ? { endpoint } : {}), attempt, delayMs, kind: error.kind, error: error.message });
        this.metrics?.inc('dativo_retries_total', 1, { connector: this.connector });
        if (error.kind === 'rate_limit' && error.retryAfterMs !== undefined) void this.limiter.pause(delayMs);
      },
    });
  }

  async stop(): Promise<void> {
    this.breaker?.shutdown();
    await this.limiter.stop();
  }
}
