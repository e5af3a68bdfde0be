import { defineConnector, type Extractor } from '@dativo/core';
import { createSqlSource, type SqlSourceConfig, type SqlSourceOptions } from '@dativo/sql-kit';
import { mysqlDialect } from './dialect.js';
import { VERSION } from './version.js';

export { mysqlDialect, DEFAULT_POOL_SIZE } from './dialect.js';
export { MysqlRowParser } from './row-parser.js';
export { mysqlDataType, mysqlColumnCodec, type MysqlColumnFacts } from './types.js';
export { VERSION } from './version.js';
export type { SqlSourceConfig as MysqlSourceConfig, SqlSourceOptions as MysqlSourceOptions } from '@dativo/sql-kit';

/**
 * The MySQL / MariaDB source: tables, views and custom queries streamed row by row, full refresh
 * or incremental by a cursor column (with lookback), resumable per batch, parallel key ranges in one
 * consistent snapshot.
 */
export function mysqlSource(options: SqlSourceOptions = {}): Extractor<SqlSourceConfig> {
  return createSqlSource(mysqlDialect, { version: VERSION, description: 'MySQL and MariaDB tables, views and queries (streamed, incremental, resumable)' }, options);
}

/** Loaded by the CLI for `source_connector: mysql` (also `mariadb`). */
export const dativoConnector = defineConnector({ specificationVersion: 'v1', ids: ['mysql', 'mariadb'], source: mysqlSource });
