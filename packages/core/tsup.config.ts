import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base.js';

// p-retry is ESM-only: bundle it so the CommonJS build works without require(esm) interop.
export default defineConfig(packageBuild({ noExternal: ['p-retry', 'is-network-error'] }));
