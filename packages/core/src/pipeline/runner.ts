import type { RecordBatch } from 'apache-arrow';
import { AbortedError, DativoError, toDativoError } from '../errors.js';
import type { FieldSpec } from '../schema/types.js';
import type { RunContext } from '../v1/context.js';
import { mergeResilience, ResilienceService, type ResilienceSettings } from '../resilience/service.js';
import type { Extractor } from '../v1/extractor.js';
import type { Checkpoint, ConfiguredStream, RejectedMessage, StreamDescriptor } from '../v1/messages.js';
import type { Sink, SinkWriter } from '../v1/sink.js';
import type { BatchTransform } from '../v1/transform.js';
import { STATE_HISTORY_RUNS, stateKeyOf } from '../state/state-store.js';
import { CommitTracker, defaultCommitPolicy, type CommitPolicy } from './commit-policy.js';
import { endSpan, startSpan } from '../tracing.js';
import type { Span } from '@opentelemetry/api';

export interface PipelineOptions<S, T> {
  extractor: Extractor<S>;
  sourceConfig: S;
  sink: Sink<T>;
  sinkConfig: T;
  /** Streams to read, without `resumeFrom` (the runner decides it). */
  streams: ConfiguredStream[];
  ctx: RunContext;
  /**
   * `strict` (default): a rejected record fails the run. `warn`: it goes to the dead-letter queue,
   * and columns outside the primary key are optional in the output, as v1 wrote them, so a file
   * that lacks a column the asset requires is still loaded (that column null, with a warning).
   */
  validationMode?: 'strict' | 'warn';
  commitPolicy?: Partial<CommitPolicy>;
  transform?: BatchTransform;
  /** Called after every batch and commit. */
  onProgress?: (progress: RunProgress) => void;
  /**
   * Rate limits, retries and breaker of the source and the sink (a recipe's `rate_limits`, the
   * job's settings), over what each connector declares in `spec.limits`. Each connector gets its
   * own `ctx.resilience` for the run.
   */
  resilience?: { source?: ResilienceSettings; sink?: ResilienceSettings };
  /**
   * The share of records (dead-lettered ÷ (written + dead-lettered)) a run may set aside and still
   * succeed (the error policy's `max_dlq_ratio`); above it the run is `partial`. Default 0.
   */
  maxDlqRatio?: number;
}

export interface StreamResult {
  name: string;
  rowsRead: number;
  rowsWritten: number;
  /** Rows the sink removed (source deletions applied under `merge`). */
  rowsDeleted: number;
  /** Arrow bytes handed to the sink. */
  bytesIn: number;
  rejected: number;
  warnings: number;
  commits: number;
  files: number;
  /** Bytes published by the sink (file sizes). */
  bytesOut: number;
  resumedFrom?: Checkpoint;
  /** Records the source's own totals vouched for (a `COUNT(*)` in the snapshot, an API total), all matched. */
  verified?: number;
  /** Something to look at although the run succeeded (a stream that read nothing after runs that read plenty). */
  anomaly?: StreamAnomaly;
}

export interface StreamAnomaly {
  kind: 'zero_records';
  message: string;
  /** Records each earlier run read (oldest first). */
  previousRuns: number[];
}

/** A stream that reads nothing is flagged when its earlier runs all read records, this many on average at least. */
export const ZERO_RECORDS_FLAG_MIN_AVERAGE = 10;
/** Earlier runs an incremental stream needs before an empty run is flagged. */
export const ZERO_RECORDS_FLAG_INCREMENTAL_RUNS = 3;

export interface RunProgress {
  rows: number;
  bytesIn: number;
  rejected: number;
  files: number;
  bytesOut: number;
  elapsedMs: number;
  /** Each stream's own progress, in the order the job lists them. */
  streams: StreamProgress[];
}

export interface StreamProgress {
  name: string;
  rows: number;
  bytesIn: number;
  rejected: number;
  files: number;
  /** What the source reads now (a file, a table, a window), when it says. */
  at?: string;
  /** Records the source expects in all this run, when it knows (an ETA can be shown). */
  expected?: number;
  /** When the stream's first message arrived (epoch ms); absent before. */
  startedAt?: number;
  /** Milliseconds since the stream's first message, as of the last report (or its end). */
  elapsedMs: number;
  done: boolean;
}

