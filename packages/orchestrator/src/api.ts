import { createHash, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import { viewOf, type Fleet } from './fleet.js';
import type { ApiToken } from './runner-config.js';
import { tenantOf } from './runner-config.js';
import { nextRuns, pauseSchedule, resumeSchedule, storedSchedules } from './scheduler.js';

export interface ControlApiOptions {
  fleet: Fleet;
  /** Tokens that may call the API (`Authorization: Bearer …`); none: every call is refused. */
  tokens: ApiToken[];
  /** Job files a run may be triggered for by path: files inside these directories. */
  jobDirs: string[];
  /** Working directory the runs' relative paths (dead-letter files) are under. */
  cwd: string;
  /** Directory of the built web console (index.html, assets/); served at `/` when present. */
  consoleDir?: string;
  keepRuns?: number;
  version?: string;
}

interface Caller {
  name: string;
  tenant?: string;
  write: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    caller?: Caller;
  }
}

const runView = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    tenant: { type: 'string' },
    file: { type: 'string' },
    job: { type: 'string' },
    schedule: { type: 'string' },
    trigger: { type: 'string', enum: ['schedule', 'submit', 'api'] },
    by: { type: 'string' },
    status: { type: 'string', enum: ['queued', 'running', 'succeeded', 'partial', 'failed', 'cancelled'] },
    queuedAt: { type: 'number', description: 'ms since the epoch' },
    startedAt: { type: 'number' },
    finishedAt: { type: 'number' },
    attempts: { type: 'number', description: 'times a worker took the run (more than 1 after a worker died mid-run)' },
    worker: { type: 'string' },
    rows: { type: 'number' },
    bytes: { type: 'number' },
    rowsPerSecond: { type: 'number' },
    durationSeconds: { type: 'number' },
    deadLetters: { type: 'number' },
    deadLetterFile: { type: 'string' },
    error: { type: 'string' },
    streams: { type: 'array', items: { type: 'object', additionalProperties: true } },
  },
  required: ['id', 'tenant', 'status', 'rows', 'bytes', 'attempts'],
} as const;

const scheduleView = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    tenant: { type: 'string' },
    file: { type: 'string' },
    cron: { type: 'string' },
    interval_seconds: { type: 'number' },
    timezone: { type: 'string' },
    enabled: { type: 'boolean' },
    paused: { type: 'boolean' },
    max_concurrent_runs: { type: 'number' },
    tags: { type: 'object', additionalProperties: { type: 'string' } },
    next: { type: 'number', description: 'next firing, ms since the epoch' },
  },
  required: ['name', 'tenant', 'enabled', 'paused'],
} as const;

const problem = { type: 'object', properties: { error: { type: 'string' } }, required: ['error'] } as const;
const idParam = { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] } as const;
const nameParam = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } as const;
const secured = [{ bearer: [] }];

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/**
 * The control API (Fastify, OpenAPI document at `/openapi.json`): schedules, runs with their logs
 * and dead letters, triggering, pausing, cancelling, per-tenant totals, workers. Every `/api` call
 * needs a bearer token; a token with a tenant sees and acts on that tenant only; a `read` token
 * cannot change anything. Serves the web console at `/` when it is built.
 */
