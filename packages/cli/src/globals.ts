import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  ChainSecretResolver,
  ConfigError,
  EnvSecretResolver,
  FileSecretResolver,
  JsonLogger,
  parseLogLevel,
  Redactor,
  type Logger,
  type LogLevel,
  type SecretResolver,
} from '@dativo/core/definition';

/** Options shared by every command. */
export interface GlobalOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  stateDir: string;
  dlqDir: string;
  /** The dead-letter directory was named (`--dlq-dir`, DATIVO_DLQ_DIR): it wins over the error policy's. */
  dlqDirExplicit: boolean;
  /** The error policy file (`--error-handling`, DATIVO_ERROR_HANDLING); else `configs/error_handling.yaml` when present. */
  errorHandling?: string;
  logLevel?: LogLevel;
  logFormat: 'json' | 'text';
  json: boolean;
  quiet: boolean;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

export interface RawGlobalOptions {
  stateDir?: string;
  dlqDir?: string;
  errorHandling?: string;
  logLevel?: string;
  logFormat?: string;
  json?: boolean;
  quiet?: boolean;
}

export function resolveGlobals(raw: RawGlobalOptions, io: { cwd?: string; env?: NodeJS.ProcessEnv; stdout?: NodeJS.WriteStream; stderr?: NodeJS.WriteStream } = {}): GlobalOptions {
  const cwd = io.cwd ?? process.cwd();
  const env = io.env ?? process.env;
  return {
    cwd,
    env,
    stateDir: path.resolve(cwd, raw.stateDir ?? env.DATIVO_STATE_DIR ?? '.dativo/state'),
    dlqDir: path.resolve(cwd, raw.dlqDir ?? env.DATIVO_DLQ_DIR ?? '.dativo/dlq'),
    dlqDirExplicit: (raw.dlqDir ?? env.DATIVO_DLQ_DIR) !== undefined,
    ...((raw.errorHandling ?? env.DATIVO_ERROR_HANDLING) ? { errorHandling: (raw.errorHandling ?? env.DATIVO_ERROR_HANDLING) as string } : {}),
    ...(raw.logLevel ? { logLevel: parseLogLevel(raw.logLevel) } : {}),
    // JSON lines for machines; readable lines when a person watches a terminal.
    logFormat: raw.logFormat === 'json' || raw.logFormat === 'text' ? raw.logFormat : (io.stderr ?? process.stderr).isTTY ? 'text' : 'json',
    json: raw.json ?? false,
    quiet: raw.quiet ?? false,
    stdout: io.stdout ?? process.stdout,
    stderr: io.stderr ?? process.stderr,
  };
}

export function makeLogger(g: GlobalOptions, redactor: Redactor, fields: Record<string, unknown>, level?: string): Logger {
  return new JsonLogger({ level: g.logLevel ?? parseLogLevel(level, 'info'), format: g.logFormat, redactor, fields, sink: { write: (line) => g.stderr.write(line) } });
}

export interface SecretOptions {
  secretManager?: string;
  secretsDir?: string;
  secretManagerConfig?: string;
}

export interface Secrets {
  resolver: SecretResolver;
  /** The environment `${VAR}` substitution reads: process environment plus file secrets. */
  env: NodeJS.ProcessEnv;
}

function secretsDirOf(options: SecretOptions, g: GlobalOptions): string | undefined {
  if (options.secretsDir) return path.resolve(g.cwd, options.secretsDir);
  if (!options.secretManagerConfig) return undefined;
  const raw = options.secretManagerConfig.trim();
  const text = raw.startsWith('{') ? raw : readFileSync(path.resolve(g.cwd, raw), 'utf8');
  const parsed = JSON.parse(text) as { dir?: string; path?: string };
  const dir = parsed.dir ?? parsed.path;
  return dir ? path.resolve(g.cwd, dir) : undefined;
}

/**
 * `--secret-manager env` (default) or `filesystem` (`--secrets-dir`: one file per secret, as
 * Docker and Kubernetes mount them). File secrets are also visible to `${VAR}` substitution.
 * Every secret value is registered for redaction.
 */
export function loadSecrets(options: SecretOptions, g: GlobalOptions, redactor: Redactor): Secrets {
  const manager = options.secretManager ?? (options.secretsDir ? 'filesystem' : 'env');
  const envResolver = new EnvSecretResolver(g.env, redactor);
  if (manager === 'env') return { resolver: envResolver, env: g.env };
  if (manager !== 'filesystem') {
    throw new ConfigError(`--secret-manager ${manager} is not available in this build; use env or filesystem (vault, aws and gcp secret managers are planned)`);
  }
  const dir = secretsDirOf(options, g);
  if (!dir) throw new ConfigError('--secret-manager filesystem needs --secrets-dir <dir>');
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(n));
  } catch (error) {
    throw new ConfigError(`secrets directory ${dir} cannot be read: ${(error as Error).message}`);
  }
  const fromFiles: NodeJS.ProcessEnv = {};
  for (const name of names) {
    const value = readFileSync(path.join(dir, name), 'utf8').replace(/\r?\n$/, '');
    fromFiles[name] = value;
    redactor.addSecret(value);
  }
  return { resolver: new ChainSecretResolver([new FileSecretResolver(dir, redactor), envResolver]), env: { ...g.env, ...fromFiles } };
}
