import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * Candidate base directories for a relative input path: the working directory (v1 behaviour),
 * then the job file's directory and each of its parents.
 */
export function inputBaseDirs(ctx: { cwd: string; configDir?: string }): string[] {
  const out = [path.resolve(ctx.cwd)];
  if (ctx.configDir) {
    let dir = path.resolve(ctx.configDir);
    for (;;) {
      if (!out.includes(dir)) out.push(dir);
      const parent = path.dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  return out;
}

/** Resolves a relative input path to the first base directory where it exists (else under cwd). */
export function resolveInputPath(p: string, ctx: { cwd: string; configDir?: string }): string {
  if (path.isAbsolute(p)) return p;
  for (const base of inputBaseDirs(ctx)) {
    const candidate = path.resolve(base, p);
    if (existsSync(candidate)) return candidate;
  }
  return path.resolve(ctx.cwd, p);
}

/** Shows a path relative to the working directory when it is inside it. */
export function displayPath(file: string, cwd: string = process.cwd()): string {
  const rel = path.relative(cwd, file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}
