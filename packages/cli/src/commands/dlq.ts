import path from 'node:path';
import { listDeadLetterFiles, readDeadLetterFile, toDativoError, type DeadLetterEntry } from '@dativo/core';
import { EXIT_FAILURE, EXIT_OK } from '../exit-codes.js';
import type { GlobalOptions } from '../globals.js';

export interface DlqOptions {
  tenant?: string;
  job?: string;
  run?: string;
  limit?: string;
}

/** `dativo dlq list`: dead-letter files per run, or the entries of one run (`--run`). */
export async function dlqListCommand(options: DlqOptions, g: GlobalOptions): Promise<number> {
  try {
    const files = await listDeadLetterFiles(g.dlqDir, { ...(options.tenant ? { tenant: options.tenant } : {}), ...(options.job ? { job: options.job } : {}) });
    if (options.run) {
      const match = files.filter((f) => f.runId === options.run || path.resolve(f.file) === path.resolve(g.cwd, options.run as string));
      if (match.length === 0) {
        g.stderr.write(`dativo dlq list: no dead-letter file for run '${options.run}' in ${g.dlqDir}\n`);
        return EXIT_FAILURE;
      }
      const limit = options.limit ? Number(options.limit) : Infinity;
      const entries: DeadLetterEntry[] = [];
      for (const f of match) for await (const e of readDeadLetterFile(f.file)) if (entries.length < limit) entries.push(e);
      if (g.json) g.stdout.write(`${JSON.stringify({ entries }, null, 2)}\n`);
      else for (const e of entries) g.stdout.write(`${e.time} ${e.stream} [${e.error.kind}] ${e.error.message}\n  ${JSON.stringify(e.raw)}\n`);
      return EXIT_OK;
    }
    if (g.json) g.stdout.write(`${JSON.stringify({ dlqDir: g.dlqDir, files }, null, 2)}\n`);
    else if (files.length === 0) g.stdout.write(`no dead-letter entries in ${g.dlqDir}\n`);
    else for (const f of files) g.stdout.write(`${f.modified}  ${f.tenant}/${f.job}  run ${f.runId}  ${f.entries} entr${f.entries === 1 ? 'y' : 'ies'}  ${f.file}\n`);
    return EXIT_OK;
  } catch (error) {
    g.stderr.write(`dativo dlq list: ${toDativoError(error).message}\n`);
    return EXIT_FAILURE;
  }
}
