import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { queryDuckDb, sqlString, tempDir } from '@dativo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers.js';

/** Markdown-KV through the CLI: every storage mode, and rows of a CSV rendered as documents. */
const scratch = tempDir('dativo-mdkv-cli-');
afterAll(() => scratch.cleanup());
const dir = scratch.path;

const job = (name: string, source: string, target: string, asset = 'assets/notes.yaml'): string => {
  writeFileSync(path.join(dir, 'jobs', `${name}.yaml`), `tenant_id: acme\nenvironment: dev\nsource_connector: ${source}\ntarget_connector: parquet\nasset: notes\nasset_path: ${asset}\n${target}`);
  return `jobs/${name}.yaml`;
};

beforeAll(() => {
  for (const sub of ['jobs', 'assets', 'docs', 'data']) mkdirSync(path.join(dir, sub), { recursive: true });
  writeFileSync(path.join(dir, 'assets/notes.yaml'), 'name: notes\nschema: [{ name: doc_id, type: string }]\n');
  writeFileSync(path.join(dir, 'assets/products.yaml'), 'name: products\nschema:\n  - { name: id, type: bigint }\n  - { name: title, type: string }\n  - { name: price, type: "decimal(8,2)" }\n  - { name: tags, type: json }\n');
  writeFileSync(path.join(dir, 'docs/a.md'), '---\ndoc_id: A-1\ntitle: First\n---\n# Setup\nport:: 8080\nhosts:: ["a", "b"]\n');
  writeFileSync(path.join(dir, 'docs/b.md'), 'owner:: ops\n');
  writeFileSync(path.join(dir, 'data/products.csv'), 'id,title,price,tags\n7,Lamp,19.90,"[""home""]"\n8,Desk,,\n');
});

describe('Markdown-KV jobs', () => {
  it('hybrid: both tables, each in its own directory', async () => {
    const r = await runCli(['run', job('hybrid', 'markdown_kv', 'source:\n  files: ["docs/*.md"]\ntarget:\n  path: out/hybrid\n  markdown_kv_storage: { mode: structured, structured_pattern: hybrid }\n'), '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(path.join(dir, 'out/hybrid')).sort()).toEqual(['notes', 'notes_documents']);
    const rows = await queryDuckDb(`SELECT doc_id, section, key, value, value_json, ord FROM read_parquet(${sqlString(path.join(dir, 'out/hybrid/notes/*/*.parquet'))}) ORDER BY doc_id, section, ord`);
    expect(rows.map((x) => [x.doc_id, x.section, x.key, x.value, x.value_json, x.ord])).toEqual([
      ['A-1', 'Setup', 'port', '8080', '8080', 0],
      ['A-1', 'Setup', 'hosts', '["a", "b"]', '["a", "b"]', 1],
      ['A-1', '_front_matter', 'doc_id', 'A-1', null, 0],
      ['A-1', '_front_matter', 'title', 'First', null, 1],
      ['b', '_default', 'owner', 'ops', null, 0],
    ]);
    const docs = await queryDuckDb(`SELECT doc_id, title, to_json(sections)::VARCHAR AS sections FROM read_parquet(${sqlString(path.join(dir, 'out/hybrid/notes_documents/*/*.parquet'))}) ORDER BY doc_id`);
    expect(docs[0]).toMatchObject({ doc_id: 'A-1', title: 'First' });
    expect(JSON.parse(String(docs[0]?.sections))).toEqual([
      { section: '_front_matter', level: 0, kv: [{ key: 'doc_id', value: 'A-1', value_json: null, ord: 0 }, { key: 'title', value: 'First', value_json: null, ord: 1 }] },
      { section: 'Setup', level: 1, kv: [{ key: 'port', value: '8080', value_json: '8080', ord: 0 }, { key: 'hosts', value: '["a", "b"]', value_json: '["a", "b"]', ord: 1 }] },
    ]);
  });

  it('raw_file: documents copied unchanged under the path pattern', async () => {
    const r = await runCli(['run', job('raw', 'markdown_kv', 'source:\n  files: ["docs/*.md"]\ntarget:\n  path: out/raw\n  markdown_kv_storage: { mode: raw_file, file_extension: .mdkv, path_pattern: "kb/{doc_id}{ext}" }\n')], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(path.join(dir, 'out/raw/kb')).sort()).toEqual(['A-1.mdkv', 'b.mdkv']);
    expect(readFileSync(path.join(dir, 'out/raw/kb/b.mdkv'), 'utf8')).toBe('owner:: ops\n');
  });

  it('mode string on a CSV source renders each row as a Markdown-KV document', async () => {
    const r = await runCli(['run', job('rendered', 'csv', 'source:\n  files: [data/products.csv]\ntarget:\n  path: out/rendered\n  markdown_kv_storage: { mode: string }\n', 'assets/products.yaml')], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const rows = await queryDuckDb(`SELECT doc_id, markdown_kv_content AS md FROM read_parquet(${sqlString(path.join(dir, 'out/rendered/*/*.parquet'))}) ORDER BY doc_id`);
    expect(rows).toEqual([
      { doc_id: '7', md: '---\ntitle: Lamp\nid: "7"\ndoc_id: "7"\n---\nprice:: 19.90\ntags:: ["home"]\n' },
      { doc_id: '8', md: '---\ntitle: Desk\nid: "8"\ndoc_id: "8"\n---\nprice::\ntags::\n' },
    ]);
  });

  it('refuses structured modes on a non-Markdown source', async () => {
    const r = await runCli(['run', job('wrong', 'csv', 'source:\n  files: [data/products.csv]\ntarget:\n  path: out/wrong\n  markdown_kv_storage: { mode: structured }\n', 'assets/products.yaml')], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain("jobs/wrong.yaml: target.markdown_kv_storage.mode: markdown_kv_storage.mode 'structured' needs a Markdown-KV source; a csv source supports mode: string (rows rendered as documents)");
  });
});
