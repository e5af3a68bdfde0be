// Parquet encoding thread for @dativo/sink-parquet. Plain JavaScript, loaded by path with
// `new Worker(...)`, so the same file serves the sources and the published bundle.
//
// Protocol (all messages carry the file id):
//   in:  open {props} (encoding starts with the first batch, which decides per-column encodings) · schema {ipc: schema-only Arrow IPC stream,
//        layout: SchemaLayout (ipc-layout.ts)} · batch {batch: plain Data tree, buffers transferred} · close · abort
//   out: consumed {buffers: the batch's buffers, moved back for reuse} (a batch entered the encoder; backpressure) · chunk {data} · closed {stats, zstd: who compressed} · error {message}
import { createRequire } from 'node:module';
import { parentPort } from 'node:worker_threads';
import { IpcStreamWriter } from './arrow-ipc.mjs';
import { ZstdPageRewriter } from './zstd-pages.mjs';

// parquet-wasm's Node build is CommonJS: `require` it. An `import` would first have Node's ESM loader
// scan its 100 KB of glue for export names (cjs-module-lexer), which got hot enough for V8 to compile
// the scanner with TurboFan in every run (~60 ms of CPU per process, measured on a 1,000-row job).
const P = createRequire(import.meta.url)('parquet-wasm/node');

const COMPRESSION = {
  zstd: P.Compression.ZSTD,
  snappy: P.Compression.SNAPPY,
  gzip: P.Compression.GZIP,
  brotli: P.Compression.BROTLI,
  lz4: P.Compression.LZ4_RAW,
  lz4_raw: P.Compression.LZ4_RAW,
  none: P.Compression.UNCOMPRESSED,
  uncompressed: P.Compression.UNCOMPRESSED,
};

/**
 * Apache Arrow, loaded only for schemas whose types `IpcStreamWriter` does not lay out
 * (64-bit offsets, unions, …): Arrow's own writer then makes each slice's IPC stream.
 * @type {Promise<typeof import('apache-arrow')> | undefined}
 */
let arrowModule;
const loadArrow = () => (arrowModule ??= import('apache-arrow'));

/** Rebuilds an Arrow Data tree sent by `serializeBatch` (batch-transfer.ts). */
function rebuild(A, type, node) {
  const { makeData, Struct } = A;
  return makeData({
    type,
    length: node.length,
    nullCount: node.nullCount,
    offset: node.offset,
    ...(node.values ? { data: node.values } : {}),
    ...(node.valueOffsets ? { valueOffsets: node.valueOffsets } : {}),
    ...(node.nullBitmap ? { nullBitmap: node.nullBitmap } : {}),
    ...(type.children && type.children.length
      ? node.children.length === 1 && !(type instanceof Struct)
        ? { child: rebuild(A, type.children[0].type, node.children[0]) }
        : { children: type.children.map((field, i) => rebuild(A, field.type, node.children[i])) }
      : {}),
  });
}

/** Rows handed to parquet-wasm at a time: WebAssembly memory then holds a slice's IPC copy, not a whole batch's. */
const SLICE_ROWS = 8192;

/** Rebuilds a transferred batch as an Arrow RecordBatch (schemas `IpcStreamWriter` does not lay out). */
function toBatch(A, schema, payload) {
  const children = schema.fields.map((f, i) => rebuild(A, f.type, payload.columns[i]));
  return new A.RecordBatch(schema, A.makeData({ type: new A.Struct(schema.fields), length: payload.length, nullCount: 0, children }));
}

/**
 * Arrow IPC stream bytes of the next slice of the queued batches (a view the next slice
 * overwrites); `last` when it ends a batch (the batch has then entered the encoder).
 */
