import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, ConfigErrors, isPlainObject } from '@dativo/core/definition';
import { formatPath, readYamlFile, substituteEnv, validateConfig, type ConfigWarning } from '@dativo/job-config';
import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';

const positiveInt = z.coerce.number().int().min(1);

/** One entry of v1's `runner.orchestrator.schedules`. */
const scheduleSchema = z
  .object({
    /** Unique name; also the id of the schedule in Redis (a rename is a new schedule). */
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only').max(200),
    /** The job file this schedule runs. */
    config: z.string().min(1),
    /** Five-field cron expression (six with seconds), or `interval_seconds`. */
    cron: z.string().min(1).optional(),
    interval_seconds: positiveInt.optional(),
    enabled: z.boolean().default(true),
    timezone: z.string().min(1).default('UTC'),
    /** Runs of this schedule that may run at once, over every worker. */
    max_concurrent_runs: positiveInt.default(1),
    tags: z.record(z.string(), z.coerce.string()).optional(),
  })
  .superRefine((s, ctx) => {
    if (s.cron === undefined && s.interval_seconds === undefined) ctx.addIssue({ code: 'custom', message: "either 'cron' or 'interval_seconds' is required", path: ['cron'] });
    if (s.cron !== undefined && s.interval_seconds !== undefined) ctx.addIssue({ code: 'custom', message: "give 'cron' or 'interval_seconds', not both", path: ['interval_seconds'] });
    if (!validTimeZone(s.timezone)) ctx.addIssue({ code: 'custom', message: `unknown time zone '${s.timezone}' (expected an IANA name such as UTC or America/New_York)`, path: ['timezone'] });
    else if (s.cron !== undefined) {
      try {
        CronExpressionParser.parse(s.cron, { tz: s.timezone });
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `not a cron expression (${(error as Error).message}); expected five fields such as "0 * * * *"`, path: ['cron'] });
      }
    }
  });

/** A token of the control API; one with `tenant` sees and acts on that tenant only. */
const tokenSchema = z.object({
  token: z.string().min(16, 'at least 16 characters'),
  tenant: z.string().min(1).optional(),
  /** read: look only; write (default): also trigger, pause, resume and cancel. */
  access: z.enum(['read', 'write']).default('write'),
  name: z.string().optional(),
});

/** v1's `configs/runner.yaml`, plus Dativo's optional `redis`, `worker` and `api` sections. */
export const runnerConfigSchema = z.object({
  runner: z.object({
    mode: z.enum(['orchestrated', 'oneshot']).default('orchestrated'),
    orchestrator: z.object({
      /** v1 names `dagster`; Dativo's own scheduler on BullMQ takes its place (`bullmq`). */
      type: z.enum(['dagster', 'bullmq', 'builtin']).default('bullmq'),
      schedules: z.array(scheduleSchema).default([]),
      /** Runs of one tenant that may run at once, over every worker (v1 default 1: serial per tenant). */
      concurrency_per_tenant: positiveInt.default(1),
    }),
    redis: z
      .object({
        /** redis://[user:password@]host:port[/db]; default REDIS_URL, else redis://127.0.0.1:6379. */
        url: z.string().regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL').optional(),
        /** Key prefix, to share one Redis between installations. */
        prefix: z.string().regex(/^[A-Za-z0-9_-]+$/).default('dativo'),
      })
      .default({ prefix: 'dativo' }),
    worker: z
      .object({
        /** Runs one worker process runs at once. */
        concurrency: positiveInt.default(1),
        /** How long a run stays owned by a worker that stopped answering before another takes it. */
        lock_seconds: positiveInt.default(30),
        /** Only take runs of these tenants. */
        tenants: z.array(z.string().min(1)).optional(),
      })
      .default({ concurrency: 1, lock_seconds: 30 }),
    api: z
      .object({
        port: z.coerce.number().int().min(0).max(65535).default(3000),
        host: z.string().default('127.0.0.1'),
        tokens: z.array(tokenSchema).default([]),
      })
      .default({ port: 3000, host: '127.0.0.1', tokens: [] }),
    /** Runs kept for the API and console, per tenant (older ones are removed). */
    keep_runs: positiveInt.default(1000),
  }),
});

