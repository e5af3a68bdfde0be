import path from 'node:path';
import { z } from 'zod';
import { DativoError, type RunContext, type Sink, type StreamDescriptor } from '@dativo/core';
import type { ParquetSinkConfig } from './config.js';
import { parquetSinkHead } from './connector.js';
import { expandLocation } from './partition.js';
import { LocalStorage } from './storage/local.js';
import { S3Storage } from './storage/s3.js';
import type { Storage } from './storage/storage.js';
import { ParquetSinkWriter } from './writer.js';
import { RawFileWriter } from './raw-writer.js';

/** The Markdown-KV `raw_file` storage settings this sink acts on (other keys are the source's). */
const rawFileStorage = z.looseObject({
  mode: z.literal('raw_file'),
  file_extension: z.string().default('.mdkv'),
  path_pattern: z.string().default('{date}/{doc_id}{ext}'),
});

/** Where a stream's files go: a local directory or an S3 prefix. */
export function storageFor(config: ParquetSinkConfig, stream: string, ctx: Pick<RunContext, 'tenant' | 'job' | 'cwd'>): Storage {
  if (config.file_format.toLowerCase() !== 'parquet') {
    throw new DativoError(`target.file_format: the Parquet sink writes 'parquet', got '${config.file_format}'`, { kind: 'config', code: 'PARQUET_FORMAT' });
  }
  const vars = { tenant: ctx.tenant, job: ctx.job, stream };
  const s3 = config.connection?.s3;
  const warehouse = config.warehouse;
  if (s3) {
    let prefix = s3.prefix;
    if (!prefix && warehouse?.startsWith('s3://')) prefix = warehouse.replace(/^s3:\/\/[^/]+\/?/, '');
    return new S3Storage(s3, expandLocation(prefix, vars));
  }
  if (warehouse?.startsWith('s3://')) {
    const [, bucket = '', prefix = ''] = /^s3:\/\/([^/]+)\/?(.*)$/.exec(warehouse) ?? [];
    return new S3Storage({ bucket, prefix, region: 'us-east-1', path_style_access: false }, expandLocation(prefix, vars));
  }
  const local = config.path ?? config.connection?.local?.path ?? (warehouse ? warehouse.replace(/^file:\/\//, '') : undefined);
  if (!local) {
    throw new DativoError('target: no output location; set target.path (a local directory), or target.connection.s3 (bucket, prefix, endpoint, credentials) or the S3_BUCKET environment variable', {
      kind: 'config',
      code: 'PARQUET_NO_LOCATION',
    });
  }
  return new LocalStorage(path.resolve(ctx.cwd, expandLocation(local, vars)));
}

/** The Parquet sink's runtime (see parquetSink in connector.ts, which loads it when a job runs). */
export function parquetSinkRuntime(): Sink<ParquetSinkConfig> {
  return {
    ...parquetSinkHead,
    async check(config, ctx) {
      const storage = storageFor(config, 'check', ctx);
      try {
        await storage.check();
      } finally {
        await storage.close();
      }
    },
    async open(config, stream: StreamDescriptor, ctx) {
      const raw = rawFileStorage.safeParse(config.markdown_kv_storage);
      if (raw.success) {
        const extension = raw.data.file_extension.startsWith('.') ? raw.data.file_extension : `.${raw.data.file_extension}`;
        return RawFileWriter.open(storageFor({ ...config, partitioning: [] }, stream.name, ctx), stream, { pathPattern: raw.data.path_pattern, extension }, ctx);
      }
      return ParquetSinkWriter.open(storageFor(config, stream.name, ctx), config, stream, ctx);
    },
  };
}
