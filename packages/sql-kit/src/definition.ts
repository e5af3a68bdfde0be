// `@dativo/sql-kit/definition`: what a database connector's definition needs without the runtime
// (drivers, Arrow): its configuration schema and a lazily loaded source.
import { lazyExtractor, type Extractor } from '@dativo/core/definition';
import { sqlSourceConfigSchema, type SqlSourceConfig } from './config.js';

export { sqlSourceConfigSchema, sqlConnectionSchema, sqlTableSchema, type SqlSourceConfig, type SqlTableConfig } from './config.js';

/**
 * A database source whose runtime (driver, dialect, readers) is imported when it first checks,
 * discovers or reads: `load` returns the source made with `createSqlSource`.
 */
export function lazySqlSource(spec: { id: string; version: string; description: string }, load: () => Promise<Extractor<SqlSourceConfig>>): Extractor<SqlSourceConfig> {
  return lazyExtractor({ spec, configSchema: sqlSourceConfigSchema }, load);
}
