import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DativoError } from '@dativo/core';
import { LocalStorage, S3Storage, type S3Connection, type Storage, type StorageUpload } from '@dativo/parquet-kit';

/** S3 settings applied to every `s3://` location (endpoint, credentials, path style). */
export type S3Settings = Omit<S3Connection, 'bucket' | 'prefix'>;

/**
 * Reads and writes files by URI (`file:///…`, an absolute path, or `s3://bucket/key`), for table
 * metadata, manifests and data files. One storage client per bucket.
 */
export class FileIO {
  private readonly local: LocalStorage;
  private readonly buckets = new Map<string, S3Storage>();
  private readonly s3: S3Settings | undefined;
  private readonly cwd: string;

  constructor(options: { s3?: S3Settings; cwd?: string } = {}) {
    this.s3 = options.s3;
    this.cwd = options.cwd ?? process.cwd();
    this.local = new LocalStorage('/');
  }

  /** The storage and key of a URI. */
  resolve(uri: string): { storage: Storage; key: string } {
    const s3 = /^s3a?:\/\/([^/]+)\/?(.*)$/.exec(uri);
    if (s3) {
      const bucket = s3[1] as string;
      let storage = this.buckets.get(bucket);
      if (!storage) {
        storage = new S3Storage({ region: 'us-east-1', path_style_access: false, ...this.s3, bucket, prefix: '' }, '');
        this.buckets.set(bucket, storage);
      }
      return { storage, key: s3[2] as string };
    }
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri) && !uri.startsWith('file:')) {
      throw new DativoError(`unsupported location '${uri}': use a local path, file:// or s3://`, { kind: 'config', code: 'ICEBERG_LOCATION' });
    }
    const abs = uri.startsWith('file:') ? fileURLToPath(uri.replace(/^file:(?!\/\/)/, 'file://')) : path.resolve(this.cwd, uri);
    return { storage: this.local, key: abs.replace(/^\/+/, '') };
  }

  /** Canonical URI of a location: `file:///abs/path` locally, unchanged for s3://. */
  uri(location: string): string {
    const { storage, key } = this.resolve(location);
    return storage.uri(key);
  }

  async read(uri: string): Promise<Uint8Array> {
    const { storage, key } = this.resolve(uri);
    const bytes = await storage.readBytes(key);
    if (!bytes) throw new DativoError(`file not found: ${uri}`, { kind: 'permanent', code: 'ICEBERG_FILE_MISSING' });
    return bytes;
  }

  async readText(uri: string): Promise<string | undefined> {
    const { storage, key } = this.resolve(uri);
    return storage.readText(key);
  }

  async write(uri: string, data: Uint8Array): Promise<void> {
    const { storage, key } = this.resolve(uri);
    await storage.writeBytes(key, data);
  }

  /** Creates a file only if it does not exist (atomic on local disk). */
  async createExclusive(uri: string, text: string): Promise<boolean> {
    const { storage, key } = this.resolve(uri);
    return storage.createText(key, text);
  }

  async exists(uri: string): Promise<boolean> {
    const { storage, key } = this.resolve(uri);
    return storage.exists(key);
  }

  async delete(uri: string): Promise<void> {
    const { storage, key } = this.resolve(uri);
    await storage.delete(key);
  }

  async list(dirUri: string): Promise<string[]> {
    const { storage, key } = this.resolve(dirUri);
    const prefix = key.endsWith('/') || key === '' ? key : `${key}/`;
    return (await storage.list(prefix)).map((k) => storage.uri(k));
  }

  async create(uri: string): Promise<StorageUpload> {
    const { storage, key } = this.resolve(uri);
    return storage.create(key);
  }

  /** Checks that a location's bucket (or directory) is reachable and writable. */
  async check(uri: string): Promise<void> {
    const { storage } = this.resolve(uri);
    if (storage !== this.local) await storage.check();
  }

  async close(): Promise<void> {
    for (const s of this.buckets.values()) await s.close();
    this.buckets.clear();
  }
}

/** `file:///tmp/t/data/x.parquet` → `/tmp/t/data/x.parquet` (for local readers); other URIs unchanged. */
export function localPath(uri: string): string {
  return uri.startsWith('file:') ? fileURLToPath(uri) : uri;
}

/** Joins a location and a relative path with exactly one slash. */
export function joinUri(base: string, ...parts: string[]): string {
  return [base.replace(/\/+$/, ''), ...parts.map((p) => p.replace(/^\/+|\/+$/g, ''))].filter((p) => p !== '').join('/');
}
