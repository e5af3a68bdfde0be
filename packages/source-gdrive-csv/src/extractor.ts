import { BatchBuilder, DativoError, parseCheckpointState, type ConfiguredStream, type ExtractMessage, type Extractor, type JsonValue, type RunContext, type StreamDescriptor } from '@dativo/core';
import { checkEncoding, CsvFileReader, csvOptions, inferSchema, type CsvOptions, type CsvSourceConfig, type FileProgress } from '@dativo/source-csv';
import { z } from 'zod';
import type { GdriveCsvConfig } from './config.js';
import { gdriveCsvHead } from './connector.js';
import { DriveApi, resumableDownload, SHEET_MIME, type DriveFile } from './drive.js';

const positionSchema = z.object({ m: z.number(), id: z.string() });
const checkpointSchema = z.object({
  v: z.literal(1),
  /** The run finished: the next full refresh starts over, the next incremental run reads from `synced_to`. */
  done: z.boolean(),
  /** This run's start: files modified later are left to the next run. */
  run_to: z.number(),
  /** Files modified before this (less the lookback) were read by earlier runs. */
  synced_to: z.number().nullable(),
  /** The last file finished, in (modified time, id) order. */
  after: positionSchema.nullable(),
  /** The file being read and how far. */
  file: positionSchema.extend({ rows: z.number().int().nonnegative(), line: z.number().int().positive(), offset: z.number().int().nonnegative().optional() }).nullable(),
});
type State = z.infer<typeof checkpointSchema>;

const compare = (a: { m: number; id: string }, b: { m: number; id: string }): number => a.m - b.m || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

function globRegex(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
}

/** The CSV options of the job (`csv:` or v1's `engine.options`), checked. */
function options(config: GdriveCsvConfig): CsvOptions {
  const opts = csvOptions({ files: [{ path: 'drive' }], csv: config.csv, engine: config.engine } as unknown as CsvSourceConfig);
  checkEncoding(opts.encoding);
  if (opts.compression === 'gzip') throw new DativoError('csv.compression: gzip files are not read from Google Drive; store them uncompressed', { kind: 'config', code: 'GDRIVE_COMPRESSION' });
  return { ...opts, compression: 'none' };
}

/** Every file the job names, with the stream each feeds: by id, or a folder's CSV files (and Sheets). */
async function listFiles(api: DriveApi, config: GdriveCsvConfig): Promise<DriveFile[]> {
  const out: DriveFile[] = [];
  for (const entry of config.files ?? []) out.push({ ...(await api.file(entry.id)), ...(entry.object ? { object: entry.object } : {}) });
  if (config.folder) {
    const pattern = config.folder.name_pattern ? globRegex(config.folder.name_pattern) : undefined;
    for await (const f of api.folder(config.folder.id, config.folder.recursive)) {
      const sheet = f.mimeType === SHEET_MIME;
      const csv = f.mimeType === 'text/csv' || /\.csv$/i.test(f.name);
      if (!(csv || (sheet && config.folder.include_sheets))) continue;
      if (pattern && !pattern.test(f.name)) continue;
      out.push(f);
    }
  }
  return out;
}

function filesFor(files: DriveFile[], stream: string, single: boolean): DriveFile[] {
  if (single) return files;
  return files.filter((f) => (f.object ?? 'file').toLowerCase() === stream.toLowerCase());
}

export function gdriveCsvExtractor(): Extractor<GdriveCsvConfig> {
  return {
    ...gdriveCsvHead,

    async check(config, ctx) {
      options(config);
      const files = await listFiles(new DriveApi(config, ctx), config);
      if (!files.length) ctx.log.warn('no CSV files found', { folder: config.folder?.id });
    },

    async discover(config, ctx) {
      const opts = options(config);
      const api = new DriveApi(config, ctx);
      const files = await listFiles(api, config);
      const byStream = new Map<string, DriveFile[]>();
      for (const f of files) byStream.set(f.object ?? 'file', [...(byStream.get(f.object ?? 'file') ?? []), f]);
      const out: StreamDescriptor[] = [];
      for (const [name, list] of byStream) {
        const first = list[0] as DriveFile;
        const schema = await inferSchema(() => resumableDownload((o) => api.open(first, o), 0, { retries: config.download_retries, what: `file ${first.id}`, signal: ctx.signal }), opts);
        out.push({ name, schema, syncModes: ['full_refresh', 'incremental'], description: `${list.length} file(s) on Google Drive, e.g. ${first.name}` });
      }
      return out;
    },

    async *read(config, request, ctx) {
      const opts = options(config);
      const api = new DriveApi(config, ctx);
      const files = await listFiles(api, config);
      for (const stream of request.streams) yield* readStream(api, config, opts, stream, filesFor(files, stream.name, request.streams.length === 1), ctx);
    },
  };
}

