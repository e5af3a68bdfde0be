import { randomBytes } from 'node:crypto';
import { createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DativoError, ensureDir, fsyncDir, writeFileAtomic } from '@dativo/core';
import type { Storage, StorageUpload } from './storage.js';

/** Parquet files in a local directory. Moves are renames, so a file appears whole or not at all. */
export class LocalStorage implements Storage {
  readonly root: string;
  readonly location: string;

  constructor(root: string) {
    this.root = path.resolve(root);
    this.location = this.root;
  }

  private abs(key: string): string {
    const full = path.resolve(this.root, key);
    const inside = this.root.endsWith(path.sep) ? this.root : this.root + path.sep;
    if (full !== this.root && !full.startsWith(inside)) throw new DativoError(`key '${key}' escapes the table directory`, { kind: 'permanent' });
    return full;
  }

  async check(): Promise<void> {
    try {
      await ensureDir(this.root);
      await fs.access(this.root, fs.constants.W_OK);
    } catch (error) {
      throw new DativoError(`cannot write to output directory ${this.root}: ${(error as Error).message}`, { kind: 'permanent', cause: error });
    }
  }

  async create(key: string): Promise<StorageUpload> {
    const file = this.abs(key);
    await ensureDir(path.dirname(file));
    const handle = await fs.open(file, 'w');
    const stream = createWriteStream('', { fd: handle.fd, autoClose: false, highWaterMark: 1 << 20 });
    let bytes = 0;
    let failed: Error | undefined;
    stream.on('error', (e) => (failed = e));
    return {
      write: async (chunk) => {
        if (failed) throw failed;
        bytes += chunk.length;
        if (!stream.write(chunk)) {
          await new Promise<void>((resolve) => {
            const settle = (): void => {
              stream.off('drain', settle);
              stream.off('error', settle);
              resolve();
            };
            stream.on('drain', settle);
            stream.on('error', settle);
          });
          if (failed) throw failed;
        }
      },
      finish: async () => {
        await new Promise<void>((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
        if (failed) throw failed;
        await handle.sync();
        await handle.close();
        return bytes;
      },
      abort: async () => {
        stream.destroy();
        await handle.close().catch(() => undefined);
        await fs.rm(file, { force: true });
      },
    };
  }

  async move(from: string, to: string): Promise<void> {
    const src = this.abs(from);
    const dst = this.abs(to);
    await ensureDir(path.dirname(dst));
    try {
      await fs.rename(src, dst);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && (await this.exists(to))) return;
      throw error;
    }
    await fsyncDir(path.dirname(dst));
    await fs.rmdir(path.dirname(src)).catch(() => undefined); // drop the staging directory once empty
  }

  async exists(key: string): Promise<boolean> {
    try {
      await fs.access(this.abs(key));
      return true;
    } catch {
      return false;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const base = this.abs(prefix);
    const out: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = await fs.readdir(dir, { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw error;
      }
      for (const e of entries) {
        const full = path.join(dir, e.name);
        if (e.isDirectory()) await walk(full);
        else out.push(path.relative(this.root, full).split(path.sep).join('/'));
      }
    };
    await walk(base);
    return out.sort();
  }

  async delete(key: string): Promise<void> {
    await fs.rm(this.abs(key), { force: true });
  }

  async readText(key: string): Promise<string | undefined> {
    const bytes = await this.readBytes(key);
    return bytes === undefined ? undefined : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  }

  async writeText(key: string, text: string): Promise<void> {
    await writeFileAtomic(this.abs(key), text);
  }

  async readBytes(key: string): Promise<Uint8Array | undefined> {
    try {
      return await fs.readFile(this.abs(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async writeBytes(key: string, data: Uint8Array): Promise<void> {
    await writeFileAtomic(this.abs(key), data);
  }

  uri(key: string): string {
    return pathToFileURL(this.abs(key)).href;
  }

  async createText(key: string, text: string): Promise<boolean> {
    // Write a temporary file, then hard-link it into place: link() fails when the target exists,
    // so the record appears complete or not at all, and never overwrites another writer's.
    const file = this.abs(key);
    // The temporary name must be unique per call: two writers in one process may create the same
    // key in the same millisecond, and linking the other writer's content would be a lost commit.
    const tmp = `${file}.${randomBytes(8).toString('hex')}.tmp`;
    await writeFileAtomic(tmp, text);
    try {
      await fs.link(tmp, file);
      await fsyncDir(path.dirname(file));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    } finally {
      await fs.rm(tmp, { force: true });
    }
  }

  async close(): Promise<void> {}
}
