export { dativoConnector, markdownKvSource, markdownKvStreams, storageOf } from './connector.js';
export { markdownKvV1Source, markdownKvV1Transform } from './v1.js';
export { markdownKvSourceConfigSchema, markdownKvStorageSchema, STORAGE_MODES, STRUCTURED_PATTERNS, type MarkdownKvSourceConfig, type MarkdownKvStorage } from './config.js';
export { parseMarkdownKv, MarkdownKvError, DEFAULT_SECTION, FRONT_MATTER, type KvPair, type ParsedDocument, type Section } from './parse.js';
export { markdownKvRenderTransform, markdownKvStructuredTransform, renderMarkdownKv } from './render.js';
export { documentsStream, DOCUMENT_LEVEL_SCHEMA, RAW_FILE_SCHEMA, ROW_PER_KV_SCHEMA, STRING_SCHEMA } from './schemas.js';
export { VERSION } from './version.js';