function nextSlice(state) {
  if (!state.current) {
    const payload = state.queue.shift();
    for (const s of state.stats) updateStats(s.st, payload.columns[s.column], s.kind);
    state.current = { payload, at: 0, buffers: payloadBuffers(payload), batch: state.writer ? undefined : toBatch(state.arrow, state.arrowSchema, payload) };
  }
  const { payload, batch, at } = state.current;
  const end = Math.min(payload.length, at + SLICE_ROWS);
  const ipc = state.writer
    ? state.writer.write(payload.columns, at, end - at)
    : state.arrow.tableToIPC(new state.arrow.Table([at === 0 && end === payload.length ? batch : batch.slice(at, end)]), 'stream');
  state.current.at = end;
  const last = end >= payload.length;
  const buffers = last ? state.current.buffers : undefined;
  if (last) state.current = undefined;
  return { ipc, last, buffers };
}

/** The distinct buffers of a transferred batch: handed back once it is consumed, for reuse. */
function payloadBuffers(payload) {
  const buffers = new Set();
  const visit = (node) => {
    for (const view of [node.values, node.valueOffsets, node.nullBitmap]) if (view && view.byteLength > 0) buffers.add(view.buffer);
    for (const child of node.children ?? []) visit(child);
  };
  for (const column of payload.columns) visit(column);
  return [...buffers];
}

// --- Column statistics (Iceberg metrics), computed here so the main thread stays free ---

const PREFIX = 16;

/** Compares two 128-bit two's-complement values stored as 4 little-endian uint32 words. */
function compareDecimal(w, i, j) {
  const hi = (w[i * 4 + 3] | 0) - (w[j * 4 + 3] | 0);
  if (hi !== 0) return hi;
  for (let k = 2; k >= 0; k--) {
    const d = w[i * 4 + k] - w[j * 4 + k];
    if (d !== 0) return d;
  }
  return 0;
}

function newStats() {
  return { values: 0, nulls: 0, nans: 0, min: null, max: null, truncated: false };
}

/** The validity test of a column: undefined when every value is valid. */
function validity(data) {
  const b = data.nullBitmap;
  if (data.nullCount === 0 || !b || b.length === 0) return undefined;
  const off = data.offset;
  return (i) => ((b[(off + i) >> 3] >> ((off + i) & 7)) & 1) === 1;
}

/** Compares bytes[s1, e1) with bytes[s2, e2) of possibly different arrays, without copying. */
function compareRange(a, s1, e1, b, s2, e2) {
  const n = Math.min(e1 - s1, e2 - s2);
  for (let k = 0; k < n; k++) {
    const d = a[s1 + k] - b[s2 + k];
    if (d !== 0) return d;
  }
  return e1 - s1 - (e2 - s2);
}

/** Value offsets as numbers (64-bit ones, of large strings and binaries, are BigInts). */
const numericOffsets = (offsets) => (offsets instanceof BigInt64Array ? Float64Array.from(offsets, Number) : offsets);

function updateBytesStats(st, data, valid) {
  const n = data.length;
  const bytes = data.values;
  const offsets = numericOffsets(data.valueOffsets);
  let min = st.min;
  let max = st.max;
  let truncated = st.truncated;
  for (let i = 0; i < n; i++) {
    if (valid && !valid(i)) continue;
    const s = offsets[i];
    const e = offsets[i + 1];
    const pe = Math.min(e, s + PREFIX);
    if (min === null || compareRange(bytes, s, pe, min, 0, min.length) < 0) min = bytes.slice(s, pe);
    const c = max === null ? 1 : compareRange(bytes, s, pe, max, 0, max.length);
    if (c > 0) {
      max = bytes.slice(s, pe);
      truncated = e - s > PREFIX;
    } else if (c === 0 && e - s > PREFIX) truncated = true;
  }
  st.min = min;
  st.max = max;
  st.truncated = truncated;
}

