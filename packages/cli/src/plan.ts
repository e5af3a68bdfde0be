import path from 'node:path';
import {
  ConfigError,
  ConfigErrors,
  DativoError,
  isPlainObject,
  Redactor,
  SECRET_KEY_PATTERN,
  type BatchTransform,
  type ConfiguredStream,
  type Extractor,
  type FieldSpec,
  type Sink,
  type V1JobContext,
} from '@dativo/core/definition';
import { loadJob, validateConfig, type ConfigWarning, type LoadedJob } from '@dativo/job-config';
import { isBuiltIn, loadDefinition, loadSink, loadSource, type ResolvedConnector } from './connectors.js';
import { loadPlugin, pluginSection } from './plugins.js';
import { BUILT_IN_TRANSFORMS } from './registry.js';

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
  /** Rows reshaped between source and sink (a rendering a target asks for); its runtime loads when called. */
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

/** Registers every value under a secret-looking key so it is masked in logs and errors. */
function registerSecrets(value: unknown, redactor: Redactor, underSecret = false): void {
  if (typeof value === 'string') {
    if (underSecret) redactor.addSecret(value);
    return;
  }
  if (Array.isArray(value)) value.forEach((v) => registerSecrets(v, redactor, underSecret));
  else if (isPlainObject(value)) for (const [k, v] of Object.entries(value)) registerSecrets(v, redactor, underSecret || SECRET_KEY_PATTERN.test(k));
}

/** What differs between the asset's columns and the ones a job writes, for a warning; undefined when they agree. */
function columnDifference(declared: string[], written: string[]): string | undefined {
  const extra = declared.filter((c) => !written.includes(c) && c !== 'ingest_date');
  const missing = written.filter((c) => !declared.includes(c));
  if (extra.length === 0 && missing.length === 0) return undefined;
  return [extra.length ? `columns the output does not have (${extra.join(', ')})` : '', missing.length ? `no columns ${missing.join(', ')}` : ''].filter(Boolean).join(' and ');
}

/** A connector hook's configuration error, placed in the job file. */
function inJobFile<T>(file: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    const e = error as ConfigError;
    if (!DativoError.isInstance(error) || e.kind !== 'config' || e.file) throw error;
    const message = e.path && e.message.startsWith(`${e.path}: `) ? e.message.slice(e.path.length + 2) : e.message;
    throw new ConfigError(message, { file, ...(e.path ? { path: e.path } : {}), cause: error });
  }
}

