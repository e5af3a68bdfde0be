import { ConfigError, isPlainObject, type V1JobContext, type V1SourceResult, type V1TransformResult } from '@dativo/core/definition';
import { DOCUMENT_LEVEL_SCHEMA, ROW_PER_KV_SCHEMA, STRING_SCHEMA } from './schemas.js';

/** v1's name for the storage mode; it sits in the job's `target:` section (or the asset's). */
export const STORAGE_KEY = 'markdown_kv_storage';

/** The location keys a file sink reads (everything else of the target is for tables). */
const LOCATION_KEYS = ['path', 'warehouse', 'connection'];

/**
 * A v1 Markdown-KV job: the storage mode is the source's business, wherever v1 wrote it. `raw_file`
 * documents are files, so the job writes them with the files sink, at the target's location.
 */
export function markdownKvV1Source(job: { source: Record<string, unknown>; target: Record<string, unknown> }): V1SourceResult {
  const storage = job.source[STORAGE_KEY] ?? job.target[STORAGE_KEY];
  const result: V1SourceResult = { config: { ...job.source, ...(storage !== undefined ? { [STORAGE_KEY]: storage } : {}) }, consumesTarget: [STORAGE_KEY] };
  if (isPlainObject(storage) && storage.mode === 'raw_file') {
    const location = Object.fromEntries(Object.entries(job.target).filter(([k]) => LOCATION_KEYS.includes(k)));
    result.target = {
      connector: 'files',
      section: { ...location, content_column: 'content', path_pattern: storage.path_pattern ?? '{date}/{doc_id}{ext}', file_extension: storage.file_extension ?? '.mdkv' },
    };
    result.notes = ['markdown_kv_storage.mode: raw_file: each document is written unchanged as a file (the files sink) at the target location'];
  }
  return result;
}

/**
 * Rows of any other source rendered as Markdown-KV documents, as v1's jobs ask with
 * `target.markdown_kv_storage`: `mode: string` keeps each document whole, `mode: structured`
 * stores it parsed (`row_per_kv` or `document_level`).
 */
export function markdownKvV1Transform(section: Record<string, unknown>, context: V1JobContext): V1TransformResult | undefined {
  const storage = section[STORAGE_KEY];
  if (!isPlainObject(storage)) return undefined;
  const mode = storage.mode ?? 'structured';
  const pattern = typeof storage.structured_pattern === 'string' ? storage.structured_pattern : 'row_per_kv';
  if (mode === 'string') {
    return {
      consumesTarget: [STORAGE_KEY],
      output: STRING_SCHEMA,
      create: async () => (await import('./render.js')).markdownKvRenderTransform(),
      notes: ['target.markdown_kv_storage.mode: string: each row is written as a Markdown-KV document (doc_id, markdown_kv_content)'],
    };
  }
  if (mode === 'structured' && (pattern === 'row_per_kv' || pattern === 'document_level')) {
    return {
      consumesTarget: [STORAGE_KEY],
      output: pattern === 'row_per_kv' ? ROW_PER_KV_SCHEMA : DOCUMENT_LEVEL_SCHEMA,
      create: async () => (await import('./render.js')).markdownKvStructuredTransform(pattern),
      notes: [`target.markdown_kv_storage.mode: structured (${pattern}): each row is rendered as a Markdown-KV document and stored parsed, as v1 does`],
    };
  }
  throw new ConfigError(
    `markdown_kv_storage: mode '${String(mode)}'${mode === 'structured' ? ` with structured_pattern '${pattern}'` : ''} needs a Markdown-KV source; a ${context.sourceConnector} source supports mode: string, and structured with row_per_kv or document_level`,
    { path: 'target.markdown_kv_storage.mode' },
  );
}
