import type { ZodType } from 'zod';
import type { ResilienceSettings } from '../resilience/service.js';
import type { RunContext } from './context.js';
import type { FieldSpec } from '../schema/types.js';
import type { ExtractMessage, ReadRequest, StreamDescriptor } from './messages.js';

export interface ConnectorSpec {
  /** Connector id used in job files: `source_connector: csv`. */
  id: string;
  /** Package version, for logs and `dativo discover`. */
  version: string;
  /** Human description. */
  description?: string;
  /** The remote system's limits and the retry policy it wants (a recipe's `rate_limits` and the job may override them). */
  limits?: ResilienceSettings;
  /**
   * What bounds the connector's speed: `network` (a SaaS API: latency and rate limits, little CPU)
   * or `compute` (files, databases: parsing and encoding; the default). A run whose source is
   * network-bound has the JavaScript engine favour memory over peak CPU speed.
   */
  workload?: 'network' | 'compute';
}

/**
 * A source. Implementations are plain objects created by a factory in the connector package
 * (`csvSource()`); third-party connectors implement exactly this interface.
 */
export interface Extractor<C = unknown> {
  readonly specificationVersion: 'v1';
  readonly spec: ConnectorSpec;
  /** Validates the job's `source:` section (after recipe defaults are merged under it). */
  readonly configSchema: ZodType<C>;
  /** Connectivity and credentials; throws a typed DativoError. */
  check(config: C, ctx: RunContext): Promise<void>;
  /** The streams this source offers with their schemas. */
  discover(config: C, ctx: RunContext): Promise<StreamDescriptor[]>;
  /**
   * Reads the requested streams. Yields record batches, checkpoints (safe to persist once every
   * batch before them is durable), rejected records and warnings. Must honour `ctx.signal`, never
   * buffer a whole stream, and — resumed from a checkpoint — yield exactly the records after it.
   */
  read(config: C, request: ReadRequest, ctx: RunContext): AsyncIterable<ExtractMessage>;
  /**
   * Optional: the streams a job writes when they are not simply one stream shaped by the asset
   * (Markdown-KV's fixed tables, its hybrid mode's two tables). Without it, a job reads one stream
   * named after the asset, coerced to the asset's schema.
   */
  outputStreams?(config: C, asset: { name: string; schema: FieldSpec[] }): StreamDescriptor[];
}
