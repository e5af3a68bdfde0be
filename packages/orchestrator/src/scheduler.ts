import type { Logger } from '@dativo/core/definition';
import { runJobOptions, type Fleet, type RunData } from './fleet.js';
import type { LoadedRunnerConfig, ResolvedSchedule } from './runner-config.js';

export interface StoredSchedule extends ResolvedSchedule {
  /** Paused from the API or console (kept in Redis, over restarts, until resumed). */
  paused: boolean;
}

export interface ApplyResult {
  /** Schedules that fire. */
  active: string[];
  /** Disabled in the file or paused. */
  idle: string[];
  /** In Redis from an earlier file, gone from this one: removed. */
  removed: string[];
}

/**
 * Puts the runner file's schedules into Redis as BullMQ job schedulers (one per schedule, keyed by
 * its name, in its tenant's queue). Upserting is idempotent, so any number of scheduler processes
 * may apply the same file, at any time, and each slot fires once; BullMQ adds each next run when
 * the previous one is taken. A disabled or paused schedule has no job scheduler; a schedule that
 * left the file is removed. The tenants' concurrency (`concurrency_per_tenant`) is set on their
 * queues.
 */
export async function applySchedules(fleet: Fleet, loaded: LoadedRunnerConfig, log: Logger): Promise<ApplyResult> {
  const config = loaded.config;
  const result: ApplyResult = { active: [], idle: [], removed: [] };
  const previous = await storedSchedules(fleet);
  const tenants = new Set([...(await fleet.tenants()), ...loaded.schedules.map((s) => s.tenant)]);
  for (const tenant of tenants) await fleet.addTenant(tenant, config.orchestrator.concurrency_per_tenant);
  for (const s of loaded.schedules) {
    await fleet.redis.hset(fleet.key('schedules'), s.name, JSON.stringify(s));
    const before = previous.get(s.name);
    // A schedule whose job moved to another tenant leaves its old queue.
    if (before && before.tenant !== s.tenant) await fleet.queue(before.tenant).removeJobScheduler(s.name);
    if (!s.enabled || before?.paused) {
      await fleet.queue(s.tenant).removeJobScheduler(s.name);
      result.idle.push(s.name);
      continue;
    }
    // Unchanged and in place: left alone. (Upserting again would move the next firing to now: a
    // restart must not fire an extra run.)
    const unchanged = before && definition(before) === definition(s) && !before.paused && (await fleet.queue(s.tenant).getJobScheduler(s.name));
    if (!unchanged) await upsert(fleet, s, config.keep_runs);
    result.active.push(s.name);
  }
  const names = new Set(loaded.schedules.map((s) => s.name));
  for (const [name, s] of previous) {
    if (names.has(name)) continue;
    await fleet.queue(s.tenant).removeJobScheduler(name);
    await fleet.redis.hdel(fleet.key('schedules'), name);
    await fleet.redis.srem(fleet.key('paused'), name);
    result.removed.push(name);
  }
  log.info('schedules applied', { file: loaded.file, active: result.active, idle: result.idle, removed: result.removed, concurrencyPerTenant: config.orchestrator.concurrency_per_tenant });
  return result;
}

/** What makes a schedule fire differently (its name aside). */
function definition(s: ResolvedSchedule): string {
  return JSON.stringify([s.file, s.tenant, s.cron ?? null, s.interval_seconds ?? null, s.timezone, s.enabled, s.tags ?? null]);
}

async function upsert(fleet: Fleet, s: ResolvedSchedule, keepRuns: number): Promise<void> {
  const data: RunData = { file: s.file, tenant: s.tenant, schedule: s.name, trigger: 'schedule', ...(s.tags ? { tags: s.tags } : {}) };
  await fleet.queue(s.tenant).upsertJobScheduler(s.name, s.cron !== undefined ? { pattern: s.cron, tz: s.timezone } : { every: (s.interval_seconds ?? 60) * 1000 }, { name: 'run', data, opts: runJobOptions(keepRuns) });
}

export async function storedSchedules(fleet: Fleet): Promise<Map<string, StoredSchedule>> {
  const raw = await fleet.redis.hgetall(fleet.key('schedules'));
  const paused = new Set(await fleet.redis.smembers(fleet.key('paused')));
  const out = new Map<string, StoredSchedule>();
  for (const [name, json] of Object.entries(raw)) out.set(name, { ...(JSON.parse(json) as ResolvedSchedule), paused: paused.has(name) });
  return out;
}

/** Pauses a schedule everywhere (kept over restarts until resumed); runs already queued still run. */
export async function pauseSchedule(fleet: Fleet, s: StoredSchedule): Promise<void> {
  await fleet.redis.sadd(fleet.key('paused'), s.name);
  await fleet.queue(s.tenant).removeJobScheduler(s.name);
}

export async function resumeSchedule(fleet: Fleet, s: StoredSchedule, keepRuns = 1000): Promise<void> {
  await fleet.redis.srem(fleet.key('paused'), s.name);
  if (s.enabled) await upsert(fleet, s, keepRuns);
}

/** When each schedule fires next (from its BullMQ job scheduler). */
export async function nextRuns(fleet: Fleet, schedules: Iterable<StoredSchedule>): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const s of schedules) {
    const js = await fleet.queue(s.tenant).getJobScheduler(s.name);
    if (js?.next) out.set(s.name, js.next);
  }
  return out;
}
