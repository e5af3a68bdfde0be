export { dativoConnector, exampleSource } from './connector.js';
export { exampleConfigSchema, type ExampleConfig } from './config.js';
export { ITEMS_SCHEMA } from './extractor.js';
