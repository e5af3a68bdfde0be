import { promises as fs } from 'node:fs';
import path from 'node:path';
import { DativoError } from '../errors.js';
import type { Checkpoint } from '../v1/messages.js';
import { readdirSorted, writeFileAtomic } from '../fs-util.js';
import type { StateKey, StatePutOptions, StateStore, StoredState } from './state-store.js';

/** File-name-safe encoding of a tenant, job or stream name. */
export function safeSegment(name: string): string {
  if (name === '' ) throw new DativoError('state key segment must not be empty', { kind: 'config' });
  return encodeURIComponent(name).replace(/\./g, '%2E').replace(/\*/g, '%2A');
}

/**
 * One JSON file per tenant / job / stream under a directory (`<dir>/<tenant>/<job>/<stream>.json`).
 * Writes are atomic (temporary file, fsync, rename), so a crash leaves either the old or the new
 * state, never a torn file.
 */
export class LocalFileStateStore implements StateStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = path.resolve(dir);
  }

  private file(key: StateKey): string {
    return path.join(this.dir, safeSegment(key.tenant), safeSegment(key.job), `${safeSegment(key.stream)}.json`);
  }

  async get(key: StateKey): Promise<StoredState | undefined> {
    const file = this.file(key);
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      return JSON.parse(text) as StoredState;
    } catch (error) {
      throw new DativoError(`state file ${file} is not valid JSON; inspect it or run 'dativo state reset'`, { kind: 'permanent', cause: error });
    }
  }

  async put(key: StateKey, checkpoint: Checkpoint, runId?: string, options: StatePutOptions = {}): Promise<void> {
    const record: StoredState = { key, checkpoint, ...(runId ? { runId } : {}), updatedAt: new Date().toISOString(), ...(options.history ? { history: options.history } : {}) };
    await writeFileAtomic(this.file(key), `${JSON.stringify(record, null, 2)}\n`);
  }

  async delete(key: StateKey): Promise<boolean> {
    try {
      await fs.unlink(this.file(key));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }

  async list(filter: Partial<Pick<StateKey, 'tenant' | 'job'>> = {}): Promise<StoredState[]> {
    const out: StoredState[] = [];
    const tenants = filter.tenant ? [safeSegment(filter.tenant)] : await readdirSorted(this.dir);
    for (const tenant of tenants) {
      const jobs = filter.job ? [safeSegment(filter.job)] : await readdirSorted(path.join(this.dir, tenant));
      for (const job of jobs) {
        for (const file of await readdirSorted(path.join(this.dir, tenant, job))) {
          if (!file.endsWith('.json')) continue;
          const text = await fs.readFile(path.join(this.dir, tenant, job, file), 'utf8');
          out.push(JSON.parse(text) as StoredState);
        }
      }
    }
    return out.sort((a, b) => `${a.key.tenant}/${a.key.job}/${a.key.stream}`.localeCompare(`${b.key.tenant}/${b.key.job}/${b.key.stream}`));
  }
}

