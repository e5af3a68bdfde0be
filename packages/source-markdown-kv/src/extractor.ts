import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseCheckpointState } from '@dativo/core/definition';
import { z } from 'zod';
import {
  BatchBuilder,
  comparePosition,
  DativoError,
  displayPath,
  listInputFiles,
  type Checkpoint,
  type ConfiguredStream,
  type ExtractMessage,
  type Extractor,
  type FilePosition,
  type InputFile,
  type JsonValue,
  type RunContext,
  type StreamDescriptor,
} from '@dativo/core';
import type { MarkdownKvSourceConfig } from './config.js';
import { markdownKvSourceHead, markdownKvStreams } from './connector.js';
import { MarkdownKvError, parseMarkdownKv, type ParsedDocument } from './parse.js';
import { appendDocument, appendKvRows } from './structured.js';
import { outputKindOf } from './schemas.js';

/** Checkpoint: the last document fully read, in (modification time, path) order. */
const checkpointSchema = z.object({ v: z.literal(1), done: z.boolean(), after: z.object({ m: z.number(), p: z.string() }).optional() });

type Output = { stream: string; kind: 'string' | 'raw' | 'rows' | 'documents'; builder: BatchBuilder };

function outputsFor(streams: ConfiguredStream[], ctx: RunContext): Output[] {
  // Each stream's columns say what it holds (see markdownKvStreams), so reading needs no other setting.
  return streams.map((stream) => ({ stream: stream.name, kind: outputKindOf(stream.schema), builder: new BatchBuilder(stream.schema, { maxRows: Math.min(1024, ctx.batchLimits.maxRows), maxBytes: ctx.batchLimits.maxBytes }) }));
}

function append(output: Output, doc: ParsedDocument, raw: Buffer, text: string, file: InputFile, shown: string, extractedAt: Date): string | undefined {
  const b = output.builder;
  const problem = (p: { column: string; message: string } | undefined): string | undefined => (p ? `column '${p.column}' ${p.message}` : undefined);
  switch (output.kind) {
    case 'string':
      return problem(b.appendRecord({ doc_id: doc.doc_id, markdown_kv_content: text }));
    case 'raw':
      return problem(b.appendRecord({ doc_id: doc.doc_id, file_name: shown, content: raw, modified_at: new Date(file.mtimeMs) }));
    case 'rows':
      return problem(appendKvRows(b, doc, extractedAt));
    case 'documents':
      return problem(appendDocument(b, doc, text, extractedAt));
  }
}

/**
 * The Markdown-KV source's runtime (see markdownKvSource in connector.ts): `key:: value` documents as one row per pair, one row per document
 * (nested sections), the whole text, or the raw file, following v1's parsing rules.
 */
export function markdownKvExtractor(): Extractor<MarkdownKvSourceConfig> {
  return {
    ...markdownKvSourceHead,

    async check(config, ctx) {
      await listInputFiles(config.files, ctx, { what: 'Markdown-KV file' });
    },

    async discover(config, ctx) {
      await listInputFiles(config.files, ctx, { what: 'Markdown-KV file' });
      const first = config.files[0];
      return markdownKvStreams(config, first && 'object' in first && first.object ? first.object : 'markdown_kv');
    },

    async *read(config, request, ctx) {
      yield* readDocuments(config, request.streams, ctx);
    },
  };
}

async function* readDocuments(config: MarkdownKvSourceConfig, streams: ConfiguredStream[], ctx: RunContext): AsyncGenerator<ExtractMessage> {
  const outputs = outputsFor(streams, ctx);
  const main = streams[0];
  if (!main) return;
  // Every output stream shares one position: the documents fully read.
  const previous = parseCheckpointState(checkpointSchema, main.resumeFrom?.state, { connector: 'markdown_kv', stream: main.name });
  const incremental = main.syncMode === 'incremental';
  const resumed = previous !== undefined && (incremental || !previous.done);
  let after = resumed ? previous.after : undefined;
  for (const o of outputs) yield { kind: 'start', stream: o.stream, resumed };
  const files = await listInputFiles(config.files, ctx, { what: 'Markdown-KV file' });
  const maxBytes = config.max_document_mb * 1024 * 1024;
  const extractedAt = new Date();
  const checkpoint = (done: boolean): ExtractMessage[] =>
    outputs.map((o) => ({ kind: 'checkpoint', checkpoint: { stream: o.stream, state: { v: 1, done, ...(after ? { after } : {}) } as unknown as Checkpoint['state'] } }));
  const flush = function* (): Generator<ExtractMessage> {
    for (const o of outputs) {
      const batch = o.builder.flush();
      if (batch) yield { kind: 'batch', stream: o.stream, batch };
    }
    yield* checkpoint(false);
  };
  let pendingDocs = 0;
  for (const file of files) {
    const position: FilePosition = { m: file.mtimeMs, p: file.path };
    if (after && comparePosition(position, after) <= 0) continue;
    if (ctx.signal.aborted) return;
    const shown = displayPath(file.path, ctx.cwd);
    if (file.size > maxBytes) {
      for (const o of outputs) yield reject(o.stream, shown, `document is ${(file.size / 1048576).toFixed(1)} MiB, larger than max_document_mb (${config.max_document_mb})`, { file: shown });
    } else {
      const raw = await fs.readFile(file.path);
      const text = raw.toString('utf8');
      let doc: ParsedDocument | undefined;
      try {
        doc = parseMarkdownKv(text, file.path);
      } catch (error) {
        if (!(error instanceof MarkdownKvError)) throw error;
        if (outputs.every((o) => o.kind === 'string' || o.kind === 'raw')) {
          // The whole text is kept either way: only the doc_id falls back to the file name.
          doc = { doc_id: path.basename(file.path).replace(/\.[^.]*$/, ''), title: '', frontMatter: undefined, sections: [] };
          for (const o of outputs) yield { kind: 'warning', stream: o.stream, message: `${shown}: ${error.message}; doc_id taken from the file name`, context: { file: shown } };
        } else {
          for (const o of outputs) yield reject(o.stream, shown, error.message, { file: shown, content: text.slice(0, 2000) });
        }
      }
      if (doc) {
        for (const o of outputs) {
          const before = o.builder.rows;
          const problem = append(o, doc, raw, text, file, shown, extractedAt);
          if (problem) {
            o.builder.truncate(before);
            yield reject(o.stream, shown, problem, { file: shown, doc_id: doc.doc_id });
          }
        }
      }
    }
    after = position;
    pendingDocs++;
    if (pendingDocs >= 256 || outputs.some((o) => o.builder.full)) {
      yield* flush();
      pendingDocs = 0;
    }
  }
  for (const o of outputs) {
    const batch = o.builder.flush();
    if (batch) yield { kind: 'batch', stream: o.stream, batch };
  }
  yield* checkpoint(true);
}

function reject(stream: string, shown: string, message: string, context: Record<string, unknown>): ExtractMessage {
  return {
    kind: 'rejected',
    stream,
    raw: context,
    error: new DativoError(`${shown}: ${message}`, { kind: 'validation', code: 'MARKDOWN_KV_BAD_DOCUMENT', details: { file: shown } }),
    context: { file: shown },
  };
}
