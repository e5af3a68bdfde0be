import { promises as fs } from 'node:fs';
import path from 'node:path';
import {
  BatchBuilder,
  createRunContext,
  DativoError,
  JsonlDeadLetterQueue,
  listDeadLetterFiles,
  MemoryStateStore,
  newRunId,
  readDeadLetterFile,
  Redactor,
  runPipeline,
  toDativoError,
  type DeadLetterEntry,
  type DeadLetterFile,
  type Extractor,
  type JsonValue,
} from '@dativo/core';
import { z } from 'zod';
import { EXIT_FAILURE, EXIT_OK } from '../exit-codes.js';
import { loadSecrets, makeLogger, type GlobalOptions, type SecretOptions } from '../globals.js';
import { planJob } from '../plan.js';
import { VERSION } from '../version.js';

export interface DlqOptions extends SecretOptions {
  tenant?: string;
  job?: string;
  run?: string;
  limit?: string;
}

/** `dativo dlq list`: dead-letter files per run, or the entries of one run (`--run`). */
export async function dlqListCommand(options: DlqOptions, g: GlobalOptions): Promise<number> {
  try {
    const files = await listDeadLetterFiles(g.dlqDir, { ...(options.tenant ? { tenant: options.tenant } : {}), ...(options.job ? { job: options.job } : {}) });
    if (options.run) {
      const match = files.filter((f) => f.runId === options.run || path.resolve(f.file) === path.resolve(g.cwd, options.run as string));
      if (match.length === 0) {
        g.stderr.write(`dativo dlq list: no dead-letter file for run '${options.run}' in ${g.dlqDir}\n`);
        return EXIT_FAILURE;
      }
      const limit = options.limit ? Number(options.limit) : Infinity;
      const entries: DeadLetterEntry[] = [];
      for (const f of match) for await (const e of readDeadLetterFile(f.file)) if (entries.length < limit) entries.push(e);
      if (g.json) g.stdout.write(`${JSON.stringify({ entries }, null, 2)}\n`);
      else for (const e of entries) g.stdout.write(`${e.time} ${e.stream} [${e.error.kind}] ${e.error.message}\n  ${JSON.stringify(e.raw)}\n`);
      return EXIT_OK;
    }
    if (g.json) g.stdout.write(`${JSON.stringify({ dlqDir: g.dlqDir, files }, null, 2)}\n`);
    else if (files.length === 0) g.stdout.write(`no dead-letter entries in ${g.dlqDir}\n`);
    else for (const f of files) g.stdout.write(`${f.modified}  ${f.tenant}/${f.job}  run ${f.runId}  ${f.entries} entr${f.entries === 1 ? 'y' : 'ies'}  ${f.file}\n`);
    return EXIT_OK;
  } catch (error) {
    g.stderr.write(`dativo dlq list: ${toDativoError(error).message}\n`);
    return EXIT_FAILURE;
  }
}

/** Entry numbers as ranges (`[[1, 40], [42, 42]]`), so a replay checkpoint stays small. */
type Ranges = Array<[number, number]>;

function toRanges(numbers: Iterable<number>): Ranges {
  const sorted = [...new Set(numbers)].sort((a, b) => a - b);
  const out: Ranges = [];
  for (const n of sorted) {
    const last = out[out.length - 1];
    if (last && n === last[1] + 1) last[1] = n;
    else out.push([n, n]);
  }
  return out;
}

const inRanges = (ranges: Ranges, n: number): boolean => ranges.some(([a, b]) => n >= a && n <= b);

/** `--entries 1,3-5` (1-based, as `dlq show` numbers them). */
export function parseEntries(text: string | undefined, total: number): number[] {
  if (!text) return Array.from({ length: total }, (_, i) => i + 1);
  const out: number[] = [];
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new DativoError(`--entries: '${part}' is not an entry number or range (expected e.g. 1,3-5)`, { kind: 'config' });
    const [from, to] = [Number(m[1]), Number(m[2] ?? m[1])];
    if (from < 1 || to > total || from > to) throw new DativoError(`--entries: ${part.trim()} is outside 1-${total} (the run has ${total} entries)`, { kind: 'config' });
    for (let n = from; n <= to; n++) out.push(n);
  }
  return [...new Set(out)].sort((a, b) => a - b);
}

