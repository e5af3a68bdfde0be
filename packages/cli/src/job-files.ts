import { promises as fs } from 'node:fs';
import path from 'node:path';
import { DativoError } from '@dativo/core/definition';
import type { GlobalOptions } from './globals.js';

/** The job files a command works on: `--config <file>`, or every YAML file under `--job-dir`. */
export async function jobFiles(options: { config?: string; jobDir?: string }, g: Pick<GlobalOptions, 'cwd'>, command: string): Promise<string[]> {
  if (options.config && options.jobDir) throw new DativoError('use either --config or --job-dir, not both', { kind: 'config' });
  if (options.config) return [options.config];
  if (!options.jobDir) throw new DativoError(`no job given: dativo ${command} --config <job.yaml> (or a path), or --job-dir <dir>`, { kind: 'config' });
  const dir = path.resolve(g.cwd, options.jobDir);
  let entries: string[];
  try {
    entries = (await fs.readdir(dir, { recursive: true })) as string[];
  } catch (error) {
    throw new DativoError(`--job-dir ${options.jobDir}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'directory not found' : (error as Error).message}`, { kind: 'config' });
  }
  const files = entries.filter((e) => /\.ya?ml$/i.test(e)).sort().map((e) => path.join(options.jobDir as string, e));
  if (files.length === 0) throw new DativoError(`--job-dir ${options.jobDir}: no .yaml job files found`, { kind: 'config' });
  return files;
}
