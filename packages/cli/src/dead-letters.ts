import path from 'node:path';
import { deadLetterLine, dlqDay, JsonlDeadLetterQueue, pruneDeadLetters, RefusingDeadLetterQueue, type DeadLetterEntry, type DeadLetterQueue, type Logger, type Redactor } from '@dativo/core';
import type { ErrorHandling } from '@dativo/job-config';
import type { GlobalOptions } from './globals.js';

/** A run's dead-letter queue as the error policy says: local JSONL (default), S3, or refused. */
export interface RunDeadLetters {
  queue: DeadLetterQueue;
  /** Where the run's entries go, for the summary. */
  location: string;
}

/**
 * Entries as JSON lines in one S3 object per run (`<prefix>[<tenant>/]<job>/<day>/<run>.jsonl`),
 * streamed by a multipart upload that completes when the run closes the queue.
 */
class S3DeadLetterQueue implements DeadLetterQueue {
  private upload: Awaited<ReturnType<import('@dativo/parquet-kit').S3Storage['create']>> | undefined;
  private written = 0;
  constructor(
    private readonly storage: import('@dativo/parquet-kit').S3Storage,
    private readonly key: string,
    private readonly redactor: Redactor,
  ) {}
  get count(): number {
    return this.written;
  }
  async put(entry: DeadLetterEntry): Promise<void> {
    this.upload ??= await this.storage.create(this.key);
    this.written++;
    await this.upload.write(Buffer.from(deadLetterLine(entry, this.redactor)));
  }
  async close(): Promise<void> {
    const upload = this.upload;
    this.upload = undefined;
    if (upload) await upload.finish();
    await this.storage.close();
  }
}

export async function openDeadLetters(policy: ErrorHandling, ids: { tenant: string; job: string; runId: string }, g: GlobalOptions, redactor: Redactor, log: Logger): Promise<RunDeadLetters> {
  const dlq = policy.dead_letter_queue ?? {};
  if (dlq.enabled === false) return { queue: new RefusingDeadLetterQueue(), location: 'disabled' };
  if (dlq.s3_bucket && !g.dlqDirExplicit) {
    const { S3Storage } = await import('@dativo/parquet-kit');
    const prefix = dlq.s3_prefix ?? 'dlq/';
    // A prefix that already names the tenant (`dlq/${TENANT_ID}/`) is not given it twice.
    const tenantPart = prefix.split('/').includes(ids.tenant) ? '' : `${ids.tenant}/`;
    const endpoint = dlq.endpoint ?? g.env.S3_ENDPOINT ?? g.env.AWS_ENDPOINT_URL;
    const storage = new S3Storage(
      {
        bucket: dlq.s3_bucket,
        prefix,
        region: dlq.region ?? g.env.AWS_REGION ?? 'us-east-1',
        path_style_access: Boolean(endpoint),
        ...(endpoint ? { endpoint } : {}),
        ...(g.env.AWS_ACCESS_KEY_ID && g.env.AWS_SECRET_ACCESS_KEY ? { access_key_id: g.env.AWS_ACCESS_KEY_ID, secret_access_key: g.env.AWS_SECRET_ACCESS_KEY } : {}),
      },
      prefix,
    );
    const key = `${tenantPart}${ids.job}/${dlqDay(new Date())}/${ids.runId}.jsonl`;
    if (dlq.retention_days) await pruneS3(storage, `${tenantPart}${ids.job}/`, dlq.retention_days, log);
    return { queue: new S3DeadLetterQueue(storage, key, redactor), location: storage.uri(key) };
  }
  const dir = g.dlqDirExplicit || !dlq.dir ? g.dlqDir : path.resolve(g.cwd, dlq.dir);
  if (dlq.retention_days) {
    const removed = await pruneDeadLetters(dir, { tenant: ids.tenant }, dlq.retention_days);
    if (removed.length) log.info('dead-letter retention: old days removed', { days: dlq.retention_days, removed: removed.length });
  }
  const queue = new JsonlDeadLetterQueue(dir, ids, redactor);
  return { queue, location: queue.file };
}

/** Retention on S3: objects under `<job>/<day>/` older than `days` days are deleted. */
async function pruneS3(storage: import('@dativo/parquet-kit').S3Storage, jobPrefix: string, days: number, log: Logger): Promise<void> {
  const oldest = dlqDay(new Date(Date.now() - days * 86_400_000));
  let removed = 0;
  for (const key of await storage.list(jobPrefix)) {
    const day = /^(\d{4}-\d{2}-\d{2})\//.exec(key.slice(jobPrefix.length))?.[1];
    if (day && day < oldest) {
      await storage.delete(key);
      removed++;
    }
  }
  if (removed) log.info('dead-letter retention: old objects removed', { days, removed });
}
