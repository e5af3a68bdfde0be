import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BatchBuilder } from '../batch/batch-builder.js';
import { MemoryDeadLetterQueue } from '../dlq/dlq.js';
import { DativoError } from '../errors.js';
import { silentLogger } from '../log/logger.js';
import type { FieldSpec } from '../schema/types.js';
import type { Checkpoint, ConfiguredStream, ExtractMessage, ReadRequest } from '../v1/messages.js';
import type { Extractor } from '../v1/extractor.js';
import type { Sink } from '../v1/sink.js';
import { MemoryStateStore } from '../state/state-store.js';
import { createRunContext } from './context.js';
import { runPipeline } from './runner.js';

const FIELDS: FieldSpec[] = [{ name: 'n', type: { kind: 'int32' }, nullable: false }];

function batchOf(values: number[]) {
  const b = new BatchBuilder(FIELDS);
  for (const n of values) b.appendRecord({ n });
  return b.flush()!;
}

/** Yields `total` rows in batches of `size`, a checkpoint {next} after each batch. */
function counterSource(total: number, size: number, extra: (n: number) => ExtractMessage[] = () => []): Extractor<unknown> & { requests: ReadRequest[] } {
  const requests: ReadRequest[] = [];
  return {
    specificationVersion: 'v1',
    spec: { id: 'counter', version: '1.0.0' },
    configSchema: z.unknown(),
    requests,
    async check() {},
    async discover() {
      return [];
    },
    async *read(_config, request, ctx) {
      requests.push(request);
      const stream = request.streams[0] as ConfiguredStream;
      let next = ((stream.resumeFrom?.state as { next?: number } | null)?.next ?? 0) as number;
      while (next < total) {
        if (ctx.signal.aborted) return;
        const values = Array.from({ length: Math.min(size, total - next) }, (_, i) => next + i);
        yield { kind: 'batch', stream: stream.name, batch: batchOf(values) };
        next += values.length;
        yield* extra(next);
        yield { kind: 'checkpoint', checkpoint: { stream: stream.name, state: { next } } };
      }
    },
  };
}

interface MemorySinkState {
  committed: number[];
  staged: number[];
  checkpoints: Checkpoint[];
  aborts: number;
  failCommit?: boolean;
}

function memorySink(state: MemorySinkState, keepsCheckpoints = false): Sink<unknown> {
  return {
    specificationVersion: 'v1',
    spec: { id: 'memory', version: '1.0.0' },
    configSchema: z.unknown(),
    async check() {},
    async open() {
      return {
        keepsCheckpoints,
        lastCommitted: async () => state.checkpoints.at(-1),
        write: async (batch) => {
          for (let i = 0; i < batch.numRows; i++) state.staged.push(batch.getChildAt(0)!.get(i) as number);
        },
        commit: async (checkpoint) => {
          if (state.failCommit) throw new DativoError('storage unavailable', { kind: 'network' });
          const rows = state.staged.length;
          state.committed.push(...state.staged);
          state.staged = [];
          state.checkpoints.push(checkpoint);
          return { files: rows ? 1 : 0, rows, bytes: rows * 4 };
        },
        abort: async () => {
          state.staged = [];
          state.aborts++;
        },
        close: async () => {},
      };
    },
  };
}

const stream: ConfiguredStream = { name: 'numbers', schema: FIELDS, syncMode: 'full_refresh' };

function context(signal?: AbortSignal) {
  return createRunContext({ tenant: 't', job: 'j', log: silentLogger, state: new MemoryStateStore(), dlq: new MemoryDeadLetterQueue(), ...(signal ? { signal } : {}) });
}

