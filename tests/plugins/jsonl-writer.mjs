// A third-party sink written as a plugin file: each commit publishes one JSON Lines file and the
// checkpoint it covers. It implements exactly the Sink interface the built-in sinks implement.
import { mkdir, readFile, rename, rm, writeFile, appendFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { readRows } from '@dativo/core';
import { z } from 'zod';

const config = z.object({ path: z.string() });

const json = (row) => JSON.stringify(row, (_, v) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v));

export default function jsonLinesSink() {
  return {
    specificationVersion: 'v1',
    spec: { id: 'jsonl-files', version: '1.0.0' },
    configSchema: config,
    async check(cfg, ctx) {
      await mkdir(path.resolve(ctx.cwd, cfg.path), { recursive: true });
    },
    async open(cfg, stream, ctx) {
      const dir = path.resolve(ctx.cwd, cfg.path, stream.name);
      await mkdir(dir, { recursive: true });
      const pending = path.join(dir, '.pending');
      const stateFile = path.join(dir, '_checkpoint.json');
      let rows = 0;
      let bytes = 0;
      return {
        async lastCommitted() {
          try {
            return JSON.parse(await readFile(stateFile, 'utf8'));
          } catch {
            return undefined;
          }
        },
        async begin() {
          await rm(pending, { force: true });
        },
        async write(batch) {
          let text = '';
          for (const row of readRows(batch, stream.schema)) text += json(row) + '\n';
          rows += batch.numRows;
          bytes += Buffer.byteLength(text);
          await appendFile(pending, text);
        },
        async commit(checkpoint) {
          const parts = (await readdir(dir)).filter((f) => f.startsWith('part-')).length;
          const done = { files: rows ? 1 : 0, rows, bytes };
          if (rows) await rename(pending, path.join(dir, `part-${String(parts).padStart(5, '0')}.jsonl`));
          await writeFile(`${stateFile}.tmp`, JSON.stringify(checkpoint));
          await rename(`${stateFile}.tmp`, stateFile);
          rows = 0;
          bytes = 0;
          return done;
        },
        async abort() {
          await rm(pending, { force: true });
          rows = 0;
          bytes = 0;
        },
        async close() {},
      };
    },
  };
}
