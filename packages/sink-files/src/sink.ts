import type { Sink } from '@dativo/core';
import { checkLocation, openStorage } from '@dativo/parquet-kit';
import type { FilesSinkConfig } from './config.js';
import { filesSinkHead } from './connector.js';
import { FilesWriter } from './writer.js';

/** The raw-files sink's runtime (see filesSink in connector.ts). */
export function filesSinkRuntime(): Sink<FilesSinkConfig> {
  return {
    ...filesSinkHead,
    check: (config, ctx) => checkLocation(config, ctx),
    async open(config, stream, ctx) {
      return FilesWriter.open(await openStorage(config, stream.name, ctx), stream, config, ctx);
    },
  };
}