/** Min and max of 64-bit integers compared as (signed high word, unsigned low word): no BigInt per value. */
function updateInt64Stats(st, data, valid) {
  const n = data.length;
  const v = data.values;
  const w = new Int32Array(v.buffer, v.byteOffset, v.length * 2);
  let minI = -1;
  let maxI = -1;
  let minHi = 0;
  let minLo = 0;
  let maxHi = 0;
  let maxLo = 0;
  for (let i = 0; i < n; i++) {
    if (valid && !valid(i)) continue;
    const lo = w[i * 2] >>> 0;
    const hi = w[i * 2 + 1];
    if (minI < 0 || hi < minHi || (hi === minHi && lo < minLo)) {
      minI = i;
      minHi = hi;
      minLo = lo;
    }
    if (maxI < 0 || hi > maxHi || (hi === maxHi && lo > maxLo)) {
      maxI = i;
      maxHi = hi;
      maxLo = lo;
    }
  }
  if (minI < 0) return;
  const lo = v[minI];
  const hi = v[maxI];
  if (st.min === null || lo < st.min) st.min = lo;
  if (st.max === null || hi > st.max) st.max = hi;
}

function updateStats(st, data, kind) {
  const nullCount = data.nullCount;
  st.values += data.length;
  st.nulls += nullCount;
  const valid = validity(data);
  const n = data.length;
  const off = data.offset;
  if (kind === 'string' || kind === 'binary') return updateBytesStats(st, data, valid);
  if (data.values instanceof BigInt64Array) return updateInt64Stats(st, data, valid);
  if (kind === 'decimal') {
    const w = data.values;
    let minI = -1;
    let maxI = -1;
    for (let i = 0; i < n; i++) {
      if (valid && !valid(i)) continue;
      if (minI < 0 || compareDecimal(w, i, minI) < 0) minI = i;
      if (maxI < 0 || compareDecimal(w, i, maxI) > 0) maxI = i;
    }
    const words = (i) => Array.from(w.subarray(i * 4, i * 4 + 4));
    if (minI >= 0) {
      if (st.min === null || compareDecimal(Uint32Array.from([...words(minI), ...st.min]), 0, 1) < 0) st.min = words(minI);
      if (st.max === null || compareDecimal(Uint32Array.from([...words(maxI), ...st.max]), 0, 1) > 0) st.max = words(maxI);
    }
    return;
  }
  if (kind === 'boolean') {
    const bits = data.values;
    for (let i = 0; i < n; i++) {
      if (valid && !valid(i)) continue;
      const v = ((bits[(off + i) >> 3] >> ((off + i) & 7)) & 1) === 1;
      if (st.min === null || (!v && st.min)) st.min = v;
      if (st.max === null || (v && !st.max)) st.max = v;
    }
    return;
  }
  const values = data.values;
  const isFloat = kind === 'float' || kind === 'double';
  let min = st.min;
  let max = st.max;
  for (let i = 0; i < n; i++) {
    if (valid && !valid(i)) continue;
    const v = values[i];
    if (isFloat && v !== v) {
      st.nans++;
      continue;
    }
    // -0 sorts before +0 (IEEE totalOrder), as Iceberg bounds require.
    if (min === null || v < min || (v === 0 && min === 0 && Object.is(v, -0))) min = v;
    if (max === null || v > max || (v === 0 && max === 0 && Object.is(max, -0) && !Object.is(v, -0))) max = v;
  }
  st.min = min;
  st.max = max;
}

/**
 * Files being encoded. `writer` lays out each slice's IPC stream; without one (a type it does not
 * lay out) Arrow's writer does, from `arrowSchema` and each batch rebuilt as `batch`.
 * `uncompressed`: row groups output and not yet compressed (see MAX_UNCOMPRESSED_ROW_GROUPS); `wake`
 * resumes the writer's input once there is a batch, the end, or room.
 * @type {Map<number, { queue: object[], current?: { payload: object, batch?: object, at: number, buffers: ArrayBuffer[] }, ended: boolean, aborted: boolean, wake: (() => void) | undefined, uncompressed: number,
 *   layout?: import('./ipc-layout.js').SchemaLayout, schemaIpc?: Uint8Array, writer?: IpcStreamWriter, arrow?: typeof import('apache-arrow'), arrowSchema?: object,
 *   stats: { column: number, kind: string, st: ReturnType<typeof newStats> }[] }>}
 */
const files = new Map();

