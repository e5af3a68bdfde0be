import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { reliabilityRow, tempDir } from '@dativo/testing';
import { queryDuckDb, sqlString } from '@dativo/testing/duckdb';
import { Fleet, queueNameOf, viewOf, type RunView } from '@dativo/orchestrator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers.js';
import { CliProcess, dropPrefix, freePort, freshPrefix, noteLength, OwnRedis, rowsJob, rssMb, until, writeRowsAsset, writeRowsCsv } from './fleet-helpers.js';

// Orchestrated mode against real Redis: workers are `dativo worker` processes, runs are queued with
// `dativo submit` and `dativo scheduler`, and every test has a Redis key prefix of its own (the
// restart test has a redis-server of its own).

const scratch = tempDir('dativo-fleet-');
afterAll(() => scratch.cleanup());
const dir = scratch.path;
const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const BIG = 600_000;

function job(name: string, tenant: string, file: string, extra = ''): string {
  return rowsJob(dir, tenant, name, file, extra);
}

function worker(prefix: string, args: string[] = [], env: NodeJS.ProcessEnv = {}, redis = REDIS): CliProcess {
  return new CliProcess(['--log-format', 'json', 'worker', '--redis-url', redis, '--lock-seconds', '3', ...args], { cwd: dir, env: { DATIVO_REDIS_PREFIX: prefix, ...env } });
}

async function submit(prefix: string, jobFile: string, redis = REDIS): Promise<string> {
  const r = await runCli(['--json', 'submit', '--config', jobFile, '--redis-url', redis], { cwd: dir, env: { DATIVO_REDIS_PREFIX: prefix } });
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { id: string }).id;
}

async function views(fleet: Fleet, tenants?: string[]): Promise<RunView[]> {
  return Promise.all((await fleet.listRuns(tenants ?? (await fleet.tenants()), { limit: 2000 })).map((j) => viewOf(j)));
}

async function waitRun(fleet: Fleet, tenant: string, id: string, timeoutMs = 120_000): Promise<RunView> {
  let view: RunView | undefined;
  await until(
    async () => {
      const j = await fleet.run(tenant, id);
      view = j ? await viewOf(j) : undefined;
      return view !== undefined && !['queued', 'running'].includes(view.status);
    },
    timeoutMs,
    `run ${id} to end`,
  );
  if (!view) throw new Error('no run');
  return view;
}

/** Process ids whose parent is `pid` (Linux: /proc). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/**
 * Runs `action` while the process of the run `worker` is running is paused (SIGSTOP … SIGCONT), so
 * the run is still mid-way whatever `action` takes: the worker, not the run, renews locks and talks
 * to Redis.
 */
async function whileRunPaused(worker: CliProcess, action: () => Promise<void>): Promise<void> {
  const [run] = childrenOf(worker.pid);
  expect(run, 'the run has a process of its own').toBeDefined();
  process.kill(run!, 'SIGSTOP');
  try {
    await action();
  } finally {
    process.kill(run!, 'SIGCONT');
  }
}

function commitsOf(tenant: string, name: string): number {
  const commits = path.join(dir, 'out', tenant, name, '_dativo', 'commits');
  return existsSync(commits) ? (readdirSync(commits, { recursive: true }) as string[]).filter((f) => f.endsWith('.json')).length : 0;
}

async function checkExactlyOnce(tenant: string, name: string, rows: number): Promise<void> {
  const glob = path.join(dir, 'out', tenant, name, 'ingest_date=*', '*.parquet');
  const [r] = await queryDuckDb(`SELECT count(*)::BIGINT::VARCHAR AS n, count(DISTINCT id)::BIGINT::VARCHAR AS d, min(id)::VARCHAR AS lo, max(id)::VARCHAR AS hi, sum(length(note))::VARCHAR AS len FROM read_parquet(${sqlString(glob)})`);
  expect(r).toEqual({ n: String(rows), d: String(rows), lo: '0', hi: String(rows - 1), len: String(noteLength(rows)) });
}