export async function createControlApi(options: ControlApiOptions): Promise<FastifyInstance> {
  const { fleet } = options;
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 });
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Dativo control API', version: options.version ?? '0.1.0', description: 'Schedules and runs of Dativo\'s orchestrated mode (a worker fleet on Redis).' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  const tokens = options.tokens.map((t) => ({ ...t, hash: digest(t.token) }));

  const authenticate = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const header = request.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    const given = m?.[1] ? digest(m[1]) : undefined;
    const token = given ? tokens.find((t) => timingSafeEqual(t.hash, given)) : undefined;
    if (!token) {
      await reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'a valid bearer token is required (Authorization: Bearer <token>)' });
      return;
    }
    request.caller = { name: token.name ?? (token.tenant ? `tenant ${token.tenant}` : 'admin'), ...(token.tenant ? { tenant: token.tenant } : {}), write: token.access === 'write' };
  };
  const mustWrite = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (!request.caller?.write) await reply.code(403).send({ error: 'this token may only read' });
  };
  const visibleTenants = async (request: FastifyRequest): Promise<string[]> => (request.caller?.tenant ? [request.caller.tenant] : fleet.tenants());
  const mayUse = (request: FastifyRequest, tenant: string): boolean => !request.caller?.tenant || request.caller.tenant === tenant;

  app.get('/healthz', { schema: { hide: true } }, async () => ({ ok: (await fleet.redis.ping()) === 'PONG' }));
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(
    async (api) => {
      api.addHook('onRequest', authenticate);

      api.get('/schedules', { schema: { summary: 'List schedules', security: secured, response: { 200: { type: 'object', properties: { schedules: { type: 'array', items: scheduleView } } } } } }, async (request) => {
        const all = [...(await storedSchedules(fleet)).values()].filter((s) => mayUse(request, s.tenant));
        const next = await nextRuns(fleet, all.filter((s) => s.enabled && !s.paused));
        return { schedules: all.sort((a, b) => a.name.localeCompare(b.name)).map((s) => ({ ...s, ...(next.has(s.name) ? { next: next.get(s.name) } : {}) })) };
      });

      const scheduleAction = (action: 'pause' | 'resume' | 'trigger') =>
        api.post<{ Params: { name: string } }>(
          `/schedules/:name/${action}`,
          { schema: { summary: `${action[0]?.toUpperCase()}${action.slice(1)} a schedule`, security: secured, params: nameParam, response: { 200: { type: 'object', additionalProperties: true }, 404: problem } }, preHandler: mustWrite },
          async (request, reply) => {
            const s = (await storedSchedules(fleet)).get(request.params.name);
            if (!s || !mayUse(request, s.tenant)) return reply.code(404).send({ error: `no schedule '${request.params.name}'` });
            if (action === 'pause') await pauseSchedule(fleet, s);
            if (action === 'resume') await resumeSchedule(fleet, s, options.keepRuns);
            if (action === 'trigger') {
              const id = await fleet.enqueue({ file: s.file, tenant: s.tenant, schedule: s.name, trigger: 'api', by: request.caller?.name ?? 'api', ...(s.tags ? { tags: s.tags } : {}) }, options.keepRuns);
              return { id };
            }
            return { name: s.name, paused: action === 'pause' };
          },
        );
      scheduleAction('pause');
      scheduleAction('resume');
      scheduleAction('trigger');

      api.post<{ Body: { schedule?: string; config?: string } }>(
        '/runs',
        {
          schema: {
            summary: 'Trigger a run of a schedule\'s job or of a job file inside the allowed job directories',
            security: secured,
            body: { type: 'object', properties: { schedule: { type: 'string' }, config: { type: 'string' } }, additionalProperties: false },
            response: { 202: { type: 'object', properties: { id: { type: 'string' }, tenant: { type: 'string' } } }, 400: problem, 404: problem },
          },
          preHandler: mustWrite,
        },
        async (request, reply) => {
          const { schedule, config } = request.body ?? {};
          if (schedule) {
            const s = (await storedSchedules(fleet)).get(schedule);
            if (!s || !mayUse(request, s.tenant)) return reply.code(404).send({ error: `no schedule '${schedule}'` });
            const id = await fleet.enqueue({ file: s.file, tenant: s.tenant, schedule: s.name, trigger: 'api', by: request.caller?.name ?? 'api' }, options.keepRuns);
            return reply.code(202).send({ id, tenant: s.tenant });
          }
          if (!config) return reply.code(400).send({ error: 'give "schedule" (a schedule name) or "config" (a job file)' });
          const file = path.resolve(options.cwd, config);
          const inside = options.jobDirs.some((d) => file.startsWith(`${path.resolve(d)}${path.sep}`));
          if (!inside || !existsSync(file)) return reply.code(404).send({ error: `no job file '${config}' in the job directories this API serves` });
          let tenant: string;
          try {
            tenant = await tenantOf(file, options.cwd);
          } catch (error) {
            return reply.code(400).send({ error: (error as Error).message });
          }
          if (!mayUse(request, tenant)) return reply.code(404).send({ error: `no job file '${config}' in the job directories this API serves` });
          const id = await fleet.enqueue({ file, tenant, trigger: 'api', by: request.caller?.name ?? 'api' }, options.keepRuns);
          return reply.code(202).send({ id, tenant });
        },
      );

      api.get<{ Querystring: { tenant?: string; status?: string; limit?: number } }>(
        '/runs',
        {
          schema: {
            summary: 'Recent runs, newest first',
            security: secured,
            querystring: { type: 'object', properties: { tenant: { type: 'string' }, status: { type: 'string' }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } } },
            response: { 200: { type: 'object', properties: { runs: { type: 'array', items: runView } } } },
          },
        },
        async (request) => {
          let tenants = await visibleTenants(request);
          if (request.query.tenant) tenants = tenants.filter((t) => t === request.query.tenant);
          const jobs = await fleet.listRuns(tenants, { limit: request.query.limit ?? 100 });
          let runs = await Promise.all(jobs.map((j) => viewOf(j)));
          if (request.query.status) runs = runs.filter((r) => r.status === request.query.status);
          return { runs };
        },
      );

      const findVisible = async (request: FastifyRequest<{ Params: { id: string } }>) => fleet.findRun(request.params.id, await visibleTenants(request));

      api.get<{ Params: { id: string } }>(
        '/runs/:id',
        { schema: { summary: 'A run with its last log lines', security: secured, params: idParam, response: { 200: { type: 'object', properties: { run: runView, logs: { type: 'array', items: { type: 'string' } } } }, 404: problem } } },
        async (request, reply) => {
          const job = await findVisible(request);
          if (!job) return reply.code(404).send({ error: `no run '${request.params.id}'` });
          const logs = await fleet.queue(job.data.tenant).getJobLogs(job.id ?? '', -200, -1);
          return { run: await viewOf(job), logs: logs.logs };
        },
      );

      api.get<{ Params: { id: string }; Querystring: { start?: number; end?: number } }>(
        '/runs/:id/logs',
        { schema: { summary: 'Log lines of a run (JSON lines as the run wrote them)', security: secured, params: idParam, querystring: { type: 'object', properties: { start: { type: 'integer', default: 0 }, end: { type: 'integer', default: -1 } } }, response: { 200: { type: 'object', properties: { logs: { type: 'array', items: { type: 'string' } }, count: { type: 'number' } } }, 404: problem } } },
        async (request, reply) => {
          const job = await findVisible(request);
          if (!job) return reply.code(404).send({ error: `no run '${request.params.id}'` });
          return fleet.queue(job.data.tenant).getJobLogs(job.id ?? '', request.query.start ?? 0, request.query.end ?? -1);
        },
      );

      api.get<{ Params: { id: string } }>(
        '/runs/:id/dead-letters',
        { schema: { summary: 'Dead-letter entries of a run (first 100; local dead-letter files)', security: secured, params: idParam, response: { 200: { type: 'object', properties: { file: { type: 'string' }, entries: { type: 'array', items: { type: 'object', additionalProperties: true } }, truncated: { type: 'boolean' } } }, 404: problem } } },
        async (request, reply) => {
          const job = await findVisible(request);
          if (!job) return reply.code(404).send({ error: `no run '${request.params.id}'` });
          const view = await viewOf(job);
          if (!view.deadLetterFile) return { entries: [], truncated: false };
          return { file: view.deadLetterFile, ...(await readEntries(path.resolve(options.cwd, view.deadLetterFile), 100)) };
        },
      );

      api.post<{ Params: { id: string } }>(
        '/runs/:id/cancel',
        { schema: { summary: 'Cancel a run: a queued run is removed, a running one stops after its current batch (nothing uncommitted is published)', security: secured, params: idParam, response: { 200: { type: 'object', properties: { id: { type: 'string' }, result: { type: 'string', enum: ['cancelled', 'stopping', 'finished'] } } }, 404: problem, 409: problem } }, preHandler: mustWrite },
        async (request, reply) => {
          const job = await findVisible(request);
          if (!job) return reply.code(404).send({ error: `no run '${request.params.id}'` });
          const result = await fleet.cancel(job);
          if (result === 'scheduled') return reply.code(409).send({ error: `run '${request.params.id}' is its schedule's next firing; pause the schedule '${job.data.schedule ?? ''}' instead` });
          return { id: request.params.id, result };
        },
      );

      api.get(
        '/tenants',
        { schema: { summary: 'Totals per tenant over the runs kept', security: secured, response: { 200: { type: 'object', properties: { tenants: { type: 'array', items: { type: 'object', additionalProperties: true } } } } } } },
        async (request) => {
          const out = [];
          for (const tenant of await visibleTenants(request)) {
            const counts = await fleet.counts(tenant);
            const runs = await Promise.all((await fleet.listRuns([tenant], { limit: options.keepRuns ?? 1000, states: ['completed'] })).map((j) => viewOf(j)));
            out.push({
              tenant,
              queued: (counts.waiting ?? 0) + (counts.delayed ?? 0) + (counts.prioritized ?? 0),
              running: counts.active ?? 0,
              finished: (counts.completed ?? 0) + (counts.failed ?? 0),
              failed: (counts.failed ?? 0) + runs.filter((r) => r.status === 'failed' || r.status === 'cancelled').length,
              rows: runs.reduce((n, r) => n + r.rows, 0),
              bytes: runs.reduce((n, r) => n + r.bytes, 0),
              deadLetters: runs.reduce((n, r) => n + r.deadLetters, 0),
              concurrency: await fleet.queue(tenant).getGlobalConcurrency(),
            });
          }
          return { tenants: out };
        },
      );

      api.get('/workers', { schema: { summary: 'Workers alive (heartbeat in the last 15 s)', security: secured, response: { 200: { type: 'object', properties: { workers: { type: 'array', items: { type: 'object', additionalProperties: true } } } } } } }, async (request) => {
        const keys = await scanKeys(fleet, fleet.key('worker', '*'));
        const values = keys.length ? await fleet.redis.mget(...keys) : [];
        const workers = values.flatMap((v) => (v ? [JSON.parse(v) as { tenants: string[] | null }] : []));
        // A tenant's token sees the workers that may serve it, not what they run for others.
        return { workers: request.caller?.tenant ? workers.filter((w) => !w.tenants || w.tenants.includes(request.caller?.tenant ?? '')).map((w) => ({ ...w, active: undefined })) : workers };
      });

      api.get('/whoami', { schema: { summary: 'What the token may do', security: secured } }, async (request) => request.caller);
    },
    { prefix: '/api/v1' },
  );

  if (options.consoleDir && existsSync(path.join(options.consoleDir, 'index.html'))) await serveConsole(app, options.consoleDir);
  return app;
}

