// Parquet encoding thread for @dativo/sink-parquet. Plain JavaScript, loaded by path with
// `new Worker(...)`, so the same file serves the sources and the published bundle.
//
// Protocol (all messages carry the file id):
//   in:  open {props} · schema {ipc: schema-only Arrow IPC stream} · batch {batch: plain Data tree,
//        buffers transferred} · close · abort
//   out: consumed (a batch entered the encoder; backpressure) · chunk {data} · closed · error {message}
import { parentPort } from 'node:worker_threads';
import { makeData, RecordBatch, Struct, Table, tableFromIPC, tableToIPC } from 'apache-arrow';
import * as P from 'parquet-wasm/node';

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

/** Rebuilds an Arrow Data tree sent by `serializeBatch` (batch-transfer.ts). */
function rebuild(type, node) {
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
        ? { child: rebuild(type.children[0].type, node.children[0]) }
        : { children: type.children.map((field, i) => rebuild(field.type, node.children[i])) }
      : {}),
  });
}

/** Arrow IPC stream bytes of one transferred batch. */
function toIpc(schema, payload) {
  const struct = new Struct(schema.fields);
  const data = makeData({ type: struct, length: payload.length, nullCount: 0, children: schema.fields.map((f, i) => rebuild(f.type, payload.columns[i])) });
  return tableToIPC(new Table([new RecordBatch(schema, data)]), 'stream');
}

/** @type {Map<number, { queue: Uint8Array[], ended: boolean, aborted: boolean, wake: (() => void) | undefined, schema?: import('apache-arrow').Schema }>} */
const files = new Map();

function writerProperties(props) {
  let builder = new P.WriterPropertiesBuilder()
    .setCompression(COMPRESSION[props.compression] ?? P.Compression.ZSTD)
    .setMaxRowGroupSize(props.rowGroupRows)
    .setDictionaryEnabled(false)
    .setCreatedBy(props.createdBy);
  for (const column of props.dictionaryColumns) builder = builder.setColumnDictionaryEnabled(column, true);
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

function open(id, props) {
  const state = { queue: [], ended: false, aborted: false, wake: undefined };
  files.set(id, state);
  const input = new ReadableStream(
    {
      pull(controller) {
        return new Promise((resolve) => {
          const attempt = () => {
            if (state.aborted) {
              controller.error(new Error('aborted'));
              resolve();
            } else if (state.queue.length > 0) {
              const ipc = toIpc(state.schema, state.queue.shift());
              const table = P.Table.fromIPCStream(ipc);
              const batches = table.recordBatches();
              table.free();
              for (const batch of batches) controller.enqueue(batch);
              post({ type: 'consumed', id });
              resolve();
            } else if (state.ended) {
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
      const output = await P.transformParquetStream(input, writerProperties(props));
      for await (const chunk of output) {
        if (state.aborted) break;
        const owned = ownBuffer(chunk);
        post({ type: 'chunk', id, data: owned }, [owned.buffer]);
      }
      if (!state.aborted) post({ type: 'closed', id });
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
      if (state) state.schema = tableFromIPC(message.ipc).schema;
      break;
    case 'batch':
      if (state) {
        state.queue.push(message.batch);
        state.wake?.();
      }
      break;
    case 'close':
      if (state) {
        state.ended = true;
        state.wake?.();
      }
      break;
    case 'abort':
      if (state) {
        state.aborted = true;
        state.queue.length = 0;
        state.wake?.();
      }
      break;
  }
});