/** When each run's own process started and ended its work (its `run started` and last log lines). */
async function intervals(fleet: Fleet, runs: RunView[]): Promise<Array<[number, number]>> {
  return Promise.all(
    runs.map(async (r) => {
      const lines = (await fleet.queue(r.tenant).getJobLogs(r.id)).logs.map((l) => JSON.parse(l) as { msg: string; time: string });
      const start = lines.find((l) => l.msg === 'run started');
      const end = lines.findLast((l) => l.msg === 'run finished' || l.msg === 'run failed');
      if (!start || !end) throw new Error(`run ${r.id} has no start or end line`);
      return [Date.parse(start.time), Date.parse(end.time)] as [number, number];
    }),
  );
}

/** Most runs at work at one instant. */
async function maxOverlap(fleet: Fleet, runs: RunView[]): Promise<number> {
  const events = (await intervals(fleet, runs)).flatMap(([a, b]) => [
    { t: a, d: 1 },
    { t: b, d: -1 },
  ]);
  events.sort((a, b) => a.t - b.t || a.d - b.d);
  let now = 0;
  let max = 0;
  for (const e of events) max = Math.max(max, (now += e.d));
  return max;
}

beforeAll(async () => {
  for (const sub of ['jobs', 'assets', 'data']) mkdirSync(path.join(dir, sub), { recursive: true });
  writeRowsAsset(dir);
  await writeRowsCsv(path.join(dir, 'data/big.csv'), BIG);
  await writeRowsCsv(path.join(dir, 'data/tiny.csv'), 3);
});

