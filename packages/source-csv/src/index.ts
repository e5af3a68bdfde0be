import { defineConnector } from '@dativo/core';
import { csvSource } from './extractor.js';

export { csvSource, type CsvSourceOptions } from './extractor.js';
export { csvSourceConfigSchema, csvOptions, normaliseEncoding, type CsvOptions, type CsvSourceConfig } from './config.js';
export type { CsvCheckpointState } from './checkpoint.js';
export { CsvScanner } from './scanner.js';
export { VERSION } from './version.js';


/** Loaded by the CLI for `source_connector: csv`. */
export const dativoConnector = defineConnector({ specificationVersion: 'v1', ids: ['csv'], source: csvSource });
