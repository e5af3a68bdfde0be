import { randomBytes } from 'node:crypto';
import { Queue, type Job, type JobState } from 'bullmq';
import { Redis } from 'ioredis';
import { DativoError } from '@dativo/core/definition';

/**
 * Where the fleet keeps things in Redis. BullMQ owns delivery: one queue per tenant
 * (`<prefix>:runs.<tenant>:…`), so a worker can serve some tenants only and the tenant's
 * concurrency is the queue's global concurrency. Dativo adds a few keys of its own beside them:
 * the set of tenants, the schedules and their paused flags, per-schedule run leases, worker
 * heartbeats and the cancel channel.
 */
export interface FleetOptions {
  /** redis:// URL. */
  url: string;
  /** Key prefix (default `dativo`). */
  prefix?: string;
}

/** What a queued run carries. */
export interface RunData {
  /** Absolute path of the job file (every worker must see the same path). */
  file: string;
  tenant: string;
  /** Schedule that fired it, when one did. */
  schedule?: string;
  trigger: 'schedule' | 'submit' | 'api';
  /** Who asked for it (an API token's name, a user at `dativo submit`). */
  by?: string;
  tags?: Record<string, string>;
}

/** Live figures of a running run (BullMQ progress). */
export interface RunProgressData {
  rows: number;
  bytes: number;
  rowsPerSecond: number;
  streams: Array<{ name: string; rows: number; expected?: number; at?: string; done?: boolean }>;
  at: number;
}

/** What a finished run reports (the `dativo run --json` job report). */
export interface RunReport {
  status: 'succeeded' | 'partial' | 'failed' | 'cancelled';
  exitCode: number;
  rows: number;
  bytes: number;
  files: number;
  rejected: number;
  seconds: number;
  deadLetterFile?: string;
  error?: { kind: string; message: string; code?: string };
  job?: string;
  /** Rows written per stream. */
  streams?: RunProgressData['streams'];
}

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'partial' | 'failed' | 'cancelled';

/** A run as the API and console show it. */
export interface RunView {
  id: string;
  tenant: string;
  file: string;
  job?: string;
  schedule?: string;
  trigger: string;
  by?: string;
  status: RunStatus;
  queuedAt: number;
  startedAt?: number;
  finishedAt?: number;
  /** Times a worker took it (more than 1 after a worker died mid-run). */
  attempts: number;
  worker?: string;
  rows: number;
  bytes: number;
  rowsPerSecond: number;
  durationSeconds?: number;
  deadLetters: number;
  deadLetterFile?: string;
  error?: string;
  streams?: RunProgressData['streams'];
}

const SAFE_TENANT = /^[A-Za-z0-9_-]+$/;

/** BullMQ queue name of a tenant's runs (names with other characters are hex-encoded). */
export function queueNameOf(tenant: string): string {
  return SAFE_TENANT.test(tenant) ? `runs.${tenant}` : `runs.x${Buffer.from(tenant, 'utf8').toString('hex')}`;
}

/** The Redis connection options BullMQ needs (commands wait through a reconnect instead of failing). */
export function connect(url: string, name: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, connectionName: name });
}

/** Shared access to the fleet's Redis: queues per tenant, schedules, runs, cancellation. */
export class Fleet {
  readonly prefix: string;
  readonly url: string;
  readonly redis: Redis;
  private readonly queues = new Map<string, Queue<RunData>>();

  constructor(options: FleetOptions) {
    this.url = options.url;
    this.prefix = options.prefix ?? 'dativo';
    this.redis = connect(options.url, `${this.prefix}-fleet`);
    // Reconnection is ioredis's; errors while Redis is away are reported by whoever waits on a command.
    this.redis.on('error', () => undefined);
  }

  key(...parts: string[]): string {
    return [this.prefix, ...parts].join(':');
  }

  queue(tenant: string): Queue<RunData> {
    let q = this.queues.get(tenant);
    if (!q) {
      q = new Queue<RunData>(queueNameOf(tenant), { connection: this.redis, prefix: this.prefix });
      q.on('error', () => undefined);
      this.queues.set(tenant, q);
    }
    return q;
  }

  async tenants(): Promise<string[]> {
    return (await this.redis.smembers(this.key('tenants'))).sort();
  }

  /** Registers a tenant (workers serving every tenant pick its queue up) and its concurrency. */
  async addTenant(tenant: string, concurrency?: number): Promise<void> {
    await this.redis.sadd(this.key('tenants'), tenant);
    const q = this.queue(tenant);
    if (concurrency !== undefined) await q.setGlobalConcurrency(concurrency);
    else if ((await q.getGlobalConcurrency()) === null) await q.setGlobalConcurrency(1);
    await this.redis.publish(this.key('events'), JSON.stringify({ type: 'tenant', tenant }));
  }

  /** Queues a one-off run; returns its id. */
  async enqueue(data: RunData, keepRuns = 1000): Promise<string> {
    await this.addTenant(data.tenant);
    // Ids unique over every tenant (BullMQ's own count per queue would repeat across tenants).
    const job = await this.queue(data.tenant).add('run', data, { ...runJobOptions(keepRuns), jobId: `r${Date.now().toString(36)}${randomBytes(4).toString('hex')}` });
    if (!job.id) throw new DativoError('Redis did not return an id for the queued run', { kind: 'transient' });
    return job.id;
  }

