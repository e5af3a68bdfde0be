import type { Extractor } from './extractor.js';
import type { Sink } from './sink.js';

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
}

/** Declares a connector package's export (type helper). */
export function defineConnector(pkg: ConnectorPackage): ConnectorPackage {
  return pkg;
}