// --- Per-column encodings, decided once per column from the first batch and remembered ---

/** Rows a first batch needs before its cardinality is trusted (smaller ones decide nothing). */
const MIN_SAMPLE_ROWS = 1000;
/** Values hashed per column to estimate its cardinality. */
const MAX_SAMPLE_ROWS = 65536;
/** Dictionary encoding pays when at most this share of values is distinct… */
const MAX_DISTINCT_SHARE = 0.5;
/** …and a row group's dictionary fits in parquet-rs's dictionary page limit (past it, it falls back). */
const DICTIONARY_PAGE_BYTES = 1024 * 1024;

/** Column name → dictionary or not, decided from the first batch of the first file of this writer. */
const dictionaryDecisions = new Map();

/** Distinct values (FNV-1a hashes) and their bytes among the first values of a string column. */
function sampleCardinality(node) {
  const n = Math.min(node.length, MAX_SAMPLE_ROWS);
  const offsets = numericOffsets(node.valueOffsets.subarray(0, n + 1));
  const bytes = node.values;
  const valid = node.nullBitmap && node.nullCount > 0 ? node.nullBitmap : undefined;
  const seen = new Set();
  let seenBytes = 0;
  let values = 0;
  for (let i = 0; i < n; i++) {
    const at = node.offset + i;
    if (valid && ((valid[at >> 3] >> (at & 7)) & 1) === 0) continue;
    values++;
    const s = offsets[i];
    const e = offsets[i + 1];
    let h = 0x811c9dc5 ^ (e - s);
    for (let k = s; k < e; k++) h = Math.imul(h ^ bytes[k], 0x01000193);
    if (!seen.has(h)) {
      seen.add(h);
      seenBytes += e - s + 4;
    }
  }
  return { values, distinct: seen.size, distinctBytes: seenBytes };
}

/**
 * Whether a string column gets a dictionary: when the first batch shows few distinct values
 * (repeated names, codes, states) and not when nearly every value is new (e-mail addresses, ids,
 * free text), where building a dictionary per row group and falling back costs time for nothing.
 */
function decideDictionary(name, node, rowGroupRows) {
  const known = dictionaryDecisions.get(name);
  if (known !== undefined) return known;
  if (!node || !node.valueOffsets) return true;
  const { values, distinct, distinctBytes } = sampleCardinality(node);
  if (values < MIN_SAMPLE_ROWS) return true; // too little to judge: parquet-rs's default, decided later
  const share = distinct / values;
  const projectedBytes = (distinctBytes / values) * Math.min(rowGroupRows, values / share);
  const decision = share <= MAX_DISTINCT_SHARE && projectedBytes <= DICTIONARY_PAGE_BYTES;
  dictionaryDecisions.set(name, decision);
  return decision;
}

/** Arrow bytes a row group holds at most by default (it closes at `rowGroupRows` rows or this). */
const ROW_GROUP_BYTES = 8 * 1024 * 1024;

/** Bytes of one transferred column (its buffers and its children's). */
function nodeBytes(node) {
  let n = (node.values?.byteLength ?? 0) + (node.valueOffsets?.byteLength ?? 0) + (node.nullBitmap?.byteLength ?? 0);
  for (const child of node.children ?? []) n += nodeBytes(child);
  return n;
}

/**
 * Rows per row group: `rowGroupRows`, fewer when the first batch's rows are wide enough that a row
 * group would pass `rowGroupBytes` (the writer holds a whole row group while it encodes it), never
 * under 1,024.
 */
function rowGroupRows(props, firstColumns) {
  const limit = props.rowGroupBytes ?? ROW_GROUP_BYTES;
  const rows = firstColumns?.[0]?.length ?? 0;
  if (!firstColumns || rows === 0 || !(limit > 0)) return props.rowGroupRows;
  const perRow = firstColumns.reduce((n, c) => n + nodeBytes(c), 0) / rows;
  const byBytes = Math.max(1024, Math.floor(limit / perRow / 1024) * 1024);
  return Math.min(props.rowGroupRows, byBytes);
}

