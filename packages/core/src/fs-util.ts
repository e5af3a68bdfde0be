import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * `mkdir -p` that fails at once with the OS's error: Node's recursive mkdir spins forever under a
 * special file system such as /proc (where creating `x` keeps answering "no such file"). Creates
 * the missing directories one by one, from the deepest one that exists.
 */
export async function ensureDir(dir: string): Promise<void> {
  const target = path.resolve(dir);
  const missing: string[] = [];
  let at = target;
  for (;;) {
    try {
      const stat = await fs.stat(at);
      if (!stat.isDirectory()) throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${target}' (${at} is a file)`), { code: 'ENOTDIR', path: at });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      const parent = path.dirname(at);
      if (parent === at) break;
      missing.unshift(at);
      at = parent;
    }
  }
  for (const d of missing) {
    try {
      await fs.mkdir(d);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

/** Writes a file so readers see the old or the new content, never a partial one. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const dir = path.dirname(file);
  await ensureDir(dir);
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await fs.open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(tmp, file);
  await fsyncDir(dir);
}

/** Makes a rename durable (best effort on platforms that cannot open directories). */
export async function fsyncDir(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // Directories cannot be fsynced everywhere (Windows); the rename is still atomic.
  } finally {
    await handle?.close();
  }
}

/** Directory entries sorted by name; an empty list when the directory does not exist. */
export async function readdirSorted(dir: string): Promise<string[]> {
  try {
    return (await fs.readdir(dir)).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}
