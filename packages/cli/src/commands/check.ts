import { createRunContext, MemoryDeadLetterQueue, MemoryStateStore, Redactor, silentLogger, toDativoError } from '@dativo/core';
import { formatWarning } from '@dativo/job-config';
import { EXIT_FAILURE, EXIT_OK } from '../exit-codes.js';
import { loadSecrets, type GlobalOptions, type SecretOptions } from '../globals.js';
import { jobFiles } from '../job-files.js';
import { planJob } from '../plan.js';

export interface CheckOptions extends SecretOptions {
  config?: string;
  jobDir?: string;
  verbose?: boolean;
}

interface CheckResult {
  name: string;
  ok: boolean;
  message?: string;
}

interface JobCheck {
  file: string;
  ok: boolean;
  checks: CheckResult[];
  warnings: string[];
}

/** Configuration, then source and target connectivity and credentials, of one job file. */
async function checkJob(file: string, options: CheckOptions, g: GlobalOptions): Promise<JobCheck> {
  const results: CheckResult[] = [];
  const redactor = new Redactor();
  let warnings: string[] = [];
  try {
    const secrets = loadSecrets(options, g, redactor);
    const plan = await planJob(file, { cwd: g.cwd, env: secrets.env, redactor });
    warnings = plan.warnings.map(formatWarning);
    results.push({ name: 'configuration', ok: true, message: `${plan.source.packageName} → ${plan.sink.packageName}, streams: ${plan.streams.map((s) => s.name).join(', ')}` });
    const ctx = createRunContext({ tenant: plan.tenant, job: plan.name, cwd: g.cwd, configDir: plan.configDir, log: silentLogger, state: new MemoryStateStore(), dlq: new MemoryDeadLetterQueue(), secrets: secrets.resolver, redactor });
    for (const [name, run] of [
      [`source (${plan.loaded.job.source_connector})`, () => plan.source.connector.check(plan.sourceConfig, ctx)],
      [`target (${plan.loaded.job.target_connector})`, () => plan.sink.connector.check(plan.sinkConfig, ctx)],
    ] as const) {
      try {
        await run();
        results.push({ name, ok: true });
      } catch (error) {
        results.push({ name, ok: false, message: redactor.redactText(toDativoError(error).message) });
      }
    }
  } catch (error) {
    results.push({ name: 'configuration', ok: false, message: redactor.redactText(toDativoError(error).message) });
  }
  return { file, ok: results.every((r) => r.ok), checks: results, warnings };
}

/**
 * `dativo check`: configuration, then source and target connectivity and credentials, of one job
 * (`--config`) or of every job in a directory (`--job-dir`, each under its file name).
 */
export async function checkCommand(options: CheckOptions, g: GlobalOptions): Promise<number> {
  let files: string[];
  try {
    files = await jobFiles(options, g, 'check');
  } catch (error) {
    g.stderr.write(`dativo check: ${toDativoError(error).message}\n`);
    return EXIT_FAILURE;
  }
  const jobs: JobCheck[] = [];
  for (const file of files) jobs.push(await checkJob(file, options, g));
  const ok = jobs.every((j) => j.ok);
  const several = options.jobDir !== undefined;
  if (g.json) {
    const single = jobs[0] as JobCheck;
    g.stdout.write(`${JSON.stringify(several ? { ok, jobs } : { ok, checks: single.checks, warnings: single.warnings }, null, 2)}\n`);
    return ok ? EXIT_OK : EXIT_FAILURE;
  }
  for (const job of jobs) {
    if (several) g.stdout.write(`${job.file}\n`);
    const indent = several ? '  ' : '';
    for (const r of job.checks) g.stdout.write(`${indent}${r.ok ? '✔' : '✖'} ${r.name}${r.message && (!r.ok || options.verbose) ? `: ${r.message}` : ''}\n`);
    for (const w of job.warnings) g.stderr.write(`warning: ${several ? `${job.file}: ` : ''}${w}\n`);
  }
  if (several) g.stdout.write(`${jobs.filter((j) => j.ok).length}/${jobs.length} jobs passed every check\n`);
  return ok ? EXIT_OK : EXIT_FAILURE;
}
