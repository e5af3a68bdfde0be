import { defineConnector, lazyExtractor, type Extractor } from '@dativo/core/definition';
import { exampleConfigSchema, type ExampleConfig } from './config.js';

/**
 * What the CLI needs to validate a job: identity, config schema and declared limits. It imports
 * only `@dativo/core/definition` (no Arrow), so `dativo validate` stays fast; the runtime
 * (`extractor.ts`) loads when a job first checks, discovers or reads.
 */
export const exampleHead = {
  specificationVersion: 'v1',
  spec: {
    id: 'example',
    version: '0.1.0',
    description: 'Items of a paginated JSON HTTP API',
    // The API's published limits: every request goes through the run's rate limiter, breaker and retries.
    limits: { rateLimit: { requestsPerSecond: 20, burst: 5 }, retry: { maxRetries: 5 } },
  },
  configSchema: exampleConfigSchema,
} as const;

export function exampleSource(): Extractor<ExampleConfig> {
  return lazyExtractor(exampleHead, async () => (await import('./extractor.js')).exampleExtractor());
}

/** How the dativo CLI finds this package: `source_connector: dativo-source-example`. */
export const dativoConnector = defineConnector({ specificationVersion: 'v1', ids: ['example'], source: exampleSource });
