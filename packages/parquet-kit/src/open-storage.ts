import path from 'node:path';
import { DativoError, type RunContext } from '@dativo/core';
import { expandLocation, NO_LOCATION, type LocationConfig } from './location.js';
import { LocalStorage } from './storage/local.js';
import type { Storage } from './storage/storage.js';

/**
 * The storage of a stream's location: a local directory (relative paths under the working
 * directory) or an S3 prefix. The S3 client is loaded only for S3 locations.
 */
export async function openStorage(config: LocationConfig, stream: string, ctx: Pick<RunContext, 'tenant' | 'job' | 'cwd'>): Promise<Storage> {
  const vars = { tenant: ctx.tenant, job: ctx.job, stream };
  const s3 = config.connection?.s3;
  const warehouse = config.warehouse;
  if (s3 || warehouse?.startsWith('s3://')) {
    const { S3Storage } = await import('./storage/s3.js');
    if (s3) {
      let prefix = s3.prefix;
      if (!prefix && warehouse?.startsWith('s3://')) prefix = warehouse.replace(/^s3:\/\/[^/]+\/?/, '');
      return new S3Storage(s3, expandLocation(prefix, vars));
    }
    const [, bucket = '', prefix = ''] = /^s3:\/\/([^/]+)\/?(.*)$/.exec(warehouse as string) ?? [];
    return new S3Storage({ bucket, prefix, region: 'us-east-1', path_style_access: false }, expandLocation(prefix, vars));
  }
  const local = config.path ?? config.connection?.local?.path ?? (warehouse ? warehouse.replace(/^file:\/\//, '') : undefined);
  if (!local) throw new DativoError(`target: ${NO_LOCATION}`, { kind: 'config', code: 'NO_LOCATION' });
  return new LocalStorage(path.resolve(ctx.cwd, expandLocation(local, vars)));
}

/** A file sink's `check`: the location is reachable and writable (the endpoint is named on failure). */
export async function checkLocation(config: LocationConfig, ctx: Pick<RunContext, 'tenant' | 'job' | 'cwd'>): Promise<void> {
  const storage = await openStorage(config, 'check', ctx);
  try {
    await storage.check();
  } finally {
    await storage.close();
  }
}