/** What a run cost, for attribution per tenant and job (also exported as metrics). */
export interface RunCost {
  /** Requests sent to the remote systems of the source and the sink (every attempt). */
  apiRequests: number;
  bytesRead: number;
  bytesWritten: number;
  rows: number;
  /** CPU seconds (user + system) of the process during the run. */
  cpuSeconds: number;
  wallSeconds: number;
}

export interface RunResult {
  runId: string;
  status: 'succeeded' | 'partial' | 'failed';
  streams: StreamResult[];
  rows: number;
  /** Rows removed from targets (source deletions applied under `merge`). */
  deleted: number;
  rejected: number;
  files: number;
  bytes: number;
  durationMs: number;
  cost: RunCost;
  error?: DativoError;
}

interface StreamRun {
  configured: ConfiguredStream;
  writer: SinkWriter;
  begun: boolean;
  tracker: CommitTracker;
  pending?: Checkpoint;
  /** Batches written since the last checkpoint message. */
  unCheckpointed: number;
  result: StreamResult;
  /** Records (rows + rejected) since the stream started or since the source's last `total` message. */
  sinceTotal: number;
  /** Record counts of the stream's earlier runs (from the state store); this run's is added when it ends. */
  history: number[];
  finished: boolean;
  lastCommitted?: Checkpoint;
  /** Source time of the pending checkpoint (epoch ms). */
  pendingTime?: number;
  progress: StreamProgress;
  span: Span;
}

/**
 * Runs one extractor into one sink, stream by stream, following the batch / checkpoint / commit
 * contract: batches are staged, checkpoints are committed by policy together with the data before
 * them, and only after the sink's commit is the checkpoint stored in the state store. On any
 * failure or abort, staged data is dropped and nothing past the last commit is published.
 */
