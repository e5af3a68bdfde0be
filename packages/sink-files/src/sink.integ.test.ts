import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { BatchBuilder, type FieldSpec, type StreamDescriptor } from '@dativo/core';
import { describeSinkConformance, tempDir, testRunContext } from '@dativo/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { filesSink } from './connector.js';

const FIELDS: FieldSpec[] = [
  { name: 'doc_id', type: { kind: 'string' }, nullable: false },
  { name: 'content', type: { kind: 'binary' }, nullable: true },
];
const STREAM: StreamDescriptor = { name: 'notes', schema: FIELDS, syncModes: ['full_refresh'] };
const dir = tempDir('dativo-files-');
afterAll(() => dir.cleanup());

let counter = 0;
function batch(rows: number) {
  const b = new BatchBuilder(FIELDS);
  for (let i = 0; i < rows; i++) b.appendRecord({ doc_id: `doc-${counter++}`, content: Buffer.from(`k:: ${i}\n`) });
  return b.flush()!;
}

/** Published files under a location (never the commit log or staging area). */
function published(root: string): string[] {
  try {
    return (readdirSync(root, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
      .filter((e) => e.isFile() && !path.join(e.parentPath, e.name).includes(`${path.sep}_dativo${path.sep}`))
      .map((e) => path.relative(root, path.join(e.parentPath, e.name)));
  } catch {
    return [];
  }
}

describeSinkConformance('files (local directory)', {
  create: () => filesSink(),
  config: () => ({ path: path.join(dir.path, 'conformance'), path_pattern: '{doc_id}', file_extension: 'md' }),
  stream: STREAM,
  batches: () => [batch(20), batch(5)],
  visibleRows: async () => published(path.join(dir.path, 'conformance')).length,
  invalidConfigs: () => [{ config: { path: path.join(dir.path, 'conformance'), path_pattern: 42 }, field: 'path_pattern' }],
  failurePoints: ['parquet:intent-written', 'parquet:file-moved'],
});

describe('files sink', () => {
  it('writes each row unchanged under the path pattern, its values made safe as names', async () => {
    const root = path.join(dir.path, 'raw');
    const sink = filesSink();
    const writer = await sink.open(sink.configSchema.parse({ path: root, file_extension: '.md', path_pattern: 'docs/{doc_id}{ext}' }), STREAM, testRunContext());
    const b = new BatchBuilder(FIELDS);
    b.appendRecord({ doc_id: 'runbook', content: Buffer.from('k:: v\n') });
    b.appendRecord({ doc_id: '../escape', content: Buffer.from('x:: y\n') });
    b.appendRecord({ doc_id: 'nothing', content: null });
    await writer.write(b.flush()!);
    await writer.commit({ stream: 'notes', state: 1 });
    await writer.close();
    expect(readdirSync(path.join(root, 'docs')).sort()).toEqual(['__escape.md', 'runbook.md']);
    expect(readFileSync(path.join(root, 'docs', 'runbook.md'), 'utf8')).toBe('k:: v\n');
  });

  it('names the columns a pattern needs that the stream lacks', async () => {
    const sink = filesSink();
    const config = sink.configSchema.parse({ path: path.join(dir.path, 'bad'), path_pattern: '{title}.txt' });
    await expect(sink.open(config, STREAM, testRunContext())).rejects.toThrow("target: the files sink needs the column(s) 'title' (content_column, path_pattern); stream 'notes' has doc_id, content");
  });
});
