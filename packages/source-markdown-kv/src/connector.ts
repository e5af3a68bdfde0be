import { defineConnector, lazyExtractor, type Extractor, type StreamDescriptor } from '@dativo/core/definition';
import { markdownKvSourceConfigSchema, markdownKvStorageSchema, type MarkdownKvSourceConfig, type MarkdownKvStorage } from './config.js';
import { documentsStream, DOCUMENT_LEVEL_SCHEMA, RAW_FILE_SCHEMA, ROW_PER_KV_SCHEMA, STRING_SCHEMA } from './schemas.js';
import { markdownKvV1Source, markdownKvV1Transform } from './v1.js';
import { VERSION } from './version.js';

/**
 * The storage mode of a job: `markdown_kv_storage` when set; otherwise the one whose columns the
 * asset declares (`markdown_kv_content` → string, `content` → raw_file, `sections` →
 * document_level), else one row per pair.
 */
export function storageOf(config: MarkdownKvSourceConfig, assetColumns: readonly string[] = []): MarkdownKvStorage {
  if (config.markdown_kv_storage) return config.markdown_kv_storage;
  const has = (c: string): boolean => assetColumns.includes(c);
  const base = markdownKvStorageSchema.parse({});
  if (has('markdown_kv_content')) return { ...base, mode: 'string' };
  if (has('content')) return { ...base, mode: 'raw_file' };
  if (has('sections')) return { ...base, structured_pattern: 'document_level' };
  return base;
}

/** The streams a configuration produces, with their fixed schemas. */
export function markdownKvStreams(config: MarkdownKvSourceConfig, name: string, assetColumns: readonly string[] = []): StreamDescriptor[] {
  const storage = storageOf(config, assetColumns);
  const base = { syncModes: ['full_refresh', 'incremental'] as const, schemaOwner: 'connector' as const, primaryKey: ['doc_id'] };
  if (storage.mode === 'string') return [{ ...base, syncModes: [...base.syncModes], name, schema: STRING_SCHEMA }];
  if (storage.mode === 'raw_file') return [{ ...base, syncModes: [...base.syncModes], name, schema: RAW_FILE_SCHEMA }];
  const rows = { ...base, syncModes: [...base.syncModes], name, schema: ROW_PER_KV_SCHEMA, primaryKey: ['doc_id', 'section', 'ord'] };
  const docs = { ...base, syncModes: [...base.syncModes], name, schema: DOCUMENT_LEVEL_SCHEMA };
  switch (storage.structured_pattern) {
    case 'row_per_kv':
      return [rows];
    case 'document_level':
      return [docs];
    case 'hybrid':
      return [rows, { ...docs, name: documentsStream(name) }];
  }
}

export const markdownKvSourceHead = {
  specificationVersion: 'v1',
  spec: { id: 'markdown_kv', version: VERSION, description: 'Markdown-KV documents on local disk' },
  configSchema: markdownKvSourceConfigSchema,
  outputStreams(config: MarkdownKvSourceConfig, asset: { name: string; schema: Array<{ name: string }> }): StreamDescriptor[] {
    return markdownKvStreams(config, asset.name, asset.schema.map((f) => f.name));
  },
} as const;

/**
 * The Markdown-KV source: `key:: value` documents as one row per pair, one row per document
 * (nested sections), the whole text, or the raw file, following v1's parsing rules. Its runtime is
 * loaded when it first checks, discovers or reads.
 */
export function markdownKvSource(): Extractor<MarkdownKvSourceConfig> {
  return lazyExtractor(markdownKvSourceHead, async () => (await import('./extractor.js')).markdownKvExtractor());
}

/** Loaded by the CLI for `source_connector: markdown_kv` (without the runtime: see `@dativo/core/definition`). */
export const dativoConnector = defineConnector({
  specificationVersion: 'v1',
  ids: ['markdown_kv', 'markdown-kv', 'mdkv'],
  source: markdownKvSource,
  v1: { source: markdownKvV1Source, transform: markdownKvV1Transform },
});