/**
 * Writer properties for one file. Top-level string columns that are dictionary candidates get a
 * dictionary when the first batch says it pays. With `encoding: 'auto'`, the other string columns
 * are written DELTA_BYTE_ARRAY and integer, date, time and timestamp columns DELTA_BINARY_PACKED:
 * less data for zstd (the bulk of the encoding time), smaller files. `'plain'` keeps PLAIN.
 */
function writerProperties(props, fields, firstColumns) {
  let builder = new P.WriterPropertiesBuilder()
    .setCompression(COMPRESSION[props.compression] ?? P.Compression.ZSTD)
    .setMaxRowGroupSize(rowGroupRows(props, firstColumns))
    .setDictionaryEnabled(false)
    .setCreatedBy(props.createdBy);
  const candidates = new Set(props.dictionaryColumns);
  const delta = props.encoding === 'auto';
  (fields ?? []).forEach((field, i) => {
    const node = firstColumns?.[i];
    if (field.string) {
      const dictionary = candidates.has(field.name) && decideDictionary(field.name, node, props.rowGroupRows);
      if (dictionary) builder = builder.setColumnDictionaryEnabled(field.name, true);
      else if (delta) builder = builder.setColumnEncoding(field.name, P.Encoding.DELTA_BYTE_ARRAY);
    } else if (delta && field.integerLike) builder = builder.setColumnEncoding(field.name, P.Encoding.DELTA_BINARY_PACKED);
  });
  if (!fields) for (const column of props.dictionaryColumns) builder = builder.setColumnDictionaryEnabled(column, true);
  if (props.metadata && Object.keys(props.metadata).length) builder = builder.setKeyValueMetadata(new Map(Object.entries(props.metadata)));
  return builder.build();
}

function post(message, transfer) {
  parentPort.postMessage(message, transfer);
}

function ownBuffer(chunk) {
  // Never transfer a view of wasm memory: copy when the chunk does not own its whole buffer.
  if (chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && chunk.buffer !== P.wasmMemory().buffer) return chunk;
  return chunk.slice();
}

/** zstd level of the native path: parquet-rs's default, so sizes match the WebAssembly path. */
const ZSTD_LEVEL = 1;

/** @type {((bytes: Uint8Array, level: number) => Promise<Uint8Array>) | null | undefined} */
let native;

/**
 * A native zstd (`@mongodb-js/zstd`, prebuilt for common platforms, run on libuv's thread pool),
 * or undefined where it cannot load or `DATIVO_PARQUET_ZSTD=wasm` asks for the writer's own.
 */
async function nativeZstd() {
  if (native === undefined) {
    native = null;
    if (process.env.DATIVO_PARQUET_ZSTD !== 'wasm') {
      try {
        // The binding itself: the package's wrapper drops the level argument (it would be 3).
        const { compress } = createRequire(import.meta.url)('@mongodb-js/zstd/bindings.js');
        await compress(Buffer.from('dativo'), ZSTD_LEVEL);
        native = compress;
      } catch {
        native = null; // no binary for this platform: parquet-wasm compresses
      }
    }
  }
  return native ?? undefined;
}

/**
 * Row groups the writer has output uncompressed and the native zstd has not finished: while there
 * are this many, the writer gets no more input. Each is a 6–8 MB copy out of WebAssembly memory;
 * unchecked, the writer ran ahead of the compression and held a dozen of them (peak RSS +20–40 MB
 * on the text-heavy PostgreSQL benchmark, no faster: docs/benchmarks.md).
 */
const MAX_UNCOMPRESSED_ROW_GROUPS = 1;

/**
 * The writer's uncompressed output, its pages compressed with native zstd: one chunk is compressed
 * (on libuv's pool) while the writer encodes the next; the footer is rewritten at the end.
 */
