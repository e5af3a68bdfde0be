import { copyFile } from 'node:fs/promises';
import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base.js';

export default defineConfig(
  packageBuild({
    entry: ['src/index.ts', 'src/definition.ts'],
    // The encoder worker is plain JavaScript loaded by path, next to the bundle.
    onSuccess: async () => {
      for (const file of ['encoder-worker.mjs', 'arrow-ipc.mjs', 'zstd-pages.mjs', 'thrift-compact.mjs']) await copyFile(`src/${file}`, `dist/${file}`);
    },
  }),
);