async function* readStream(api: DriveApi, config: GdriveCsvConfig, opts: CsvOptions, stream: ConfiguredStream, all: DriveFile[], ctx: RunContext): AsyncGenerator<ExtractMessage> {
  const previous = parseCheckpointState(checkpointSchema, stream.resumeFrom?.state, { connector: 'gdrive_csv', stream: stream.name });
  const incremental = stream.syncMode === 'incremental';
  let state: State;
  if (previous && !previous.done) state = previous;
  else {
    const syncedTo = incremental ? (previous?.run_to ?? null) : null;
    state = { v: 1, done: false, run_to: Date.now(), synced_to: syncedTo, after: null, file: null };
  }
  yield { kind: 'start', stream: stream.name, resumed: previous !== undefined && !previous.done };
  // Files changed since the last run (less the lookback), not after this run began, oldest first.
  const since = state.synced_to === null ? -Infinity : state.synced_to - Math.round((config.incremental?.lookback_days ?? 0) * 86_400_000);
  const files = all
    .filter((f) => f.modified >= since && (!incremental || f.modified < state.run_to))
    .sort((a, b) => compare({ m: a.modified, id: a.id }, { m: b.modified, id: b.id }));
  const skipped = all.length - files.length;
  if (skipped && incremental) ctx.log.info(`${skipped} file(s) unchanged since the last run are not downloaded`, { stream: stream.name });
  const builder = new BatchBuilder(stream.schema, ctx.batchLimits);
  const checkpoint = (): ExtractMessage => ({ kind: 'checkpoint', checkpoint: { stream: stream.name, state: state as unknown as JsonValue } });
  for (const file of files) {
    const position = { m: file.modified, id: file.id };
    if (state.after && compare(position, state.after) <= 0) continue;
    if (ctx.signal.aborted) return;
    const partial = state.file && compare(state.file, position) === 0 ? state.file : undefined;
    const shown = `${file.name} (${file.id})`;
    // Downloads resume by byte offset; a Sheet's export cannot, so it is read again and the rows already delivered are skipped.
    const seekable = file.mimeType !== SHEET_MIME && opts.encoding === 'utf-8';
    ctx.log.info(partial ? 'resuming file' : 'reading file', { stream: stream.name, file: shown, ...(file.size !== undefined ? { bytes: file.size } : {}), ...(partial ? { fromRow: partial.rows } : {}) });
    const reader = new CsvFileReader({
      file: file.id,
      shown,
      stream: stream.name,
      fields: stream.schema,
      options: opts,
      builder,
      seekable,
      ...(partial ? { resume: { rows: partial.rows, line: partial.line, ...(seekable && partial.offset !== undefined ? { offset: partial.offset } : {}) } } : {}),
      signal: ctx.signal,
      open: (offset) =>
        resumableDownload((o) => api.open(file, o), offset ?? 0, {
          retries: config.download_retries,
          what: `file ${shown}`,
          signal: ctx.signal,
          ...(file.size !== undefined ? { size: file.size } : {}),
          onBreak: (at, error) => ctx.log.warn('download broke; resuming from where it stopped', { stream: stream.name, file: shown, byte: at, error: (error as Error).message }),
        }),
      checkpoint: (p: FileProgress) => {
        state = { ...state, file: { ...position, rows: p.rows, line: p.line, ...(p.offset !== undefined ? { offset: p.offset } : {}) } };
        return checkpoint();
      },
    });
    yield* reader.read();
    const batch = builder.flush();
    if (batch) yield { kind: 'batch', stream: stream.name, batch };
    state = { ...state, after: position, file: null };
    yield checkpoint();
  }
  state = { ...state, done: true, file: null };
  yield checkpoint();
}
