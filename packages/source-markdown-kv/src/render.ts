import { createHash } from 'node:crypto';
import { BatchBuilder, readRows, type BatchTransform, type FieldSpec, type PlainValue } from '@dativo/core';
import type { RecordBatch } from 'apache-arrow';
import { stringify } from 'yaml';
import { STRING_SCHEMA } from './schemas.js';

const FRONT_MATTER_COLUMNS = ['title', 'id', 'doc_id'];

function text(value: PlainValue): string {
  if (value === null) return '';
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (typeof value === 'object') return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v));
  return String(value);
}

function jsonText(field: FieldSpec, value: PlainValue): string {
  // json columns already hold JSON text; keep it on one line.
  if (field.type.kind === 'json' && typeof value === 'string') {
    try {
      return JSON.stringify(JSON.parse(value));
    } catch {
      return value;
    }
  }
  return text(value);
}

/** Indents continuation lines so a multi-line value stays one `key::` value. */
function kvLine(key: string, value: string): string {
  const [first = '', ...rest] = value.split(/\r\n|\r|\n/);
  return [`${key}:: ${first}`.trimEnd(), ...rest.map((l) => `  ${l}`)].join('\n');
}

/**
 * Renders one row as a Markdown-KV document: front matter with the row's `title`, `id` and
 * `doc_id` columns when present, then one `column:: value` line per other column (maps and lists
 * as JSON, null as empty), as v1 does for rows feeding LLM / RAG pipelines.
 */
export function renderMarkdownKv(row: Record<string, PlainValue>, fields: readonly FieldSpec[]): { doc_id: string; markdown_kv_content: string } {
  const front: Record<string, string> = {};
  for (const name of FRONT_MATTER_COLUMNS) {
    const value = row[name];
    if (value !== undefined && value !== null && fields.some((f) => f.name === name)) front[name] = text(value);
  }
  const lines = fields.filter((f) => !FRONT_MATTER_COLUMNS.includes(f.name)).map((f) => kvLine(f.name, jsonText(f, row[f.name] ?? null)));
  const body = `${lines.join('\n')}\n`;
  const docId = front.doc_id ?? front.id ?? createHash('sha256').update(body).digest('hex').slice(0, 16);
  if (front.doc_id === undefined) front.doc_id = docId;
  const head = Object.keys(front).length ? `---\n${stringify(front, { lineWidth: 0 }).trimEnd()}\n---\n` : '';
  return { doc_id: docId, markdown_kv_content: `${head}${body}` };
}

/**
 * A pipeline transform that turns the batches of any source into Markdown-KV documents
 * (`target.markdown_kv_storage.mode: string` on a non-Markdown source).
 */
export function markdownKvRenderTransform(): BatchTransform {
  const schemas = new Map<string, readonly FieldSpec[]>();
  return {
    schema(stream) {
      schemas.set(stream.name, stream.schema);
      return STRING_SCHEMA;
    },
    apply(stream: string, batch: RecordBatch): RecordBatch {
      if (batch.numRows === 0) return batch;
      const fields = schemas.get(stream) ?? [];
      const builder = new BatchBuilder(STRING_SCHEMA, { maxRows: batch.numRows });
      for (const row of readRows(batch, fields)) builder.appendRecord(renderMarkdownKv(row, fields));
      return builder.flush() as RecordBatch;
    },
  };
}