export type RunnerConfig = z.output<typeof runnerConfigSchema>['runner'];
export type ScheduleConfig = z.output<typeof scheduleSchema>;
export type ApiToken = z.output<typeof tokenSchema>;

/** A schedule with its job file resolved and its tenant read from the job file. */
export interface ResolvedSchedule extends ScheduleConfig {
  /** Absolute path of the job file. */
  file: string;
  tenant: string;
}

export interface LoadedRunnerConfig {
  file: string;
  config: RunnerConfig;
  schedules: ResolvedSchedule[];
  warnings: ConfigWarning[];
  /** Things the user should know about how the file was read (the Dagster notice). */
  notes: string[];
}

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * Reads a runner file (v1's `configs/runner.yaml`). `${VAR}` is substituted from `env`. Each
 * schedule's job file is found (relative to the working directory as v1 does, else to the runner
 * file's directory) and its `tenant_id` read. Errors name the file, the key and what was expected.
 */
export async function loadRunnerConfig(file: string, options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<LoadedRunnerConfig> {
  const yaml = await readYamlFile(file, 'runner', options.cwd);
  const substituted = substituteEnv(yaml.data, options.env, { file: yaml.file, lineOf: yaml.lineOf });
  if (substituted.unresolved.length) throw new ConfigErrors(substituted.unresolved.map((u) => u.error));
  const { value, warnings } = validateConfig(runnerConfigSchema, substituted.value, { file: yaml.file, lineOf: yaml.lineOf });
  const config = value.runner;
  const notes: string[] = [];
  if (config.orchestrator.type === 'dagster') notes.push("runner.orchestrator.type 'dagster': Dativo runs these schedules with its own scheduler on Redis (BullMQ); no Dagster is needed");
  const errors: ConfigError[] = [];
  const names = new Set<string>();
  const schedules: ResolvedSchedule[] = [];
  for (const [i, s] of config.orchestrator.schedules.entries()) {
    const at = ['runner', 'orchestrator', 'schedules', i];
    if (names.has(s.name)) errors.push(new ConfigError(`schedule name '${s.name}' is used twice; names must be unique`, { file: yaml.file, path: formatPath([...at, 'name']), ...lineOf(yaml.lineOf([...at, 'name'])) }));
    names.add(s.name);
    const candidates = [path.resolve(options.cwd, s.config), path.resolve(path.dirname(yaml.absolutePath), s.config)];
    const found = candidates.find((c) => existsSync(c));
    if (!found) {
      errors.push(new ConfigError(`job file '${s.config}' of schedule '${s.name}' not found (looked in ${[...new Set(candidates)].join(' and ')})`, { file: yaml.file, path: formatPath([...at, 'config']), ...lineOf(yaml.lineOf([...at, 'config'])) }));
      continue;
    }
    try {
      schedules.push({ ...s, file: found, tenant: await tenantOf(found, options.cwd) });
    } catch (error) {
      errors.push(error instanceof ConfigError ? error : new ConfigError(`schedule '${s.name}': ${(error as Error).message}`, { file: yaml.file }));
    }
  }
  if (errors.length) throw new ConfigErrors(errors);
  return { file: yaml.file, config, schedules, warnings, notes };
}

function lineOf(line: number | undefined): { line?: number } {
  return line ? { line } : {};
}

/** The `tenant_id` of a job file (what its runs are queued under). */
export async function tenantOf(jobFile: string, cwd: string): Promise<string> {
  const yaml = await readYamlFile(jobFile, 'job', cwd);
  const tenant = isPlainObject(yaml.data) ? yaml.data.tenant_id : undefined;
  if (typeof tenant !== 'string' || !tenant) throw new ConfigError('tenant_id is required (a non-empty string): runs are queued per tenant', { file: yaml.file, path: 'tenant_id' });
  if (/\$\{/.test(tenant)) throw new ConfigError('tenant_id must be written out, not taken from a variable, for a scheduled or submitted job', { file: yaml.file, path: 'tenant_id' });
  return tenant;
}

/** Redis URL: the runner file's, else REDIS_URL, else the local default. */
export function redisUrl(config: Pick<RunnerConfig, 'redis'> | undefined, env: NodeJS.ProcessEnv): string {
  return config?.redis.url ?? env.REDIS_URL ?? 'redis://127.0.0.1:6379';
}
