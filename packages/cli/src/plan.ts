import path from 'node:path';
import type { BatchTransform } from '@dativo/core';
import {
  ConfigError,
  isPlainObject,
  loadJob,
  Redactor,
  SECRET_KEY_PATTERN,
  validateConfig,
  type ConfigWarning,
  type ConfiguredStream,
  type Extractor,
  type FieldSpec,
  type LoadedJob,
  type Sink,
} from '@dativo/core/definition';
import { isKnownConnector, loadSink, loadSource, type ResolvedConnector } from './connectors.js';

/** Everything needed to run (or check) one job, validated. */
export interface JobPlan {
  file: string;
  /** Directory of the job file (relative input paths fall back to it). */
  configDir: string;
  loaded: LoadedJob;
  tenant: string;
  name: string;
  /** Identity the job's checkpoints are kept under when not its name (`state_id`, `--state-id`). */
  stateId?: string;
  source: ResolvedConnector<Extractor<unknown>>;
  sink: ResolvedConnector<Sink<unknown>>;
  sourceConfig: unknown;
  sinkConfig: unknown;
  streams: ConfiguredStream[];
  /** Rows reshaped between source and sink (Markdown-KV rendering); its runtime loads when called. */
  transform?: () => Promise<BatchTransform>;
  warnings: ConfigWarning[];
  /** Notes for the user about how v1 settings were mapped. */
  notes: string[];
}

export interface PlanOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  redactor: Redactor;
  /** `--state-id`: overrides the job's `state_id`. */
  stateId?: string;
}

function schemaAccepts(schema: unknown, key: string): boolean {
  const def = (schema as { _zod?: { def?: { shape?: Record<string, unknown> } } })._zod?.def;
  return Boolean(def?.shape && key in def.shape);
}

/** Registers every value under a secret-looking key so it is masked in logs and errors. */
function registerSecrets(value: unknown, redactor: Redactor, underSecret = false): void {
  if (typeof value === 'string') {
    if (underSecret) redactor.addSecret(value);
    return;
  }
  if (Array.isArray(value)) value.forEach((v) => registerSecrets(v, redactor, underSecret));
  else if (isPlainObject(value)) for (const [k, v] of Object.entries(value)) registerSecrets(v, redactor, underSecret || SECRET_KEY_PATTERN.test(k));
}

/** v1: an Iceberg target without a catalog lands plain Parquet files. */
function hasCatalog(target: Record<string, unknown>): boolean {
  const connection = isPlainObject(target.connection) ? target.connection : {};
  return Boolean(connection.nessie || connection.rest || connection.catalog || target.catalog);
}

/** Puts each stream of a multi-stream job (Markdown-KV hybrid) in its own sub-directory. */
function perStreamLocation(target: Record<string, unknown>): Record<string, unknown> {
  const add = (p: unknown): unknown => (typeof p === 'string' && !p.includes('{stream}') ? `${p.replace(/\/+$/, '')}/{stream}` : p);
  const out: Record<string, unknown> = { ...target };
  if (out.path) out.path = add(out.path);
  if (isPlainObject(out.connection)) {
    const connection = { ...out.connection };
    if (isPlainObject(connection.local)) connection.local = { ...connection.local, path: add(connection.local.path) };
    if (isPlainObject(connection.s3)) connection.s3 = { ...connection.s3, prefix: add(connection.s3.prefix ?? '') };
    out.connection = connection;
  }
  return out;
}

/** What differs between the asset's columns and the ones a job writes, for a warning; undefined when they agree. */
function columnDifference(declared: string[], written: string[]): string | undefined {
  const extra = declared.filter((c) => !written.includes(c) && c !== 'ingest_date');
  const missing = written.filter((c) => !declared.includes(c));
  if (extra.length === 0 && missing.length === 0) return undefined;
  return [extra.length ? `columns the output does not have (${extra.join(', ')})` : '', missing.length ? `no columns ${missing.join(', ')}` : ''].filter(Boolean).join(' and ');
}

