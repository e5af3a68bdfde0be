export { dativoConnector, filesSink } from './connector.js';
export { filesSinkConfigSchema, type FilesSinkConfig } from './config.js';
export { FilesWriter } from './writer.js';
export { VERSION } from './version.js';
