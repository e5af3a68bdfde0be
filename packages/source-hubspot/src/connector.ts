import { defineConnector, isPlainObject, lazyExtractor, type Extractor, type V1JobContext, type V1SourceResult } from '@dativo/core/definition';
import { hubspotConfigSchema, type HubSpotConfig } from './config.js';
import { VERSION } from './version.js';

/**
 * Identity, config schema and HubSpot's published limits: 100 requests per 10 s for private apps
 * on the general API (v1's recipe: 4/s, burst 8; raise it with `rate_limits` on higher plans); the
 * search API's own limit (5/s) is a second limiter inside the connector. No runtime imports.
 */
export const hubspotHead = {
  specificationVersion: 'v1',
  spec: {
    id: 'hubspot',
    version: VERSION,
    description: 'HubSpot CRM objects through the official SDK: list pages, incremental search windows that never truncate at the 10,000-result cap, archived records',
    limits: { rateLimit: { requestsPerSecond: 10, burst: 10 }, retry: { maxRetries: 6, maxDelayMs: 64_000 } },
    workload: 'network',
  },
  configSchema: hubspotConfigSchema,
} as const;

export function hubspotSource(): Extractor<HubSpotConfig> {
  return lazyExtractor(hubspotHead, async () => (await import('./extractor.js')).hubspotExtractor());
}

/**
 * v1's HubSpot section: `objects`, `incremental`, and the token from `credentials.api_key` or the
 * variable `credentials.from_env` names (the recipe's `HUBSPOT_API_KEY`; HubSpot's API keys were
 * replaced by private-app tokens, which go where the key went). `HUBSPOT_API_BASE` points the
 * connector at another endpoint. Airbyte engine settings of v1 recipes are not used.
 */
export function hubspotV1Source(job: { source: Record<string, unknown> }, context: V1JobContext): V1SourceResult {
  const { credentials, engine: _engine, rate_limits: _limits, file_format: _format, ...rest } = job.source;
  const config: Record<string, unknown> = { ...rest };
  const notes: string[] = [];
  if (config.access_token === undefined && isPlainObject(credentials)) {
    if (typeof credentials.api_key === 'string') config.access_token = credentials.api_key;
    else if (typeof credentials.access_token === 'string') config.access_token = credentials.access_token;
    else {
      const variable = typeof credentials.from_env === 'string' ? credentials.from_env : 'HUBSPOT_API_KEY';
      const key = context.env[variable];
      if (key) config.access_token = key;
      else notes.push(`the HubSpot token comes from the environment variable ${variable}, which is not set`);
    }
  }
  if (config.access_token === undefined && config.oauth === undefined) {
    const key = context.env.HUBSPOT_ACCESS_TOKEN ?? context.env.HUBSPOT_API_KEY;
    if (key) config.access_token = key;
  }
  if (config.api_base === undefined && context.env.HUBSPOT_API_BASE) config.api_base = context.env.HUBSPOT_API_BASE;
  return { config, notes };
}

/** Loaded by the CLI for `source_connector: hubspot`. */
export const dativoConnector = defineConnector({ specificationVersion: 'v1', ids: ['hubspot'], source: hubspotSource, v1: { source: hubspotV1Source } });
