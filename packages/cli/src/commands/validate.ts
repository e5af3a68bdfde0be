import { Redactor, toDativoError } from '@dativo/core/definition';
import { formatWarning, loadAsset, loadRecipe, readYamlFile, type ConfigWarning } from '@dativo/job-config';
import { EXIT_FAILURE, EXIT_OK } from '../exit-codes.js';
import type { GlobalOptions } from '../globals.js';
import { planJob } from '../plan.js';

type Kind = 'job' | 'asset' | 'recipe';

function kindOf(data: unknown): Kind | undefined {
  const d = data as Record<string, unknown>;
  if ('tenant_id' in d || 'source_connector' in d || 'target_connector' in d) return 'job';
  if ('schema' in d || d.kind === 'DataContract' || 'apiVersion' in d) return 'asset';
  if ('connection_template' in d || 'roles' in d || 'default_engine' in d || 'credentials' in d) return 'recipe';
  return undefined;
}

interface Validation {
  file: string;
  kind?: Kind;
  ok: boolean;
  errors: string[];
  warnings: string[];
}

/** `dativo validate <file…>`: jobs (with their asset, recipes and connector settings), assets, recipes. */
export async function validateCommand(files: string[], options: { environment?: string }, g: GlobalOptions): Promise<number> {
  const out: Validation[] = [];
  for (const file of files) {
    const v: Validation = { file, ok: true, errors: [], warnings: [] };
    try {
      const yaml = await readYamlFile(file, 'YAML', g.cwd);
      const kind = kindOf(yaml.data);
      if (!kind) throw new Error(`${yaml.file}: cannot tell whether this is a job, an asset or a connector recipe (expected tenant_id/source_connector, schema/apiVersion, or roles/connection_template)`);
      v.kind = kind;
      let warnings: ConfigWarning[] = [];
      if (kind === 'job') warnings = (await planJob(file, { cwd: g.cwd, env: g.env, redactor: new Redactor() })).warnings;
      else if (kind === 'asset') warnings = (await loadAsset(file, { cwd: g.cwd, env: g.env, ...(options.environment ? { environment: options.environment } : {}) })).warnings;
      else warnings = (await loadRecipe(file, { cwd: g.cwd, env: g.env })).warnings;
      v.warnings = warnings.map(formatWarning);
    } catch (error) {
      v.ok = false;
      v.errors = toDativoError(error).message.split('\n');
    }
    out.push(v);
  }
  const ok = out.every((v) => v.ok);
  if (g.json) g.stdout.write(`${JSON.stringify({ ok, files: out }, null, 2)}\n`);
  else {
    for (const v of out) {
      g.stdout.write(`${v.ok ? '✔' : '✖'} ${v.file}${v.kind ? ` (${v.kind})` : ''}\n`);
      for (const e of v.errors) g.stdout.write(`  error: ${e}\n`);
      for (const w of v.warnings) g.stdout.write(`  warning: ${w}\n`);
    }
  }
  return ok ? EXIT_OK : EXIT_FAILURE;
}