export async function runPipeline<S, T>(options: PipelineOptions<S, T>): Promise<RunResult> {
  const { extractor, sink } = options;
  const ctx = options.ctx;
  const metrics = ctx.metrics;
  const source = { connector: extractor.spec.id };
  const target = { connector: sink.spec.id };
  const redact = (text: string): string => (ctx as { redactor?: { redactText(t: string): string } }).redactor?.redactText(text) ?? text;
  const cpuStart = process.cpuUsage();
  metrics.inc('dativo_active_jobs', 1);
  const runSpan = startSpan('dativo.run', { 'dativo.run_id': ctx.runId, 'dativo.tenant': ctx.tenant, 'dativo.job': ctx.job, 'dativo.source': extractor.spec.id, 'dativo.target': sink.spec.id });
  const services = {
    source: new ResilienceService(extractor.spec.id, mergeResilience(extractor.spec.limits, options.resilience?.source), ctx),
    sink: new ResilienceService(sink.spec.id, mergeResilience(sink.spec.limits, options.resilience?.sink), ctx),
  };
  const sourceCtx: RunContext = { ...ctx, resilience: services.source };
  const sinkCtx: RunContext = { ...ctx, resilience: services.sink };
  const policy = { ...defaultCommitPolicy, ...options.commitPolicy };
  const mode = options.validationMode ?? 'strict';
  const started = Date.now();
  const runs = new Map<string, StreamRun>();
  const progress: RunProgress = { rows: 0, bytesIn: 0, rejected: 0, files: 0, bytesOut: 0, elapsedMs: 0, streams: [] };
  const report = (): void => {
    const now = Date.now();
    progress.elapsedMs = now - started;
    for (const { progress: p } of runs.values()) if (p.startedAt !== undefined && !p.done) p.elapsedMs = now - p.startedAt;
    options.onProgress?.(progress);
  };

  const commit = async (run: StreamRun, checkpoint: Checkpoint): Promise<void> => {
    const stream = run.configured.name;
    const span = startSpan('dativo.commit', { 'dativo.stream': stream }, run.span);
    let result;
    try {
      result = await run.writer.commit(checkpoint);
      await ctx.state.put(stateKeyOf(ctx, stream), checkpoint, ctx.runId, { history: historyOf(run) });
    } catch (error) {
      endSpan(span, toDativoError(error), redact);
      throw error;
    }
    span.setAttributes({ 'dativo.rows': result.rows, 'dativo.files': result.files, 'dativo.bytes': result.bytes });
    span.end();
    run.lastCommitted = checkpoint;
    run.result.commits++;
    run.result.files += result.files;
    run.result.bytesOut += result.bytes;
    run.result.rowsWritten += result.rows;
    run.result.rowsDeleted += result.deleted ?? 0;
    progress.files += result.files;
    progress.bytesOut += result.bytes;
    run.progress.files += result.files;
    const labels = { ...target, stream };
    metrics.inc('dativo_commits_total', 1, labels);
    metrics.inc('dativo_records_processed_total', result.rows, labels);
    metrics.inc('dativo_files_written_total', result.files, labels);
    metrics.inc('dativo_bytes_written_total', result.bytes, labels);
    metrics.checkpointTime?.(run.pendingTime ?? run.progress.startedAt ?? started, { ...source, stream });
    ctx.log.debug('committed', { stream, rows: result.rows, files: result.files, checkpoint: checkpoint.state });
    run.tracker.reset();
    delete run.pending;
    delete run.pendingTime;
    report();
  };

  let failure: DativoError | undefined;
  let readSpan: Span | undefined;
  try {
    let discovered: StreamDescriptor[] | undefined;
    for (const requested of options.streams) {
      let configured = mode === 'warn' ? relaxRequired(requested) : requested;
      if (configured.schema.length === 0) {
        // The source's own columns (a job whose asset describes only what a transform makes of them).
        discovered ??= await extractor.discover(options.sourceConfig, sourceCtx);
        configured = withDiscoveredSchema(configured, discovered);
      }
      const descriptor: StreamDescriptor = {
        name: configured.name,
        schema: options.transform ? options.transform.schema(configured) : configured.schema,
        syncModes: [configured.syncMode],
        ...(configured.primaryKey ? { primaryKey: configured.primaryKey } : {}),
      };
      const writer = await sink.open(options.sinkConfig, descriptor, sinkCtx);
      const fromSink = await writer.lastCommitted();
      const stored = await ctx.state.get(stateKeyOf(ctx, configured.name));
      let fromState = fromSink ? undefined : stored?.checkpoint;
      if (fromState && writer.keepsCheckpoints) {
        // The target is the authority and has no record of this job (dropped, recreated, emptied): the
        // state store's memory would skip data the target no longer holds.
        ctx.log.warn('the target has no record of this stream: reading from the start (the state store\'s checkpoint is not used)', { stream: configured.name, stateCheckpoint: fromState.state });
        fromState = undefined;
      }
      const resumeFrom = fromSink ?? fromState;
      const result: StreamResult = { name: configured.name, rowsRead: 0, rowsWritten: 0, rowsDeleted: 0, bytesIn: 0, rejected: 0, warnings: 0, commits: 0, files: 0, bytesOut: 0 };
      if (resumeFrom) {
        result.resumedFrom = resumeFrom;
        ctx.log.info('resuming stream from its last committed checkpoint', { stream: configured.name, source: fromSink ? 'sink' : 'state store', checkpoint: resumeFrom.state });
      }
      const streamProgress: StreamProgress = { name: configured.name, rows: 0, bytesIn: 0, rejected: 0, files: 0, elapsedMs: 0, done: false };
      progress.streams.push(streamProgress);
      runs.set(configured.name, {
        progress: streamProgress,
        span: startSpan('dativo.stream', { 'dativo.stream': configured.name, 'dativo.sync_mode': configured.syncMode, 'dativo.resumed': resumeFrom !== undefined }, runSpan),
        configured: { ...configured, ...(resumeFrom ? { resumeFrom } : {}) },
        writer,
        begun: false,
        tracker: new CommitTracker(policy),
        unCheckpointed: 0,
        result,
        sinceTotal: 0,
        history: Array.isArray(stored?.history) ? stored.history.filter((n) => Number.isFinite(n)) : [],
        finished: false,
      });
    }

    const begin = async (run: StreamRun, resumed: boolean): Promise<void> => {
      if (run.begun) return;
      run.begun = true;
      await run.writer.begin?.({ resumed });
    };
    const request = { streams: [...runs.values()].map((r) => r.configured) };
    // A read span covers the wait for the source's next batch: from the end of the last write to the
    // batch in hand, under the stream the source was last reading.
    let current: StreamRun | undefined = runs.size === 1 ? [...runs.values()][0] : undefined;
    readSpan = startSpan('dativo.read', {}, current?.span ?? runSpan);
    for await (const message of extractor.read(options.sourceConfig, request, sourceCtx)) {
      if (ctx.signal.aborted) throw new AbortedError(ctx.signal.reason);
      const messageRun = runs.get(message.kind === 'checkpoint' ? message.checkpoint.stream : message.stream);
      if (messageRun) {
        current = messageRun;
        messageRun.progress.startedAt ??= Date.now();
      }
      if (message.kind !== 'start' && message.kind !== 'warning') {
        const run = messageRun;
        if (run && !run.begun) await begin(run, run.configured.resumeFrom !== undefined);
      }
      switch (message.kind) {
        case 'start':
          await begin(streamRun(runs, message.stream), message.resumed);
          break;
        case 'batch': {
          const run = streamRun(runs, message.stream);
          const batch = options.transform ? options.transform.apply(message.stream, message.batch) : message.batch;
          const bytes = batchBytes(batch);
          readSpan.setAttributes({ 'dativo.stream': message.stream, 'dativo.rows': message.batch.numRows, 'dativo.bytes': bytes });
          readSpan.end();
          const writeSpan = startSpan('dativo.write', { 'dativo.stream': message.stream, 'dativo.rows': batch.numRows, 'dativo.bytes': bytes }, run.span);
          try {
            await run.writer.write(batch);
          } catch (error) {
            endSpan(writeSpan, toDativoError(error), redact);
            throw error;
          }
          writeSpan.end();
          run.tracker.add(batch.numRows, bytes);
          run.unCheckpointed++;
          run.result.rowsRead += message.batch.numRows;
          run.sinceTotal += message.batch.numRows;
          run.result.bytesIn += bytes;
          run.progress.rows += message.batch.numRows;
          run.progress.bytesIn += bytes;
          progress.rows += batch.numRows;
          progress.bytesIn += bytes;
          const labels = { ...source, stream: message.stream };
          metrics.inc('dativo_records_read_total', message.batch.numRows, labels);
          metrics.inc('dativo_bytes_read_total', bytes, labels);
          report();
          readSpan = startSpan('dativo.read', {}, run.span);
          break;
        }
        case 'checkpoint': {
          const run = streamRun(runs, message.checkpoint.stream);
          run.pending = message.checkpoint;
          if (message.sourceTime !== undefined) run.pendingTime = message.sourceTime;
          else delete run.pendingTime;
          run.unCheckpointed = 0;
          if (run.tracker.due) await commit(run, message.checkpoint);
          break;
        }
        case 'rejected': {
          const run = streamRun(runs, message.stream);
          metrics.inc('dativo_records_failed_total', 1, { ...source, stream: message.stream });
          if (mode === 'strict') {
            throw new DativoError(`${message.error.message} (schema_validation_mode: strict; use warn to send bad records to the dead-letter queue)`, {
              kind: 'validation',
              retryable: false,
              ...(message.error.code ? { code: message.error.code } : {}),
              ...(message.context ? { details: message.context } : {}),
              cause: message.error,
            });
          }
          await deadLetter(ctx, message);
          run.result.rejected++;
          run.progress.rejected++;
          run.sinceTotal++;
          progress.rejected++;
          metrics.inc('dativo_records_dead_lettered_total', 1, { ...source, stream: message.stream });
          break;
        }
        case 'status': {
          const run = streamRun(runs, message.stream);
          if (message.at !== undefined) run.progress.at = message.at;
          if (message.expected !== undefined) run.progress.expected = message.expected;
          report();
          break;
        }
        case 'total': {
          const run = streamRun(runs, message.stream);
          checkTotal(run, message.records, message.basis);
          run.result.verified = (run.result.verified ?? 0) + message.records;
          run.sinceTotal = 0;
          break;
        }
        case 'warning': {
          const run = runs.get(message.stream);
          if (run) run.result.warnings++;
          ctx.log.warn(message.message, { stream: message.stream, ...message.context });
          break;
        }
      }
    }
    readSpan.end();
    if (ctx.signal.aborted) throw new AbortedError(ctx.signal.reason);

    for (const run of runs.values()) {
      run.finished = true;
      flagAnomaly(run, ctx);
      if (run.unCheckpointed > 0) {
        ctx.log.warn('source ended without a checkpoint after its last batches; committing them without a resume position', { stream: run.configured.name });
        run.pending = { stream: run.configured.name, state: run.pending?.state ?? null };
      }
      if (run.pending) await commit(run, run.pending);
      else {
        // The last checkpoint was committed along the way, or the source had nothing new: store this run's count beside the position.
        const position = run.lastCommitted ?? run.configured.resumeFrom;
        if (position) await ctx.state.put(stateKeyOf(ctx, run.configured.name), position, ctx.runId, { history: historyOf(run) });
      }
      if (run.progress.startedAt !== undefined) run.progress.elapsedMs = Date.now() - run.progress.startedAt;
      run.progress.done = true;
      endSpan(run.span);
    }
  } catch (error) {
    failure = ctx.signal.aborted && !DativoError.isInstance(error) ? new AbortedError(ctx.signal.reason) : toDativoError(error);
  } finally {
    readSpan?.end();
    for (const run of runs.values()) {
      if (!run.progress.done) endSpan(run.span, failure);
      if (failure) await run.writer.abort().catch((e: unknown) => ctx.log.warn('abort failed', { stream: run.configured.name, error: e }));
      await run.writer.close().catch((e: unknown) => ctx.log.warn('close failed', { stream: run.configured.name, error: e }));
    }
    await Promise.all([services.source.stop(), services.sink.stop()]);
  }

  const streams = [...runs.values()].map((r) => r.result);
  const rejected = streams.reduce((n, s) => n + s.rejected, 0);
  const written = streams.reduce((n, s) => n + s.rowsWritten, 0);
  const durationMs = Date.now() - started;
  const cpu = process.cpuUsage(cpuStart);
  const cost: RunCost = {
    apiRequests: services.source.requests + services.sink.requests,
    bytesRead: streams.reduce((n, s) => n + s.bytesIn, 0),
    bytesWritten: streams.reduce((n, s) => n + s.bytesOut, 0),
    rows: written,
    cpuSeconds: Math.round((cpu.user + cpu.system) / 1000) / 1000,
    wallSeconds: durationMs / 1000,
  };
  const tooMany = rejected > 0 && rejected / (written + rejected) > (options.maxDlqRatio ?? 0);
  const result: RunResult = {
    runId: ctx.runId,
    status: failure ? 'failed' : tooMany ? 'partial' : 'succeeded',
    streams,
    rows: streams.reduce((n, s) => n + s.rowsWritten, 0),
    deleted: streams.reduce((n, s) => n + s.rowsDeleted, 0),
    rejected,
    files: streams.reduce((n, s) => n + s.files, 0),
    bytes: streams.reduce((n, s) => n + s.bytesOut, 0),
    durationMs,
    cost,
    ...(failure ? { error: failure } : {}),
  };
  metrics.inc('dativo_active_jobs', -1);
  metrics.observe('dativo_job_duration_seconds', cost.wallSeconds, { status: result.status });
  metrics.inc('dativo_job_runs_total', 1, { status: result.status });
  metrics.inc('dativo_job_cpu_seconds_total', cost.cpuSeconds);
  metrics.inc('dativo_job_wall_seconds_total', cost.wallSeconds);
  runSpan.setAttributes({ 'dativo.status': result.status, 'dativo.rows': result.rows, 'dativo.rejected': rejected });
  endSpan(runSpan, failure, redact);
  report();
  return result;
}