describe('runPipeline', () => {
  it('commits by policy, stores state only after the commit, and resumes from the sink', async () => {
    const sinkState: MemorySinkState = { committed: [], staged: [], checkpoints: [], aborts: 0 };
    const ctx = context();
    const result = await runPipeline({ extractor: counterSource(100, 10), sourceConfig: {}, sink: memorySink(sinkState), sinkConfig: {}, streams: [stream], ctx, commitPolicy: { everyRows: 25 } });
    expect(result).toMatchObject({ status: 'succeeded', rows: 100, files: 4 });
    expect(sinkState.checkpoints.map((c) => (c.state as { next: number }).next)).toEqual([30, 60, 90, 100]);
    expect(sinkState.committed).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect((await ctx.state.get({ tenant: 't', job: 'j', stream: 'numbers' }))?.checkpoint).toEqual({ stream: 'numbers', state: { next: 100 } });

    const again = counterSource(120, 10);
    const second = await runPipeline({ extractor: again, sourceConfig: {}, sink: memorySink(sinkState), sinkConfig: {}, streams: [stream], ctx });
    expect(again.requests[0]?.streams[0]?.resumeFrom).toEqual({ stream: 'numbers', state: { next: 100 } });
    expect(second.rows).toBe(20);
    expect(sinkState.committed).toEqual(Array.from({ length: 120 }, (_, i) => i));
  });

  it('a target that keeps its own checkpoints and has none (dropped, recreated) is read into from the start, whatever the state store remembers', async () => {
    const ctx = context();
    await runPipeline({ extractor: counterSource(50, 10), sourceConfig: {}, sink: memorySink({ committed: [], staged: [], checkpoints: [], aborts: 0 }, true), sinkConfig: {}, streams: [stream], ctx });
    expect((await ctx.state.get({ tenant: 't', job: 'j', stream: 'numbers' }))?.checkpoint).toEqual({ stream: 'numbers', state: { next: 50 } });
    // The table is dropped: a new, empty target.
    const fresh: MemorySinkState = { committed: [], staged: [], checkpoints: [], aborts: 0 };
    const again = counterSource(50, 10);
    const result = await runPipeline({ extractor: again, sourceConfig: {}, sink: memorySink(fresh, true), sinkConfig: {}, streams: [stream], ctx });
    expect(again.requests[0]?.streams[0]?.resumeFrom).toBeUndefined();
    expect(result.rows).toBe(50);
    expect(fresh.committed).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('fails a strict run on the first rejected record and publishes nothing after the last commit', async () => {
    const sinkState: MemorySinkState = { committed: [], staged: [], checkpoints: [], aborts: 0 };
    const bad = (n: number): ExtractMessage[] => (n === 50 ? [{ kind: 'rejected', stream: 'numbers', raw: { n: 'x' }, error: new DativoError("row 50: 'x' is not an integer", { kind: 'validation', code: 'BAD' }) }] : []);
    const result = await runPipeline({ extractor: counterSource(100, 10, bad), sourceConfig: {}, sink: memorySink(sinkState), sinkConfig: {}, streams: [stream], ctx: context(), commitPolicy: { everyRows: 20 } });
    expect(result.status).toBe('failed');
    expect(result.error?.message).toBe("row 50: 'x' is not an integer (schema_validation_mode: strict; use warn to send bad records to the dead-letter queue)");
    expect(result.error?.kind).toBe('validation');
    expect(sinkState.committed).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(sinkState.aborts).toBe(1);
  });

  it('sends rejected records to the dead-letter queue in warn mode', async () => {
    const sinkState: MemorySinkState = { committed: [], staged: [], checkpoints: [], aborts: 0 };
    const ctx = context();
    const bad = (n: number): ExtractMessage[] => (n % 30 === 0 ? [{ kind: 'rejected', stream: 'numbers', raw: { n }, error: new DativoError('bad', { kind: 'validation' }), context: { row: n } }] : []);
    const result = await runPipeline({ extractor: counterSource(100, 10, bad), sourceConfig: {}, sink: memorySink(sinkState), sinkConfig: {}, streams: [stream], ctx, validationMode: 'warn' });
    expect(result).toMatchObject({ status: 'partial', rows: 100, rejected: 3 });
    const entries = (ctx.dlq as MemoryDeadLetterQueue).entries;
    expect(entries.map((e) => e.context?.row)).toEqual([30, 60, 90]);
    expect(entries[0]).toMatchObject({ tenant: 't', job: 'j', runId: ctx.runId, stream: 'numbers', error: { kind: 'validation', message: 'bad' }, raw: { n: 30 } });
  });

  it('max_dlq_ratio: a run whose dead-lettered share stays within it succeeds; above it, partial', async () => {
    const bad = (n: number): ExtractMessage[] => (n % 30 === 0 ? [{ kind: 'rejected', stream: 'numbers', raw: { n }, error: new DativoError('bad', { kind: 'validation' }) }] : []);
    const run = (maxDlqRatio: number) => runPipeline({ extractor: counterSource(100, 10, bad), sourceConfig: {}, sink: memorySink({ committed: [], staged: [], checkpoints: [], aborts: 0 }), sinkConfig: {}, streams: [stream], ctx: context(), validationMode: 'warn', maxDlqRatio });
    // 3 of 103 records set aside: 2.9 %.
    expect(await run(0.05)).toMatchObject({ status: 'succeeded', rows: 100, rejected: 3 });
    expect(await run(0.02)).toMatchObject({ status: 'partial', rows: 100, rejected: 3 });
  });

  it('aborts on the signal and on a failed commit without storing state', async () => {
    const controller = new AbortController();
    const sinkState: MemorySinkState = { committed: [], staged: [], checkpoints: [], aborts: 0 };
    const ctx = context(controller.signal);
    const stopAt = (n: number): ExtractMessage[] => {
      if (n === 30) controller.abort(new Error('SIGTERM'));
      return [];
    };
    const result = await runPipeline({ extractor: counterSource(100, 10, stopAt), sourceConfig: {}, sink: memorySink(sinkState), sinkConfig: {}, streams: [stream], ctx, commitPolicy: { everyRows: 10 } });
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('ABORTED');
    expect(sinkState.committed.length).toBeLessThanOrEqual(30);
    expect(sinkState.aborts).toBe(1);

    const failing: MemorySinkState = { committed: [], staged: [], checkpoints: [], aborts: 0, failCommit: true };
    const ctx2 = context();
    const r2 = await runPipeline({ extractor: counterSource(10, 10), sourceConfig: {}, sink: memorySink(failing), sinkConfig: {}, streams: [stream], ctx: ctx2 });
    expect(r2.error?.message).toBe('storage unavailable');
    expect(await ctx2.state.get({ tenant: 't', job: 'j', stream: 'numbers' })).toBeUndefined();
  });

  it('rejects data for streams that were not requested', async () => {
    const source = counterSource(10, 10);
    const sinkState: MemorySinkState = { committed: [], staged: [], checkpoints: [], aborts: 0 };
    const result = await runPipeline({ extractor: source, sourceConfig: {}, sink: memorySink(sinkState), sinkConfig: {}, streams: [{ ...stream, name: 'other' }], ctx: context() });
    expect(result.status).toBe('succeeded');
    const rogue: Extractor<unknown> = {
      ...source,
      async *read() {
        yield { kind: 'batch', stream: 'nope', batch: batchOf([1]) };
      },
    };
    const bad = await runPipeline({ extractor: rogue, sourceConfig: {}, sink: memorySink(sinkState), sinkConfig: {}, streams: [stream], ctx: context() });
    expect(bad.error?.message).toBe("source yielded data for stream 'nope', which was not requested (requested: numbers)");
  });

  it("compares a source's totals with what arrived (rows + dead-lettered) and fails on a mismatch, keeping what was committed", async () => {
    const bad = (n: number): ExtractMessage[] => (n === 20 ? [{ kind: 'rejected', stream: 'numbers', raw: { n: 'x' }, error: new DativoError('bad', { kind: 'validation' }) }] : []);
    // Every 50 records the source says how many it sent since its last total (the rejected one included).
    const counted = (claim: (n: number) => number) => (n: number): ExtractMessage[] => [...bad(n), ...(n % 50 === 0 ? [{ kind: 'total', stream: 'numbers', records: claim(n), basis: 'COUNT(*) in the snapshot' } as ExtractMessage] : [])];
    const ok = await runPipeline({ extractor: counterSource(100, 10, counted((n) => (n === 50 ? 51 : 50))), sourceConfig: {}, sink: memorySink({ committed: [], staged: [], checkpoints: [], aborts: 0 }), sinkConfig: {}, streams: [stream], ctx: context(), validationMode: 'warn', maxDlqRatio: 0.5 });
    expect(ok).toMatchObject({ status: 'succeeded', rows: 100, rejected: 1 });
    expect(ok.streams[0]?.verified).toBe(101);

    const sinkState: MemorySinkState = { committed: [], staged: [], checkpoints: [], aborts: 0 };
    const short = await runPipeline({ extractor: counterSource(100, 10, counted((n) => (n === 50 ? 51 : 60))), sourceConfig: {}, sink: memorySink(sinkState), sinkConfig: {}, streams: [stream], ctx: context(), validationMode: 'warn', maxDlqRatio: 0.5, commitPolicy: { everyRows: 10 } });
    expect(short.status).toBe('failed');
    expect(short.error).toMatchObject({ kind: 'permanent', code: 'RECORD_COUNT_MISMATCH' });
    expect(short.error?.message).toBe("stream 'numbers': the source reported 60 records (COUNT(*) in the snapshot) but 50 arrived (1 of this stream's dead-lettered so far); the run stops rather than succeed with a gap (what was committed before is kept; a rerun resumes from it)");
    // Everything before the mismatch was committed (every 10 rows); the final checkpoint was not.
    expect(sinkState.committed).toHaveLength(90);
    expect(sinkState.checkpoints.at(-1)?.state).toEqual({ next: 90 });
  });

  it('flags a stream that reads nothing after runs that read plenty, and keeps a short history in the state', async () => {
    const ctx = context();
    const warnings: string[] = [];
    ctx.log = { ...silentLogger, warn: (message: string) => warnings.push(message), child: () => ctx.log } as typeof ctx.log;
    const sinkState: MemorySinkState = { committed: [], staged: [], checkpoints: [], aborts: 0 };
    // An incremental source: each run reads what is new since the last checkpoint.
    const run = (total: number) => runPipeline({ extractor: counterSource(total, 10), sourceConfig: {}, sink: memorySink(sinkState), sinkConfig: {}, streams: [stream], ctx });
    for (const total of [40, 80, 120, 160, 200, 240]) expect((await run(total)).streams[0]?.anomaly).toBeUndefined();
    const key = { tenant: 't', job: 'j', stream: 'numbers' };
    expect((await ctx.state.get(key))?.history).toEqual([40, 40, 40, 40, 40]);
    const empty = await run(240);
    expect(empty.status).toBe('succeeded');
    expect(empty.streams[0]?.anomaly).toEqual({
      kind: 'zero_records',
      previousRuns: [40, 40, 40, 40, 40],
      message: "stream 'numbers' read 0 records; its last 5 runs read 40, 40, 40, 40, 40 — check the source (permissions, filters, an emptied table)",
    });
    expect(warnings).toContain(empty.streams[0]?.anomaly?.message);
    // The empty run is remembered: a second empty run is not flagged again (a quiet source stays quiet).
    expect((await ctx.state.get(key))?.history).toEqual([40, 40, 40, 40, 0]);
    expect((await run(240)).streams[0]?.anomaly).toBeUndefined();

    // An incremental stream: "nothing new" is often just that, so only after three runs that all read records.
    const ctx2 = context();
    const sink2: MemorySinkState = { committed: [], staged: [], checkpoints: [], aborts: 0 };
    const incremental = (total: number) => runPipeline({ extractor: counterSource(total, 10), sourceConfig: {}, sink: memorySink(sink2), sinkConfig: {}, streams: [{ ...stream, syncMode: 'incremental' }], ctx: ctx2 });
    await incremental(50);
    await incremental(100);
    expect((await incremental(100)).streams[0]?.anomaly).toBeUndefined();
    await incremental(150);
    await incremental(200);
    expect((await incremental(200)).streams[0]?.anomaly).toBeUndefined();
    for (const total of [250, 300, 350]) await incremental(total);
    expect((await incremental(350)).streams[0]?.anomaly?.previousRuns).toEqual([50, 50, 50]);
  });
});
