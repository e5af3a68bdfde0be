import { promises as fs } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Where `s3://` and `https://<bucket>.s3.amazonaws.com/` URLs are served from in tests (a local S3 server). */
export interface IcebergReadOptions {
  /** The table's current metadata JSON file (file:// or s3://). */
  metadataLocation: string;
  /** Endpoint of the local S3 server serving s3:// locations (path-style). */
  s3Endpoint?: string;
}

type Fetch = typeof fetch;

/**
 * A fetch that serves `file://` URLs from disk and routes S3 URLs to a local server, with Range
 * support, so readers made for HTTP (icebird, hyparquet) can read local and test tables.
 */
function testFetch(inner: Fetch, s3Endpoint: string | undefined): Fetch {
  return (async (input: Parameters<Fetch>[0], init?: Parameters<Fetch>[1]) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const headers = new Headers(init?.headers);
    if (url.startsWith('file:')) {
      let data: Buffer;
      try {
        data = await fs.readFile(fileURLToPath(url));
      } catch {
        return new Response('not found', { status: 404 });
      }
      const range = /bytes=(\d+)-(\d*)/.exec(headers.get('range') ?? '');
      if (range) {
        const start = Number(range[1]);
        const end = range[2] ? Number(range[2]) + 1 : data.length;
        return new Response(data.subarray(start, end), { status: 206, headers: { 'content-length': String(end - start) } });
      }
      if ((init?.method ?? 'GET') === 'HEAD') return new Response(null, { status: 200, headers: { 'content-length': String(data.length) } });
      return new Response(data, { status: 200, headers: { 'content-length': String(data.length) } });
    }
    const aws = /^https:\/\/([^.]+)\.s3\.amazonaws\.com\/(.*)$/.exec(url);
    const s3 = /^s3a?:\/\/([^/]+)\/(.*)$/.exec(url);
    const m = aws ?? s3;
    if (m && s3Endpoint) return inner(`${s3Endpoint}/${m[1]}/${m[2]}`, init);
    return inner(input, init);
  }) as Fetch;
}

async function withFetch<T>(s3Endpoint: string | undefined, run: () => Promise<T>): Promise<T> {
  const original = globalThis.fetch;
  globalThis.fetch = testFetch(original, s3Endpoint);
  try {
    return await run();
  } finally {
    globalThis.fetch = original;
  }
}

async function metadataOf(options: IcebergReadOptions): Promise<Record<string, unknown>> {
  const res = await testFetch(fetch, options.s3Endpoint)(options.metadataLocation);
  if (!res.ok) throw new Error(`cannot read ${options.metadataLocation}: ${res.status}`);
  return JSON.parse(await res.text()) as Record<string, unknown>;
}

/**
 * Reads every row of an Iceberg table's current snapshot with icebird, an independent reader
 * (its own Avro and Parquet code), for comparing full content in tests.
 */
export async function readIcebergTable(options: IcebergReadOptions): Promise<Array<Record<string, unknown>>> {
  const { icebergRead } = await import('icebird');
  const metadata = await metadataOf(options);
  const current = metadata['current-snapshot-id'];
  if (current === undefined || current === null || Number(current) === -1) return [];
  return withFetch(options.s3Endpoint, () => icebergRead({ tableUrl: String(metadata.location), metadata: metadata as never }));
}

/** The live data files of the current snapshot, as icebird lists them from the manifests. */
/** One data file listed by the current snapshot's manifests, as icebird reads it. */
export interface IcebergDataFileEntry {
  path: string;
  records: number;
  partition: Record<string, unknown>;
  /** Column metrics by field id (bounds as the spec's single-value binary serialization). */
  valueCounts: Map<number, number>;
  nullValueCounts: Map<number, number>;
  nanValueCounts: Map<number, number>;
  lowerBounds: Map<number, Uint8Array>;
  upperBounds: Map<number, Uint8Array>;
}

type AvroMap<V> = Array<{ key: number; value: V }> | undefined;

function mapOf<V, R>(entries: AvroMap<V>, convert: (v: V) => R): Map<number, R> {
  return new Map((entries ?? []).map((e) => [Number(e.key), convert(e.value)]));
}

export async function icebergDataFiles(options: IcebergReadOptions): Promise<IcebergDataFileEntry[]> {
  const { icebergManifests } = await import('icebird');
  const metadata = await metadataOf(options);
  const current = metadata['current-snapshot-id'];
  if (current === undefined || current === null || Number(current) === -1) return [];
  const manifests = await withFetch(options.s3Endpoint, () => icebergManifests(metadata as never));
  const out: IcebergDataFileEntry[] = [];
  for (const m of manifests) {
    for (const e of m.entries as Array<{
      status: number;
      data_file: {
        file_path: string;
        record_count: bigint | number;
        partition: Record<string, unknown>;
        content?: number;
        value_counts?: AvroMap<bigint | number>;
        null_value_counts?: AvroMap<bigint | number>;
        nan_value_counts?: AvroMap<bigint | number>;
        lower_bounds?: AvroMap<Uint8Array>;
        upper_bounds?: AvroMap<Uint8Array>;
      };
    }>) {
      if (e.status === 2 || (e.data_file.content ?? 0) !== 0) continue;
      const f = e.data_file;
      out.push({
        path: f.file_path.startsWith('file:') ? fileURLToPath(f.file_path) : f.file_path,
        records: Number(f.record_count),
        partition: f.partition,
        valueCounts: mapOf(f.value_counts, Number),
        nullValueCounts: mapOf(f.null_value_counts, Number),
        nanValueCounts: mapOf(f.nan_value_counts, Number),
        lowerBounds: mapOf(f.lower_bounds, (v) => Uint8Array.from(v)),
        upperBounds: mapOf(f.upper_bounds, (v) => Uint8Array.from(v)),
      });
    }
  }
  return out;
}
