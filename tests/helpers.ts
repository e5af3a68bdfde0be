import { spawn } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { recordOutput, recordSecretEnv } from '@dativo/testing';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CLI = path.join(ROOT, 'packages', 'cli', 'dist', 'bin.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `dativo` CLI in a child process. */
export function runCli(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; onSpawn?: (pid: number) => void } = { cwd: ROOT }): Promise<CliResult> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (pnpm build)`);
  // The secrets audit: what the test hands the CLI, and everything the CLI prints.
  recordSecretEnv(options.env);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    if (child.pid) options.onSpawn?.(child.pid);
    child.on('close', (code, signal) => {
      recordOutput(`dativo ${args[0] ?? ''}`, `${stdout}\n${stderr}`);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Copies an example folder to a scratch directory so tests never write into the repository. */
export function copyExample(name: string, to: string): string {
  const target = path.join(to, name);
  mkdirSync(target, { recursive: true });
  cpSync(path.join(ROOT, 'examples', name), target, { recursive: true, filter: (src) => !/[\\/](out|\.dativo)([\\/]|$)/.test(src) });
  return target;
}

/** Published Parquet files under a table directory (never the staging area). */
export function parquetFiles(root: string): string[] {
  if (!existsSync(root)) return [];
  return (readdirSync(root, { recursive: true }) as string[]).filter((f) => f.endsWith('.parquet') && !f.includes('_dativo')).map((f) => path.join(root, f));
}

/** Parsed JSON log lines of a CLI run's stderr. */
export function logLines(stderr: string): Array<Record<string, unknown>> {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * The CLI in a child process (asynchronously: a fake API server may live in this one), measured by
 * the kernel's high-water mark of its resident set (bench/lib/measure.mjs).
 */
export function measureCli(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<{ exitCode: number; peakRssMb: number; seconds: number; stderr: string }> {
  recordSecretEnv(options.env);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bench', 'lib', 'measure.mjs'), ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', () => {
      recordOutput(`dativo ${args[0] ?? ''} (measured)`, err);
      resolve({ ...(JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as { exitCode: number; peakRssMb: number; seconds: number }), stderr: err });
    });
  });
}

/** Seeds per pipeline of the crash-resume harness: CRASH_SEEDS (scripts/crash-harness.mjs sets 50), else 3. */
export const CRASH_SEEDS = Number(process.env.CRASH_SEEDS ?? 3);

/** Records a pipeline's harness iterations for the reliability report (when CRASH_REPORT names a file). */
export function reportHarness(pipeline: string, iterations: unknown[]): void {
  if (!process.env.CRASH_REPORT) return;
  appendFileSync(process.env.CRASH_REPORT, `${JSON.stringify({ pipeline, iterations })}\n`);
}
