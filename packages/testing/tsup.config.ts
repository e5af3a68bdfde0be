import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base.js';

export default defineConfig(packageBuild({ external: ['vitest', '@duckdb/node-api'] }));