async function runFiles(g: GlobalOptions, filter: { tenant?: string; job?: string }, run: string): Promise<DeadLetterFile[]> {
  const files = await listDeadLetterFiles(g.dlqDir, filter);
  const match = files.filter((f) => f.runId === run || path.resolve(f.file) === path.resolve(g.cwd, run));
  if (match.length === 0) throw new DativoError(`no dead-letter file for run '${run}' in ${g.dlqDir}${filter.job ? ` (job ${filter.tenant}/${filter.job})` : ''}; see dativo dlq list`, { kind: 'config' });
  return match;
}

/** `dativo dlq show --run <id>`: the run's entries, numbered as `replay --entries` takes them, with their replays. */
export async function dlqShowCommand(options: DlqOptions, g: GlobalOptions): Promise<number> {
  try {
    if (!options.run) throw new DativoError('dativo dlq show: --run <runId> is required (see dativo dlq list)', { kind: 'config' });
    const files = await runFiles(g, { ...(options.tenant ? { tenant: options.tenant } : {}), ...(options.job ? { job: options.job } : {}) }, options.run);
    const entries: DeadLetterEntry[] = [];
    for (const f of files) for await (const e of readDeadLetterFile(f.file)) entries.push(e);
    const replays = (await Promise.all(files.map((f) => readReplays(f.file)))).flat();
    if (g.json) g.stdout.write(`${JSON.stringify({ run: options.run, entries: entries.map((e, i) => ({ entry: i + 1, ...e, replayedBy: replays.filter((r) => inRanges(r.entries, i + 1)).map((r) => r.runId) })) }, null, 2)}\n`);
    else {
      entries.forEach((e, i) => {
        const by = replays.filter((r) => inRanges(r.entries, i + 1)).map((r) => r.runId);
        g.stdout.write(`#${i + 1}  ${e.time}  ${e.stream}  [${e.error.kind}${e.error.code ? ` ${e.error.code}` : ''}] attempt ${e.attempt ?? 1}${by.length ? `  replayed by ${by.join(', ')}` : ''}\n  ${e.error.message}\n  raw: ${JSON.stringify(e.raw)}\n${e.context ? `  at: ${JSON.stringify(e.context)}\n` : ''}`);
      });
    }
    return EXIT_OK;
  } catch (error) {
    g.stderr.write(`dativo dlq show: ${toDativoError(error).message}\n`);
    return EXIT_FAILURE;
  }
}

interface ReplayRecord {
  runId: string;
  time: string;
  entries: Ranges;
}

/** The replays of a dead-letter file, kept beside it (for `show`; the sink's checkpoint is the authority). */
const replaysFile = (file: string) => file.replace(/\.jsonl$/, '.replays.jsonl');

async function readReplays(file: string): Promise<ReplayRecord[]> {
  try {
    return (await fs.readFile(replaysFile(file), 'utf8'))
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as ReplayRecord);
  } catch {
    return [];
  }
}

/** A dead-letter entry's record as a row: its fields by column name (HubSpot keeps them under `properties`). */
function recordOf(raw: unknown): Record<string, unknown> | undefined {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const r = raw as Record<string, unknown>;
  const nested = r.properties && typeof r.properties === 'object' && !Array.isArray(r.properties) ? (r.properties as Record<string, unknown>) : {};
  return { ...nested, ...r };
}

