import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base.js';

// ESM only: the conformance suites import vitest, which is ESM only. Each subpath is its own entry
// so that importing one never loads another's dependencies.
export default defineConfig(
  packageBuild({
    entry: { index: 'src/index.ts', duckdb: 'src/entry/duckdb.ts', s3: 'src/entry/s3.ts', sql: 'src/entry/sql.ts', iceberg: 'src/entry/iceberg.ts', http: 'src/entry/http.ts' },
    format: ['esm'],
    external: ['vitest', '@duckdb/node-api', 'pg', 'mysql2', 's3rver', 'icebird', 'lossless-json', 'ajv', 'yaml'],
  }),
);
