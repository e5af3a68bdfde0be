import { defineConnector, type Extractor } from '@dativo/core/definition';
import { lazySqlSource, type SqlSourceConfig } from '@dativo/sql-kit/definition';
import type { SqlSourceOptions } from '@dativo/sql-kit';
import { VERSION } from './version.js';

const SPEC = { id: 'mysql', version: VERSION, description: 'MySQL and MariaDB tables, views and queries (streamed, incremental, resumable)' };

/**
 * The MySQL / MariaDB source: tables, views and custom queries streamed row by row, full refresh
 * or incremental by a cursor column (with lookback), resumable per batch, parallel key ranges in one
 * consistent snapshot. The driver is loaded when the source first checks, discovers or reads.
 */
export function mysqlSource(options: SqlSourceOptions = {}): Extractor<SqlSourceConfig> {
  return lazySqlSource(SPEC, async () => {
    const [{ createSqlSource }, { mysqlDialect }] = await Promise.all([import('@dativo/sql-kit'), import('./dialect.js')]);
    return createSqlSource(mysqlDialect, SPEC, options);
  });
}

/** Loaded by the CLI for `source_connector: mysql` (without the driver: see `@dativo/core/definition`). */
export const dativoConnector = defineConnector({ specificationVersion: 'v1', ids: ['mysql', 'mariadb'], source: mysqlSource });
