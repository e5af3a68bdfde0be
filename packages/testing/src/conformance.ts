import { DativoError, readRows, toArrowSchema, type Checkpoint, type ConfiguredStream, type ExtractMessage, type Extractor, type Sink, type StreamDescriptor } from '@dativo/core';
import { failAt } from '@dativo/core/testing';
import type { RecordBatch } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRunContext, type TestRunContext } from './context.js';

export interface ExtractorConformanceOptions<C> {
  create: () => Extractor<C>;
  /** The raw `source:` configuration (validated by the connector's own schema in the suite). */
  config: () => unknown | Promise<unknown>;
  /** Streams to read; default: every discovered stream, full refresh, with its discovered schema. */
  streams?: (discovered: StreamDescriptor[]) => ConfiguredStream[];
  /**
   * Configurations the connector must refuse, each with the field its error must name: either the
   * config schema rejects it with an issue at that field, or `check` rejects it with a
   * `DativoError` of kind `config` whose message names the field.
   */
  invalidConfigs: () => Array<{ config: unknown; field: string }> | Promise<Array<{ config: unknown; field: string }>>;
  /** Columns whose values differ on every read (a load timestamp): left out when reads are compared. */
  volatileColumns?: string[];
  /**
   * For a source that reads incrementally: the streams to read in incremental mode, and a way to
   * add records at the source (returns how many). The suite then checks that a read resumed from
   * the last checkpoint yields exactly the added records.
   */
  incremental?: {
    streams: (discovered: StreamDescriptor[]) => ConfiguredStream[];
    append: () => Promise<number>;
  };
  context?: () => TestRunContext;
  setup?: () => Promise<void>;
  teardown?: () => Promise<void>;
}

interface ReadOutcome {
  messages: ExtractMessage[];
  /** Rows per stream, rendered as JSON text (comparable across reads). */
  rows: Map<string, string[]>;
  /** For each checkpoint: its stream, position in that stream's rows, and the checkpoint. */
  checkpoints: Array<{ stream: string; at: number; checkpoint: Checkpoint }>;
}

function rowText(row: Record<string, unknown>, volatile: readonly string[]): string {
  if (volatile.length) row = Object.fromEntries(Object.entries(row).filter(([k]) => !volatile.includes(k)));
  return JSON.stringify(row, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v));
}

async function readAll<C>(extractor: Extractor<C>, config: C, streams: ConfiguredStream[], ctx: TestRunContext, volatile: readonly string[] = []): Promise<ReadOutcome> {
  const outcome: ReadOutcome = { messages: [], rows: new Map(), checkpoints: [] };
  const schemas = new Map(streams.map((s) => [s.name, s.schema]));
  for await (const message of extractor.read(config, { streams }, ctx)) {
    outcome.messages.push(message);
    if (message.kind === 'batch') {
      const list = outcome.rows.get(message.stream) ?? [];
      for (const row of readRows(message.batch, schemas.get(message.stream) ?? [])) list.push(rowText(row, volatile));
      outcome.rows.set(message.stream, list);
    } else if (message.kind === 'checkpoint') {
      const stream = message.checkpoint.stream;
      outcome.checkpoints.push({ stream, at: outcome.rows.get(stream)?.length ?? 0, checkpoint: message.checkpoint });
    }
  }
  return outcome;
}

/**
 * The contract every Dativo source must meet, as a vitest suite: spec and config, check,
 * discover, schema-conforming batches, final checkpoints, exact resume from any checkpoint, and
 * cancellation through the AbortSignal. Third-party connectors run it too.
 */
