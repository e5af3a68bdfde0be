export { csvSource, dativoConnector, type CsvSourceOptions } from './connector.js';
export { csvSourceConfigSchema, csvOptions, normaliseEncoding, type CsvOptions, type CsvSourceConfig } from './config.js';
export type { CsvCheckpointState } from './checkpoint.js';
export { CsvScanner } from './scanner.js';
export { VERSION } from './version.js';
// The CSV engine, for sources whose files come from elsewhere (Google Drive, object stores).
export { CsvFileReader, type FileProgress, type ReadFileOptions } from './reader.js';
export { inferSchema } from './infer.js';
export { checkEncoding, utf8Chunks } from './input.js';
export { csvOptionsSchema } from './config.js';
