import { readFileSync } from 'node:fs';
import * as P from 'parquet-wasm/node';
const file = process.argv[2];
const rows = Number(process.argv[3] ?? 524288);
const src = P.readParquet(readFileSync(file), { limit: rows });
const ipc = src.intoIPCStream();
const cols = ['email','full_name','street_address','comment'];
function props(o) {
  let b = new P.WriterPropertiesBuilder().setCompression(o.comp ?? P.Compression.ZSTD).setMaxRowGroupSize(131072).setDictionaryEnabled(false);
  for (const c of o.dict ?? []) b = b.setColumnDictionaryEnabled(c, true);
  if (o.stats !== undefined) b = b.setStatisticsEnabled(o.stats);
  if (o.page) b = b.setDataPageSizeLimit(o.page);
  if (o.wbs) b = b.setWriteBatchSize(o.wbs);
  if (o.v2) b = b.setWriterVersion(P.WriterVersion.V2);
  if (o.enc) for (const c of cols) if (!(o.dict ?? []).includes(c)) b = b.setColumnEncoding(c, o.enc);
  if (o.numEnc) for (const c of ['id','account_id','quantity','created_at']) b = b.setColumnEncoding(c, o.numEnc);
  if (o.colComp) for (const [c, v] of Object.entries(o.colComp)) b = b.setColumnCompression(c, v);
  return b.build();
}
const cases = {
  base: { dict: cols },
  c1: { dict: ['full_name'] },
  c2: { dict: ['full_name'], enc: P.Encoding.DELTA_BYTE_ARRAY },
  c3: { dict: ['full_name'], enc: P.Encoding.DELTA_LENGTH_BYTE_ARRAY },
  c4: { dict: ['full_name'], numEnc: P.Encoding.DELTA_BINARY_PACKED },
  c5: { dict: ['full_name'], enc: P.Encoding.DELTA_BYTE_ARRAY, numEnc: P.Encoding.DELTA_BINARY_PACKED },
  c6: { dict: ['full_name'], v2: true },
  c7: { dict: ['full_name'], enc: P.Encoding.DELTA_LENGTH_BYTE_ARRAY, numEnc: P.Encoding.DELTA_BINARY_PACKED },
  nodict: { dict: [] },
  dictName: { dict: ['full_name'] },
  chunkStats: { dict: cols, stats: P.EnabledStatistics.Chunk },
  nodictChunk: { dict: [], stats: P.EnabledStatistics.Chunk },
  noStats: { dict: [], stats: P.EnabledStatistics.None },
  uncompressedNodict: { dict: [], comp: P.Compression.UNCOMPRESSED },
  page256k: { dict: [], page: 256 * 1024 },
  page4m: { dict: [], page: 4 * 1024 * 1024 },
  wbs8k: { dict: [], wbs: 8192 },
  v2: { dict: [], v2: true },
  v2dict: { dict: cols, v2: true },
  v2dictName: { dict: ['full_name'], v2: true },
  dlba: { dict: [], enc: P.Encoding.DELTA_LENGTH_BYTE_ARRAY },
  dba: { dict: [], enc: P.Encoding.DELTA_BYTE_ARRAY },
  dbaNum: { dict: [], enc: P.Encoding.DELTA_BYTE_ARRAY, numEnc: P.Encoding.DELTA_BINARY_PACKED },
  strUncomp: { dict: [], colComp: Object.fromEntries(cols.map((c) => [c, P.Compression.UNCOMPRESSED])) },
  numUncomp: { dict: [], colComp: Object.fromEntries(['id','account_id','quantity','price','weight','created_at'].map((c) => [c, P.Compression.UNCOMPRESSED])) },
};
const only = process.argv[4]?.split(',');
for (let round = 0; round < 2; round++) for (const [name, o] of Object.entries(cases)) {
  if (only && !only.includes(name)) continue;
  const t0 = performance.now();
  const t = P.Table.fromIPCStream(ipc);
  const t1 = performance.now();
  const out = P.writeParquet(t, props(o));
  const t2 = performance.now();
  if (round === 1) console.log(name.padEnd(20), `ipc-in ${(t1 - t0).toFixed(0)} ms, write ${(t2 - t1).toFixed(0)} ms, ${(out.length / 1048576).toFixed(1)} MiB`);
}
