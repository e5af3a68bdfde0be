// A third-party source written as a plugin file: JSON Lines files, one record per line.
// It implements exactly the Extractor interface the built-in connectors implement.
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { BatchBuilder, DativoError, parseCheckpointState, resolveInputPath } from '@dativo/core';
import { z } from 'zod';

const config = z.object({
  files: z.array(z.object({ path: z.string() })).min(1),
  batch_rows: z.number().int().positive().default(1000),
});

const checkpoint = z.object({ line: z.number().int().nonnegative(), done: z.boolean() });

export class JsonLinesReader {
  specificationVersion = 'v1';
  spec = { id: 'jsonl', version: '1.0.0', description: 'JSON Lines files' };
  configSchema = config;

  async check(cfg, ctx) {
    for (const f of cfg.files) {
      await access(resolveInputPath(f.path, ctx)).catch((cause) => {
        throw new DativoError(`JSON Lines file '${f.path}' cannot be read`, { kind: 'config', code: 'JSONL_MISSING', cause });
      });
    }
  }

  async discover() {
    return [];
  }

  async *read(cfg, request, ctx) {
    for (const stream of request.streams) {
      const previous = parseCheckpointState(checkpoint, stream.resumeFrom?.state, { connector: 'jsonl', stream: stream.name });
      const skip = previous && !previous.done ? previous.line : 0;
      yield { kind: 'start', stream: stream.name, resumed: skip > 0 };
      const builder = new BatchBuilder(stream.schema, { maxRows: cfg.batch_rows });
      let line = 0;
      for (const f of cfg.files) {
        const lines = createInterface({ input: createReadStream(resolveInputPath(f.path, ctx)), crlfDelay: Infinity });
        for await (const text of lines) {
          line++;
          if (line <= skip || text.trim() === '') continue;
          let record;
          try {
            record = JSON.parse(text);
          } catch (error) {
            yield { kind: 'rejected', stream: stream.name, raw: text, error: new DativoError(`line ${line} is not JSON: ${error.message}`, { kind: 'validation', code: 'JSONL_BAD_LINE' }), context: { file: f.path, line } };
            continue;
          }
          const problem = builder.appendRecord(record);
          if (problem) {
            yield { kind: 'rejected', stream: stream.name, raw: record, error: new DativoError(`line ${line}: '${problem.column}' ${problem.message}`, { kind: 'validation', code: 'JSONL_BAD_VALUE' }), context: { file: f.path, line } };
          }
          if (builder.full) {
            yield { kind: 'batch', stream: stream.name, batch: builder.flush() };
            yield { kind: 'checkpoint', checkpoint: { stream: stream.name, state: { line, done: false } } };
          }
          if (ctx.signal.aborted) return;
        }
      }
      const last = builder.flush();
      if (last) yield { kind: 'batch', stream: stream.name, batch: last };
      yield { kind: 'checkpoint', checkpoint: { stream: stream.name, state: { line: Math.max(line, skip), done: true } } };
    }
  }
}
