import type { FieldSpec } from '@dativo/core/definition';

const str = (name: string, nullable = true): FieldSpec => ({ name, type: { kind: 'string' }, nullable });
const extractedAt: FieldSpec = { name: 'extracted_at', type: { kind: 'timestamp', withTimeZone: true }, nullable: false };

/** `mode: string`: one row per document. */
export const STRING_SCHEMA: FieldSpec[] = [str('doc_id', false), str('markdown_kv_content', false)];

/** `mode: raw_file`: the file itself, written unchanged by the sink. */
export const RAW_FILE_SCHEMA: FieldSpec[] = [
  str('doc_id', false),
  str('file_name', false),
  { name: 'content', type: { kind: 'binary' }, nullable: false },
  { name: 'modified_at', type: { kind: 'timestamp', withTimeZone: true }, nullable: false },
];

/** `structured_pattern: row_per_kv`. */
export const ROW_PER_KV_SCHEMA: FieldSpec[] = [
  str('doc_id', false),
  str('section', false),
  str('key', false),
  str('value'),
  { name: 'value_json', type: { kind: 'json' }, nullable: true },
  // v1 assets declare ord as `integer` (64-bit).
  { name: 'ord', type: { kind: 'int64' }, nullable: false },
  extractedAt,
];

const KV_STRUCT: FieldSpec = {
  name: 'element',
  type: {
    kind: 'struct',
    fields: [str('key', false), str('value'), { name: 'value_json', type: { kind: 'json' }, nullable: true }, { name: 'ord', type: { kind: 'int64' }, nullable: false }],
  },
  nullable: true,
};

/** `structured_pattern: document_level`. */
export const DOCUMENT_LEVEL_SCHEMA: FieldSpec[] = [
  str('doc_id', false),
  str('title'),
  {
    name: 'sections',
    type: {
      kind: 'list',
      element: {
        kind: 'struct',
        fields: [str('section', false), { name: 'level', type: { kind: 'int32' }, nullable: false }, { name: 'kv', type: { kind: 'list', element: KV_STRUCT.type }, nullable: true }],
      },
    },
    nullable: true,
  },
  str('raw_md'),
  extractedAt,
];

/** Whether a stream's columns are those of a storage mode (how a reader knows what to write to it). */
export function outputKindOf(schema: readonly FieldSpec[]): 'string' | 'raw' | 'rows' | 'documents' {
  const names = new Set(schema.map((f) => f.name));
  if (names.has('markdown_kv_content')) return 'string';
  if (names.has('content')) return 'raw';
  if (names.has('sections')) return 'documents';
  return 'rows';
}

/** Stream name of the document table in `hybrid` mode. */
export function documentsStream(name: string): string {
  return `${name}_documents`;
}
