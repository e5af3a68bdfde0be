export { dativoConnector, gdriveCsvHead, gdriveCsvSource, gdriveCsvV1Source } from './connector.js';
export { gdriveCsvConfigSchema, type GdriveCsvConfig } from './config.js';
export { VERSION } from './version.js';
