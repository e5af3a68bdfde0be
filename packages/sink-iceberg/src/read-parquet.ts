import { tableFromIPC, type RecordBatch } from 'apache-arrow';
import * as parquet from 'parquet-wasm/node';

/**
 * Reads a Parquet data file (whole, in memory: data files are bounded by the target file size)
 * into Arrow batches, optionally only some columns. Used to rewrite files (merge, compaction).
 */
export function readParquetBatches(bytes: Uint8Array, columns?: string[]): RecordBatch[] {
  const table = parquet.readParquet(bytes, { batchSize: 65_536, ...(columns ? { columns } : {}) });
  const ipc = table.intoIPCStream();
  return tableFromIPC(ipc).batches;
}
