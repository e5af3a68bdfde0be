import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createGzip } from 'node:zlib';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { recordOutput } from '@dativo/testing';
import { Fleet } from '@dativo/orchestrator';
import { CLI } from './helpers.js';

/** A prefix of Redis keys of its own for each test (tests share the machine's Redis). */
export function freshPrefix(): string {
  return `t${randomBytes(5).toString('hex')}`;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** A long-running `dativo` process (worker, scheduler, start): its output is kept for the audit and for failures. */
export class CliProcess {
  readonly child: ChildProcess;
  output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }) {
    this.child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((resolve) =>
      this.child.on('close', (code, signal) => {
        recordOutput(`dativo ${args[0] ?? ''}`, this.output);
        resolve({ code, signal });
      }),
    );
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** Resolves when a line of the output matches. */
  async waitFor(pattern: RegExp, timeoutMs = 60_000): Promise<void> {
    await until(() => pattern.test(this.output), timeoutMs, `output matching ${pattern}:\n${this.output.slice(-3000)}`);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    await this.exited;
  }
}

/** Polls until `check` holds (observable state, not timing). */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Removes every key of a test's prefix. */
export async function dropPrefix(fleet: Fleet): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await fleet.redis.scan(cursor, 'MATCH', `${fleet.prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await fleet.redis.del(...keys);
  } while (cursor !== '0');
}

/** Resident memory of a process in MB (Linux). */
export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m?.[1] ? Number(m[1]) / 1024 : 0;
}

/** A CSV of `rows` rows with id, name, note (notes of varying length and quoting), gzipped or not. */
export async function writeRowsCsv(file: string, rows: number, gzip = false): Promise<void> {
  const out = createWriteStream(file);
  const zip = gzip ? createGzip() : undefined;
  zip?.pipe(out);
  const target = zip ?? out;
  const write = (s: string): Promise<void> => new Promise((resolve) => (target.write(s) ? resolve() : target.once('drain', () => resolve())));
  await write('id,name,note\n');
  let chunk = '';
  for (let i = 0; i < rows; i++) {
    chunk += `${i},name ${i},"note, ${i % 97} ""quoted"" text ${'z'.repeat(i % 40)}"\n`;
    if (chunk.length > 1 << 20) {
      await write(chunk);
      chunk = '';
    }
  }
  await write(chunk);
  await new Promise<void>((resolve) => {
    out.on('close', () => resolve());
    target.end();
  });
}

/** A CSV → Parquet job of the `rows` asset (`../../assets/rows.yaml`) at `jobs/<tenant>/<name>.yaml` under `dir`. */
export function rowsJob(dir: string, tenant: string, name: string, file: string, extra = ''): string {
  const rel = `jobs/${tenant}/${name}.yaml`;
  mkdirSync(path.join(dir, 'jobs', tenant), { recursive: true });
  writeFileSync(
    path.join(dir, rel),
    `tenant_id: ${tenant}
environment: dev
source_connector: csv
target_connector: parquet
asset: rows
asset_path: ../../assets/rows.yaml
source:
  files:
    - path: "${file}"
target:
  path: out/${tenant}/${name}
  row_group_rows: 20000
commit:
  every_rows: 40000
${extra}`,
  );
  return rel;
}

/** The `rows` asset the jobs of {@link rowsJob} read with. */
export function writeRowsAsset(dir: string): void {
  mkdirSync(path.join(dir, 'assets'), { recursive: true });
  writeFileSync(path.join(dir, 'assets/rows.yaml'), 'name: rows\nschema:\n  - { name: id, type: bigint, required: true }\n  - { name: name, type: string }\n  - { name: note, type: string }\n');
}

/** Sum of note lengths of {@link writeRowsCsv}'s first `rows` rows (the content check). */
export function noteLength(rows: number): number {
  let len = 0;
  for (let i = 0; i < rows; i++) len += `note, ${i % 97} "quoted" text ${'z'.repeat(i % 40)}`.length;
  return len;
}

/** A Redis server of a test's own (a port, a directory, append-only file with fsync on every write). */
export class OwnRedis {
  readonly port: number;
  readonly dir: string;
  private proc: ChildProcess | undefined;

  constructor(port: number, dir: string) {
    this.port = port;
    this.dir = dir;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' });
    const probe = new Fleet({ url: this.url, prefix: 'probe' });
    try {
      await until(async () => (await probe.redis.ping().catch(() => '')) === 'PONG', 20_000, `redis-server on port ${this.port}`);
    } finally {
      await probe.close();
    }
  }

  /** Stops the server as a restart would (SHUTDOWN writes what it has; nothing in memory survives but the append-only file). */
  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    spawn('redis-cli', ['-p', String(this.port), 'shutdown']);
    await exited;
  }
}