const without = (section: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> => Object.fromEntries(Object.entries(section).filter(([k]) => !keys.includes(k)));

/**
 * Loads a job file, resolves its connectors and validates their configuration. The connectors
 * read their v1 sections themselves (their `v1` hooks): the CLI only passes sections along, in this
 * order — the source (which may claim target keys, or name the sink its output needs), transforms
 * asked for by the target, then the sink (which may hand the target to another sink).
 */
export async function planJob(file: string, options: PlanOptions): Promise<JobPlan> {
  const loaded = await loadJob(file, { cwd: options.cwd, env: options.env });
  const job = loaded.job;
  const notes: string[] = [];
  for (const name of loaded.envVarsUsed) if (SECRET_KEY_PATTERN.test(name)) options.redactor.addSecret(options.env[name]);
  registerSecrets(loaded.sourceInput, options.redactor);
  registerSecrets(loaded.targetInput, options.redactor);
  if (job.logging.redaction === false) notes.push('logging.redaction: false is ignored; secrets are always redacted');
  const readerRef = loaded.sourceInput.custom_reader;
  const writerRef = loaded.targetInput.custom_writer;
  // A recipe file that is missing is fine for a built-in connector (its package carries the
  // defaults) and for a role a plugin fills (v1 used any recipe "as a base" there).
  const pluginFor = { source: readerRef !== undefined, target: writerRef !== undefined };
  const missing = loaded.missingRecipes.filter((m) => !isBuiltIn(m.connector, m.role) && !pluginFor[m.role]);
  if (missing.length) throw new ConfigErrors(missing.map((m) => m.error));

  // A plugin file (v1's `custom_reader` / `custom_writer`) takes the place of the named connector.
  const configDir = path.dirname(path.resolve(options.cwd, file));
  const pluginWhere = (section: 'source' | 'target', key: 'custom_reader' | 'custom_writer') => {
    const line = loaded.jobLineOf([section, key]);
    return { file: loaded.file, path: `${section}.${key}`, ...(line ? { line } : {}) };
  };
  const source =
    readerRef !== undefined
      ? await loadPlugin('source', readerRef, pluginWhere('source', 'custom_reader'), { cwd: options.cwd, configDir })
      : await loadSource(job.source_connector, options.cwd, { file: loaded.file, path: 'source_connector' });
  // A writer plugin is loaded up front too, so a job with an unusable one fails before reading anything.
  const writerPlugin = writerRef !== undefined ? await loadPlugin('target', writerRef, pluginWhere('target', 'custom_writer'), { cwd: options.cwd, configDir }) : undefined;
  const assetValue = loaded.asset.value;
  const context: V1JobContext = {
    tenant: job.tenant_id,
    asset: { name: assetValue.name, domain: assetValue.domain, dataProduct: assetValue.dataProduct, columns: loaded.fields.map((f) => f.name) },
    env: options.env,
    sourceConnector: job.source_connector,
    streams: [],
  };

  // The source's reading of the job.
  const fromSource = source.pkg.v1?.source ? inJobFile(loaded.file, () => source.pkg.v1?.source?.({ source: loaded.sourceInput, target: loaded.targetInput }, context)) : undefined;
  notes.push(...(fromSource?.notes ?? []));
  const sourceInput = fromSource?.config ?? (readerRef !== undefined ? pluginSection(loaded.sourceInput, 'custom_reader') : loaded.sourceInput);
  let targetName = fromSource?.target?.connector ?? job.target_connector;
  let targetSection = fromSource?.target?.section ?? without(loaded.targetInput, fromSource?.consumesTarget ?? []);

  const warnings = [...loaded.warnings];
  const where = { file: loaded.file, lineOf: loaded.jobLineOf };
  const sourceConfig = validateConfig(source.connector.configSchema, sourceInput, { ...where, prefix: ['source'] });
  warnings.push(...sourceConfig.warnings);

  const asset = { name: assetValue.name, schema: loaded.fields };
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
  context.streams = streams.map((s) => s.name);

  // Transforms the target asks for (rows of any source rendered as documents…).
  let transform: (() => Promise<BatchTransform>) | undefined;
  let written: FieldSpec[] | undefined = descriptors.length === 1 && descriptors[0]?.schemaOwner === 'connector' ? descriptors[0].schema : undefined;
  if (!source.connector.outputStreams) {
    for (const name of BUILT_IN_TRANSFORMS) {
      const provider = await loadDefinition(name, options.cwd);
      const section = targetSection;
      const asked = provider.v1?.transform ? inJobFile(loaded.file, () => provider.v1?.transform?.(section, context)) : undefined;
      if (!asked) continue;
      transform = asked.create;
      written = asked.output;
      targetSection = without(targetSection, asked.consumesTarget);
      notes.push(...(asked.notes ?? []));
    }
  }
  // v1's jobs that render rows describe the rendered output in their asset (doc_id, content…):
  // the rows themselves are then the source's own columns.
  const output = written;
  if (transform && output && asset.schema.every((f) => f.name === 'ingest_date' || output.some((w) => w.name === f.name))) {
    for (const stream of streams) stream.schema = [];
    notes.push('the asset describes the rendered output, so every column of the source is rendered');
  }
  // A connector that fixes its output columns (a storage mode) says so when the asset
  // declares others; with a transform, an asset that is not the output describes the input rows.
  if (output && !transform) {
    const differs = columnDifference(asset.schema.map((f) => f.name), output.map((f) => f.name));
    if (differs) {
      warnings.push({ file: loaded.asset.file, path: 'schema', message: `the asset declares ${differs}; the output has the columns ${output.map((f) => f.name).join(', ')} (fixed by the connector's storage mode), so the asset's schema is not used for them` });
    }
  }

  // The sink's reading of the target, following a hand-over to another sink (at most a few).
  let sink = writerPlugin ?? (await loadSink(targetName, options.cwd, { file: loaded.file, path: 'target_connector' }));
  if (writerPlugin) targetSection = pluginSection(targetSection, 'custom_writer');
  for (let hops = 0; !writerPlugin && sink.pkg.v1?.target; hops++) {
    const section = targetSection;
    const read = inJobFile(loaded.file, () => sink.pkg.v1?.target?.(section, context));
    if (!read) break;
    notes.push(...(read.notes ?? []));
    targetSection = read.config;
    if (!read.connector || read.connector === targetName) break;
    if (hops >= 3) throw new ConfigError(`target: sinks keep handing the target on (${job.target_connector} → … → ${read.connector})`, { file: loaded.file, path: 'target_connector' });
    targetName = read.connector;
    sink = await loadSink(targetName, options.cwd, { file: loaded.file, path: 'target_connector' });
  }
  const sinkConfig = validateConfig(sink.connector.configSchema, targetSection, { ...where, prefix: ['target'], origin: loaded.targetOrigin });
  warnings.push(...sinkConfig.warnings);

  const stateId = options.stateId ?? job.state_id;
  if (stateId && stateId !== loaded.name) notes.push(`progress is kept under state id '${stateId}' (job '${loaded.name}')`);
  return {
    file: loaded.file,
    configDir,
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
