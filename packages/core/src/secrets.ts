import { promises as fs } from 'node:fs';
import path from 'node:path';
import { DativoError } from './errors.js';
import type { Redactor } from './log/redact.js';

/** Looks up secrets by name. Every value returned is registered for redaction. */
export interface SecretResolver {
  get(name: string): Promise<string | undefined>;
  /**
   * Stores a new value for a secret (a rotated OAuth refresh token), where the store can keep it
   * beyond this process; absent when it cannot. The value is registered for redaction.
   */
  set?(name: string, value: string): Promise<void>;
}

/**
 * Stores a secret's new value through the run's secret store; `false` (and nothing stored) when
 * the store cannot keep values, so the caller can warn that the value lives only in this process.
 */
export async function storeSecret(resolver: SecretResolver, name: string, value: string): Promise<boolean> {
  if (!resolver.set) return false;
  await resolver.set(name, value);
  return true;
}

/** Secrets from environment variables (`--secret-manager env`, the default). */
export class EnvSecretResolver implements SecretResolver {
  private readonly env: NodeJS.ProcessEnv;
  private readonly redactor: Redactor | undefined;
  constructor(env: NodeJS.ProcessEnv = process.env, redactor?: Redactor) {
    this.env = env;
    this.redactor = redactor;
  }
  async get(name: string): Promise<string | undefined> {
    const value = this.env[name];
    this.redactor?.addSecret(value);
    return value;
  }
}

/**
 * Secrets from files in a directory (`--secret-manager filesystem --secrets-dir <dir>`): the
 * file `<dir>/<name>` holds the value (trailing newline removed), as Docker and Kubernetes mount them.
 */
export class FileSecretResolver implements SecretResolver {
  private readonly dir: string;
  private readonly redactor: Redactor | undefined;
  constructor(dir: string, redactor?: Redactor) {
    this.dir = path.resolve(dir);
    this.redactor = redactor;
  }
  private file(name: string): string {
    if (!/^[A-Za-z0-9_.-]+$/.test(name) || name.startsWith('.')) throw new DativoError(`secret name '${name}' may only hold letters, digits, '_', '.' and '-'`, { kind: 'config' });
    return path.join(this.dir, name);
  }
  async get(name: string): Promise<string | undefined> {
    const file = this.file(name);
    try {
      const value = (await fs.readFile(file, 'utf8')).replace(/\r?\n$/, '');
      this.redactor?.addSecret(value);
      return value;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }
  /** Replaces the file atomically (written beside it, then renamed), readable by the owner only. */
  async set(name: string, value: string): Promise<void> {
    const file = this.file(name);
    this.redactor?.addSecret(value);
    const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
    try {
      await fs.writeFile(temp, `${value}\n`, { mode: 0o600 });
      await fs.rename(temp, file);
    } catch (error) {
      await fs.rm(temp, { force: true });
      throw new DativoError(`secret '${name}' cannot be stored in ${this.dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { kind: 'permanent', cause: error });
    }
  }
}

/** Tries resolvers in order. */
export class ChainSecretResolver implements SecretResolver {
  private readonly resolvers: SecretResolver[];
  constructor(resolvers: SecretResolver[]) {
    this.resolvers = resolvers;
  }
  async get(name: string): Promise<string | undefined> {
    for (const r of this.resolvers) {
      const v = await r.get(name);
      if (v !== undefined) return v;
    }
    return undefined;
  }
  /** Stores in the first resolver that holds the secret and can store, else the first that can store. */
  get set(): ((name: string, value: string) => Promise<void>) | undefined {
    const writable = this.resolvers.filter((r) => r.set);
    if (!writable.length) return undefined;
    return async (name, value) => {
      for (const r of writable) {
        if ((await r.get(name)) !== undefined) return (r.set as (n: string, v: string) => Promise<void>).call(r, name, value);
      }
      const first = writable[0] as SecretResolver;
      return (first.set as (n: string, v: string) => Promise<void>).call(first, name, value);
    };
  }
}
