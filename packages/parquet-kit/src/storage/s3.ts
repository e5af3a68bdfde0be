import { PassThrough } from 'node:stream';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { classifyError, DativoError } from '@dativo/core';
import type { S3Connection } from '../location.js';
import type { Storage, StorageUpload } from './storage.js';

type S3Module = typeof import('@aws-sdk/client-s3');
type Sdk = { s3: S3Module; Upload: typeof import('@aws-sdk/lib-storage').Upload };
/** The SDK and one storage's two clients (commands, and multipart uploads with more attempts). */
type Clients = { sdk: Sdk; client: S3Client; uploadClient: S3Client };

let sdk: Promise<Sdk> | undefined;

/** The AWS SDK, loaded on first use: runs that never touch S3 do not pay for it (~150 ms, ~6 MB of heap). */
function loadSdk(): Promise<Sdk> {
  sdk ??= Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/lib-storage')]).then(([s3, lib]) => ({ s3, Upload: lib.Upload }));
  return sdk;
}

function joinKey(prefix: string, key: string): string {
  const p = prefix.replace(/^\/+|\/+$/g, '');
  return p ? `${p}/${key}` : key;
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

function isNotFound(error: unknown): boolean {
  const name = (error as { name?: string }).name;
  return name === 'NoSuchKey' || name === 'NotFound' || statusOf(error) === 404;
}

/** Parquet files under an S3 prefix (AWS or any S3-compatible server: MinIO, Ceph, s3rver…). */
export class S3Storage implements Storage {
  readonly location: string;
  private readonly config: S3ClientConfig;
  private readonly uploadAttempts: number;
  private clients: Promise<Clients> | undefined;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly endpoint: string;
  private readonly partSize: number;

  constructor(connection: S3Connection, prefix: string, options: { maxAttempts?: number } = {}) {
    this.bucket = connection.bucket;
    this.prefix = prefix.replace(/^\/+|\/+$/g, '');
    this.location = `s3://${this.bucket}/${this.prefix}`;
    this.endpoint = connection.endpoint ?? `https://s3.${connection.region}.amazonaws.com`;
    this.partSize = Math.max(5, Math.min(5120, connection.part_size_mb ?? 16)) * 1024 * 1024;
    const config: S3ClientConfig = {
      region: connection.region,
      forcePathStyle: connection.path_style_access,
      maxAttempts: options.maxAttempts ?? 3,
    };
    if (connection.endpoint) config.endpoint = connection.endpoint;
    if (connection.access_key_id && connection.secret_access_key) {
      config.credentials = {
        accessKeyId: connection.access_key_id,
        secretAccessKey: connection.secret_access_key,
        ...(connection.session_token ? { sessionToken: connection.session_token } : {}),
      };
    }
    this.config = config;
    // A part of a streamed upload cannot be sent again by a caller (its bytes are gone), so part
    // uploads ride out SlowDown / 5xx / resets longer, with the SDK's backoff.
    this.uploadAttempts = Math.max(options.maxAttempts ?? 3, 8);
  }

  /** The SDK and this storage's two clients, created on first use. */
  private connect(): Promise<Clients> {
    this.clients ??= loadSdk().then((sdk) => ({
      sdk,
      client: new sdk.s3.S3Client(this.config),
      uploadClient: new sdk.s3.S3Client({ ...this.config, maxAttempts: this.uploadAttempts }),
    }));
    return this.clients;
  }

  /** Sends one command built from the SDK's module. */
  private async send<T>(command: (s3: S3Module, client: S3Client) => Promise<T>): Promise<T> {
    const { sdk, client } = await this.connect();
    return command(sdk.s3, client);
  }

  private key(key: string): string {
    return joinKey(this.prefix, key);
  }

  /** Turns SDK errors into messages that name the endpoint and bucket, never the credentials. */
  private fail(action: string, error: unknown): DativoError {
    if (DativoError.isInstance(error)) return error;
    const classified = classifyError(error);
    const status = statusOf(error);
    const code = (error as { code?: string; name?: string }).code ?? (error as { name?: string }).name;
    let message: string;
    if (classified.kind === 'network' || (status === undefined && /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EHOSTUNREACH/.test(String(code) + String((error as Error).message)))) {
      message = `S3 endpoint ${this.endpoint} is unreachable while trying to ${action} (${code ?? (error as Error).message}); check target.connection.s3.endpoint and the network`;
      return new DativoError(message, { kind: 'network', code: 'S3_UNREACHABLE', cause: error });
    }
    if (status === 403) message = `access denied by S3 (${this.endpoint}) to ${action} in bucket '${this.bucket}'; check the credentials and bucket policy`;
    else if (code === 'NoSuchKey') message = `S3 object missing in bucket '${this.bucket}' at ${this.endpoint} (while trying to ${action}): ${(error as { Key?: string }).Key ?? 'the key was not found'}`;
    else if (status === 404 || code === 'NoSuchBucket') message = `S3 bucket '${this.bucket}' does not exist at ${this.endpoint} (while trying to ${action})`;
    else message = `S3 ${action} failed at ${this.endpoint}: ${(error as Error).message}`;
    return new DativoError(message, { kind: classified.kind, ...(status ? { statusCode: status } : {}), code: 'S3_ERROR', cause: error });
  }

  async check(): Promise<void> {
    try {
      await this.send((s3, c) => c.send(new s3.HeadBucketCommand({ Bucket: this.bucket })));
    } catch (error) {
      throw this.fail(`reach bucket '${this.bucket}'`, error);
    }
  }

  async create(key: string): Promise<StorageUpload> {
    const { sdk, uploadClient } = await this.connect();
    const body = new PassThrough({ highWaterMark: this.partSize });
    const upload = new sdk.Upload({ client: uploadClient, params: { Bucket: this.bucket, Key: this.key(key), Body: body }, partSize: this.partSize, queueSize: 2, leavePartsOnError: false });
    let bytes = 0;
    let failure: unknown;
    const done = upload.done().catch((error: unknown) => {
      failure = error;
      body.destroy();
    });
    return {
      write: async (chunk) => {
        if (failure) throw this.fail(`upload ${key}`, failure);
        bytes += chunk.length;
        if (!body.write(chunk)) {
          await new Promise<void>((resolve) => {
            const settle = (): void => {
              body.off('drain', settle);
              body.off('close', settle);
              resolve();
            };
            body.on('drain', settle);
            body.on('close', settle);
          });
          if (failure) throw this.fail(`upload ${key}`, failure);
        }
      },
      finish: async () => {
        body.end();
        await done;
        if (failure) throw this.fail(`upload ${key}`, failure);
        return bytes;
      },
      abort: async () => {
        await upload.abort().catch(() => undefined);
        body.destroy();
        await done;
        await this.delete(key).catch(() => undefined);
      },
    };
  }

  async move(from: string, to: string): Promise<void> {
    try {
      await this.send((s3, c) => c.send(new s3.CopyObjectCommand({ Bucket: this.bucket, Key: this.key(to), CopySource: `${this.bucket}/${this.key(from).split('/').map(encodeURIComponent).join('/')}` })));
    } catch (error) {
      if (isNotFound(error) && (await this.exists(to))) return;
      throw this.fail(`publish ${to}`, error);
    }
    await this.delete(from);
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.send((s3, c) => c.send(new s3.HeadObjectCommand({ Bucket: this.bucket, Key: this.key(key) })));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw this.fail(`look up ${key}`, error);
    }
  }

  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    const full = this.key(prefix);
    let token: string | undefined;
    try {
      do {
        const page = await this.send((s3, c) => c.send(new s3.ListObjectsV2Command({ Bucket: this.bucket, Prefix: full, ...(token ? { ContinuationToken: token } : {}) })));
        for (const item of page.Contents ?? []) if (item.Key) out.push(this.prefix ? item.Key.slice(this.prefix.length + 1) : item.Key);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (error) {
      throw this.fail(`list ${prefix}`, error);
    }
    return out.sort();
  }

  async delete(key: string): Promise<void> {
    try {
      await this.send((s3, c) => c.send(new s3.DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(key) })));
    } catch (error) {
      if (!isNotFound(error)) throw this.fail(`delete ${key}`, error);
    }
  }

  async readText(key: string): Promise<string | undefined> {
    const bytes = await this.readBytes(key);
    return bytes === undefined ? undefined : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  }

  async writeText(key: string, text: string): Promise<void> {
    await this.writeBytes(key, Buffer.from(text, 'utf8'));
  }

  async readBytes(key: string): Promise<Uint8Array | undefined> {
    try {
      const res = await this.send((s3, c) => c.send(new s3.GetObjectCommand({ Bucket: this.bucket, Key: this.key(key) })));
      return await res.Body?.transformToByteArray();
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw this.fail(`read ${key}`, error);
    }
  }

  async writeBytes(key: string, data: Uint8Array): Promise<void> {
    try {
      await this.send((s3, c) => c.send(new s3.PutObjectCommand({ Bucket: this.bucket, Key: this.key(key), Body: data })));
    } catch (error) {
      throw this.fail(`write ${key}`, error);
    }
  }

  uri(key: string): string {
    return `s3://${this.bucket}/${this.key(key)}`;
  }

  async createText(key: string, text: string): Promise<boolean> {
    // S3 conditional writes (If-None-Match) are not supported by every compatible server; a
    // single writer per table is required, so check-then-put is enough here.
    if (await this.exists(key)) return false;
    await this.writeText(key, text);
    return true;
  }

  async close(): Promise<void> {
    if (!this.clients) return;
    const { client, uploadClient } = await this.clients;
    client.destroy();
    uploadClient.destroy();
  }
}
