import type { BatchBuilder } from '@dativo/core';
import { FRONT_MATTER, type ParsedDocument } from './parse.js';

type Problem = { column: string; message: string } | undefined;

/** v1's `row_per_kv` rows of a document: one per pair, `ord` numbering the pairs across the document. */
export function appendKvRows(builder: BatchBuilder, doc: ParsedDocument, extractedAt: Date): Problem {
  let ord = 0;
  for (const section of doc.sections) {
    for (const kv of section.kv) {
      const problem = builder.appendRecord({ doc_id: doc.doc_id, section: section.section, key: kv.key, value: kv.value, value_json: kv.value_json, ord: ord++, extracted_at: extractedAt });
      if (problem) return problem;
    }
  }
  return undefined;
}

/**
 * v1's `document_level` row of a document: the sections nested, the front matter without its
 * `title` (the row has a title column), and only sections that hold pairs (`ord` per section).
 */
export function appendDocument(builder: BatchBuilder, doc: ParsedDocument, text: string, extractedAt: Date): Problem {
  const sections = doc.sections
    .map((s) => (s.section === FRONT_MATTER ? { ...s, kv: s.kv.filter((kv) => kv.key !== 'title').map((kv, ord) => ({ ...kv, ord })) } : s))
    .filter((s) => s.kv.length > 0);
  return builder.appendRecord({ doc_id: doc.doc_id, title: doc.title, sections, raw_md: text, extracted_at: extractedAt });
}
