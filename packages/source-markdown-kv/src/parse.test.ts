import { describe, expect, it } from 'vitest';
import { MarkdownKvError, parseMarkdownKv } from './parse.js';

describe('parseMarkdownKv (v1 rules)', () => {
  it('reads front matter, headings as sections and key:: value pairs', () => {
    const doc = parseMarkdownKv(
      ['---', 'doc_id: svc-42', 'title: Billing service', 'owners: [ana, bo]', 'limits: { cpu: 2 }', 'port: 8080', '---', 'intro:: kept in _default', '# Runtime', 'host:: billing.internal', 'port:: 5432', 'enabled:: true', 'flag:: enabled', '## Deep', 'list:: [1,2]', 'obj:: {"a": 1}'].join('\n'),
      '/docs/billing.md',
    );
    expect(doc.doc_id).toBe('svc-42');
    expect(doc.title).toBe('Billing service');
    expect(doc.sections.map((s) => [s.section, s.level, s.kv.map((k) => [k.key, k.value, k.value_json, k.ord])])).toEqual([
      ['_front_matter', 0, [['doc_id', 'svc-42', null, 0], ['title', 'Billing service', null, 1], ['owners', '["ana","bo"]', '["ana","bo"]', 2], ['limits', '{"cpu":2}', '{"cpu":2}', 3], ['port', '8080', null, 4]]],
      ['_default', 0, [['intro', 'kept in _default', null, 0]]],
      ['Runtime', 1, [['host', 'billing.internal', null, 0], ['port', '5432', '5432', 1], ['enabled', 'true', 'true', 2], ['flag', 'enabled', null, 3]]],
      ['Deep', 2, [['list', '[1,2]', '[1,2]', 0], ['obj', '{"a": 1}', '{"a": 1}', 1]]],
    ]);
  });

  it('continues values over indented and blank lines; a non-indented line ends them', () => {
    const doc = parseMarkdownKv('notes:: first\n  second\n\n\tthird\n\nplain text ends it\nnext:: {\n  "a": [1,\n   2]\n  }\n', 'x.md');
    expect(doc.sections).toEqual([
      {
        section: '_default',
        level: 0,
        kv: [
          { key: 'notes', value: 'first\n  second\n\n\tthird', value_json: null, ord: 0 },
          { key: 'next', value: '{\n  "a": [1,\n   2]\n  }', value_json: '{\n  "a": [1,\n   2]\n  }', ord: 1 },
        ],
      },
    ]);
    expect(doc.doc_id).toBe('x');
    expect(doc.title).toBe('x');
  });

  it('only treats key:: as a pair when the key has no colon and the line is not indented', () => {
    const doc = parseMarkdownKv('http://x:: no\n  indented:: no\nurl :: https://a.b/c::d\nempty::\n#nospace heading\n####### seven\n', 'k.mdkv');
    expect(doc.sections[0]?.kv.map((k) => [k.key, k.value])).toEqual([
      ['url', 'https://a.b/c::d'],
      ['empty', ''],
    ]);
    expect(doc.sections).toHaveLength(1);
  });

  it('keeps sections without pairs, drops an empty _default, and rejects broken front matter', () => {
    const doc = parseMarkdownKv('# A\n# B\nk:: v\n', 'a.md');
    expect(doc.sections.map((s) => [s.section, s.kv.length])).toEqual([
      ['A', 0],
      ['B', 1],
    ]);
    expect(() => parseMarkdownKv('---\ntitle: x\n', 'a.md')).toThrow(MarkdownKvError);
    expect(() => parseMarkdownKv('---\n- a list\n---\n', 'a.md')).toThrow('front matter must be a mapping of keys');
    expect(() => parseMarkdownKv('---\nbad: [\n---\n', 'a.md')).toThrow(/^front matter is not valid YAML/);
  });
});
