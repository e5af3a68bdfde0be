// `npm test`: install, build, run every unit and integration test with vitest, and end with one
// line `N passed, N failed` taken from vitest's JSON reporter. Extra arguments go to vitest.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { installAndBuild, ROOT } from './toolchain.mjs';

const env = installAndBuild();
// Type errors fail the suite too (packages, their tests, and tests/).
const typecheck = spawnSync('pnpm', ['run', 'typecheck'], { cwd: ROOT, env, stdio: 'inherit', shell: process.platform === 'win32' });
const results = path.join(ROOT, '.vitest-results.json');
rmSync(results, { force: true });
const vitest = path.join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
const run = spawnSync(process.execPath, [vitest, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${results}`, ...process.argv.slice(2)], { cwd: ROOT, env, stdio: 'inherit' });
let passed = 0;
let failed = 0;
if (existsSync(results)) {
  const report = JSON.parse(readFileSync(results, 'utf8'));
  passed = report.numPassedTests ?? 0;
  // A test file that fails to load has no failed test in it: count it as one failure.
  const brokenFiles = (report.testResults ?? []).filter((f) => f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed')).length;
  failed = (report.numFailedTests ?? 0) + brokenFiles;
} else {
  failed = 1; // vitest did not even produce a report
}
if (typecheck.status !== 0) {
  console.error('dativo: typecheck failed (counted as one failed test)');
  failed++;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(run.status === 0 && failed === 0 ? 0 : 1);