/** Records this run read on the stream: what the source delivered plus what it set aside. */
function recordsOf(run: StreamRun): number {
  return run.result.rowsRead + run.result.rejected;
}

/** The history to store: earlier runs, plus this one once its stream has ended. */
function historyOf(run: StreamRun): number[] {
  return run.finished ? [...run.history, recordsOf(run)].slice(-STATE_HISTORY_RUNS) : run.history.slice(-STATE_HISTORY_RUNS);
}

/** A source's total must equal what arrived since its previous total: anything else is a gap (or a duplicate) nobody would see. */
function checkTotal(run: StreamRun, records: number, basis: string): void {
  if (run.sinceTotal === records) return;
  const name = run.configured.name;
  const got = run.sinceTotal;
  const rejected = run.result.rejected;
  throw new DativoError(
    `stream '${name}': the source reported ${records} record${records === 1 ? '' : 's'} (${basis}) but ${got} arrived${rejected ? ` (${rejected} of this stream's dead-lettered so far)` : ''}; ` +
      `the run stops rather than succeed with ${got < records ? 'a gap' : 'extra records'} (what was committed before is kept; a rerun resumes from it)`,
    { kind: 'permanent', code: 'RECORD_COUNT_MISMATCH', details: { stream: name, expected: records, received: got, basis } },
  );
}

/**
 * Flags a stream that read nothing although its earlier runs all read records: after one such run
 * for a full refresh (a table does not empty itself), after three for an incremental stream
 * (where "nothing new" is often just that).
 */
function flagAnomaly(run: StreamRun, ctx: RunContext): void {
  const needed = run.configured.syncMode === 'full_refresh' ? 1 : ZERO_RECORDS_FLAG_INCREMENTAL_RUNS;
  if (recordsOf(run) > 0) return;
  // The runs since the last one that read nothing.
  const zero = run.history.lastIndexOf(0);
  const previous = run.history.slice(zero + 1);
  const average = previous.reduce((n, r) => n + r, 0) / Math.max(1, previous.length);
  if (previous.length < needed || average < ZERO_RECORDS_FLAG_MIN_AVERAGE) return;
  const message = `stream '${run.configured.name}' read 0 records; its last ${previous.length === 1 ? 'run' : `${previous.length} runs`} read ${previous.join(', ')} — check the source (permissions, filters, an emptied table)`;
  run.result.anomaly = { kind: 'zero_records', message, previousRuns: previous };
  ctx.log.warn(message, { stream: run.configured.name, anomaly: 'zero_records', previousRuns: previous });
}

/** A stream without a schema takes the one the source discovers for it (by name, or its only stream). */
function withDiscoveredSchema(stream: ConfiguredStream, discovered: StreamDescriptor[]): ConfiguredStream {
  const match = discovered.find((d) => d.name === stream.name) ?? (discovered.length === 1 ? discovered[0] : undefined);
  if (!match) {
    throw new DativoError(`stream '${stream.name}' has no schema and the source offers ${discovered.length ? `several streams (${discovered.map((d) => d.name).join(', ')}) but none of that name` : 'no streams'}`, { kind: 'config' });
  }
  return { ...stream, schema: match.schema, ...(stream.primaryKey || !match.primaryKey ? {} : { primaryKey: match.primaryKey }) };
}

/** In warn mode only key columns stay required (v1 wrote every column as optional there). */
function relaxRequired(stream: ConfiguredStream): ConfiguredStream {
  const key = new Set(stream.primaryKey ?? []);
  if (stream.schema.every((f) => f.nullable || key.has(f.name))) return stream;
  return { ...stream, schema: stream.schema.map((f) => (f.nullable || key.has(f.name) ? f : { ...f, nullable: true })) };
}

function streamRun(runs: Map<string, StreamRun>, name: string): StreamRun {
  const run = runs.get(name);
  if (!run) throw new DativoError(`source yielded data for stream '${name}', which was not requested (requested: ${[...runs.keys()].join(', ')})`, { kind: 'permanent' });
  return run;
}

async function deadLetter(ctx: RunContext, message: RejectedMessage): Promise<void> {
  await ctx.dlq.put({
    time: new Date().toISOString(),
    tenant: ctx.tenant,
    job: ctx.job,
    runId: ctx.runId,
    stream: message.stream,
    error: { kind: message.error.kind, message: message.error.message, ...(message.error.code ? { code: message.error.code } : {}) },
    raw: message.raw,
    ...(message.context ? { context: message.context } : {}),
    ...(message.attempt ? { attempt: message.attempt } : {}),
  });
}

/** Bytes held by a batch's buffers. */
export function batchBytes(batch: RecordBatch): number {
  let total = 0;
  const visit = (data: { buffers: ArrayLike<unknown>; children: unknown[] }): void => {
    for (let i = 0; i < data.buffers.length; i++) {
      const b = data.buffers[i] as ArrayBufferView | undefined;
      if (b) total += b.byteLength;
    }
    for (const c of data.children) visit(c as { buffers: ArrayLike<unknown>; children: unknown[] });
  };
  visit(batch.data as unknown as { buffers: ArrayLike<unknown>; children: unknown[] });
  return total;
}
