import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { ConfigError, displayPath } from '@dativo/core/definition';

export interface YamlFile {
  /** Path as shown in messages (relative to the working directory when inside it). */
  file: string;
  absolutePath: string;
  data: unknown;
  /** 1-based line of the node at a YAML path, when known. */
  lineOf(path: (string | number)[]): number | undefined;
}


/** Reads and parses a YAML file; a missing file or malformed YAML is a {@link ConfigError}. */
export async function readYamlFile(file: string, what: string, cwd: string = process.cwd()): Promise<YamlFile> {
  const absolutePath = path.resolve(cwd, file);
  const shown = displayPath(absolutePath, cwd);
  let text: string;
  try {
    text = await fs.readFile(absolutePath, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ConfigError(`${what} file not found`, { file: shown });
    if (code === 'EISDIR') throw new ConfigError(`${what} path is a directory, expected a YAML file`, { file: shown });
    throw new ConfigError(`cannot read ${what} file: ${(error as Error).message}`, { file: shown, cause: error });
  }
  return parseYamlText(text, shown, absolutePath, what);
}

export function parseYamlText(text: string, shown: string, absolutePath: string, what: string): YamlFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const pos = first.linePos?.[0] ?? (first.pos ? lineCounter.linePos(first.pos[0]) : undefined);
    throw new ConfigError(`malformed YAML: ${first.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '')}${pos ? ` (line ${pos.line}, column ${pos.col})` : ''}`, {
      file: shown,
      ...(pos ? { line: pos.line } : {}),
    });
  }
  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  if (data === null || data === undefined) throw new ConfigError(`${what} file is empty`, { file: shown });
  if (typeof data !== 'object' || Array.isArray(data)) throw new ConfigError(`expected a mapping of keys at the top of the ${what} file, got ${Array.isArray(data) ? 'a list' : typeof data}`, { file: shown });
  return {
    file: shown,
    absolutePath,
    data,
    lineOf: (p) => lineOfPath(doc, lineCounter, p),
  };
}

/**
 * The line of the node at a YAML path. For a key that is missing, the line of its parent mapping
 * (nothing for a missing top-level key, where a line would mislead).
 */
function lineOfPath(doc: Document, counter: LineCounter, p: (string | number)[]): number | undefined {
  let node: unknown = doc.contents;
  let last: Node | undefined;
  for (const part of p) {
    if (isMap(node)) {
      const pair = node.items.find((item) => (isScalar(item.key) ? String(item.key.value) : String(item.key)) === String(part));
      if (!pair) break;
      last = (isScalar(pair.key) ? pair.key : undefined) ?? last;
      node = pair.value;
      if (node && typeof node === 'object' && 'range' in node) last = node as Node;
    } else if (isSeq(node) && typeof part === 'number') {
      node = node.items[part];
      if (node && typeof node === 'object' && 'range' in node) last = node as Node;
    } else break;
  }
  const offset = last?.range?.[0];
  return offset === undefined ? undefined : counter.linePos(offset).line;
}