async function compressPages(output, zstd, state, send) {
  const rewriter = new ZstdPageRewriter(zstd, ZSTD_LEVEL);
  let sending = Promise.resolve();
  for await (const chunk of output) {
    if (state.aborted) return;
    state.uncompressed++;
    await sending;
    sending = rewriter.rewrite(ownBuffer(chunk)).then((data) => {
      send(data);
      state.uncompressed--;
      state.wake?.();
    });
    sending.catch(() => undefined); // awaited on the next turn; not an unhandled rejection meanwhile
  }
  await sending;
  if (!state.aborted) send(await rewriter.finish(new Uint8Array(0)));
}

function open(id, props) {
  const state = { props, started: false, queue: [], ended: false, aborted: false, wake: undefined, uncompressed: 0, stats: (props.stats ?? []).map((s) => ({ ...s, st: newStats() })) };
  files.set(id, state);
}

/** Starts encoding a file once its first batch (or its end) is known: the batch decides encodings. */
function start(id, state) {
  state.started = true;
  const props = state.props;
  const input = new ReadableStream(
    {
      pull(controller) {
        return new Promise((resolve) => {
          const attempt = () => {
            if (state.aborted) {
              controller.error(new Error('aborted'));
              resolve();
            } else if ((state.current || state.queue.length > 0) && state.uncompressed < MAX_UNCOMPRESSED_ROW_GROUPS) {
              const { ipc, last, buffers } = nextSlice(state);
              const table = P.Table.fromIPCStream(ipc);
              const batches = table.recordBatches();
              table.free();
              for (const batch of batches) controller.enqueue(batch);
              // The batch is in WebAssembly memory now (the IPC bytes were a copy): its buffers go back.
              if (last) post({ type: 'consumed', id, buffers }, buffers);
              resolve();
            } else if (state.ended && !state.current && state.queue.length === 0) {
              controller.close();
              resolve();
            } else {
              state.wake = () => {
                state.wake = undefined;
                attempt();
              };
            }
          };
          attempt();
        });
      },
    },
    { highWaterMark: 0 },
  );
  (async () => {
    try {
      const zstd = (props.compression ?? 'zstd') === 'zstd' ? await nativeZstd() : undefined;
      const wasmProps = zstd ? { ...props, compression: 'none' } : props;
      if (state.layout && !state.writer) {
        state.arrow = await loadArrow();
        state.arrowSchema = state.arrow.tableFromIPC(state.schemaIpc).schema;
      }
      const output = await P.transformParquetStream(input, writerProperties(wasmProps, state.layout?.fields, state.queue[0]?.columns));
      const send = (data) => {
        if (data.length > 0 && !state.aborted) post({ type: 'chunk', id, data }, [data.buffer]);
      };
      if (zstd) await compressPages(output, zstd, state, send);
      else {
        for await (const chunk of output) {
          if (state.aborted) break;
          send(ownBuffer(chunk));
        }
      }
      if (!state.aborted) post({ type: 'closed', id, stats: state.stats.map((s) => s.st), zstd: zstd ? 'native' : 'wasm' });
    } catch (error) {
      if (!state.aborted) post({ type: 'error', id, message: error instanceof Error ? error.message : String(error) });
    } finally {
      files.delete(id);
    }
  })();
}

parentPort.on('message', (message) => {
  const state = files.get(message.id);
  switch (message.type) {
    case 'open':
      open(message.id, message.props);
      break;
    case 'schema':
      if (state) {
        state.layout = message.layout;
        state.schemaIpc = message.ipc;
        if (message.layout.columns) state.writer = new IpcStreamWriter(message.ipc, message.layout.columns);
      }
      break;
    case 'batch':
      if (state) {
        state.queue.push(message.batch);
        if (!state.started) start(message.id, state);
        state.wake?.();
      }
      break;
    case 'close':
      if (state) {
        state.ended = true;
        if (!state.started) start(message.id, state);
        state.wake?.();
      }
      break;
    case 'abort':
      if (state) {
        state.aborted = true;
        state.queue.length = 0;
        state.current = undefined;
        if (!state.started) files.delete(message.id);
        state.wake?.();
      }
      break;
  }
});
