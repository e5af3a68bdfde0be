import { defineConnector, type Extractor } from '@dativo/core/definition';
import { lazySqlSource, type SqlSourceConfig } from '@dativo/sql-kit/definition';
import type { SqlSourceOptions } from '@dativo/sql-kit';
import { VERSION } from './version.js';

const SPEC = { id: 'postgres', version: VERSION, description: 'PostgreSQL tables, views and queries (COPY streaming, incremental, resumable)' };

/**
 * The PostgreSQL source: tables, views and custom queries streamed with COPY, full refresh or
 * incremental by a cursor column (with lookback), resumable per batch, parallel key ranges in one
 * exported snapshot. The driver is loaded when the source first checks, discovers or reads.
 */
export function postgresSource(options: SqlSourceOptions = {}): Extractor<SqlSourceConfig> {
  return lazySqlSource(SPEC, async () => {
    const [{ createSqlSource }, { postgresDialect }] = await Promise.all([import('@dativo/sql-kit'), import('./dialect.js')]);
    return createSqlSource(postgresDialect, SPEC, options);
  });
}

/** Loaded by the CLI for `source_connector: postgres` (without the driver: see `@dativo/core/definition`). */
export const dativoConnector = defineConnector({ specificationVersion: 'v1', ids: ['postgres', 'postgresql'], source: postgresSource });
