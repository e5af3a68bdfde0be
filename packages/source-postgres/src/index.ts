import { defineConnector } from '@dativo/core';
import { createSqlSource, type SqlSourceConfig, type SqlSourceOptions } from '@dativo/sql-kit';
import type { Extractor } from '@dativo/core';
import { postgresDialect } from './dialect.js';
import { VERSION } from './version.js';

export { postgresDialect } from './dialect.js';
export { CopyBinaryDecoder, numericUnscaled } from './binary-parser.js';
export { binaryValueText, numericText, pgColumnCodec } from './codec.js';
export { pgDataType, type PgTypeFacts } from './types.js';
export { VERSION } from './version.js';
export type { SqlSourceConfig as PostgresSourceConfig, SqlSourceOptions as PostgresSourceOptions } from '@dativo/sql-kit';

/**
 * The PostgreSQL source: tables, views and custom queries streamed with COPY, full refresh or
 * incremental by a cursor column (with lookback), resumable per batch, parallel key ranges in one
 * exported snapshot.
 */
export function postgresSource(options: SqlSourceOptions = {}): Extractor<SqlSourceConfig> {
  return createSqlSource(postgresDialect, { version: VERSION, description: 'PostgreSQL tables, views and queries (COPY streaming, incremental, resumable)' }, options);
}

/** Loaded by the CLI for `source_connector: postgres` (also `postgresql`). */
export const dativoConnector = defineConnector({ specificationVersion: 'v1', ids: ['postgres', 'postgresql'], source: postgresSource });
