import { defineConfig } from 'tsup';

// Two entries: `.` (the whole connector) and `./connector` (its definition only, which the
// dativo CLI loads to validate a job without loading the runtime).
export default defineConfig({
  entry: ['src/index.ts', 'src/connector.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  shims: true,
});
