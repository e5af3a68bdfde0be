import { readRows, toArrowSchema, type Checkpoint, type ConfiguredStream, type ExtractMessage, type Extractor, type Sink, type StreamDescriptor } from '@dativo/core';
import type { RecordBatch } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRunContext, type TestRunContext } from './context.js';

export interface ExtractorConformanceOptions<C> {
  create: () => Extractor<C>;
  /** The raw `source:` configuration (validated by the connector's own schema in the suite). */
  config: () => unknown | Promise<unknown>;
  /** Streams to read; default: every discovered stream, full refresh, with its discovered schema. */
  streams?: (discovered: StreamDescriptor[]) => ConfiguredStream[];
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

function rowText(row: Record<string, unknown>): string {
  return JSON.stringify(row, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v));
}

async function readAll<C>(extractor: Extractor<C>, config: C, streams: ConfiguredStream[], ctx: TestRunContext): Promise<ReadOutcome> {
  const outcome: ReadOutcome = { messages: [], rows: new Map(), checkpoints: [] };
  const schemas = new Map(streams.map((s) => [s.name, s.schema]));
  for await (const message of extractor.read(config, { streams }, ctx)) {
    outcome.messages.push(message);
    if (message.kind === 'batch') {
      const list = outcome.rows.get(message.stream) ?? [];
      for (const row of readRows(message.batch, schemas.get(message.stream) ?? [])) list.push(rowText(row));
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
      const outcome = await readAll(extractor, config, streams, context());
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
      const full = await readAll(extractor, config, streams, context());
      for (const stream of streams) {
        const rows = full.rows.get(stream.name) ?? [];
        const mid = full.checkpoints.filter((c) => c.stream === stream.name && c.at > 0 && c.at < rows.length);
        const pick = mid[Math.floor(mid.length / 2)];
        if (!pick) continue; // one batch only: nothing to resume inside
        const resumed = await readAll(extractor, config, [{ ...stream, resumeFrom: pick.checkpoint }], context());
        expect(resumed.rows.get(stream.name) ?? []).toEqual(rows.slice(pick.at));
      }
    });

    it('stops reading when the run is aborted', async () => {
      const ctx = context();
      let count = 0;
      const total = (await readAll(extractor, config, streams, context())).messages.length;
      try {
        for await (const message of extractor.read(config, { streams }, ctx)) {
          count++;
          if (count === 1) ctx.abort(new Error('test abort'));
          void message;
          if (count > total) break;
        }
      } catch (error) {
        expect((error as { kind?: string }).kind ?? (error as Error).name).toBeTruthy();
      }
      expect(count).toBeLessThanOrEqual(Math.max(2, total));
      if (total > 3) expect(count).toBeLessThan(total);
    });
  });
}

export interface SinkConformanceOptions<C> {
  create: () => Sink<C>;
  config: () => unknown | Promise<unknown>;
  stream: StreamDescriptor;
  /** Batches to write, matching `stream.schema`. */
  batches: () => RecordBatch[];
  /** Rows currently visible to readers of the sink's output (an independent reader). */
  visibleRows: (config: C) => Promise<number>;
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
