import { utimesSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { readRows, type ConfiguredStream, type ExtractMessage } from '@dativo/core';
import { describeExtractorConformance, tempDir, testRunContext } from '@dativo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markdownKvSource } from './connector.js';

const dir = tempDir('dativo-mdkv-');
afterAll(() => dir.cleanup());
beforeAll(() => {
  mkdirSync(path.join(dir.path, 'docs'), { recursive: true });
  const put = (name: string, text: string, t: number): void => {
    const p = path.join(dir.path, 'docs', name);
    writeFileSync(p, text);
    utimesSync(p, t, t);
  };
  put('a.md', '---\ntitle: Alpha\n---\n# S1\nk1:: v1\nk2:: 2\n', 1_700_000_001);
  put('b.md', 'x:: [1]\n', 1_700_000_002);
  put('broken.md', '---\ntitle: never closed\n', 1_700_000_003);
});

async function read(storage: Record<string, unknown>, options: { resumeFrom?: ConfiguredStream['resumeFrom']; glob?: string } = {}) {
  const source = markdownKvSource();
  const config = source.configSchema.parse({ files: [options.glob ?? 'docs/*.md'], markdown_kv_storage: storage });
  const streams = source.outputStreams!(config, { name: 'notes', schema: [] }).map((d) => ({ name: d.name, schema: d.schema, syncMode: 'incremental' as const, ...(options.resumeFrom ? { resumeFrom: options.resumeFrom } : {}) }));
  const messages: ExtractMessage[] = [];
  for await (const m of source.read(config, { streams }, testRunContext({ cwd: dir.path }))) messages.push(m);
  const rows = (stream: string) => messages.flatMap((m) => (m.kind === 'batch' && m.stream === stream ? [...readRows(m.batch, streams.find((s) => s.name === stream)!.schema)] : []));
  return { streams, messages, rows };
}

describe('markdownKvSource', () => {
  it('row_per_kv: one row per pair, bad documents rejected with the reason', async () => {
    const { rows, messages } = await read({ mode: 'structured', structured_pattern: 'row_per_kv' });
    expect(rows('notes').map((r) => [r.doc_id, r.section, r.key, r.value, r.value_json, r.ord])).toEqual([
      // ord numbers the pairs across the whole document, as v1 does.
      ['a', '_front_matter', 'title', 'Alpha', null, 0n],
      ['a', 'S1', 'k1', 'v1', null, 1n],
      ['a', 'S1', 'k2', '2', '2', 2n],
      ['b', '_default', 'x', '[1]', '[1]', 0n],
    ]);
    const rejected = messages.filter((m) => m.kind === 'rejected');
    expect(rejected.map((m) => (m.kind === 'rejected' ? m.error.message : ''))).toEqual(['docs/broken.md: front matter starts with --- but never ends (no closing --- line)']);
  });

  it('document_level and hybrid: nested sections per document, two tables in hybrid mode', async () => {
    const { rows, streams } = await read({ mode: 'structured', structured_pattern: 'hybrid' });
    expect(streams.map((s) => s.name)).toEqual(['notes', 'notes_documents']);
    const docs = rows('notes_documents');
    expect(docs.map((d) => [d.doc_id, d.title])).toEqual([
      ['a', 'Alpha'],
      ['b', 'b'],
    ]);
    // As v1: the title is a column, not a front-matter pair; sections without pairs are left out;
    // ord counts within each section.
    expect(docs[0]?.sections).toEqual([{ section: 'S1', level: 1, kv: [{ key: 'k1', value: 'v1', value_json: null, ord: 0n }, { key: 'k2', value: '2', value_json: '2', ord: 1n }] }]);
    expect(String(docs[1]?.raw_md)).toBe('x:: [1]\n');
    expect(rows('notes')).toHaveLength(4);
  });

  it('string and raw_file modes keep the whole document', async () => {
    const s = await read({ mode: 'string' });
    expect(s.rows('notes').map((r) => [r.doc_id, r.markdown_kv_content])).toEqual([
      ['a', '---\ntitle: Alpha\n---\n# S1\nk1:: v1\nk2:: 2\n'],
      ['b', 'x:: [1]\n'],
      ['broken', '---\ntitle: never closed\n'],
    ]);
    const raw = await read({ mode: 'raw_file' });
    expect(raw.rows('notes').map((r) => [r.doc_id, Buffer.from(r.content as Uint8Array).toString()])).toEqual([
      ['a', '---\ntitle: Alpha\n---\n# S1\nk1:: v1\nk2:: 2\n'],
      ['b', 'x:: [1]\n'],
      ['broken', '---\ntitle: never closed\n'],
    ]);
  });

  it('is incremental by modification time', async () => {
    const first = await read({ mode: 'string' }, { glob: 'docs/[ab].md' });
    const done = first.messages.filter((m) => m.kind === 'checkpoint').at(-1);
    const again = await read({ mode: 'string' }, { glob: 'docs/[ab].md', ...(done?.kind === 'checkpoint' ? { resumeFrom: done.checkpoint } : {}) });
    expect(again.rows('notes')).toEqual([]);
  });
});

describeExtractorConformance('markdown_kv', {
  create: () => markdownKvSource(),
  setup: async () => {
    mkdirSync(path.join(dir.path, 'conf'), { recursive: true });
    for (let i = 0; i < 40; i++) {
      const p = path.join(dir.path, 'conf', `doc-${String(i).padStart(2, '0')}.md`);
      writeFileSync(p, `---\ntitle: Doc ${i}\n---\n# Facts\nindex:: ${i}\nsquare:: ${i * i}\n`);
      utimesSync(p, 1_700_000_000 + i, 1_700_000_000 + i);
    }
  },
  config: () => ({ files: ['conf/*.md'], markdown_kv_storage: { mode: 'structured', structured_pattern: 'row_per_kv' } }),
  context: () => testRunContext({ cwd: dir.path }),
  volatileColumns: ['extracted_at'],
  invalidConfigs: () => [
    { config: { files: [] }, field: 'files' },
    { config: { files: ['conf/*.md'], markdown_kv_storage: { mode: 'bogus' } }, field: 'markdown_kv_storage.mode' },
    { config: { files: ['no-such-dir/*.md'] }, field: 'files' },
  ],
  incremental: {
    streams: (discovered) => discovered.map((d) => ({ name: d.name, schema: d.schema, syncMode: 'incremental' })),
    append: async () => {
      const p = path.join(dir.path, 'conf', 'later.md');
      writeFileSync(p, '# Later\nalpha:: 1\nbeta:: 2\ngamma:: 3\n');
      utimesSync(p, 1_700_001_000, 1_700_001_000);
      return 3;
    },
  },
});
