import { promises as fs } from 'node:fs';
import path from 'node:path';
import { DativoError } from './errors.js';
import type { Redactor } from './log/redact.js';

/** Looks up secrets by name. Every value returned is registered for redaction. */
export interface SecretResolver {
  get(name: string): Promise<string | undefined>;
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
  async get(name: string): Promise<string | undefined> {
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new DativoError(`secret name '${name}' may only hold letters, digits, '_', '.' and '-'`, { kind: 'config' });
    try {
      const value = (await fs.readFile(path.join(this.dir, name), 'utf8')).replace(/\r?\n$/, '');
      this.redactor?.addSecret(value);
      return value;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
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
}