  async run(tenant: string, id: string): Promise<Job<RunData> | undefined> {
    return (await this.queue(tenant).getJob(id)) ?? undefined;
  }

  /** Finds a run by id over the tenants given (all by default). */
  async findRun(id: string, tenants?: string[]): Promise<Job<RunData> | undefined> {
    for (const tenant of tenants ?? (await this.tenants())) {
      const job = await this.run(tenant, id);
      if (job) return job;
    }
    return undefined;
  }

  /** Recent runs of the tenants given, newest first. */
  async listRuns(tenants: string[], options: { limit?: number; states?: JobState[] } = {}): Promise<Job<RunData>[]> {
    const limit = options.limit ?? 100;
    const states = options.states ?? ['active', 'waiting', 'prioritized', 'delayed', 'completed', 'failed'];
    const all: Job<RunData>[] = [];
    for (const tenant of tenants) all.push(...(await this.queue(tenant).getJobs(states, 0, limit - 1, false)).filter((j): j is Job<RunData> => Boolean(j)));
    return all.sort((a, b) => b.timestamp - a.timestamp).slice(0, limit);
  }

  async counts(tenant: string): Promise<Record<string, number>> {
    return this.queue(tenant).getJobCounts('active', 'waiting', 'prioritized', 'delayed', 'completed', 'failed');
  }

  /** Asks the worker running a run to stop it; a queued run is removed. Returns what happened. */
  async cancel(job: Job<RunData>): Promise<'cancelled' | 'stopping' | 'finished' | 'scheduled'> {
    const state = await job.getState();
    if (state === 'completed' || state === 'failed') return 'finished';
    // A schedule's next firing, not yet due: removing it would stop the schedule (pause it instead).
    if (state === 'delayed' && job.repeatJobKey) return 'scheduled';
    await this.redis.set(this.key('cancelled', queueNameOf(job.data.tenant), job.id ?? ''), '1', 'EX', 7 * 24 * 3600);
    if (state === 'active') {
      await this.redis.publish(this.key('events'), JSON.stringify({ type: 'cancel', tenant: job.data.tenant, id: job.id }));
      return 'stopping';
    }
    try {
      await job.remove();
      return 'cancelled';
    } catch {
      // Taken by a worker meanwhile: the flag stops it when it starts.
      await this.redis.publish(this.key('events'), JSON.stringify({ type: 'cancel', tenant: job.data.tenant, id: job.id }));
      return 'stopping';
    }
  }

  async isCancelled(tenant: string, id: string): Promise<boolean> {
    return (await this.redis.exists(this.key('cancelled', queueNameOf(tenant), id))) === 1;
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.redis.disconnect();
  }
}

/** BullMQ options of every run: delivered once (a worker that dies mid-run hands it on), kept for the console. */
export function runJobOptions(keepRuns: number) {
  return {
    attempts: 1,
    removeOnComplete: { count: keepRuns },
    removeOnFail: { count: keepRuns },
  };
}

/** When a run was due: its schedule slot (a job scheduler's run id ends with it), else when it was queued. */
export function dueAt(job: Job<RunData>): number {
  const slot = /^repeat:.+:(\d+)$/.exec(job.id ?? '');
  if (slot?.[1]) return Number(slot[1]);
  return job.timestamp + (job.opts.delay ?? 0);
}

/** A BullMQ job as a run of the API and console. */
export async function viewOf(job: Job<RunData>): Promise<RunView> {
  const state = await job.getState();
  const progress = (typeof job.progress === 'object' && job.progress ? job.progress : undefined) as RunProgressData | undefined;
  const report = job.returnvalue as RunReport | null | undefined;
  let status: RunStatus;
  if (state === 'active') status = 'running';
  else if (state === 'completed') status = report?.status ?? 'succeeded';
  else if (state === 'failed') status = job.failedReason?.startsWith('cancelled') ? 'cancelled' : 'failed';
  else status = 'queued';
  const rows = report?.rows ?? progress?.rows ?? 0;
  const durationSeconds = report?.seconds ?? (job.processedOn && job.finishedOn ? (job.finishedOn - job.processedOn) / 1000 : undefined);
  return {
    id: job.id ?? '',
    tenant: job.data.tenant,
    file: job.data.file,
    ...(report?.job ? { job: report.job } : {}),
    ...(job.data.schedule ? { schedule: job.data.schedule } : {}),
    trigger: job.data.trigger,
    ...(job.data.by ? { by: job.data.by } : {}),
    status,
    queuedAt: dueAt(job),
    ...(job.processedOn ? { startedAt: job.processedOn } : {}),
    ...(job.finishedOn ? { finishedAt: job.finishedOn } : {}),
    attempts: job.stalledCounter + 1,
    ...(job.processedBy ? { worker: job.processedBy } : {}),
    rows,
    bytes: report?.bytes ?? progress?.bytes ?? 0,
    rowsPerSecond: report && durationSeconds ? Math.round(rows / Math.max(durationSeconds, 0.001)) : (progress?.rowsPerSecond ?? 0),
    ...(durationSeconds !== undefined ? { durationSeconds } : {}),
    deadLetters: report?.rejected ?? 0,
    ...(report?.deadLetterFile ? { deadLetterFile: report.deadLetterFile } : {}),
    ...(report?.error ? { error: report.error.message } : job.failedReason ? { error: job.failedReason } : {}),
    ...(report?.streams ? { streams: report.streams } : progress?.streams && !report ? { streams: progress.streams } : {}),
  };
}
