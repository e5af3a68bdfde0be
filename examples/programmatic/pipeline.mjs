// Compose a pipeline in code instead of YAML: CSV files → local Parquet, incremental.
//   node examples/programmatic/pipeline.mjs [output-dir]
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRunContext, parseDataType, runPipeline } from '@dativo/core';
import { csvSource } from '@dativo/source-csv';
import { parquetSink } from '@dativo/sink-parquet';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.resolve(process.argv[2] ?? path.join(here, 'out'));

const source = csvSource();
const sink = parquetSink();
const result = await runPipeline({
  extractor: source,
  sourceConfig: source.configSchema.parse({ files: ['data/*.csv'] }),
  sink,
  sinkConfig: sink.configSchema.parse({ path: path.join(out, 'people') }),
  streams: [
    {
      name: 'people',
      schema: [
        { name: 'id', type: parseDataType('bigint'), nullable: false },
        { name: 'name', type: parseDataType('string'), nullable: true },
        { name: 'signed_up', type: parseDataType('date'), nullable: true },
      ],
      syncMode: 'incremental',
    },
  ],
  ctx: createRunContext({ tenant: 'acme', job: 'people', cwd: here, stateDir: path.join(out, '.state'), dlqDir: path.join(out, '.dlq') }),
});

console.log(JSON.stringify({ status: result.status, rows: result.rows, files: result.files, error: result.error?.message }));
process.exitCode = result.status === 'failed' ? 2 : 0;
