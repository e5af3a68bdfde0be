import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describeExtractorConformance, tempDir, testRunContext } from '@dativo/testing';
import { afterAll } from 'vitest';
import { pythonReader } from './python-reader.js';

/**
 * The Python plugin host runs the extractor conformance suite like any built-in source: a small
 * v1-style reader (JSON Lines, a real `check_connection`) in a python3 subprocess.
 */
const dir = tempDir('dativo-python-reader-');
afterAll(() => dir.cleanup());

const READER = `import json, os
from dativo_ingest.plugins import BaseReader, ConnectionTestResult


class Lines(BaseReader):
    def check_connection(self):
        path = self.source_config.path
        if not path or not os.path.exists(path):
            return ConnectionTestResult(False, f"path: {path!r} does not exist")
        return ConnectionTestResult(True, "readable")

    def extract(self, state_manager=None):
        batch = []
        with open(self.source_config.path, encoding="utf-8") as f:
            for line in f:
                batch.append(json.loads(line))
                if len(batch) >= 70:
                    yield batch
                    batch = []
        if batch:
            yield batch
`;

const file = path.join(dir.path, 'lines.py');
const data = path.join(dir.path, 'rows.jsonl');

describeExtractorConformance('python reader (v1 BaseReader in python3)', {
  create: () => pythonReader({ file, className: 'Lines', ref: 'lines.py:Lines' }),
  setup: async () => {
    writeFileSync(file, READER);
    const lines: string[] = [];
    for (let i = 0; i < 1000; i++) lines.push(JSON.stringify({ id: i, name: `row ${i}`, amount: i / 4, big: 2 ** 60 + i, when: `2024-03-${String((i % 28) + 1).padStart(2, '0')}` }));
    writeFileSync(data, `${lines.join('\n')}\n`);
  },
  config: () => ({ path: data }),
  context: () => Object.assign(testRunContext({ cwd: dir.path }), { batchLimits: { maxRows: 150, maxBytes: 1 << 24 } }),
  invalidConfigs: () => [
    { config: { path: path.join(dir.path, 'missing.jsonl') }, field: 'path' },
    { config: 'rows.jsonl', field: '' },
  ],
});