/** Loads a job file, resolves its connectors and validates their configuration. */
export async function planJob(file: string, options: PlanOptions): Promise<JobPlan> {
  const loaded = await loadJob(file, { cwd: options.cwd, env: options.env, isKnownConnector });
  const job = loaded.job;
  const notes: string[] = [];
  for (const name of loaded.envVarsUsed) if (SECRET_KEY_PATTERN.test(name)) options.redactor.addSecret(options.env[name]);
  registerSecrets(loaded.sourceInput, options.redactor);
  registerSecrets(loaded.targetInput, options.redactor);
  if (job.logging.redaction === false) notes.push('logging.redaction: false is ignored; secrets are always redacted');

  let targetName = job.target_connector;
  if (targetName === 'iceberg' && !hasCatalog(loaded.targetInput)) {
    targetName = 'parquet';
    notes.push('target_connector iceberg without a catalog (no target.connection.nessie): writing plain Parquet files, as v1 does');
  }
  const source = await loadSource(job.source_connector, options.cwd, { file: loaded.file, path: 'source_connector' });
  const sink = await loadSink(targetName, options.cwd, { file: loaded.file, path: 'target_connector' });

  let sourceInput = loaded.sourceInput;
  const storage = loaded.targetInput.markdown_kv_storage;
  if (storage !== undefined && sourceInput.markdown_kv_storage === undefined && schemaAccepts(source.connector.configSchema, 'markdown_kv_storage')) {
    sourceInput = { ...sourceInput, markdown_kv_storage: storage };
  }
  const warnings = [...loaded.warnings];
  const where = { file: loaded.file, lineOf: loaded.jobLineOf };
  const sourceConfig = validateConfig(source.connector.configSchema, sourceInput, { ...where, prefix: ['source'] });
  warnings.push(...sourceConfig.warnings);

  const asset = { name: loaded.asset.value.name, schema: loaded.fields };
  const incremental = isPlainObject(sourceInput.incremental) ? sourceInput.incremental : undefined;
  const cursorField = typeof incremental?.cursor_field === 'string' ? incremental.cursor_field : undefined;
  const descriptors = source.connector.outputStreams?.(sourceConfig.value, asset) ?? [
    { name: asset.name, schema: asset.schema, syncModes: ['full_refresh', 'incremental'] as const, ...(loaded.primaryKey ? { primaryKey: loaded.primaryKey } : {}) },
  ];
  const streams: ConfiguredStream[] = descriptors.map((d) => ({
    name: d.name,
    schema: d.schema,
    syncMode: incremental ? 'incremental' : 'full_refresh',
    ...(cursorField ? { cursorField } : {}),
    ...(d.primaryKey ? { primaryKey: d.primaryKey } : {}),
  }));

  const assetValue = loaded.asset.value;
  const v1 = sink.pkg.v1Target?.(loaded.targetInput, { tenant: job.tenant_id, asset: { name: assetValue.name, domain: assetValue.domain, dataProduct: assetValue.dataProduct }, env: options.env });
  notes.push(...(v1?.notes ?? []));
  const adaptedTarget = v1?.config ?? loaded.targetInput;
  const targetInput = streams.length > 1 ? perStreamLocation(adaptedTarget) : adaptedTarget;
  const sinkConfig = validateConfig(sink.connector.configSchema, targetInput, { ...where, prefix: ['target'], origin: loaded.targetOrigin });
  warnings.push(...sinkConfig.warnings);

  let transform: (() => Promise<BatchTransform>) | undefined;
  let written: FieldSpec[] | undefined = descriptors.length === 1 && descriptors[0]?.schemaOwner === 'connector' ? descriptors[0].schema : undefined;
  const mode = isPlainObject(storage) ? storage.mode : undefined;
  const pattern = isPlainObject(storage) && typeof storage.structured_pattern === 'string' ? storage.structured_pattern : 'row_per_kv';
  if (mode !== undefined && !source.connector.outputStreams) {
    const { renderedSchema } = await import('@dativo/source-markdown-kv/connector');
    if (mode === 'string') {
      transform = async () => (await import('@dativo/source-markdown-kv')).markdownKvRenderTransform();
      written = renderedSchema('string');
      notes.push('target.markdown_kv_storage.mode: string: each row is written as a Markdown-KV document (doc_id, markdown_kv_content)');
    } else if (mode === 'structured' && (pattern === 'row_per_kv' || pattern === 'document_level')) {
      transform = async () => (await import('@dativo/source-markdown-kv')).markdownKvStructuredTransform(pattern);
      written = renderedSchema('structured', pattern);
      notes.push(`target.markdown_kv_storage.mode: structured (${pattern}): each row is rendered as a Markdown-KV document and stored parsed, as v1 does`);
    } else {
      throw new ConfigError(`markdown_kv_storage: mode '${String(mode)}'${mode === 'structured' ? ` with structured_pattern '${pattern}'` : ''} needs a Markdown-KV source; a ${job.source_connector} source supports mode: string, and structured with row_per_kv or document_level`, {
        file: loaded.file,
        path: 'target.markdown_kv_storage.mode',
      });
    }
  }
  // v1's jobs that render rows as Markdown-KV describe the rendered output in their asset
  // (doc_id, markdown_kv_content…): the rows themselves are then the source's own columns.
  const output = written;
  if (transform && output && asset.schema.every((f) => f.name === 'ingest_date' || output.some((w) => w.name === f.name))) {
    for (const stream of streams) stream.schema = [];
    notes.push('the asset describes the Markdown-KV output, so every column of the source is rendered');
  }
  // A connector that fixes its output columns (Markdown-KV storage modes) says so when the asset
  // declares others; with a transform, an asset that is not the output describes the input rows.
  if (output && !transform) {
    const differs = columnDifference(asset.schema.map((f) => f.name), output.map((f) => f.name));
    if (differs) {
      warnings.push({ file: loaded.asset.file, path: 'schema', message: `the asset declares ${differs}; the output has the columns ${output.map((f) => f.name).join(', ')} (fixed by the Markdown-KV storage mode), so the asset's schema is not used for them` });
    }
  }
  const stateId = options.stateId ?? job.state_id;
  if (stateId && stateId !== loaded.name) notes.push(`progress is kept under state id '${stateId}' (job '${loaded.name}')`);
  return {
    file: loaded.file,
    configDir: path.dirname(path.resolve(options.cwd, file)),
    loaded,
    tenant: job.tenant_id,
    name: loaded.name,
    ...(stateId ? { stateId } : {}),
    source,
    sink,
    sourceConfig: sourceConfig.value,
    sinkConfig: sinkConfig.value,
    streams,
    ...(transform ? { transform } : {}),
    warnings,
    notes,
  };
}
