// `npm run quickstart`: install, build, then run examples/quickstart (a CSV and a folder of
// Markdown-KV documents → local Parquet under examples/quickstart/out/).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { installAndBuild, ROOT } from './toolchain.mjs';

const env = installAndBuild();
const dir = path.join(ROOT, 'examples', 'quickstart');
const args = [path.join(ROOT, 'packages', 'cli', 'dist', 'bin.js'), 'run', '--job-dir', 'jobs', '--log-level', 'warn', ...process.argv.slice(2)];
console.log(`\n$ cd examples/quickstart && dativo run --job-dir jobs\n`);
const r = spawnSync(process.execPath, args, { cwd: dir, env, stdio: 'inherit' });
if (r.status === 0) console.log(`\nParquet files are in ${path.relative(process.cwd(), path.join(dir, 'out'))}/ — try: duckdb -c "SELECT * FROM 'examples/quickstart/out/acme/csv_person/*/*.parquet'"`);
process.exit(r.status ?? 2);