describe('dativo worker / submit on Redis', () => {
  it('a worker killed with kill -9 mid-run: another worker takes the run over and resumes it from the last commit, every row once', async () => {
    const prefix = freshPrefix();
    const fleet = new Fleet({ url: REDIS, prefix });
    const jobFile = job('killed', 'acme', '../../data/big.csv');
    const a = worker(prefix);
    try {
      await a.waitFor(/worker started/);
      const id = await submit(prefix, jobFile);
      // The run is under way and has committed at least once.
      await until(() => commitsOf('acme', 'killed') >= 1, 120_000, 'a first commit');
      // Killed mid-run (right after its first commit; the run's process is paused meanwhile, so the
      // run cannot end first); a second worker starts and takes the run over once the dead
      // worker's lock and lease have expired. The run's process, resumed, sees its worker gone and ends.
      await whileRunPaused(a, async () => {
        a.child.kill('SIGKILL');
        await a.exited;
      });
      const owner = await viewOf((await fleet.run('acme', id))!);
      expect(owner.status).toBe('running');
      expect(owner.worker).toBe(`${owner.worker?.split(':')[0]}:${a.pid}`);
      const b = worker(prefix);
      try {
        const done = await waitRun(fleet, 'acme', id);
        expect(done.status, JSON.stringify(done)).toBe('succeeded');
        expect(done.attempts).toBe(2);
        expect(done.worker).toContain(`:${b.pid}`);
        await checkExactlyOnce('acme', 'killed', BIG);
        const logs = (await fleet.queue('acme').getJobLogs(id)).logs.join('\n');
        expect(logs).toMatch(/resum/i);
      } finally {
        await b.stop();
      }
      reliabilityRow({ connector: 'Orchestrated mode (BullMQ on Redis)', fault: '`kill -9` of the worker running a run', outcome: 'the run ends with the worker; another worker takes it when the lock expires and resumes from the last commit: every row once' });
    } finally {
      await a.stop();
      await dropPrefix(fleet);
      await fleet.close();
    }
  });

  it('a worker that lost its lock stops its copy of the run; the worker that took it over finishes it once', async () => {
    const prefix = freshPrefix();
    const fleet = new Fleet({ url: REDIS, prefix });
    const jobFile = job('lost_lock', 'acme', '../../data/big.csv');
    const a = worker(prefix);
    try {
      await a.waitFor(/worker started/);
      const id = await submit(prefix, jobFile);
      await until(() => commitsOf('acme', 'lost_lock') >= 1, 120_000, 'a first commit');
      // The run's own process is paused until the worker has noticed (a whole run can take less
      // than one lock renewal): the worker, not the run, renews the lock.
      await whileRunPaused(a, async () => {
        // As if the lock had expired while Redis was out of reach: the next renewal fails.
        await fleet.redis.del(`${prefix}:${queueNameOf('acme')}:${id}:lock`);
        await a.waitFor(/lost the lock of this run/);
      });
      const b = worker(prefix);
      try {
        const done = await waitRun(fleet, 'acme', id);
        expect(done.status, JSON.stringify(done)).toBe('succeeded');
        await checkExactlyOnce('acme', 'lost_lock', BIG);
        const logs = (await fleet.queue('acme').getJobLogs(id)).logs.join('\n');
        expect(logs).toMatch(/resum/i);
      } finally {
        await b.stop();
      }
      expect(a.output).toContain('lost the lock of this run');
      reliabilityRow({ connector: 'Orchestrated mode (BullMQ on Redis)', fault: 'the lock of the worker running a run lost (deleted in Redis)', outcome: 'that worker stops its copy after the batch; the worker that takes the run over waits for its lease and resumes from the last commit: every row once' });
    } finally {
      await a.stop();
      await dropPrefix(fleet);
      await fleet.close();
    }
  });

  it('concurrency_per_tenant 1 holds over 4 workers: 20 queued runs of one tenant never run two at once', async () => {
    const prefix = freshPrefix();
    const fleet = new Fleet({ url: REDIS, prefix });
    const jobFile = job('serial', 'solo', '../../data/tiny.csv');
    const workers = [0, 1, 2, 3].map(() => worker(prefix));
    try {
      await Promise.all(workers.map((w) => w.waitFor(/worker started/)));
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) ids.push(await fleet.enqueue({ file: path.join(dir, jobFile), tenant: 'solo', trigger: 'submit' }));
      let seenActive = 0;
      await until(
        async () => {
          const c = await fleet.counts('solo');
          seenActive = Math.max(seenActive, c.active ?? 0);
          return (c.completed ?? 0) + (c.failed ?? 0) === 20;
        },
        240_000,
        '20 runs to end',
      );
      const runs = await views(fleet, ['solo']);
      expect(runs.map((r) => r.status)).toEqual(Array(20).fill('succeeded'));
      expect(seenActive).toBe(1);
      expect(await maxOverlap(fleet, runs)).toBe(1);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await dropPrefix(fleet);
      await fleet.close();
    }
  });

  it("max_concurrent_runs of a schedule and one run per job file hold while the tenant's concurrency lets other jobs run beside them", async () => {
    const prefix = freshPrefix();
    const fleet = new Fleet({ url: REDIS, prefix });
    const scheduled = job('scheduled', 'wide', '../../data/tiny.csv');
    const other = job('other', 'wide', '../../data/tiny.csv');
    writeFileSync(
      path.join(dir, `runner-${prefix}.yaml`),
      `runner:
  mode: orchestrated
  orchestrator:
    type: dagster
    schedules:
      - name: hourly
        config: ${scheduled}
        cron: "0 * * * *"
        max_concurrent_runs: 1
    concurrency_per_tenant: 3
  redis:
    prefix: ${prefix}
`,
    );
    const applied = await runCli(['scheduler', '--runner-config', `runner-${prefix}.yaml`, '--redis-url', REDIS, '--once'], { cwd: dir });
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stderr).toContain("'dagster'");
    const workers = [0, 1, 2].map(() => worker(prefix));
    try {
      await Promise.all(workers.map((w) => w.waitFor(/worker started/)));
      for (let i = 0; i < 6; i++) {
        await fleet.enqueue({ file: path.join(dir, scheduled), tenant: 'wide', schedule: 'hourly', trigger: 'api' });
        await fleet.enqueue({ file: path.join(dir, other), tenant: 'wide', trigger: 'submit' });
      }
      await until(async () => (await fleet.counts('wide')).completed === 12, 240_000, '12 runs to end');
      // (The schedule's own next run, due at the top of the hour, waits among them.)
      const runs = (await views(fleet, ['wide'])).filter((r) => r.trigger !== 'schedule');
      expect(runs).toHaveLength(12);
      expect(runs.filter((r) => r.status !== 'succeeded')).toEqual([]);
      expect(await maxOverlap(fleet, runs.filter((r) => r.schedule === 'hourly'))).toBe(1);
      // Two runs of one job file never run at once either (they would write one location).
      expect(await maxOverlap(fleet, runs.filter((r) => r.job === 'other'))).toBe(1);
      expect(await maxOverlap(fleet, runs)).toBeLessThanOrEqual(2);
      expect(await fleet.queue('wide').getGlobalConcurrency()).toBe(3);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await dropPrefix(fleet);
      await fleet.close();
    }
  });

  it('tenant isolation: a worker with --tenants takes only those tenants; a run sees its own secrets folder and no other tenant\'s', async () => {
    const prefix = freshPrefix();
    const fleet = new Fleet({ url: REDIS, prefix });
    const secrets = path.join(dir, `secrets-${prefix}`);
    mkdirSync(path.join(secrets, 'alpha'), { recursive: true });
    mkdirSync(path.join(secrets, 'beta'), { recursive: true });
    const alphaSecret = 'alpha-only-value-7f3a9c';
    writeFileSync(path.join(secrets, 'alpha', 'ROWS_FILE'), '../../data/tiny.csv');
    writeFileSync(path.join(secrets, 'alpha', 'ALPHA_TOKEN'), alphaSecret);
    // Beta's job asks for alpha's secret (by file and by v1's per-tenant variable): it must not get it.
    const alphaJob = job('isolated', 'alpha', '${ROWS_FILE}');
    const betaJob = job('isolated', 'beta', '../../data/tiny.csv', 'description: "${ALPHA_TOKEN}"\n');
    const betaEnvJob = job('isolated_env', 'beta', '../../data/tiny.csv', 'description: "${DATIVO_SECRET__ALPHA__TOKEN__text}"\n');
    const env = { DATIVO_SECRET__ALPHA__TOKEN__text: alphaSecret };
    const onlyBeta = worker(prefix, ['--tenants', 'beta', '--secrets-dir', secrets], env);
    try {
      await onlyBeta.waitFor(/worker started/);
      const alphaRun = await submit(prefix, alphaJob);
      const betaRun = await submit(prefix, betaJob);
      const betaEnvRun = await submit(prefix, betaEnvJob);
      const beta = await waitRun(fleet, 'beta', betaRun);
      const betaEnv = await waitRun(fleet, 'beta', betaEnvRun);
      expect(beta.status).toBe('failed');
      expect(beta.error).toContain('ALPHA_TOKEN');
      expect(betaEnv.status).toBe('failed');
      expect(betaEnv.error).toContain('DATIVO_SECRET__ALPHA__TOKEN__text');
      // Alpha's run waits: no worker serves alpha yet.
      expect((await viewOf((await fleet.run('alpha', alphaRun))!)).status).toBe('queued');
      const betaLogs = [...(await fleet.queue('beta').getJobLogs(betaRun)).logs, ...(await fleet.queue('beta').getJobLogs(betaEnvRun)).logs].join('\n');
      expect(betaLogs).not.toContain(alphaSecret);
      const anyAlpha = worker(prefix, ['--secrets-dir', secrets], env);
      try {
        const alpha = await waitRun(fleet, 'alpha', alphaRun);
        expect(alpha.status, alpha.error).toBe('succeeded');
        expect(alpha.rows).toBe(3);
        expect(alpha.worker).toContain(`:${anyAlpha.pid}`);
      } finally {
        await anyAlpha.stop();
      }
      // Each tenant's checkpoints are its own, under its own folder.
      const stateRoot = path.join(dir, '.dativo', 'state');
      expect(readdirSync(path.join(stateRoot, 'alpha'))).toEqual(['isolated']);
      expect(existsSync(path.join(stateRoot, 'beta', 'isolated'))).toBe(false);
    } finally {
      await onlyBeta.stop();
      await dropPrefix(fleet);
      await fleet.close();
    }
  });

  it('Redis restarted mid-run: the worker reconnects, the run finishes once and the queued runs are not lost', async () => {
    const own = new OwnRedis(await freePort(), tempDir('dativo-redis-').path);
    await own.start();
    const prefix = freshPrefix();
    const fleet = new Fleet({ url: own.url, prefix });
    const jobFile = job('restart', 'acme', '../../data/big.csv');
    const tinyFile = job('after_restart', 'acme', '../../data/tiny.csv');
    // A lock long enough to outlast the restart (a worker that cannot renew for 1.5 lock periods stops its run).
    const w = worker(prefix, ['--lock-seconds', '10'], {}, own.url);
    try {
      await w.waitFor(/worker started/);
      const id = await submit(prefix, jobFile, own.url);
      const queued = [await submit(prefix, tinyFile, own.url), await submit(prefix, tinyFile, own.url)];
      await until(() => commitsOf('acme', 'restart') >= 1, 120_000, 'a first commit');
      // Redis goes away and comes back while the run is under way (its process paused meanwhile).
      await whileRunPaused(w, async () => {
        await own.stop();
        await new Promise((r) => setTimeout(r, 1500));
        await own.start();
      });
      const done = await waitRun(fleet, 'acme', id);
      expect(done.status, JSON.stringify(done)).toBe('succeeded');
      expect(done.attempts).toBe(1);
      await checkExactlyOnce('acme', 'restart', BIG);
      for (const q of queued) expect((await waitRun(fleet, 'acme', q)).status).toBe('succeeded');
      const runs = await views(fleet, ['acme']);
      expect(runs.length).toBe(3);
      reliabilityRow({ connector: 'Orchestrated mode (BullMQ on Redis)', fault: 'Redis restarted mid-run (append-only file on)', outcome: 'the worker reconnects; the run finishes once, queued runs run after' });
    } finally {
      await w.stop();
      await dropPrefix(fleet).catch(() => undefined);
      await fleet.close();
      await own.stop();
    }
  });

  it('backpressure: a burst of 1,000 submitted runs is queued, two workers run one each, and their memory stays flat', async () => {
    const prefix = freshPrefix();
    const fleet = new Fleet({ url: REDIS, prefix });
    // Distinct jobs: runs of one job file wait for each other (they would write one location).
    const jobFiles = Array.from({ length: 1000 }, (_, i) => path.join(dir, job(`burst_${i}`, 'burst', '../../data/tiny.csv')));
    const workers = [worker(prefix), worker(prefix)];
    try {
      await Promise.all(workers.map((w) => w.waitFor(/worker started/)));
      await fleet.addTenant('burst', 2);
      const q = fleet.queue('burst');
      await q.addBulk(jobFiles.map((file) => ({ name: 'run', data: { file, tenant: 'burst', trigger: 'submit' as const }, opts: { removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 } } })));
      const rss: number[] = [];
      let maxActive = 0;
      const before = await fleet.counts('burst');
      expect((before.waiting ?? 0) + (before.active ?? 0) + (before.prioritized ?? 0)).toBeGreaterThanOrEqual(990);
      // Watch until each worker has finished several runs.
      await until(
        async () => {
          const c = await fleet.counts('burst');
          maxActive = Math.max(maxActive, c.active ?? 0);
          rss.push(...workers.map((w) => rssMb(w.pid)));
          return (c.completed ?? 0) >= 12;
        },
        180_000,
        '12 runs of the burst',
      );
      expect(maxActive).toBeLessThanOrEqual(2);
      const after = await fleet.counts('burst');
      expect((after.waiting ?? 0) + (after.prioritized ?? 0)).toBeGreaterThan(900);
      expect(Math.max(...rss)).toBeLessThan(250);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await dropPrefix(fleet);
      await fleet.close();
    }
  });

  it('schedules: several schedulers and restarts never fire a slot twice; disabled ones never fire; an edited file applies', async () => {
    const prefix = freshPrefix();
    const fleet = new Fleet({ url: REDIS, prefix });
    const tiny = job('ticking', 'sched', '../../data/tiny.csv');
    const runner = (every: number, enabledOff: boolean, withGone: boolean): void =>
      writeFileSync(
        path.join(dir, `runner-${prefix}.yaml`),
        `runner:
  orchestrator:
    schedules:
      - name: tick
        config: ${tiny}
        interval_seconds: ${every}
      - name: off
        config: ${tiny}
        cron: "* * * * *"
        enabled: ${enabledOff}
${withGone ? `      - name: gone\n        config: ${tiny}\n        cron: "0 3 * * *"\n        timezone: Europe/Berlin\n` : ''}  redis:
    prefix: ${prefix}
`,
      );
    runner(2, false, true);
    const apply = () => runCli(['scheduler', '--runner-config', `runner-${prefix}.yaml`, '--redis-url', REDIS, '--once'], { cwd: dir });
    // Two schedulers at once, then a restart.
    const [x, y] = await Promise.all([apply(), apply()]);
    expect(x.code, x.stderr).toBe(0);
    expect(y.code, y.stderr).toBe(0);
    const w = worker(prefix);
    try {
      await w.waitFor(/worker started/);
      await new Promise((r) => setTimeout(r, 3000));
      expect((await apply()).code).toBe(0);
      await until(async () => (await views(fleet, ['sched'])).filter((r) => r.status === 'succeeded').length >= 4, 60_000, 'four scheduled runs');
      const q = fleet.queue('sched');
      expect(await q.getJobScheduler('off')).toBeFalsy();
      expect((await q.getJobScheduler('gone'))?.tz).toBe('Europe/Berlin');
      const runs = (await views(fleet, ['sched'])).filter((r) => r.schedule === 'tick');
      const slots = runs.map((r) => r.queuedAt);
      expect(new Set(slots).size).toBe(slots.length);
      // Every slot is a multiple of the 2 s interval and none repeats: no double firing.
      const span = (Math.max(...slots) - Math.min(...slots)) / 2000 + 1;
      expect(slots.length, JSON.stringify(runs.map((r) => [r.id, r.queuedAt, r.startedAt]))).toBeLessThanOrEqual(span);
      // Edit the file: tick every 3600 s, `off` enabled, `gone` removed; applying again takes it.
      runner(3600, true, false);
      expect((await apply()).code).toBe(0);
      expect((await q.getJobScheduler('tick'))?.every).toBe(3_600_000);
      expect(await q.getJobScheduler('off')).toBeTruthy();
      expect(await q.getJobScheduler('gone')).toBeFalsy();
    } finally {
      await w.stop();
      await dropPrefix(fleet);
      await fleet.close();
    }
  });

  it('bad runner files are refused with the file, the key and what was expected', async () => {
    writeFileSync(path.join(dir, 'bad-runner.yaml'), 'runner:\n  orchestrator:\n    schedules:\n      - name: x\n        config: nowhere.yaml\n        cron: "61 * * * *"\n      - name: y\n        config: nowhere.yaml\n        cron: "0 * * * *"\n        interval_seconds: 5\n        timezone: Mars/Olympus\n');
    const r = await runCli(['scheduler', '--runner-config', 'bad-runner.yaml', '--once'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('bad-runner.yaml:6');
    expect(r.stderr).toContain('runner.orchestrator.schedules[0].cron');
    expect(r.stderr).toContain("give 'cron' or 'interval_seconds', not both");
    expect(r.stderr).toContain("unknown time zone 'Mars/Olympus'");
    const down = await runCli(['submit', '--config', job('x', 'acme', '../../data/tiny.csv'), '--redis-url', 'redis://127.0.0.1:1'], { cwd: dir });
    expect(down.code).toBe(2);
    expect(down.stderr).toContain('cannot reach Redis at redis://127.0.0.1:1');
    expect(readFileSync(path.join(dir, 'bad-runner.yaml'), 'utf8')).toContain('Mars');
  });
});
