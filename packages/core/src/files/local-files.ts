import { promises as fs } from 'node:fs';
import path from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { DativoError } from '../errors.js';
import { inputBaseDirs } from '../paths.js';

export interface InputFile {
  path: string;
  mtimeMs: number;
  size: number;
  /** Index of the `files:` entry it came from. */
  entry: number;
}

/** A position in the ordered file list: files sort by (modification time, path). */
export interface FilePosition {
  /** mtime in milliseconds */
  m: number;
  /** absolute path */
  p: string;
}

/** Orders files by modification time, then path: the order incremental file sources read in. */
export function comparePosition(a: FilePosition, b: FilePosition): number {
  return a.m !== b.m ? a.m - b.m : a.p < b.p ? -1 : a.p > b.p ? 1 : 0;
}

/**
 * Expands the configured paths and globs, relative to the working directory or the job file.
 * A path that matches nothing is an error naming the `files:` entry.
 */
export async function listInputFiles(entries: Array<{ path: string }>, ctx: { cwd: string; configDir?: string }, options: { what?: string; section?: string } = {}): Promise<InputFile[]> {
  const section = options.section ?? 'source.files';
  const what = options.what ?? 'input file';
  const seen = new Map<string, InputFile>();
  const bases = inputBaseDirs(ctx);
  for (const [index, entry] of entries.entries()) {
    let matches: string[] = [];
    if (isDynamicPattern(entry.path)) {
      for (const base of path.isAbsolute(entry.path) ? ['/'] : bases) {
        matches = await glob(entry.path, { cwd: base, absolute: true, onlyFiles: true, dot: false, expandDirectories: false });
        if (matches.length) break;
      }
    } else {
      for (const base of path.isAbsolute(entry.path) ? [''] : bases) {
        const candidate = path.resolve(base || '/', entry.path);
        try {
          const stat = await fs.stat(candidate);
          if (stat.isDirectory()) {
            throw new DativoError(`${section}[${index}].path: '${entry.path}' is a directory; name files or a glob such as '${path.join(entry.path, '*')}'`, { kind: 'config', code: 'INPUT_IS_DIRECTORY' });
          }
          matches = [candidate];
          break;
        } catch (error) {
          if (DativoError.isInstance(error)) throw error;
        }
      }
    }
    if (matches.length === 0) {
      throw new DativoError(`${section}[${index}].path: ${what} '${entry.path}' not found (looked under ${bases.slice(0, 2).join(' and ')})`, {
        kind: 'config',
        code: 'INPUT_MISSING',
        details: { path: entry.path },
      });
    }
    for (const file of matches) {
      const real = path.resolve(file);
      if (seen.has(real)) continue;
      const stat = await fs.stat(real);
      seen.set(real, { path: real, mtimeMs: Math.floor(stat.mtimeMs), size: stat.size, entry: index });
    }
  }
  return [...seen.values()].sort((a, b) => comparePosition({ m: a.mtimeMs, p: a.path }, { m: b.mtimeMs, p: b.path }));
}
