import type { ZodType } from 'zod';
import { DativoError } from '../errors.js';
import type { JsonValue } from './messages.js';

/**
 * A connector's checkpoint state, checked against the schema of what it writes. `null` or nothing
 * means "from the beginning" (a reset stores `null`). A state the connector cannot read — written
 * by another connector or version, or edited — is an error: silently starting over would load
 * everything again.
 */
export function parseCheckpointState<T>(schema: ZodType<T>, state: JsonValue | undefined, where: { connector: string; stream: string }): T | undefined {
  if (state === undefined || state === null) return undefined;
  const parsed = schema.safeParse(state);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new DativoError(
    `the checkpoint of stream '${where.stream}' is not one the ${where.connector} source writes (${issue ? `${issue.path.join('.') || 'state'}: ${issue.message}` : 'unexpected shape'}); reset the job's state (dativo state reset --config <job.yaml>) to start over`,
    { kind: 'permanent', code: 'BAD_CHECKPOINT', details: { stream: where.stream } },
  );
}
