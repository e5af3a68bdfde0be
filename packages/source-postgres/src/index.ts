export { dativoConnector, postgresSource } from './connector.js';

export { postgresDialect } from './dialect.js';
export { CopyBinaryDecoder, numericUnscaled } from './binary-parser.js';
export { binaryValueText, numericText, pgColumnCodec } from './codec.js';
export { pgDataType, type PgTypeFacts } from './types.js';
export { VERSION } from './version.js';
export type { SqlSourceConfig as PostgresSourceConfig, SqlSourceOptions as PostgresSourceOptions } from '@dativo/sql-kit';
