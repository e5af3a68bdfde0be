import type { Sink, StreamDescriptor } from '@dativo/core';
import { checkLocation, openStorage } from '@dativo/parquet-kit';
import type { ParquetSinkConfig } from './config.js';
import { parquetSinkHead } from './connector.js';
import { ParquetSinkWriter } from './writer.js';

/** The Parquet sink's runtime (see parquetSink in connector.ts, which loads it when a job runs). */
export function parquetSinkRuntime(): Sink<ParquetSinkConfig> {
  return {
    ...parquetSinkHead,
    check: (config, ctx) => checkLocation(config, ctx),
    async open(config, stream: StreamDescriptor, ctx) {
      return ParquetSinkWriter.open(await openStorage(config, stream.name, ctx), config, stream, ctx);
    },
  };
}