async function scanKeys(fleet: Fleet, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await fleet.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 200);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

async function readEntries(file: string, limit: number): Promise<{ entries: unknown[]; truncated: boolean }> {
  if (!existsSync(file)) return { entries: [], truncated: false };
  const entries: unknown[] = [];
  const lines = createInterface({ input: createReadStream(file, 'utf8') });
  let truncated = false;
  for await (const line of lines) {
    if (!line.trim()) continue;
    if (entries.length >= limit) {
      truncated = true;
      break;
    }
    try {
      entries.push(JSON.parse(line));
    } catch {
      entries.push({ raw: line });
    }
  }
  lines.close();
  return { entries, truncated };
}

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.json': 'application/json' };

/** The built console: its files, and index.html for any other path outside /api (client-side routes). */
async function serveConsole(app: FastifyInstance, dir: string): Promise<void> {
  const root = path.resolve(dir);
  const send = async (reply: FastifyReply, file: string): Promise<FastifyReply> => reply.type(TYPES[path.extname(file)] ?? 'application/octet-stream').header('cache-control', file.endsWith('index.html') ? 'no-cache' : 'public, max-age=31536000, immutable').send(await fs.readFile(file));
  app.get('/*', { schema: { hide: true } }, async (request, reply) => {
    const rel = decodeURIComponent((request.params as { '*': string })['*'] ?? '');
    const file = path.resolve(root, rel);
    if (rel && file.startsWith(`${root}${path.sep}`) && existsSync(file) && (await fs.stat(file)).isFile()) return send(reply, file);
    return send(reply, path.join(root, 'index.html'));
  });
}

