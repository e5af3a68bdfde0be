import { copyFile } from 'node:fs/promises';
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  shims: true,
  // The encoder worker is plain JavaScript loaded by path, next to the bundle.
  onSuccess: async () => {
    await copyFile('src/encoder-worker.mjs', 'dist/encoder-worker.mjs');
  },
});
