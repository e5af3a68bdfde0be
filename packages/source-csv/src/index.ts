export { csvSource, dativoConnector, type CsvSourceOptions } from './connector.js';
export { csvSourceConfigSchema, csvOptions, normaliseEncoding, type CsvOptions, type CsvSourceConfig } from './config.js';
export type { CsvCheckpointState } from './checkpoint.js';
export { CsvScanner } from './scanner.js';
export { VERSION } from './version.js';
