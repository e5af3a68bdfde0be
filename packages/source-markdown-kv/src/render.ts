import { createHash } from 'node:crypto';
import { BatchBuilder, DativoError, readRows, type BatchTransform, type ConfiguredStream, type FieldSpec, type PlainValue } from '@dativo/core';
import type { RecordBatch } from 'apache-arrow';
import { stringify } from 'yaml';
import { parseMarkdownKv } from './parse.js';
import { DOCUMENT_LEVEL_SCHEMA, ROW_PER_KV_SCHEMA, STRING_SCHEMA } from './schemas.js';
import { appendDocument, appendKvRows } from './structured.js';

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

/** The row's identity when it has no `doc_id` or `id` column: its primary key, or its first `…id` column (v1 took AdventureWorks' `businessentityid`, `productid`, …). */
function keyOf(row: Record<string, PlainValue>, fields: readonly FieldSpec[], primaryKey: readonly string[] | undefined): string | undefined {
  const key = primaryKey?.length ? primaryKey : fields.filter((f) => /id$/i.test(f.name)).slice(0, 1).map((f) => f.name);
  const values = key.map((k) => row[k]);
  if (values.length === 0 || values.some((v) => v === null || v === undefined)) return undefined;
  return values.map((v) => text(v as PlainValue)).join('-');
}

/**
 * Renders one row as a Markdown-KV document: front matter with the row's `title`, `id` and
 * `doc_id` columns when present, then one `column:: value` line per other column (maps and lists
 * as JSON, null as empty), as v1 does for rows feeding LLM / RAG pipelines. The doc_id is the
 * `doc_id` column, else `id`, else the primary key (or first `…id` column), else a hash of the content.
 */
export function renderMarkdownKv(row: Record<string, PlainValue>, fields: readonly FieldSpec[], primaryKey?: readonly string[]): { doc_id: string; markdown_kv_content: string } {
  const front: Record<string, string> = {};
  for (const name of FRONT_MATTER_COLUMNS) {
    const value = row[name];
    if (value !== undefined && value !== null && fields.some((f) => f.name === name)) front[name] = text(value);
  }
  const lines = fields.filter((f) => !FRONT_MATTER_COLUMNS.includes(f.name)).map((f) => kvLine(f.name, jsonText(f, row[f.name] ?? null)));
  const body = `${lines.join('\n')}\n`;
  const docId = front.doc_id ?? front.id ?? keyOf(row, fields, primaryKey) ?? createHash('sha256').update(body).digest('hex').slice(0, 16);
  if (front.doc_id === undefined) front.doc_id = docId;
  const head = Object.keys(front).length ? `---\n${stringify(front, { lineWidth: 0 }).trimEnd()}\n---\n` : '';
  return { doc_id: docId, markdown_kv_content: `${head}${body}` };
}

/**
 * A pipeline transform that turns the batches of any source into Markdown-KV documents
 * (`target.markdown_kv_storage.mode: string` on a non-Markdown source).
 */
export function markdownKvRenderTransform(): BatchTransform {
  return rowTransform(() => STRING_SCHEMA, (row, stream, builder) => builder.appendRecord(renderMarkdownKv(row, stream.schema, stream.primaryKey)));
}

/**
 * Rows of any source rendered as Markdown-KV documents and parsed back as v1 does
 * (`markdown_kv_storage.mode: structured` on a non-Markdown source): one row per pair
 * (`row_per_kv`) or one row per document with nested sections (`document_level`).
 */
export function markdownKvStructuredTransform(pattern: 'row_per_kv' | 'document_level'): BatchTransform {
  const extractedAt = new Date();
  const schema = pattern === 'row_per_kv' ? ROW_PER_KV_SCHEMA : DOCUMENT_LEVEL_SCHEMA;
  return rowTransform(
    () => schema,
    (row, stream, builder) => {
      const { doc_id, markdown_kv_content } = renderMarkdownKv(row, stream.schema, stream.primaryKey);
      const doc = parseMarkdownKv(markdown_kv_content, doc_id);
      return pattern === 'row_per_kv' ? appendKvRows(builder, doc, extractedAt) : appendDocument(builder, doc, markdown_kv_content, extractedAt);
    },
  );
}

/** A transform that maps each row of a batch to rows of a fixed output schema. */
function rowTransform(
  output: () => FieldSpec[],
  each: (row: Record<string, PlainValue>, stream: ConfiguredStream, builder: BatchBuilder) => { column: string; message: string } | undefined,
): BatchTransform {
  const streams = new Map<string, ConfiguredStream>();
  return {
    schema(stream) {
      streams.set(stream.name, stream);
      return output();
    },
    apply(name: string, batch: RecordBatch): RecordBatch {
      const stream = streams.get(name) ?? { name, schema: [], syncMode: 'full_refresh' };
      const builder = new BatchBuilder(output(), { maxRows: Number.MAX_SAFE_INTEGER, maxBytes: Number.MAX_SAFE_INTEGER });
      for (const row of readRows(batch, stream.schema)) {
        const problem = each(row, stream, builder);
        if (problem) throw new DativoError(`stream '${name}': a row rendered as Markdown-KV has column '${problem.column}' ${problem.message}`, { kind: 'permanent' });
      }
      return builder.flush({ empty: true });
    },
  };
}
