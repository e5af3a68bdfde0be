export { dativoConnector, parquetSink } from './connector.js';
export { parquetSinkConfigSchema, COMPRESSIONS, type ParquetSinkConfig } from './config.js';
export { ParquetSinkWriter } from './writer.js';
export { VERSION } from './version.js';
