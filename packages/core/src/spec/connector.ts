import type { Extractor } from './extractor.js';
import type { Sink } from './sink.js';

/** What a connector's v1 hook knows about the job whose section it adapts. */
export interface V1SectionContext {
  tenant: string;
  /** The asset the job writes: v1 derives default output locations from it. */
  asset: { name: string; domain?: string | undefined; dataProduct?: string | undefined };
  /**
   * The environment v1's fallbacks read (`S3_BUCKET`, `S3_ENDPOINT`, `MINIO_*`, …): the process
   * environment plus file secrets.
   */
  env: NodeJS.ProcessEnv;
}

/** The outcome of a v1 hook: the config input for the connector's schema, and notes for the user. */
export interface V1SectionResult {
  config: Record<string, unknown>;
  notes?: string[];
}

/**
 * What a connector package exports as `dativoConnector`, so the CLI can load it by name
 * (`source_connector: stripe` → `@dativo/source-stripe`, or any npm package name). Third-party
 * packages export the same shape.
 */
export interface ConnectorPackage {
  readonly specificationVersion: 'v1';
  /** Connector ids this package answers to (`csv`, `markdown_kv`…). */
  readonly ids: readonly string[];
  readonly source?: () => Extractor<unknown>;
  readonly sink?: () => Sink<unknown>;
  /**
   * Optional: reads a v1 job's `target:` section (recipe defaults merged under it) the way v1 did —
   * its key shapes, environment fallbacks and default locations — and returns the input for the
   * sink's config schema. Without it the section is validated as it is.
   */
  readonly v1Target?: (section: Record<string, unknown>, context: V1SectionContext) => V1SectionResult;
}

/** Declares a connector package's export (type helper). */
export function defineConnector(pkg: ConnectorPackage): ConnectorPackage {
  return pkg;
}
