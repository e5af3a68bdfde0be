export { dativoConnector, mysqlSource } from './connector.js';

export { mysqlDialect, DEFAULT_POOL_SIZE } from './dialect.js';
export { MysqlRowParser } from './row-parser.js';
export { mysqlDataType, mysqlColumnCodec, type MysqlColumnFacts } from './types.js';
export { VERSION } from './version.js';
export type { SqlSourceConfig as MysqlSourceConfig, SqlSourceOptions as MysqlSourceOptions } from '@dativo/sql-kit';