/** The replay's source: the chosen entries of one dead-letter run, as rows of their streams. */
function replaySource(entries: Array<{ n: number; entry: DeadLetterEntry }>, replayRun: string): Extractor<unknown> {
  return {
    specificationVersion: 'v1',
    spec: { id: 'dlq_replay', version: VERSION, description: 'dead-letter entries sent again' },
    configSchema: z.unknown(),
    check: async () => {},
    discover: async () => [],
    async *read(_config, request, ctx) {
      for (const stream of request.streams) {
        const previous = (stream.resumeFrom?.state as { replayed?: Ranges } | undefined)?.replayed ?? [];
        yield { kind: 'start', stream: stream.name, resumed: true };
        const builder = new BatchBuilder(stream.schema, ctx.batchLimits);
        const sent: number[] = [];
        for (const { n, entry } of entries.filter((e) => e.entry.stream === stream.name)) {
          const record = recordOf(entry.raw);
          const problem = record ? builder.appendRecord(record) : { column: '', message: 'is not a record: the entry holds the raw line; edit its raw into { column: value } to replay it' };
          if (problem) {
            yield {
              kind: 'rejected',
              stream: stream.name,
              raw: entry.raw as JsonValue,
              error: new DativoError(`dead-letter entry #${n} (run ${entry.runId}): ${problem.column ? `'${problem.column}' ` : ''}${problem.message}`, { kind: 'validation', code: 'DLQ_REPLAY_REJECTED' }),
              context: { ...entry.context, replayOf: { run: entry.runId, entry: n } },
              attempt: (entry.attempt ?? 1) + 1,
            };
          }
          sent.push(n);
          if (builder.full) {
            const batch = builder.flush();
            if (batch) yield { kind: 'batch', stream: stream.name, batch };
          }
        }
        const batch = builder.flush();
        if (batch) yield { kind: 'batch', stream: stream.name, batch };
        yield { kind: 'checkpoint', checkpoint: { stream: stream.name, state: { replayed: toRanges([...previous.flatMap(([a, b]) => Array.from({ length: b - a + 1 }, (_, i) => a + i)), ...sent]), by: replayRun } as unknown as JsonValue } };
      }
    },
  };
}

export interface ReplayOptions extends DlqOptions {
  config?: string;
  entries?: string;
  force?: boolean;
  stateId?: string;
}

/**
 * `dativo dlq replay --config job.yaml --run <id> [--entries 1,3-5] [--force]`: sends the chosen
 * entries of a dead-letter run through the job's sink, once. The sink records which entries it
 * published in its own checkpoint (under the job's state id plus the run's), atomically with the
 * rows, so a replay that crashes and is run again sends each entry once, and a second replay of an
 * entry is refused unless `--force`. Entries still bad go to a new dead-letter file, attempt + 1.
 */
