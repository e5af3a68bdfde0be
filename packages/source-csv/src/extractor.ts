import { BatchBuilder, comparePosition, displayPath, listInputFiles, type Checkpoint, type FilePosition, type InputFile, type ConfiguredStream, type ExtractMessage, type Extractor, type RunContext, type StreamDescriptor } from '@dativo/core';
import { checkEncoding, isSeekable } from './input.js';
import { csvOptions, type CsvOptions, type CsvSourceConfig } from './config.js';
import { csvSourceHead, type CsvSourceOptions } from './connector.js';
import { parseCheckpoint, type CsvCheckpointState } from './checkpoint.js';
import { inferSchema } from './infer.js';
import { CsvFileReader, type FileProgress } from './reader.js';


function streamName(config: CsvSourceConfig, index: number): string {
  const entry = config.files[index];
  return entry && 'object' in entry && entry.object ? entry.object : 'csv';
}

/** Files of the `files:` entries that feed a stream (all of them when one stream is read). */
function entriesFor(config: CsvSourceConfig, stream: string, single: boolean): number[] {
  const all = config.files.map((_, i) => i);
  if (single) return all;
  const matching = all.filter((i) => streamName(config, i).toLowerCase() === stream.toLowerCase());
  return matching;
}

/** The CSV source's runtime (see {@link csvSource} in connector.ts, which loads it when a job runs). */
export function csvExtractor(options: CsvSourceOptions = {}): Extractor<CsvSourceConfig> {
  return {
    ...csvSourceHead,

    async check(config, ctx) {
      checkEncoding(csvOptions(config).encoding);
      await listInputFiles(config.files, ctx);
    },

    async discover(config, ctx) {
      const opts = csvOptions(config);
      checkEncoding(opts.encoding);
      const files = await listInputFiles(config.files, ctx);
      const byStream = new Map<string, InputFile[]>();
      for (const f of files) {
        const name = streamName(config, f.entry);
        byStream.set(name, [...(byStream.get(name) ?? []), f]);
      }
      const out: StreamDescriptor[] = [];
      for (const [name, list] of byStream) {
        const first = list[0] as InputFile;
        out.push({
          name,
          schema: await inferSchema(first.path, opts),
          syncModes: ['full_refresh', 'incremental'],
          cursorFields: ['_file_modified_time'],
          description: `${list.length} file(s), e.g. ${displayPath(first.path, ctx.cwd)}`,
        });
      }
      return out;
    },

    async *read(config, request, ctx) {
      const opts = csvOptions(config);
      checkEncoding(opts.encoding);
      for (const stream of request.streams) {
        yield* readStream(config, opts, stream, entriesFor(config, stream.name, request.streams.length === 1), ctx, options);
      }
    },
  };
}

async function* readStream(config: CsvSourceConfig, opts: CsvOptions, stream: ConfiguredStream, entries: number[], ctx: RunContext, options: CsvSourceOptions): AsyncGenerator<ExtractMessage> {
  const files = await listInputFiles(
    entries.map((i) => config.files[i] as { path: string }),
    ctx,
  );
  const previous = parseCheckpoint(stream.resumeFrom?.state, stream.name);
  const incremental = stream.syncMode === 'incremental';
  // A finished full refresh starts over; an unfinished run (or any incremental run) continues.
  const state: CsvCheckpointState | undefined = previous && (incremental || !previous.done) ? previous : undefined;
  let after: FilePosition | undefined = state?.after;
  yield { kind: 'start', stream: stream.name, resumed: state !== undefined };
  const builder = new BatchBuilder(stream.schema, { maxRows: options.batchRows ?? ctx.batchLimits.maxRows, maxBytes: options.batchBytes ?? ctx.batchLimits.maxBytes });
  const checkpoint = (s: CsvCheckpointState): ExtractMessage => ({ kind: 'checkpoint', checkpoint: { stream: stream.name, state: s as unknown as Checkpoint['state'] } });
  let read = 0;
  for (const file of files) {
    const position: FilePosition = { m: file.mtimeMs, p: file.path };
    if (after && comparePosition(position, after) <= 0) continue;
    if (ctx.signal.aborted) return;
    const partial = state?.file && comparePosition(state.file, position) === 0 && state.file.size <= file.size ? state.file : undefined;
    const shown = displayPath(file.path, ctx.cwd);
    const seekable = isSeekable(file.path, opts);
    const reader = new CsvFileReader({
      file: file.path,
      shown,
      stream: stream.name,
      fields: stream.schema,
      options: opts,
      builder,
      seekable,
      size: file.size,
      ...(partial ? { resume: { rows: partial.rows, line: partial.line ?? 1, ...(partial.offset !== undefined ? { offset: partial.offset } : {}) } } : {}),
      signal: ctx.signal,
      checkpoint: (p: FileProgress) => checkpoint({ v: 1, done: false, ...(after ? { after } : {}), file: { ...position, size: file.size, rows: p.rows, line: p.line, ...(p.offset !== undefined ? { offset: p.offset } : {}) } }),
    });
    ctx.log.info(partial ? 'resuming file' : 'reading file', { stream: stream.name, file: shown, bytes: file.size, ...(partial ? { fromRow: partial.rows } : {}) });
    yield { kind: 'status', stream: stream.name, at: shown };
    yield* reader.read();
    const batch = builder.flush();
    if (batch) yield { kind: 'batch', stream: stream.name, batch };
    after = position;
    read++;
    yield checkpoint({ v: 1, done: false, after });
  }
  if (read === 0) ctx.log.info(incremental && after ? 'no new or modified files since the last run' : 'no files to read', { stream: stream.name });
  yield checkpoint({ v: 1, done: true, ...(after ? { after } : {}) });
}
