import { defineConnector, isPlainObject, lazyExtractor, type Extractor, type V1JobContext, type V1SourceResult } from '@dativo/core/definition';
import { stripeConfigSchema, type StripeConfig } from './config.js';
import { VERSION } from './version.js';

/**
 * Identity, config schema and Stripe's published limits (100 read requests/s live, 25/s in test
 * mode; the recipe's `rate_limits` and the job may lower or raise them). No runtime imports.
 */
export const stripeHead = {
  specificationVersion: 'v1',
  spec: {
    id: 'stripe',
    version: VERSION,
    description: 'Stripe objects through the official SDK: parallel created windows, updates and deletions from events',
    limits: { rateLimit: { requestsPerSecond: 25, burst: 25 }, retry: { maxRetries: 6, maxDelayMs: 60_000 } },
    workload: 'network',
  },
  configSchema: stripeConfigSchema,
} as const;

export function stripeSource(): Extractor<StripeConfig> {
  return lazyExtractor(stripeHead, async () => (await import('./extractor.js')).stripeExtractor());
}

/**
 * v1's Stripe section: `objects`, `incremental`, and the key from `credentials.from_env` (the
 * recipe's `STRIPE_API_KEY`). `STRIPE_API_BASE` points the connector at another endpoint (a proxy
 * or a test server). Airbyte engine settings of v1 recipes are not used.
 */
export function stripeV1Source(job: { source: Record<string, unknown> }, context: V1JobContext): V1SourceResult {
  const { credentials, engine: _engine, rate_limits: _limits, file_format: _format, ...rest } = job.source;
  const config: Record<string, unknown> = { ...rest };
  const notes: string[] = [];
  if (config.api_key === undefined && isPlainObject(credentials)) {
    const variable = typeof credentials.from_env === 'string' ? credentials.from_env : 'STRIPE_API_KEY';
    const key = context.env[variable];
    if (key) config.api_key = key;
    else notes.push(`the Stripe key comes from the environment variable ${variable}, which is not set`);
  }
  if (config.api_key === undefined && context.env.STRIPE_API_KEY) config.api_key = context.env.STRIPE_API_KEY;
  if (config.api_base === undefined && context.env.STRIPE_API_BASE) config.api_base = context.env.STRIPE_API_BASE;
  return { config, notes };
}

/** Loaded by the CLI for `source_connector: stripe`. */
export const dativoConnector = defineConnector({ specificationVersion: 'v1', ids: ['stripe'], source: stripeSource, v1: { source: stripeV1Source } });
