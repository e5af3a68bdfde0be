import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { BatchBuilder, DativoError, parseCheckpointState, parseDataType, throwIfAborted, type FieldSpec, type ConfiguredStream, type ExtractMessage, type Extractor, type JsonValue, type RunContext, type StreamDescriptor } from '@dativo/core';
import { z } from 'zod';

/**
 * v1's Python readers (`custom_reader: path/to/reader.py:ClassName`, a `BaseReader` subclass) run
 * in a `python3` subprocess behind a small protocol (see `python/dativo_plugin_host.py` and
 * docs/plugins.md): the job's `source:` section goes to the host on stdin; the host answers with
 * one JSON message per line on stdout — `records` per batch the reader yields, then `done`, or
 * `error`. The reader's own output (prints, logging) arrives on stderr and goes to the log.
 *
 * Progress: v1 readers keep no state of their own (Dativo hands them no state manager), so the
 * checkpoint counts the records already committed. A crashed run starts the reader again and skips
 * that many records: exactly the rest, provided the reader yields its records in the same order
 * each time (every v1 reader in v1's repository does). A finished run starts over.
 */
export interface PythonReaderOptions {
  /** The reader's file (resolved). */
  file: string;
  className: string;
  /** The reference as the job wrote it, for messages. */
  ref: string;
}

const checkpointSchema = z.object({ v: z.literal(1), records: z.number().int().nonnegative(), done: z.boolean() });
type PythonCheckpoint = z.infer<typeof checkpointSchema>;

const configSchema = z.record(z.string(), z.unknown());
type PythonReaderConfig = z.infer<typeof configSchema>;

const sampledColumns = z.array(z.object({ name: z.string(), type: z.enum(['boolean', 'int64', 'float64', 'timestamp', 'date', 'json', 'string']) }));

const message = z.discriminatedUnion('type', [
  z.object({ type: z.literal('records'), records: z.array(z.record(z.string(), z.unknown())) }),
  z.object({ type: z.literal('check'), success: z.boolean(), message: z.string() }),
  z.object({ type: z.literal('discover'), objects: z.array(z.unknown()) }),
  z.object({ type: z.literal('done') }),
  z.object({ type: z.literal('error'), error: z.string(), message: z.string(), traceback: z.string().optional() }),
]);
type HostMessage = z.infer<typeof message>;

/** The host script shipped with the CLI (`python/` next to `dist/`). */
function hostScript(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const candidate of [path.join(here, '..', 'python', 'dativo_plugin_host.py'), path.join(here, '..', '..', 'python', 'dativo_plugin_host.py')]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new DativoError('the Python plugin host (python/dativo_plugin_host.py) is missing from the @dativo/cli installation', { kind: 'permanent', code: 'PLUGIN_HOST_MISSING' });
}

/** The interpreter: `DATIVO_PYTHON` when set, else `python3` on the PATH. */
const pythonBinary = (): string => process.env.DATIVO_PYTHON || 'python3';

/** The last lines the reader wrote to stderr, kept for an error message when the process dies. */
class Tail {
  private lines: string[] = [];
  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > 20) this.lines.shift();
  }
  toString(): string {
    return this.lines.slice(-5).join('\n');
  }
}

