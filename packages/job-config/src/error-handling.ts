import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigErrors, isPlainObject, type ResilienceSettings } from '@dativo/core/definition';
import { z } from 'zod';
import { substituteEnv } from './env.js';
import { validateConfig, type ConfigWarning } from './issues.js';
import { readYamlFile } from './yaml.js';

const seconds = z.coerce.number().min(0);
const attempts = z.coerce.number().int().min(1);

const retrySettings = z.object({
  /** Attempts in all (the first one included). */
  max_attempts: attempts.optional(),
  /** First wait, seconds (doubled at each retry). */
  base_delay: seconds.optional(),
  /** Longest wait, seconds. */
  max_delay: seconds.optional(),
  /** Random waits (full jitter) so many clients do not retry in step. */
  jitter: z.boolean().optional(),
});

/**
 * The error policy (the v1 roadmap's `configs/error_handling.yaml`, and a job's `error_handling:`):
 * retries, the circuit breaker, the dead-letter queue and the share of dead-lettered records a run
 * may have and still succeed.
 */
export const errorHandlingSchema = z.object({
  retry: retrySettings
    .extend({
      /** Per connector id (`stripe`, `postgres`, `iceberg`…): its own retry settings over these. */
      overrides: z.record(z.string(), retrySettings).optional(),
    })
    .optional(),
  circuit_breaker: z
    .object({
      enabled: z.boolean().optional(),
      /** Consecutive failures that open the circuit. */
      failure_threshold: attempts.optional(),
      /** Seconds the circuit stays open before trial calls. */
      timeout: seconds.optional(),
      /** Successful trial calls that close it again. */
      success_threshold: attempts.optional(),
    })
    .optional(),
  dead_letter_queue: z
    .object({
      /** false: a record that cannot be written fails the run (nothing is dropped). */
      enabled: z.boolean().optional(),
      /** A local directory (default `.dativo/dlq`, `--dlq-dir`, DATIVO_DLQ_DIR). */
      dir: z.string().min(1).optional(),
      /** Or an S3 bucket and prefix (`${TENANT_ID}` is the job's tenant). */
      s3_bucket: z.string().min(1).optional(),
      s3_prefix: z.string().optional(),
      /** S3 endpoint and region (else S3_ENDPOINT / AWS_REGION). */
      endpoint: z.string().url().optional(),
      region: z.string().min(1).optional(),
      /** Dead-letter files older than this many days are deleted when a job of the tenant runs. */
      retention_days: z.coerce.number().int().min(1).optional(),
    })
    .optional(),
  /** Dead-lettered ÷ read records a run may reach and still exit 0 (default 0: any dead letter makes it partial, exit 1). */
  max_dlq_ratio: z.coerce.number().min(0).max(1).optional(),
});

export type ErrorHandling = z.output<typeof errorHandlingSchema>;

/** The file v1's roadmap names, looked up in the working directory. */
export const ERROR_HANDLING_FILE = path.join('configs', 'error_handling.yaml');

/**
 * Loads the error policy file (`error_handling:` at its top, as the roadmap writes it, or the
 * section's keys directly): `file` when given (it must exist), else `configs/error_handling.yaml`
 * under `cwd` when present. `${VAR}` is substituted from `env`, `${TENANT_ID}` excepted (filled in
 * per job). Errors name the file and the key.
 */
export async function loadErrorHandling(options: { file?: string | undefined; cwd: string; env: NodeJS.ProcessEnv }): Promise<{ value: ErrorHandling; file?: string; warnings: ConfigWarning[] }> {
  const file = options.file ?? (existsSync(path.resolve(options.cwd, ERROR_HANDLING_FILE)) ? ERROR_HANDLING_FILE : undefined);
  if (!file) return { value: {}, warnings: [] };
  const yaml = await readYamlFile(file, 'error handling', options.cwd);
  const wrapped = isPlainObject(yaml.data) && 'error_handling' in yaml.data;
  const section = wrapped ? (yaml.data as Record<string, unknown>).error_handling : yaml.data;
  const prefix = wrapped ? ['error_handling'] : [];
  const substituted = substituteEnv(section ?? {}, { ...options.env, TENANT_ID: '${TENANT_ID}' }, { file: yaml.file, lineOf: (p) => yaml.lineOf([...prefix, ...p]) });
  if (substituted.unresolved.length) throw new ConfigErrors(substituted.unresolved.map((u) => u.error));
  const { value, warnings } = validateConfig(errorHandlingSchema, substituted.value, { file: yaml.file, lineOf: yaml.lineOf, prefix });
  return { value, file: yaml.file, warnings };
}

/** The policy of a job: the file's, with the job's `error_handling:` over it key by key. */
export function mergeErrorHandling(base: ErrorHandling, job: ErrorHandling | undefined): ErrorHandling {
  if (!job) return base;
  const retry = base.retry || job.retry ? { ...base.retry, ...job.retry, ...(base.retry?.overrides || job.retry?.overrides ? { overrides: { ...base.retry?.overrides, ...job.retry?.overrides } } : {}) } : undefined;
  return {
    ...base,
    ...job,
    ...(retry ? { retry } : {}),
    ...(base.circuit_breaker || job.circuit_breaker ? { circuit_breaker: { ...base.circuit_breaker, ...job.circuit_breaker } } : {}),
    ...(base.dead_letter_queue || job.dead_letter_queue ? { dead_letter_queue: { ...base.dead_letter_queue, ...job.dead_letter_queue } } : {}),
  };
}

/** `${TENANT_ID}` in the policy's strings, for one job. */
export function forTenant(policy: ErrorHandling, tenant: string): ErrorHandling {
  return JSON.parse(JSON.stringify(policy).replaceAll('${TENANT_ID}', tenant.replaceAll('"', ''))) as ErrorHandling;
}

/**
 * The policy as resilience settings for one connector (no second mechanism: the run's retry and
 * breaker take them): the general retry settings, then the connector's override; the breaker's
 * consecutive-failure and success thresholds and open time.
 */
export function errorHandlingResilience(policy: ErrorHandling, connectorIds: readonly string[]): ResilienceSettings {
  const out: ResilienceSettings = {};
  const retry = (r: z.output<typeof retrySettings> | undefined) => {
    if (!r) return;
    if (r.max_attempts !== undefined) (out.retry ??= {}).maxRetries = r.max_attempts - 1;
    if (r.base_delay !== undefined) (out.retry ??= {}).baseDelayMs = r.base_delay * 1000;
    if (r.max_delay !== undefined) (out.retry ??= {}).maxDelayMs = r.max_delay * 1000;
    if (r.jitter !== undefined) (out.retry ??= {}).jitter = r.jitter ? 'full' : 'none';
  };
  retry(policy.retry);
  for (const id of connectorIds) retry(policy.retry?.overrides?.[id]);
  const b = policy.circuit_breaker;
  if (b) {
    out.breaker = {
      ...(b.enabled !== undefined ? { enabled: b.enabled } : {}),
      ...(b.failure_threshold !== undefined ? { failureThreshold: b.failure_threshold } : {}),
      ...(b.timeout !== undefined ? { resetTimeoutMs: b.timeout * 1000 } : {}),
      ...(b.success_threshold !== undefined ? { successThreshold: b.success_threshold } : {}),
    };
  }
  return out;
}
