import { BatchBuilder, parseDataType, readRows, type FieldSpec } from '@dativo/core';
import { describe, expect, it } from 'vitest';
import { parseMarkdownKv } from './parse.js';
import { markdownKvRenderTransform, renderMarkdownKv } from './render.js';

const fields: FieldSpec[] = [
  { name: 'id', type: parseDataType('bigint'), nullable: false },
  { name: 'title', type: parseDataType('string'), nullable: true },
  { name: 'amount', type: parseDataType('decimal(10,2)'), nullable: true },
  { name: 'tags', type: parseDataType('json'), nullable: true },
  { name: 'notes', type: parseDataType('string'), nullable: true },
  { name: 'missing', type: parseDataType('string'), nullable: true },
];

describe('rendering rows as Markdown-KV', () => {
  it('puts title/id/doc_id in front matter and the other columns as key:: value, parseable back', () => {
    const out = renderMarkdownKv({ id: 42n, title: 'Order: #42', amount: '10.50', tags: '{"a": [1, 2]}', notes: 'line 1\nline 2', missing: null }, fields);
    expect(out.doc_id).toBe('42');
    expect(out.markdown_kv_content).toBe("---\ntitle: \"Order: #42\"\nid: \"42\"\ndoc_id: \"42\"\n---\namount:: 10.50\ntags:: {\"a\":[1,2]}\nnotes:: line 1\n  line 2\nmissing::\n");
    const back = parseMarkdownKv(out.markdown_kv_content, 'x.md');
    expect(back.doc_id).toBe('42');
    expect(back.title).toBe('Order: #42');
    expect(back.sections[1]?.kv.map((k) => [k.key, k.value, k.value_json])).toEqual([
      ['amount', '10.50', '10.50'],
      ['tags', '{"a":[1,2]}', '{"a":[1,2]}'],
      ['notes', 'line 1\n  line 2', null],
      ['missing', '', null],
    ]);
  });

  it('transforms whole batches to (doc_id, markdown_kv_content)', () => {
    const b = new BatchBuilder(fields);
    b.appendRecord({ id: 1n, title: 'a' });
    b.appendRecord({ id: 2n, title: null, notes: 'n' });
    const transform = markdownKvRenderTransform();
    const schema = transform.schema({ name: 's', schema: fields, syncMode: 'full_refresh' });
    const out = transform.apply('s', b.flush()!);
    const rows = [...readRows(out, schema)];
    expect(rows.map((r) => r.doc_id)).toEqual(['1', '2']);
    expect(String(rows[1]?.markdown_kv_content)).toContain('notes:: n');
  });
});
