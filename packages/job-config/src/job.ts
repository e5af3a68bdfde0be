import { z } from 'zod';
import { errorHandlingSchema } from './error-handling.js';
import { boolLike, positiveIntLike } from '@dativo/core/definition';

/** The v1 job file (`jobs/<tenant>/<name>.yaml`) plus Dativo's optional run settings. */
export const jobSchema = z.object({
  $schema: z.string().optional(),
  tenant_id: z.string().min(1),
  environment: z.string().min(1).default('prod'),
  /** Optional job name; defaults to the file name without extension. */
  name: z.string().min(1).optional(),
  /**
   * The identity the job's progress (checkpoints) is kept under; defaults to the job name. Set it
   * to the old name when renaming a job that should continue where it stopped.
   */
  state_id: z.string().min(1).optional(),
  description: z.string().optional(),
  source_connector: z.string().min(1),
  source_connector_path: z.string().min(1).optional(),
  target_connector: z.string().min(1),
  target_connector_path: z.string().min(1).optional(),
  asset: z.string().min(1),
  asset_path: z.string().min(1),
  /** Connector specific; validated by the source connector's own schema. */
  source: z.record(z.string(), z.unknown()).default({}),
  /** Connector specific; validated by the target connector's own schema. */
  target: z.record(z.string(), z.unknown()).default({}),
  schema_validation_mode: z.enum(['strict', 'warn']).default('strict'),
  logging: z
    .object({
      level: z.string().default('INFO'),
      redaction: boolLike.default(true),
      format: z.enum(['json', 'text']).optional(),
    })
    .default({ level: 'INFO', redaction: true }),
  /** Dativo: batch and commit sizing. */
  batch: z
    .object({
      max_rows: positiveIntLike.optional(),
      max_bytes: positiveIntLike.optional(),
    })
    .optional(),
  commit: z
    .object({
      every_rows: positiveIntLike.optional(),
      every_bytes: positiveIntLike.optional(),
      every_seconds: positiveIntLike.optional(),
    })
    .optional(),
  /** v1: lineage / metadata push to a data catalog (OpenMetadata…); accepted, not supported yet. */
  catalog: z.unknown().optional(),
  /** v1 scheduling keys, accepted for `dativo start orchestrated`. */
  schedule: z.unknown().optional(),
  /** v1: retries of the job's requests (`max_attempts`, `initial_delay_seconds`, `max_delay_seconds`, `backoff_multiplier`). */
  retry_config: z
    .object({
      max_attempts: positiveIntLike.optional(),
      initial_delay_seconds: z.union([z.number(), z.string()]).optional(),
      max_delay_seconds: z.union([z.number(), z.string()]).optional(),
      backoff_multiplier: z.union([z.number(), z.string()]).optional(),
    })
    .optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  /** The error policy for this job, over `configs/error_handling.yaml` key by key (see docs/error-handling.md). */
  error_handling: errorHandlingSchema.optional(),
});

export type JobConfig = z.output<typeof jobSchema>;