export async function dlqReplayCommand(options: ReplayOptions, g: GlobalOptions): Promise<number> {
  const fail = (message: string): number => {
    if (g.json) g.stdout.write(`${JSON.stringify({ status: 'failed', exitCode: EXIT_FAILURE, error: { message } }, null, 2)}\n`);
    else g.stderr.write(`dativo dlq replay: ${message}\n`);
    return EXIT_FAILURE;
  };
  try {
    if (!options.config) throw new DativoError('--config <job.yaml> is required: entries are replayed through that job\'s sink', { kind: 'config' });
    if (!options.run) throw new DativoError('--run <runId> is required (see dativo dlq list)', { kind: 'config' });
    const redactor = new Redactor();
    const secrets = loadSecrets(options, g, redactor);
    const plan = await planJob(options.config, { cwd: g.cwd, env: secrets.env, redactor, ...(options.stateId ? { stateId: options.stateId } : {}) });
    const mode = (plan.sinkConfig as { mode?: unknown } | undefined)?.mode;
    if (mode === 'overwrite' || mode === 'replace' || mode === 'overwrite_partitions') {
      throw new DativoError(`target mode '${mode}' replaces the table on each run: replaying a few entries would replace it with them. Replay into an append (or merge) target`, { kind: 'config' });
    }
    const files = await runFiles(g, { tenant: plan.tenant, job: plan.name }, options.run);
    const all: DeadLetterEntry[] = [];
    for (const f of files) for await (const e of readDeadLetterFile(f.file)) all.push(e);
    const chosen = parseEntries(options.entries, all.length).map((n) => ({ n, entry: all[n - 1] as DeadLetterEntry }));
    const streams = plan.streams.filter((s) => chosen.some((c) => c.entry.stream === s.name));
    const unknown = [...new Set(chosen.map((c) => c.entry.stream))].filter((s) => !plan.streams.some((p) => p.name === s));
    if (unknown.length) throw new DativoError(`entries of stream(s) ${unknown.join(', ')}, which job ${plan.name} does not write`, { kind: 'config' });
    if (streams.some((s) => s.schema.length === 0)) throw new DativoError('the job\'s stream has no declared schema (its columns come from the source): replay needs the asset\'s columns', { kind: 'config' });

    const replayId = newRunId();
    const stateId = `${plan.stateId ?? plan.name}~dlq-replay~${options.run}`;
    const log = makeLogger(g, redactor, { runId: replayId, tenant: plan.tenant, job: plan.name }, plan.loaded.job.logging.level);
    // What the sink already published of this dead-letter run (the authority), per stream.
    const done = new Map<string, Ranges>();
    const doneBy = new Set<string>();
    for (const s of streams) {
      const descriptor = { name: s.name, schema: s.schema, syncModes: ['full_refresh' as const], ...(s.primaryKey ? { primaryKey: s.primaryKey } : {}) };
      const writer = await plan.sink.connector.open(plan.sinkConfig, descriptor, createRunContext({ tenant: plan.tenant, job: plan.name, stateId, runId: replayId, log, redactor }));
      try {
        const state = (await writer.lastCommitted())?.state as { replayed?: Ranges; by?: string } | undefined;
        done.set(s.name, state?.replayed ?? []);
        if (state?.by) doneBy.add(state.by);
      } finally {
        await writer.close();
      }
    }
    const again = chosen.filter((c) => inRanges(done.get(c.entry.stream) ?? [], c.n)).map((c) => c.n);
    // A replay killed after its commit left no note beside the file: the target's record tells, so note it now.
    const noted = (await Promise.all(files.map((f) => readReplays(f.file)))).flat();
    const unnoted = all.map((_, i) => i + 1).filter((n) => [...done.values()].some((r) => inRanges(r, n)) && !noted.some((r) => inRanges(r.entries, n)));
    if (unnoted.length) for (const f of files) await fs.appendFile(replaysFile(f.file), `${JSON.stringify({ runId: [...doneBy].join(', ') || 'an earlier replay', time: new Date().toISOString(), entries: toRanges(unnoted) })}\n`);
    if (again.length && !options.force) {
      throw new DativoError(`entr${again.length === 1 ? 'y' : 'ies'} ${toRanges(again).map(([a, b]) => (a === b ? `#${a}` : `#${a}-${b}`)).join(', ')} of run ${options.run} ${again.length === 1 ? 'was' : 'were'} replayed already; --force sends ${again.length === 1 ? 'it' : 'them'} again (their rows would then be in the target twice)`, { kind: 'config', code: 'DLQ_ALREADY_REPLAYED' });
    }
    const dlq = new JsonlDeadLetterQueue(g.dlqDir, { tenant: plan.tenant, job: plan.name, runId: replayId }, redactor);
    const ctx = createRunContext({ tenant: plan.tenant, job: plan.name, stateId, runId: replayId, cwd: g.cwd, configDir: plan.configDir, log, state: new MemoryStateStore(), dlq, secrets: secrets.resolver, redactor });
    let result;
    try {
      result = await runPipeline({
        extractor: replaySource(chosen, replayId),
        sourceConfig: {},
        sink: plan.sink.connector,
        sinkConfig: plan.sinkConfig,
        // A forced replay starts from nothing, so the entries already sent are sent again.
        streams: streams.map((s) => ({ ...s, syncMode: 'full_refresh' as const })),
        ctx,
        validationMode: 'warn',
        ...(plan.transform ? { transform: await plan.transform() } : {}),
        maxDlqRatio: 1,
      });
    } finally {
      await dlq.close();
    }
    if (result.error) return fail(redactor.redactText(result.error.message));
    const sent = toRanges(chosen.map((c) => c.n));
    for (const f of files) await fs.appendFile(replaysFile(f.file), `${JSON.stringify({ runId: replayId, time: new Date().toISOString(), entries: sent })}\n`);
    const summary = { status: 'succeeded', exitCode: EXIT_OK, replayRun: replayId, of: options.run, entries: chosen.length, rows: result.rows, rejected: result.rejected, ...(dlq.count ? { deadLetterFile: dlq.file } : {}) };
    if (g.json) g.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else if (!g.quiet) g.stdout.write(`✔ ${plan.tenant}/${plan.name}  replayed ${chosen.length} entr${chosen.length === 1 ? 'y' : 'ies'} of run ${options.run}: ${result.rows} rows written${result.rejected ? ` · ${result.rejected} still rejected → ${dlq.file}` : ''}\n`);
    return EXIT_OK;
  } catch (error) {
    return fail(toDativoError(error, 'config').message);
  }
}
