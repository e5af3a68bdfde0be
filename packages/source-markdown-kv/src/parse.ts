import path from 'node:path';
import { parse as parseYaml } from 'yaml';

export interface KvPair {
  key: string;
  value: string;
  /** The value itself when the whole value parses as JSON, else null. */
  value_json: string | null;
  /** Position within its section (document-level output); row-per-kv output numbers pairs across the document. */
  ord: number;
}

export interface Section {
  section: string;
  level: number;
  kv: KvPair[];
}

export interface ParsedDocument {
  doc_id: string;
  title: string;
  frontMatter: Record<string, unknown> | undefined;
  /** `_front_matter` first (when present), then `_default`, then each heading. */
  sections: Section[];
}

export const FRONT_MATTER = '_front_matter';
export const DEFAULT_SECTION = '_default';

export class MarkdownKvError extends Error {}

function jsonOf(value: string): string | null {
  if (value === '') return null;
  try {
    JSON.parse(value);
    return value;
  } catch {
    return null;
  }
}

const HEADING = /^(#{1,6})[ \t]+(.*)$/;
const KV = /^([^\s:][^:]*?)\s*::(.*)$/;

function frontMatterText(value: unknown): { value: string; value_json: string | null } {
  if (value !== null && typeof value === 'object') {
    const json = JSON.stringify(value);
    return { value: json, value_json: json };
  }
  return { value: value === null || value === undefined ? '' : String(value), value_json: null };
}

/**
 * Parses a Markdown-KV document with v1's rules: optional YAML front matter, `#` headings as
 * sections, `key:: value` pairs whose values continue over indented and blank lines.
 */
export function parseMarkdownKv(text: string, fileName: string): ParsedDocument {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  let start = 0;
  let frontMatter: Record<string, unknown> | undefined;
  const sections: Section[] = [];
  if (lines[0]?.trimEnd() === '---') {
    const end = lines.findIndex((l, i) => i > 0 && (l.trimEnd() === '---' || l.trimEnd() === '...'));
    if (end < 0) throw new MarkdownKvError('front matter starts with --- but never ends (no closing --- line)');
    let parsed: unknown;
    try {
      parsed = parseYaml(lines.slice(1, end).join('\n'), { schema: 'core' });
    } catch (error) {
      throw new MarkdownKvError(`front matter is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
    }
    if (parsed !== null && parsed !== undefined && (typeof parsed !== 'object' || Array.isArray(parsed))) {
      throw new MarkdownKvError('front matter must be a mapping of keys');
    }
    frontMatter = (parsed ?? {}) as Record<string, unknown>;
    sections.push({
      section: FRONT_MATTER,
      level: 0,
      kv: Object.entries(frontMatter).map(([key, v], ord) => ({ key, ...frontMatterText(v), ord })),
    });
    start = end + 1;
  }

  let current: Section = { section: DEFAULT_SECTION, level: 0, kv: [] };
  const body: Section[] = [current];
  let open: { key: string; lines: string[] } | undefined;
  const close = (): void => {
    if (!open) return;
    const value = open.lines.join('\n').trim();
    current.kv.push({ key: open.key, value, value_json: jsonOf(value), ord: current.kv.length });
    open = undefined;
  };
  for (let i = start; i < lines.length; i++) {
    const line = lines[i] as string;
    if (open && (line.trim() === '' || line.startsWith(' ') || line.startsWith('\t'))) {
      open.lines.push(line);
      continue;
    }
    close();
    const heading = HEADING.exec(line);
    if (heading) {
      current = { section: (heading[2] ?? '').trim(), level: (heading[1] ?? '#').length, kv: [] };
      body.push(current);
      continue;
    }
    const kv = KV.exec(line);
    if (kv) open = { key: (kv[1] ?? '').trim(), lines: [kv[2] ?? ''] };
  }
  close();
  const first = body[0] as Section;
  // Text before the first heading stays in `_default` (v1 dropped it when headings existed).
  if (body.length > 1 && first.kv.length === 0) body.shift();
  sections.push(...body);

  const fmDocId = frontMatter?.doc_id;
  const docId = fmDocId !== undefined && fmDocId !== null && String(fmDocId) !== '' ? String(fmDocId) : path.basename(fileName).replace(/\.[^.]*$/, '');
  // v1: the front matter's title, else the first heading, else the doc_id.
  const fmTitle = frontMatter?.title;
  const firstHeading = sections.find((s) => s.level > 0)?.section;
  return { doc_id: docId, title: fmTitle !== undefined && fmTitle !== null ? String(fmTitle) : firstHeading ?? docId, frontMatter, sections };
}
