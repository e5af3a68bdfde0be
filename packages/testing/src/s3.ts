import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';

export interface TestS3Server {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Files of the server, for checks that bypass S3. */
  directory: string;
  stop(): Promise<void>;
}

/**
 * Starts a local S3-compatible server (s3rver) on a free port with the given buckets. Its
 * ListObjectsV2 needs Node's legacy OpenSSL provider: run tests with
 * `NODE_OPTIONS=--openssl-legacy-provider` (the repository's vitest config does).
 */
export async function startS3Server(options: { buckets?: string[] } = {}): Promise<TestS3Server> {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'dativo-s3-'));
  const server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory,
    configureBuckets: (options.buckets ?? []).map((name) => ({ name, configs: [] })),
  });
  const address = (await server.run()) as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    region: 'us-east-1',
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    directory,
    stop: async () => {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
