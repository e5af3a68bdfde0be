import { createRunContext, formatWarning, MemoryDeadLetterQueue, MemoryStateStore, Redactor, silentLogger, toDativoError } from '@dativo/core';
import { EXIT_FAILURE, EXIT_OK } from '../exit-codes.js';
import { loadSecrets, type GlobalOptions, type SecretOptions } from '../globals.js';
import { planJob } from '../plan.js';

export interface CheckOptions extends SecretOptions {
  config?: string;
  verbose?: boolean;
}

interface CheckResult {
  name: string;
  ok: boolean;
  message?: string;
}

/** `dativo check`: configuration, then source and target connectivity and credentials. */
export async function checkCommand(options: CheckOptions, g: GlobalOptions): Promise<number> {
  const results: CheckResult[] = [];
  const redactor = new Redactor();
  const file = options.config;
  if (!file) {
    g.stderr.write('dativo check: --config <job.yaml> is required\n');
    return EXIT_FAILURE;
  }
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
  const ok = results.every((r) => r.ok);
  if (g.json) {
    g.stdout.write(`${JSON.stringify({ ok, checks: results, warnings }, null, 2)}\n`);
  } else {
    for (const r of results) g.stdout.write(`${r.ok ? '✔' : '✖'} ${r.name}${r.message && (!r.ok || options.verbose) ? `: ${r.message}` : ''}\n`);
    for (const w of warnings) g.stderr.write(`warning: ${w}\n`);
  }
  return ok ? EXIT_OK : EXIT_FAILURE;
}
