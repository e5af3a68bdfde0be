import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '@dativo/testing';
import { queryDuckDb, sqlString } from '@dativo/testing/duckdb';
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
    // ord numbers the pairs across each document, front matter first (v1).
    const rows = await queryDuckDb(`SELECT doc_id, section, key, value, value_json, ord::INTEGER AS ord FROM read_parquet(${sqlString(path.join(dir, 'out/hybrid/notes/*/*.parquet'))}) ORDER BY doc_id, ord`);
    expect(rows.map((x) => [x.doc_id, x.section, x.key, x.value, x.value_json, x.ord])).toEqual([
      ['A-1', '_front_matter', 'doc_id', 'A-1', null, 0],
      ['A-1', '_front_matter', 'title', 'First', null, 1],
      ['A-1', 'Setup', 'port', '8080', '8080', 2],
      ['A-1', 'Setup', 'hosts', '["a", "b"]', '["a", "b"]', 3],
      ['b', '_default', 'owner', 'ops', null, 0],
    ]);
    const docs = await queryDuckDb(`SELECT doc_id, title, to_json(sections)::VARCHAR AS sections FROM read_parquet(${sqlString(path.join(dir, 'out/hybrid/notes_documents/*/*.parquet'))}) ORDER BY doc_id`);
    expect(docs[0]).toMatchObject({ doc_id: 'A-1', title: 'First' });
    expect(JSON.parse(String(docs[0]?.sections))).toEqual([
      // The title is the row's column, not a front-matter pair (v1).
      { section: '_front_matter', level: 0, kv: [{ key: 'doc_id', value: 'A-1', value_json: null, ord: 0 }] },
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

  it('rows of another source in structured mode: rendered and stored parsed, one row per pair (v1); hybrid is refused', async () => {
    const r = await runCli(['run', job('structured', 'csv', 'source:\n  files: [data/products.csv]\ntarget:\n  path: out/structured\n  markdown_kv_storage: { mode: structured, structured_pattern: row_per_kv }\n', 'assets/products.yaml'), '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const rows = await queryDuckDb(`SELECT doc_id, section, key, value, ord::INTEGER AS ord FROM read_parquet(${sqlString(path.join(dir, 'out/structured/*/*.parquet'))}) WHERE doc_id = '7' ORDER BY ord`);
    expect(rows.map((x) => [x.section, x.key, x.value, x.ord])).toEqual([
      ['_front_matter', 'title', 'Lamp', 0],
      ['_front_matter', 'id', '7', 1],
      ['_front_matter', 'doc_id', '7', 2],
      ['_default', 'price', '19.90', 3],
      ['_default', 'tags', '["home"]', 4],
    ]);
    const hybrid = await runCli(['run', job('wrong', 'csv', 'source:\n  files: [data/products.csv]\ntarget:\n  path: out/wrong\n  markdown_kv_storage: { mode: structured, structured_pattern: hybrid }\n', 'assets/products.yaml')], { cwd: dir });
    expect(hybrid.code).toBe(2);
    expect(hybrid.stdout).toContain("jobs/wrong.yaml: target.markdown_kv_storage.mode: markdown_kv_storage: mode 'structured' with structured_pattern 'hybrid' needs a Markdown-KV source; a csv source supports mode: string, and structured with row_per_kv or document_level");
  });

  it('an asset whose columns differ from the storage mode\'s gets a warning, not a silent replacement', async () => {
    const r = await runCli(['run', job('differs', 'markdown_kv', 'source:\n  files: ["docs/*.md"]\ntarget:\n  path: out/differs\n  markdown_kv_storage: { mode: string }\n', 'assets/products.yaml'), '--log-format', 'text'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("assets/products.yaml: schema: the asset declares columns the output does not have (id, title, price, tags) and no columns doc_id, markdown_kv_content; the output has the columns doc_id, markdown_kv_content (fixed by the connector's storage mode), so the asset's schema is not used for them");
  });
});
