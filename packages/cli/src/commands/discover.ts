import { createRunContext, formatDataType, MemoryDeadLetterQueue, MemoryStateStore, Redactor, silentLogger, toDativoError, type StreamDescriptor } from '@dativo/core';
import { z } from 'zod';
import { loadSink, loadSource } from '../connectors.js';
import { EXIT_FAILURE, EXIT_OK } from '../exit-codes.js';
import { loadSecrets, type GlobalOptions, type SecretOptions } from '../globals.js';
import { planJob } from '../plan.js';

export interface DiscoverOptions extends SecretOptions {
  config?: string;
  connector?: string;
}

function printStreams(streams: StreamDescriptor[], g: GlobalOptions): void {
  for (const s of streams) {
    g.stdout.write(`${s.name}${s.description ? `  (${s.description})` : ''}\n`);
    for (const f of s.schema) g.stdout.write(`  ${f.name.padEnd(24)} ${formatDataType(f.type)}${f.nullable ? '' : ' not null'}\n`);
    if (s.primaryKey?.length) g.stdout.write(`  primary key: ${s.primaryKey.join(', ')}\n`);
    g.stdout.write(`  sync modes: ${s.syncModes.join(', ')}\n`);
  }
}

/** `dativo discover`: the streams a job's source offers, or a connector's configuration schema. */
export async function discoverCommand(options: DiscoverOptions, g: GlobalOptions): Promise<number> {
  const redactor = new Redactor();
  try {
    if (options.connector) {
      const name = options.connector;
      const loaded = await loadSource(name, g.cwd, { path: '--connector' }).catch(async (sourceError: unknown) => {
        try {
          return await loadSink(name, g.cwd, { path: '--connector' });
        } catch {
          throw sourceError;
        }
      });
      const c = loaded.connector;
      const schema = z.toJSONSchema(c.configSchema as z.ZodType, { io: 'input', unrepresentable: 'any' });
      const info = { connector: name, package: loaded.packageName, id: c.spec.id, version: c.spec.version, description: c.spec.description, config: schema };
      if (g.json) g.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
      else g.stdout.write(`${name}: ${loaded.packageName} ${c.spec.version}\n${c.spec.description ?? ''}\nconfiguration (JSON Schema):\n${JSON.stringify(schema, null, 2)}\n`);
      return EXIT_OK;
    }
    if (!options.config) {
      g.stderr.write('dativo discover: give --connector <name> or --config <job.yaml>\n');
      return EXIT_FAILURE;
    }
    const secrets = loadSecrets(options, g, redactor);
    const plan = await planJob(options.config, { cwd: g.cwd, env: secrets.env, redactor });
    const ctx = createRunContext({ tenant: plan.tenant, job: plan.name, cwd: g.cwd, configDir: plan.configDir, log: silentLogger, state: new MemoryStateStore(), dlq: new MemoryDeadLetterQueue(), secrets: secrets.resolver, redactor });
    const streams = await plan.source.connector.discover(plan.sourceConfig, ctx);
    if (g.json) g.stdout.write(`${JSON.stringify({ connector: plan.loaded.job.source_connector, streams }, null, 2)}\n`);
    else printStreams(streams, g);
    return EXIT_OK;
  } catch (error) {
    const e = toDativoError(error);
    if (g.json) g.stdout.write(`${JSON.stringify({ error: { kind: e.kind, message: redactor.redactText(e.message) } }, null, 2)}\n`);
    else g.stderr.write(`dativo discover: ${redactor.redactText(e.message)}\n`);
    return EXIT_FAILURE;
  }
}
