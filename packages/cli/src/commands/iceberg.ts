import { createRunContext, MemoryDeadLetterQueue, MemoryStateStore, Redactor, toDativoError } from '@dativo/core';
import { EXIT_FAILURE, EXIT_OK } from '../exit-codes.js';
import { loadSecrets, makeLogger, type GlobalOptions, type SecretOptions } from '../globals.js';
import { planJob } from '../plan.js';

export interface IcebergMaintenanceOptions extends SecretOptions {
  config?: string;
  olderThan?: string;
  retainLast?: string;
  targetFileSizeMb?: string;
  minInputFiles?: string;
}

/** `7d`, `12h`, `30m`, `90s` or plain milliseconds → milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) throw new Error(`--older-than: expected a duration like 7d, 12h or 30m, got '${text}'`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 'ms') as 'ms'];
  return Number(m[1]) * unit;
}

/** `dativo iceberg expire-snapshots|compact --config job.yaml`: maintenance of a job's Iceberg tables. */
export async function icebergCommand(action: 'expire-snapshots' | 'compact', options: IcebergMaintenanceOptions, g: GlobalOptions): Promise<number> {
  const redactor = new Redactor();
  try {
    if (!options.config) throw new Error('--config <job.yaml> is required');
    const secrets = loadSecrets(options, g, redactor);
    const plan = await planJob(options.config, { cwd: g.cwd, env: secrets.env, redactor });
    if (plan.sink.packageName !== '@dativo/sink-iceberg') throw new Error(`${plan.file}: the job's target is ${plan.loaded.job.target_connector} (${plan.sink.packageName}), not an Iceberg table with a catalog`);
    const iceberg = await import('@dativo/sink-iceberg');
    const ctx = createRunContext({
      tenant: plan.tenant,
      job: plan.name,
      cwd: g.cwd,
      configDir: plan.configDir,
      log: makeLogger(g, redactor, { tenant: plan.tenant, job: plan.name, command: `iceberg ${action}` }, plan.loaded.job.logging.level),
      state: new MemoryStateStore(),
      dlq: new MemoryDeadLetterQueue(),
      secrets: secrets.resolver,
      redactor,
    });
    const config = plan.sinkConfig as Parameters<typeof iceberg.expireSnapshots>[0];
    const results: unknown[] = [];
    for (const stream of plan.streams) {
      if (action === 'expire-snapshots') {
        const r = await iceberg.expireSnapshots(config, stream.name, ctx, {
          ...(options.olderThan ? { olderThanMs: Date.now() - parseDuration(options.olderThan) } : {}),
          ...(options.retainLast ? { retainLast: Number(options.retainLast) } : {}),
        });
        results.push(r);
        if (!g.json) g.stdout.write(`${r.table}: expired ${r.expired} snapshot(s), kept ${r.kept}, deleted ${r.deletedFiles} file(s)\n`);
      } else {
        const r = await iceberg.compactTable(config, stream.name, ctx, {
          ...(options.targetFileSizeMb ? { targetFileSizeMb: Number(options.targetFileSizeMb) } : {}),
          ...(options.minInputFiles ? { minInputFiles: Number(options.minInputFiles) } : {}),
        });
        results.push(r);
        if (!g.json) g.stdout.write(`${r.table}: rewrote ${r.rewrittenFiles} file(s) into ${r.addedFiles} (${r.rows} rows)\n`);
      }
    }
    if (g.json) g.stdout.write(`${JSON.stringify({ action, results }, null, 2)}\n`);
    return EXIT_OK;
  } catch (error) {
    g.stderr.write(`dativo iceberg ${action}: ${redactor.redactText(toDativoError(error).message)}\n`);
    return EXIT_FAILURE;
  }
}
