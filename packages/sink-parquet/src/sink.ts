import type { Sink, StreamDescriptor } from '@dativo/core';
import { openStorage } from '@dativo/parquet-kit';
import type { ParquetSinkConfig } from './config.js';
import { parquetSinkHead } from './connector.js';
import { ParquetSinkWriter } from './writer.js';

/** The Parquet sink's runtime (see parquetSink in connector.ts, which loads it when a job runs). */
export function parquetSinkRuntime(): Sink<ParquetSinkConfig> {
  return {
    ...parquetSinkHead,
    async check(config, ctx) {
      const storage = await openStorage(config, 'check', ctx);
      try {
        await storage.check();
      } finally {
        await storage.close();
      }
    },
    async open(config, stream: StreamDescriptor, ctx) {
      return ParquetSinkWriter.open(await openStorage(config, stream.name, ctx), config, stream, ctx);
    },
  };
}
