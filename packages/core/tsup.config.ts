import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base.js';

// p-retry is ESM-only: bundle it so the CommonJS build works without require(esm) interop.
// `definition` is the entry without the runtime (see src/definition.ts).
export default defineConfig(packageBuild({ entry: ['src/index.ts', 'src/definition.ts', 'src/testing.ts'], noExternal: ['p-retry', 'is-network-error'] }));
