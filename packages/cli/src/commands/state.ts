import { createRunContext, LocalFileStateStore, MemoryDeadLetterQueue, Redactor, silentLogger, toDativoError, type StoredState } from '@dativo/core';
import { EXIT_FAILURE, EXIT_OK } from '../exit-codes.js';
import { loadSecrets, type GlobalOptions, type SecretOptions } from '../globals.js';
import { planJob } from '../plan.js';

export interface StateOptions extends SecretOptions {
  config?: string;
  tenant?: string;
  job?: string;
  stream?: string;
  stateId?: string;
}

/** `dativo state show`: incremental state per tenant / job / stream. */
export async function stateShowCommand(options: StateOptions, g: GlobalOptions): Promise<number> {
  const store = new LocalFileStateStore(g.stateDir);
  let filter = { ...(options.tenant ? { tenant: options.tenant } : {}), ...(options.job ? { job: options.job } : {}) };
  try {
    if (options.config) {
      const redactor = new Redactor();
      const plan = await planJob(options.config, { cwd: g.cwd, env: loadSecrets(options, g, redactor).env, redactor, ...(options.stateId ? { stateId: options.stateId } : {}) });
      filter = { tenant: plan.tenant, job: plan.stateId ?? plan.name };
    }
    const states = (await store.list(filter)).filter((s) => !options.stream || s.key.stream === options.stream);
    if (g.json) g.stdout.write(`${JSON.stringify({ stateDir: g.stateDir, states }, null, 2)}\n`);
    else if (states.length === 0) g.stdout.write(`no state in ${g.stateDir}${filter.tenant || filter.job ? ' for that tenant/job' : ''}\n`);
    else for (const s of states) g.stdout.write(`${s.key.tenant}/${s.key.job}/${s.key.stream}  updated ${s.updatedAt}${s.runId ? ` by run ${s.runId}` : ''}\n  ${JSON.stringify(s.checkpoint.state)}\n`);
    return EXIT_OK;
  } catch (error) {
    g.stderr.write(`dativo state show: ${toDativoError(error).message}\n`);
    return EXIT_FAILURE;
  }
}

/**
 * `dativo state reset`: the next run starts from scratch. With `--config`, the reset is also
 * committed to the job's target (sinks that record checkpoints themselves), so it cannot be
 * undone by the sink's own history; with `--tenant/--job`, only the state store is cleared.
 */
export async function stateResetCommand(options: StateOptions, g: GlobalOptions): Promise<number> {
  const store = new LocalFileStateStore(g.stateDir);
  const reset: string[] = [];
  try {
    let tenant = options.tenant;
    let job = options.job;
    if (options.config) {
      const redactor = new Redactor();
      const secrets = loadSecrets(options, g, redactor);
      const plan = await planJob(options.config, { cwd: g.cwd, env: secrets.env, redactor, ...(options.stateId ? { stateId: options.stateId } : {}) });
      tenant = plan.tenant;
      job = plan.stateId ?? plan.name;
      const ctx = createRunContext({ tenant, job: plan.name, ...(plan.stateId ? { stateId: plan.stateId } : {}), cwd: g.cwd, configDir: plan.configDir, log: silentLogger, state: store, dlq: new MemoryDeadLetterQueue(), secrets: secrets.resolver, redactor });
      for (const stream of plan.streams) {
        if (options.stream && stream.name !== options.stream) continue;
        const writer = await plan.sink.connector.open(plan.sinkConfig, { name: stream.name, schema: stream.schema, syncModes: [stream.syncMode] }, ctx);
        try {
          if (await writer.lastCommitted()) await writer.commit({ stream: stream.name, state: null });
        } finally {
          await writer.close();
        }
        await store.delete({ tenant, job, stream: stream.name });
        reset.push(`${tenant}/${job}/${stream.name}`);
      }
    } else {
      if (!tenant || !job) {
        g.stderr.write('dativo state reset: give --config <job.yaml>, or --tenant <id> and --job <name>\n');
        return EXIT_FAILURE;
      }
      const states: StoredState[] = (await store.list({ tenant, job })).filter((s) => !options.stream || s.key.stream === options.stream);
      for (const s of states) {
        await store.delete(s.key);
        reset.push(`${s.key.tenant}/${s.key.job}/${s.key.stream}`);
      }
      if (!g.json) g.stderr.write('note: sinks that keep their own checkpoints are reset only with --config <job.yaml>\n');
    }
    if (g.json) g.stdout.write(`${JSON.stringify({ reset }, null, 2)}\n`);
    else g.stdout.write(reset.length ? reset.map((r) => `reset ${r}\n`).join('') : 'nothing to reset\n');
    return EXIT_OK;
  } catch (error) {
    g.stderr.write(`dativo state reset: ${toDativoError(error).message}\n`);
    return EXIT_FAILURE;
  }
}
