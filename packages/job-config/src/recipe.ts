import { z } from 'zod';
import { numberLike, positiveIntLike } from '@dativo/core/definition';

/** A v1 connector recipe (`connectors/<name>.yaml`): how to reach a kind of system. */
export const recipeSchema = z.object({
  $schema: z.string().optional(),
  name: z.string().min(1),
  type: z.string().min(1).optional(),
  version: z.union([z.string(), z.number()]).optional(),
  description: z.string().optional(),
  roles: z.array(z.enum(['source', 'target'])).default(['source', 'target']),
  credentials: z
    .object({
      type: z.string().optional(),
      from_env: z.string().optional(),
      file_template: z.string().optional(),
    })
    .catchall(z.unknown())
    .optional(),
  connection_template: z.record(z.string(), z.unknown()).optional(),
  incremental: z
    .object({
      strategy: z.string().optional(),
      cursor_field_default: z.string().optional(),
      lookback_days_default: numberLike.optional(),
    })
    .catchall(z.unknown())
    .optional(),
  rate_limits: z
    .object({
      rps_default: numberLike.optional(),
      burst_default: positiveIntLike.optional(),
      retry: z
        .object({
          max_retries: positiveIntLike.optional(),
          backoff: z.enum(['exponential', 'constant', 'linear']).optional(),
          max_backoff_seconds: numberLike.optional(),
        })
        .optional(),
    })
    .optional(),
  /** v1 (target recipes): the file format written, and the partitioning when neither asset nor job sets one. */
  file_format: z.string().optional(),
  partitioning_default: z.array(z.string()).optional(),
  /** v1 named a Python engine (airbyte, meltano, native); accepted and ignored. */
  default_engine: z.unknown().optional(),
  engines_supported: z.unknown().optional(),
  supports_incremental: z.unknown().optional(),
  /** Anything else is passed to the connector as defaults. */
  defaults: z.record(z.string(), z.unknown()).optional(),
});

export type RecipeConfig = z.output<typeof recipeSchema>;
