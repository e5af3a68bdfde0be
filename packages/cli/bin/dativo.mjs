#!/usr/bin/env node
// The `dativo` command. A committed file (not the build output) so that installing the workspace
// links it before anything is built; it runs the built CLI.
import { existsSync } from 'node:fs';

const built = new URL('../dist/bin.js', import.meta.url);
if (!existsSync(built)) {
  process.stderr.write('dativo: the CLI is not built yet; run `npm run quickstart` (or `pnpm build`) in the repository first\n');
  process.exit(2);
}
await import(built.href);