interface HostRun {
  messages: AsyncIterable<HostMessage>;
  /** Resolves when the process has exited, with its code (or the signal that ended it). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): void;
  stderr: Tail;
}

function startHost(mode: 'check' | 'read' | 'discover', options: PythonReaderOptions, config: PythonReaderConfig, ctx: RunContext): HostRun {
  const child: ChildProcess = spawn(pythonBinary(), [hostScript(), mode, options.file, options.className], {
    cwd: ctx.cwd,
    env: { ...process.env, PYTHONUNBUFFERED: '1', PYTHONIOENCODING: 'utf-8' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const stderr = new Tail();
  const spawnError = new Promise<never>((_, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'ENOENT'
          ? new DativoError(`the Python reader ${options.ref} needs ${pythonBinary()} on the PATH (or DATIVO_PYTHON set to an interpreter)`, { kind: 'config', code: 'PYTHON_NOT_FOUND', cause: error })
          : new DativoError(`could not start ${pythonBinary()} for ${options.ref}: ${error.message}`, { kind: 'permanent', code: 'PLUGIN_START_FAILED', cause: error }),
      );
    });
  });
  spawnError.catch(() => undefined);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  child.stdin?.on('error', () => undefined);
  child.stdin?.end(JSON.stringify(config));
  createInterface({ input: child.stderr as NodeJS.ReadableStream, crlfDelay: Infinity }).on('line', (line) => {
    stderr.push(line);
    ctx.log.info('python reader output', { plugin: options.ref, line });
  });
  const stop = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  const onAbort = (): void => stop();
  if (ctx.signal.aborted) stop();
  else ctx.signal.addEventListener('abort', onAbort, { once: true });
  void exited.then(() => ctx.signal.removeEventListener('abort', onAbort));

  async function* messages(): AsyncGenerator<HostMessage> {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream, crlfDelay: Infinity });
    const iterator = lines[Symbol.asyncIterator]();
    try {
      for (;;) {
        const next = await Promise.race([iterator.next(), spawnError]);
        if (next.done) break;
        if (next.value.trim() === '') continue;
        let parsed: unknown;
        try {
          parsed = JSON.parse(next.value);
        } catch {
          throw new DativoError(`the Python plugin host for ${options.ref} wrote a line that is not a protocol message: ${next.value.slice(0, 200)}`, { kind: 'permanent', code: 'PLUGIN_PROTOCOL' });
        }
        const result = message.safeParse(parsed);
        if (!result.success) throw new DativoError(`the Python plugin host for ${options.ref} sent an unexpected message: ${next.value.slice(0, 200)}`, { kind: 'permanent', code: 'PLUGIN_PROTOCOL' });
        yield result.data;
      }
    } finally {
      lines.close();
    }
  }
  return { messages: messages(), exited, stop, stderr };
}

/** Fails the run with what the reader raised (or how its process died). */
async function failure(run: HostRun, options: PythonReaderOptions, error?: Extract<HostMessage, { type: 'error' }>): Promise<DativoError> {
  if (error) {
    const lastLine = error.traceback?.trim().split('\n').slice(-3, -1).join(' | ');
    return new DativoError(`the Python reader ${options.ref} raised ${error.error}: ${error.message}`, {
      kind: error.error === 'ModuleNotFoundError' || error.error === 'ImportError' || error.error === 'FileNotFoundError' ? 'config' : 'permanent',
      code: 'PLUGIN_FAILED',
      details: { plugin: options.ref, exception: error.error, ...(lastLine ? { where: lastLine } : {}) },
    });
  }
  const { code, signal } = await run.exited;
  const tail = run.stderr.toString();
  return new DativoError(`the Python reader ${options.ref} stopped without finishing (${signal ? `signal ${signal}` : `exit code ${code}`})${tail ? `; its last output:\n${tail}` : ''}`, { kind: 'permanent', code: 'PLUGIN_FAILED' });
}

/** Runs the host in a mode that answers with one message (check, discover). */
async function ask<T extends HostMessage['type']>(mode: 'check' | 'discover', type: T, options: PythonReaderOptions, config: PythonReaderConfig, ctx: RunContext): Promise<Extract<HostMessage, { type: T }>> {
  const run = startHost(mode, options, config, ctx);
  let answer: Extract<HostMessage, { type: T }> | undefined;
  try {
    for await (const m of run.messages) {
      if (m.type === 'error') throw await failure(run, options, m);
      if (m.type === type) answer = m as Extract<HostMessage, { type: T }>;
    }
  } finally {
    run.stop();
  }
  if (!answer) throw await failure(run, options);
  return answer;
}

export function pythonReader(options: PythonReaderOptions): Extractor<PythonReaderConfig> {
  return {
    specificationVersion: 'v1',
    spec: { id: 'python-reader', version: '1.0.0', description: `v1 Python reader ${options.ref}` },
    configSchema,

    async check(config, ctx) {
      const answer = await ask('check', 'check', options, config, ctx);
      if (!answer.success) throw new DativoError(`the Python reader ${options.ref} reports its connection check failed: ${answer.message}`, { kind: 'config', code: 'PLUGIN_CHECK_FAILED' });
    },

    async discover(config, ctx) {
      const answer = await ask('discover', 'discover', options, config, ctx);
      return answer.objects.map((o): StreamDescriptor => {
        const object = typeof o === 'object' && o !== null ? (o as { name?: unknown; object?: unknown; columns?: unknown; sampled?: unknown }) : {};
        const name = typeof o === 'string' ? o : String(object.name ?? object.object ?? 'records');
        const columns = sampledColumns.safeParse(object.columns);
        const schema: FieldSpec[] = columns.success ? columns.data.map((c) => ({ name: c.name, type: parseDataType(c.type), nullable: true })) : [];
        return { name, schema, syncModes: ['full_refresh'], description: object.sampled ? `the columns of the first batch ${options.ref} yields` : `offered by ${options.ref}` };
      });
    },

    async *read(config, request, ctx) {
      if (request.streams.length !== 1) {
        throw new DativoError(`a Python reader yields one stream of records, but ${request.streams.length} streams were asked for`, { kind: 'config', code: 'PLUGIN_STREAMS' });
      }
      yield* readStream(request.streams[0] as ConfiguredStream, config, options, ctx);
    },
  };
}

async function* readStream(stream: ConfiguredStream, config: PythonReaderConfig, options: PythonReaderOptions, ctx: RunContext): AsyncGenerator<ExtractMessage> {
  throwIfAborted(ctx.signal);
  const previous = parseCheckpointState(checkpointSchema, stream.resumeFrom?.state, { connector: 'Python reader', stream: stream.name });
  const skip = previous && !previous.done ? previous.records : 0;
  yield { kind: 'start', stream: stream.name, resumed: skip > 0 };
  if (stream.syncMode === 'incremental') {
    yield { kind: 'warning', stream: stream.name, message: `v1 Python readers keep no incremental state: ${options.ref} reads everything it yields on every run`, context: { plugin: options.ref } };
  }
  if (skip > 0) ctx.log.info('resuming the Python reader: skipping the records already committed', { plugin: options.ref, records: skip });
  const builder = new BatchBuilder(stream.schema, ctx.batchLimits);
  const checkpoint = (state: PythonCheckpoint): ExtractMessage => ({ kind: 'checkpoint', checkpoint: { stream: stream.name, state: state as unknown as JsonValue } });
  const run = startHost('read', options, config, ctx);
  let seen = 0;
  let finished = false;
  const declared = new Set(stream.schema.map((f) => f.name));
  let warnedUnknown = false;
  try {
    for await (const m of run.messages) {
      throwIfAborted(ctx.signal);
      if (m.type === 'error') throw await failure(run, options, m);
      if (m.type === 'done') {
        finished = true;
        continue;
      }
      if (m.type !== 'records') continue;
      for (const record of m.records) {
        seen++;
        if (seen <= skip) continue;
        if (!warnedUnknown) {
          const unknown = Object.keys(record).filter((k) => !declared.has(k));
          if (unknown.length) {
            warnedUnknown = true;
            yield { kind: 'warning', stream: stream.name, message: `records from ${options.ref} have fields the asset does not declare, which are not written: ${unknown.slice(0, 10).join(', ')}${unknown.length > 10 ? ', …' : ''}`, context: { plugin: options.ref, record: seen } };
          }
        }
        const problem = builder.appendRecord(record);
        if (problem) {
          const context = { plugin: options.ref, record: seen, column: problem.column };
          yield { kind: 'rejected', stream: stream.name, raw: record, error: new DativoError(`record ${seen} from ${options.ref}: column '${problem.column}' ${problem.message}`, { kind: 'validation', code: 'PLUGIN_BAD_VALUE', details: context }), context };
        }
        if (builder.full) {
          yield { kind: 'batch', stream: stream.name, batch: builder.flush() as NonNullable<ReturnType<BatchBuilder['flush']>> };
          yield checkpoint({ v: 1, records: seen, done: false });
        }
      }
    }
    throwIfAborted(ctx.signal);
    if (!finished) throw await failure(run, options);
  } finally {
    run.stop();
  }
  if (seen < skip) {
    yield { kind: 'warning', stream: stream.name, message: `${options.ref} yielded ${seen} records this time, fewer than the ${skip} already committed; nothing new was read`, context: { plugin: options.ref } };
  }
  const last = builder.flush();
  if (last) yield { kind: 'batch', stream: stream.name, batch: last };
  yield checkpoint({ v: 1, records: Math.max(seen, skip), done: true });
}
