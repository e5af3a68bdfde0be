import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { DelayedError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '@dativo/core/definition';
import { connect, dueAt, queueNameOf, type Fleet, type RunData, type RunProgressData, type RunReport } from './fleet.js';
import type { RunExecutor } from './executor.js';

export interface FleetWorkerOptions {
  fleet: Fleet;
  executor: RunExecutor;
  log: Logger;
  /** Runs this process runs at once (default 1). */
  concurrency?: number;
  /** Only these tenants' runs (default: every tenant, new ones picked up as they appear). */
  tenants?: string[];
  /** Seconds a run stays owned by this worker without a lock renewal (default 30). */
  lockSeconds?: number;
  /** Log lines kept per run (default 1000). */
  keepLogs?: number;
  name?: string;
}

/** What a worker tracks a run by: BullMQ ids are unique per tenant queue only. */
function runKey(tenant: string, id: string): string {
  return `${tenant}/${id}`;
}

interface Lease {
  key: string;
  limit: number;
}

/** Lua: takes a lease in a sorted set of holders when fewer than ARGV[1] live ones hold it. */
const ACQUIRE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
if redis.call('ZSCORE', KEYS[1], ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[4], ARGV[2])
  return 1
end
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], ARGV[4], ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  return 1
end
return 0`;

/**
 * A worker of the fleet: one BullMQ worker per tenant queue it serves, at most `concurrency` runs
 * at once over all of them. BullMQ delivers each run to one worker, renews the worker's lock while
 * the run goes on, and hands the run to another worker when the lock expires (the owner died).
 * Each run is executed by the {@link RunExecutor} (a `dativo run` child process).
 */
export class FleetWorker {
  readonly id: string;
  private readonly options: FleetWorkerOptions;
  private readonly concurrency: number;
  private readonly lockMs: number;
  private readonly workers = new Map<string, Worker<RunData, RunReport>>();
  /** Connections handed to BullMQ workers (BullMQ leaves a given connection open: closed here). */
  private readonly connections: Redis[] = [];
  private readonly running = new Map<string, AbortController>();
  /** Runs this worker stopped so another worker can take them over (not finished). */
  private readonly handedOver = new Set<string>();
  /** When each running run's lock was last renewed (or taken). */
  private readonly renewedAt = new Map<string, number>();
  private subscriber: Redis | undefined;
  private timers: NodeJS.Timeout[] = [];
  private closing = false;
  /** Runs finished by this worker (for tests and the heartbeat). */
  finished = 0;

  constructor(options: FleetWorkerOptions) {
    this.options = options;
    this.concurrency = options.concurrency ?? 1;
    this.lockMs = (options.lockSeconds ?? 30) * 1000;
    this.id = options.name ?? `${hostname()}:${process.pid}`;
  }

  get active(): number {
    return this.running.size;
  }

  async start(): Promise<void> {
    const { fleet } = this.options;
    this.subscriber = connect(fleet.url, `${fleet.prefix}-worker-events`);
    this.subscriber.on('error', () => undefined);
    await this.subscriber.subscribe(fleet.key('events'));
    this.subscriber.on('message', (_channel, message) => this.onEvent(message));
    await this.syncTenants();
    // Tenants that appear while the channel was down are found on the next look.
    this.timers.push(setInterval(() => void this.syncTenants().catch(() => undefined), 5000));
    this.timers.push(setInterval(() => void this.heartbeat().catch(() => undefined), 5000));
    // A run whose lock could not be renewed for one and a half lock periods (Redis out of reach)
    // stops: another worker may take it over after one, and finds its job lease free after two and a
    // half (the lease is this worker's copy's, not the run's).
    this.timers.push(
      setInterval(() => {
        const now = Date.now();
        for (const [id, at] of this.renewedAt) if (now - at > 1.5 * this.lockMs) this.handOver(id, 'could not renew the lock of this run (Redis out of reach)');
      }, Math.max(250, this.lockMs / 4)),
    );
    await this.heartbeat().catch(() => undefined);
    this.options.log.info('worker started', { worker: this.id, concurrency: this.concurrency, tenants: this.options.tenants ?? 'all', lockSeconds: this.lockMs / 1000 });
  }

  private onEvent(message: string): void {
    let event: { type?: string; tenant?: string; id?: string };
    try {
      event = JSON.parse(message) as typeof event;
    } catch {
      return;
    }
    if (event.type === 'tenant' && event.tenant) void this.serve(event.tenant).catch((error: unknown) => this.options.log.warn('could not serve tenant', { tenant: event.tenant, error }));
    if (event.type === 'cancel' && event.id && event.tenant) this.running.get(runKey(event.tenant, event.id))?.abort(new Error('cancelled by request'));
  }

  private async syncTenants(): Promise<void> {
    if (this.closing) return;
    const tenants = this.options.tenants ?? (await this.options.fleet.tenants());
    for (const t of tenants) await this.serve(t);
  }

  private async serve(tenant: string): Promise<void> {
    if (this.closing || this.workers.has(tenant)) return;
    if (this.options.tenants && !this.options.tenants.includes(tenant)) return;
    const { fleet } = this.options;
    const connection = connect(fleet.url, `${fleet.prefix}-worker`);
    connection.on('error', () => undefined);
    this.connections.push(connection);
    const worker = new Worker<RunData, RunReport>(queueNameOf(tenant), (job, token, signal) => this.process(job, token, signal), {
      connection,
      prefix: fleet.prefix,
      concurrency: this.concurrency,
      lockDuration: this.lockMs,
      stalledInterval: Math.max(1000, Math.round(this.lockMs / 2)),
      // A run whose worker died is handed on this many times before it is marked failed.
      maxStalledCount: 3,
      name: this.id,
    });
    worker.on('error', (error) => this.options.log.debug('worker connection', { tenant, error: error.message }));
    // The lock is gone (expired while Redis was out of reach, or another worker holds it): the run
    // may be running elsewhere now, so this copy stops (after its batch, publishing nothing more).
    worker.on('lockRenewalFailed', (ids) => {
      for (const id of ids) this.handOver(runKey(tenant, id), 'lost the lock of this run to another worker');
    });
    worker.on('locksRenewed', ({ jobIds }) => {
      const now = Date.now();
      for (const id of jobIds) this.renewedAt.set(runKey(tenant, id), now);
    });
    this.workers.set(tenant, worker);
  }

  private async process(job: Job<RunData, RunReport>, token: string | undefined, signal?: AbortSignal): Promise<RunReport> {
    const { fleet, log } = this.options;
    const id = job.id ?? '';
    // Run ids are per tenant queue: what this worker tracks is keyed by tenant and id.
    const rk = runKey(job.data.tenant, id);
    // The BullMQ worker of another tenant queue of this process holds the last slot: the run goes
    // back for a second (any idle worker may take it then). Only a worker serving several tenants
    // at full concurrency does this, at most once a second per queue.
    if (this.running.size >= this.concurrency) {
      await job.moveToDelayed(Date.now() + 1000, token);
      throw new DelayedError();
    }
    // The slot is taken before anything is awaited, so two tenant queues cannot both pass the check.
    const controller = new AbortController();
    this.running.set(rk, controller);
    this.renewedAt.set(rk, Date.now());
    let leases: Lease[] = [];
    try {
      if (await fleet.isCancelled(job.data.tenant, id)) return { status: 'cancelled', exitCode: 2, rows: 0, bytes: 0, files: 0, rejected: 0, seconds: 0, error: { kind: 'cancelled', message: 'cancelled before it started' } };
      leases = await this.acquireLeases(job.data, rk);
      if (!leases.length) {
        // The same job runs elsewhere (two runs of one job would write one location at once), or
        // its schedule already runs max_concurrent_runs: wait and try again, longer each time
        // (0.5 s, up to 5 s), so many runs of one long job do not keep the workers busy.
        await job.moveToDelayed(Date.now() + Math.min(5000, 500 * Math.max(1, job.attemptsStarted)), token);
        throw new DelayedError();
      }
    } finally {
      if (!leases.length) {
        this.running.delete(rk);
        this.renewedAt.delete(rk);
      }
    }
    // A copy of this run that finished elsewhere but could not record it in BullMQ (its lock was lost
    // at the end): its report stands; running the job again would read it all again.
    const prior = await fleet.redis.get(fleet.key('done', queueNameOf(job.data.tenant), id)).catch(() => null);
    if (prior) {
      await this.releaseLeases(leases, rk);
      this.running.delete(rk);
      this.renewedAt.delete(rk);
      log.info('run already finished by another worker', { runId: id, tenant: job.data.tenant });
      return JSON.parse(prior) as RunReport;
    }
    signal?.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
    const renew = setInterval(() => void Promise.all(leases.map((l) => this.takeLease(l, rk))).catch(() => undefined), Math.max(500, this.lockMs / 3));
    const runLog = log.child({ runId: id, tenant: job.data.tenant, ...(job.data.schedule ? { schedule: job.data.schedule } : {}) });
    runLog.info('run taken', { worker: this.id, attempt: job.stalledCounter + 1, queuedMs: Date.now() - dueAt(job) });
    let lastProgress = 0;
    try {
      const report = await this.options.executor({
        id,
        data: job.data,
        signal: controller.signal,
        onLog: (line) => void job.log(line).catch(() => undefined),
        onProgress: (p: RunProgressData) => {
          if (Date.now() - lastProgress < 500) return;
          lastProgress = Date.now();
          void job.updateProgress(p).catch(() => undefined);
        },
      });
      runLog.info('run ended', { status: report.status, rows: report.rows, seconds: report.seconds, ...(report.error ? { error: report.error.message } : {}) });
      // Recorded before the leases go (a copy that took the run over reads it), unless this copy
      // was stopped to hand the run over (lost lock, worker stopping): then the run is not done.
      if (!this.handedOver.has(rk)) await fleet.redis.set(fleet.key('done', queueNameOf(job.data.tenant), id), JSON.stringify(report), 'EX', 7 * 24 * 3600).catch(() => undefined);
      this.finished++;
      return report;
    } finally {
      clearInterval(renew);
      await this.releaseLeases(leases, rk);
      this.running.delete(rk);
      this.renewedAt.delete(rk);
      this.handedOver.delete(rk);
    }
  }

  /**
   * Leases a run needs, over every worker: its job (one run of a job file at a time) and, for a
   * schedule's run, one of the schedule's `max_concurrent_runs`. All or none: an empty list means
   * wait. A lease expires (a dead worker's) after two and a half lock periods without renewal.
   */
  /** Stops this worker's copy of a run (after its batch) without marking the run done. */
  private handOver(id: string, reason: string): void {
    const c = this.running.get(id);
    if (!c || c.signal.aborted) return;
    this.handedOver.add(id);
    this.options.log.warn('stopping a run to hand it over', { runId: id, reason });
    c.abort(new Error(reason));
  }

  private async acquireLeases(data: RunData, id: string): Promise<Lease[]> {
    const { fleet } = this.options;
    const wanted: Lease[] = [{ key: fleet.key('leases', 'job', createHash('sha256').update(`${data.tenant}\0${data.file}`).digest('hex').slice(0, 32)), limit: 1 }];
    if (data.schedule) {
      const raw = await fleet.redis.hget(fleet.key('schedules'), data.schedule);
      const limit = raw ? ((JSON.parse(raw) as { max_concurrent_runs?: number }).max_concurrent_runs ?? 1) : 1;
      wanted.push({ key: fleet.key('leases', 'schedule', data.schedule), limit });
    }
    const taken: Lease[] = [];
    for (const lease of wanted) {
      if (!(await this.takeLease(lease, id))) {
        await this.releaseLeases(taken, id);
        return [];
      }
      taken.push(lease);
    }
    return taken;
  }

  /** Leases are held by this worker's copy of a run: a copy on another worker (a takeover) waits for them. */
  private holder(id: string): string {
    return `${this.id}|${id}`;
  }

  private async takeLease(lease: Lease, id: string): Promise<boolean> {
    const now = Date.now();
    return (await this.options.fleet.redis.eval(ACQUIRE, 1, lease.key, lease.limit, this.holder(id), now, now + this.lockMs * 2.5, this.lockMs * 8)) === 1;
  }

  private async releaseLeases(leases: Lease[], id: string): Promise<void> {
    for (const l of leases) await this.options.fleet.redis.zrem(l.key, this.holder(id)).catch(() => undefined);
  }

  private async heartbeat(): Promise<void> {
    const { fleet } = this.options;
    await fleet.redis.set(
      fleet.key('worker', this.id),
      JSON.stringify({ id: this.id, host: hostname(), pid: process.pid, concurrency: this.concurrency, tenants: this.options.tenants ?? null, active: [...this.running.keys()], finished: this.finished, at: Date.now() }),
      'EX',
      15,
    );
  }

  /** Stops taking runs; with `graceful`, lets the running ones finish (else they are stopped after their batch). */
  async close(graceful = true): Promise<void> {
    this.closing = true;
    for (const t of this.timers) clearInterval(t);
    if (!graceful) for (const id of this.running.keys()) this.handOver(id, 'worker stopping');
    await Promise.all([...this.workers.values()].map((w) => w.close()));
    for (const c of this.connections) c.disconnect();
    this.subscriber?.disconnect();
    await this.options.fleet.redis.del(this.options.fleet.key('worker', this.id)).catch(() => undefined);
  }
}