export function describeExtractorConformance<C>(name: string, options: ExtractorConformanceOptions<C>): void {
  describe(`${name}: extractor conformance`, () => {
    let extractor: Extractor<C>;
    let config: C;
    let streams: ConfiguredStream[];
    let discovered: StreamDescriptor[];
    const context = options.context ?? (() => testRunContext());
    const volatile = options.volatileColumns ?? [];

    beforeAll(async () => {
      await options.setup?.();
      extractor = options.create();
      config = extractor.configSchema.parse(await options.config());
      discovered = await extractor.discover(config, context());
      streams =
        options.streams?.(discovered) ??
        discovered.map((d) => ({ name: d.name, schema: d.schema, syncMode: 'full_refresh', ...(d.primaryKey ? { primaryKey: d.primaryKey } : {}) }));
    });
    afterAll(async () => {
      await options.teardown?.();
    });

    it('declares specification v1 and a spec with id and version', () => {
      expect(extractor.specificationVersion).toBe('v1');
      expect(extractor.spec.id).toMatch(/\S/);
      expect(extractor.spec.version).toMatch(/^\d+\.\d+\.\d+/);
    });

    it('passes check with a valid configuration', async () => {
      await expect(extractor.check(config, context())).resolves.toBeUndefined();
    });

    it('discovers named streams with schemas and sync modes', () => {
      expect(discovered.length).toBeGreaterThan(0);
      for (const d of discovered) {
        expect(d.name).toMatch(/\S/);
        expect(d.schema.length).toBeGreaterThan(0);
        expect(d.syncModes.length).toBeGreaterThan(0);
      }
    });

    it('yields batches with the requested schema and ends each stream with a small JSON checkpoint', async () => {
      const outcome = await readAll(extractor, config, streams, context(), volatile);
      for (const stream of streams) {
        const expected = toArrowSchema(stream.schema).fields.map((f) => `${f.name}:${String(f.type)}`);
        for (const m of outcome.messages) {
          if (m.kind !== 'batch' || m.stream !== stream.name) continue;
          expect(m.batch.schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual(expected);
        }
        const last = outcome.checkpoints.filter((c) => c.stream === stream.name).at(-1);
        expect(last, `stream ${stream.name} ends with a checkpoint`).toBeDefined();
        expect(last?.at).toBe(outcome.rows.get(stream.name)?.length ?? 0);
      }
      for (const c of outcome.checkpoints) {
        const text = JSON.stringify(c.checkpoint);
        expect(JSON.parse(text)).toEqual(c.checkpoint);
        expect(text.length).toBeLessThan(64 * 1024);
      }
    });

    it('resumed from a checkpoint, yields exactly the records after it', async () => {
      const full = await readAll(extractor, config, streams, context(), volatile);
      for (const stream of streams) {
        const rows = full.rows.get(stream.name) ?? [];
        const mid = full.checkpoints.filter((c) => c.stream === stream.name && c.at > 0 && c.at < rows.length);
        const pick = mid[Math.floor(mid.length / 2)];
        if (!pick) continue; // one batch only: nothing to resume inside
        const resumed = await readAll(extractor, config, [{ ...stream, resumeFrom: pick.checkpoint }], context(), volatile);
        expect(resumed.rows.get(stream.name) ?? []).toEqual(rows.slice(pick.at));
      }
    });

    it('refuses an invalid configuration with a typed error naming the field', async () => {
      const invalid = await options.invalidConfigs();
      expect(invalid.length, 'give the suite at least one invalid configuration').toBeGreaterThan(0);
      for (const { config: bad, field } of invalid) {
        await expectRefused(extractor.configSchema, (c) => extractor.check(c, context()), bad, field);
      }
    });

    it('aborted, stops promptly and cleanly; a later read is whole', async () => {
      const full = await readAll(extractor, config, streams, context(), volatile);
      const batches = full.messages.filter((m) => m.kind === 'batch').length;
      // Aborted before it starts: no data at all.
      const early = context();
      early.abort(new Error('conformance: aborted before the read'));
      const before = await drain(extractor.read(config, { streams }, early));
      expect(before.messages.filter((m) => m.kind === 'batch'), 'batches read after the run was aborted').toEqual([]);
      expectCleanAbort(before.error);
      // Aborted at its first batch: at most a checkpoint and a batch already under way follow.
      const ctx = context();
      let after = -1;
      const outcome = await drain(extractor.read(config, { streams }, ctx), (m) => {
        if (after >= 0) after++;
        else if (m.kind === 'batch') {
          ctx.abort(new Error('conformance: aborted mid-read'));
          after = 0;
        }
      });
      expectCleanAbort(outcome.error);
      if (batches > 3) expect(after, 'messages after the abort').toBeLessThanOrEqual(3);
      // Nothing was left locked or half-open: the next read yields everything again.
      const again = await readAll(extractor, config, streams, context(), volatile);
      expect(again.rows).toEqual(full.rows);
    });

    if (options.incremental) {
      const incremental = options.incremental;
      // Last: it adds records at the source.
      it('incremental: resumed from its last checkpoint, yields exactly the records added since', async () => {
        const chosen = incremental.streams(discovered);
        expect(chosen.every((s) => s.syncMode === 'incremental')).toBe(true);
        const first = await readAll(extractor, config, chosen, context(), volatile);
        const seen = new Set([...first.rows.values()].flat());
        const added = await incremental.append();
        expect(added, 'records appended at the source').toBeGreaterThan(0);
        const resumedStreams = chosen.map((s) => {
          const last = first.checkpoints.filter((c) => c.stream === s.name).at(-1);
          return last ? { ...s, resumeFrom: last.checkpoint } : s;
        });
        const next = await readAll(extractor, config, resumedStreams, context(), volatile);
        const rows = [...next.rows.values()].flat();
        expect(rows.filter((r) => seen.has(r)), 'records read again').toEqual([]);
        expect(rows.length, 'records after the checkpoint').toBe(added);
        // And from that checkpoint on, nothing more.
        const finalStreams = chosen.map((s) => {
          const last = next.checkpoints.filter((c) => c.stream === s.name).at(-1)?.checkpoint ?? resumedStreams.find((r) => r.name === s.name)?.resumeFrom;
          return last ? { ...s, resumeFrom: last } : s;
        });
        const idle = await readAll(extractor, config, finalStreams, context(), volatile);
        expect([...idle.rows.values()].flat()).toEqual([]);
      });
    }
  });
}

/** Reads to the end (or the first error), optionally looking at each message as it comes. */
async function drain(iterable: AsyncIterable<ExtractMessage>, each?: (m: ExtractMessage) => void): Promise<{ messages: ExtractMessage[]; error?: unknown }> {
  const messages: ExtractMessage[] = [];
  try {
    for await (const m of iterable) {
      messages.push(m);
      each?.(m);
      if (messages.length > 1_000_000) throw new Error('the read did not stop');
    }
    return { messages };
  } catch (error) {
    return { messages, error };
  }
}

/** An aborted read ends quietly or with the run's abort error, never with another failure. */
function expectCleanAbort(error: unknown): void {
  if (error === undefined) return;
  expect(DativoError.isInstance(error) && (error as DativoError).code === 'ABORTED', `an aborted read failed with something other than an abort: ${String(error)}`).toBe(true);
}

async function expectRefused<C>(schema: Extractor<C>['configSchema'], check: (config: C) => Promise<void>, bad: unknown, field: string): Promise<void> {
  const parsed = schema.safeParse(bad);
  if (!parsed.success) {
    const paths = parsed.error.issues.map((i) => i.path.map(String).join('.'));
    expect(paths.some((p) => p === field || p.startsWith(`${field}.`)), `schema issues at ${JSON.stringify(paths)} should include '${field}'`).toBe(true);
    return;
  }
  let error: unknown;
  try {
    await check(parsed.data);
  } catch (e) {
    error = e;
  }
  expect(error, `configuration with a bad '${field}' was accepted by the schema and by check`).toBeDefined();
  expect(DativoError.isInstance(error), `check threw ${String(error)}, not a DativoError`).toBe(true);
  const e = error as DativoError & { path?: string };
  expect(e.kind).toBe('config');
  expect(e.path === field || e.message.includes(field), `the error '${e.message}' should name '${field}'`).toBe(true);
}

export interface SinkConformanceOptions<C> {
  create: () => Sink<C>;
  config: () => unknown | Promise<unknown>;
  stream: StreamDescriptor;
  /** Batches to write, matching `stream.schema`. */
  batches: () => RecordBatch[];
  /** Rows currently visible to readers of the sink's output (an independent reader). */
  visibleRows: (config: C) => Promise<number>;
  /**
   * Configurations the sink must refuse, each with the field its error must name (by the schema,
   * or by `check` with a `DativoError` of kind `config`).
   */
  invalidConfigs: () => Array<{ config: unknown; field: string }> | Promise<Array<{ config: unknown; field: string }>>;
  /**
   * The crash points (`crashPoint(name)` from `@dativo/core/testing`) on the sink's commit path.
   * For each, the suite makes a commit fail there, then retries as the next run would: the rows
   * must end up published exactly once.
   */
  failurePoints?: string[];
  context?: () => TestRunContext;
  setup?: () => Promise<void>;
  teardown?: () => Promise<void>;
}

/**
 * The contract every Dativo sink must meet: nothing is visible before commit, a commit publishes
 * every staged row with its checkpoint, abort publishes nothing, and `lastCommitted` survives a
 * reopen.
 */
export function describeSinkConformance<C>(name: string, options: SinkConformanceOptions<C>): void {
  describe(`${name}: sink conformance`, () => {
    let sink: Sink<C>;
    let config: C;
    const context = options.context ?? (() => testRunContext());

    beforeAll(async () => {
      await options.setup?.();
      sink = options.create();
      config = sink.configSchema.parse(await options.config());
    });
    afterAll(async () => {
      await options.teardown?.();
    });

    it('declares specification v1 and passes check', async () => {
      expect(sink.specificationVersion).toBe('v1');
      await expect(sink.check(config, context())).resolves.toBeUndefined();
    });

    it('publishes nothing before commit and everything at commit, with the checkpoint', async () => {
      const before = await options.visibleRows(config);
      const writer = await sink.open(config, options.stream, context());
      const batches = options.batches();
      const rows = batches.reduce((n, b) => n + b.numRows, 0);
      for (const b of batches) await writer.write(b);
      expect(await options.visibleRows(config)).toBe(before);
      const checkpoint = { stream: options.stream.name, state: { position: 1 } };
      const result = await writer.commit(checkpoint);
      await writer.close();
      expect(result.rows).toBe(rows);
      expect(await options.visibleRows(config)).toBe(before + rows);
      const reopened = await sink.open(config, options.stream, context());
      expect(await reopened.lastCommitted()).toEqual(checkpoint);
      await reopened.close();
    });

    it('publishes nothing on abort and keeps the last checkpoint', async () => {
      const before = await options.visibleRows(config);
      const writer = await sink.open(config, options.stream, context());
      const last = await writer.lastCommitted();
      for (const b of options.batches()) await writer.write(b);
      await writer.abort();
      await writer.close();
      expect(await options.visibleRows(config)).toBe(before);
      const reopened = await sink.open(config, options.stream, context());
      expect(await reopened.lastCommitted()).toEqual(last);
      await reopened.close();
    });

    it('keeps the checkpoints of jobs that share one location apart (tenant, job, stream)', async () => {
      const owners = [
        { tenant: 'conformance-a', job: 'first' },
        { tenant: 'conformance-a', job: 'second' },
        { tenant: 'conformance-b', job: 'first' },
      ];
            const before = await options.visibleRows(config);
      let rows = 0;
      for (const [i, owner] of owners.entries()) {
        const writer = await sink.open(config, options.stream, testRunContext(owner));
        expect(await writer.lastCommitted(), `${owner.tenant}/${owner.job} starts without a checkpoint`).toBeUndefined();
        for (const b of options.batches()) {
          await writer.write(b);
          rows += b.numRows;
        }
        await writer.commit({ stream: options.stream.name, state: { owner: i } });
        await writer.close();
      }
      expect(await options.visibleRows(config)).toBe(before + rows);
      for (const [i, owner] of owners.entries()) {
        const reopened = await sink.open(config, options.stream, testRunContext(owner));
        expect(await reopened.lastCommitted()).toEqual({ stream: options.stream.name, state: { owner: i } });
        await reopened.close();
      }
      // A job renamed with its old name as state id continues from the old name's checkpoint.
      const renamed = await sink.open(config, options.stream, testRunContext({ tenant: 'conformance-a', job: 'renamed', stateId: 'second' }));
      expect(await renamed.lastCommitted()).toEqual({ stream: options.stream.name, state: { owner: 1 } });
      await renamed.close();
    });

    it('refuses an invalid configuration with a typed error naming the field', async () => {
      const invalid = await options.invalidConfigs();
      expect(invalid.length, 'give the suite at least one invalid configuration').toBeGreaterThan(0);
      for (const { config: bad, field } of invalid) {
        await expectRefused(sink.configSchema, (c) => sink.check(c, context()), bad, field);
      }
    });

    for (const point of options.failurePoints ?? []) {
      it(`a commit that fails at ${point}, retried as the next run does, publishes its rows once`, async () => {
        const owner = { tenant: 'conformance-retry', job: point.replace(/[^a-z0-9]+/gi, '-') };
        const before = await options.visibleRows(config);
        const writer = await sink.open(config, options.stream, testRunContext(owner));
        const previous = await writer.lastCommitted();
        let rows = 0;
        for (const b of options.batches()) {
          await writer.write(b);
          rows += b.numRows;
        }
        const checkpoint = { stream: options.stream.name, state: { retried: point } };
        const disarm = failAt(point);
        try {
          await expect(writer.commit(checkpoint)).rejects.toMatchObject({ code: 'INJECTED_FAILURE' });
        } finally {
          disarm();
        }
        // The run fails: the runner aborts and closes the writer.
        await writer.abort();
        await writer.close();
        // The next run: resumes from what the sink reports, and sends the rows after it again.
        const next = await sink.open(config, options.stream, testRunContext(owner));
        const resumed = await next.lastCommitted();
        if (JSON.stringify(resumed) === JSON.stringify(checkpoint)) {
          expect(await options.visibleRows(config), 'a commit reported done shows its rows').toBe(before + rows);
        } else {
          expect(resumed, 'a commit not reported done keeps the checkpoint before it').toEqual(previous);
          expect(await options.visibleRows(config), 'a commit not reported done shows none of its rows').toBe(before);
          for (const b of options.batches()) await next.write(b);
          await next.commit(checkpoint);
          expect(await options.visibleRows(config)).toBe(before + rows);
        }
        await next.close();
        const last = await sink.open(config, options.stream, testRunContext(owner));
        expect(await last.lastCommitted()).toEqual(checkpoint);
        await last.close();
      });
    }

    it('records a checkpoint committed without data', async () => {
      const writer = await sink.open(config, options.stream, context());
      const checkpoint = { stream: options.stream.name, state: { position: 2 } };
      await writer.commit(checkpoint);
      await writer.close();
      const reopened = await sink.open(config, options.stream, context());
      expect(await reopened.lastCommitted()).toEqual(checkpoint);
      await reopened.close();
    });
  });
}
