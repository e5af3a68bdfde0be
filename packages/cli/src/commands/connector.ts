import { createRunContext, MemoryDeadLetterQueue, MemoryStateStore, Redactor, toDativoError } from '@dativo/core';
import type { ConnectorCommand } from '@dativo/core/definition';
import { EXIT_FAILURE, EXIT_OK } from '../exit-codes.js';
import { loadSecrets, makeLogger, type GlobalOptions, type SecretOptions } from '../globals.js';
import { planJob } from '../plan.js';

export interface ConnectorCommandOptions extends SecretOptions {
  config?: string;
  [option: string]: string | undefined;
}

/**
 * `dativo <connector> <command> --config job.yaml`: a command a connector offers (table
 * maintenance…), run on the job's validated settings for that connector.
 */
export async function connectorCommand(id: string, packageName: string, command: ConnectorCommand, options: ConnectorCommandOptions, g: GlobalOptions): Promise<number> {
  const redactor = new Redactor();
  const title = `dativo ${id} ${command.name}`;
  try {
    if (!options.config) throw new Error('--config <job.yaml> is required');
    const secrets = loadSecrets(options, g, redactor);
    const plan = await planJob(options.config, { cwd: g.cwd, env: secrets.env, redactor });
    const config = plan.sink.packageName === packageName ? plan.sinkConfig : plan.source.packageName === packageName ? plan.sourceConfig : undefined;
    if (config === undefined) throw new Error(`${plan.file}: the job's target is ${plan.sink.name} (${plan.sink.packageName}) and its source ${plan.source.name}; ${id} commands need a job that uses ${id}`);
    const ctx = createRunContext({
      tenant: plan.tenant,
      job: plan.name,
      ...(plan.stateId ? { stateId: plan.stateId } : {}),
      cwd: g.cwd,
      configDir: plan.configDir,
      log: makeLogger(g, redactor, { tenant: plan.tenant, job: plan.name, command: `${id} ${command.name}` }, plan.loaded.job.logging.level),
      state: new MemoryStateStore(),
      dlq: new MemoryDeadLetterQueue(),
      secrets: secrets.resolver,
      redactor,
    });
    const { lines, result } = await command.run({ config, streams: plan.streams.map((s) => s.name), options, ctx });
    if (g.json) g.stdout.write(`${JSON.stringify({ action: command.name, results: result }, null, 2)}\n`);
    else for (const line of lines) g.stdout.write(`${line}\n`);
    return EXIT_OK;
  } catch (error) {
    g.stderr.write(`${title}: ${redactor.redactText(toDativoError(error).message)}\n`);
    return EXIT_FAILURE;
  }
}
