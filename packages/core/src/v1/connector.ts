import type { RunContext } from './context.js';
import type { Extractor } from './extractor.js';
import type { Sink } from './sink.js';
import type { BatchTransform } from './transform.js';
import type { FieldSpec } from '../schema/types.js';

/** What a connector's v1 hooks know about the job whose sections they read. */
export interface V1JobContext {
  tenant: string;
  /** The asset the job writes: v1 derives default output locations from it. */
  asset: { name: string; domain?: string | undefined; dataProduct?: string | undefined; columns: string[] };
  /**
   * The environment v1's fallbacks read (`S3_BUCKET`, `S3_ENDPOINT`, `MINIO_*`, …): the process
   * environment plus file secrets.
   */
  env: NodeJS.ProcessEnv;
  /** The source connector the job names (`csv`, `postgres`, a package name…). */
  sourceConnector: string;
  /** Streams the job writes (known to target hooks): several need several locations. */
  streams: string[];
}

/** A source's reading of a v1 job. */
export interface V1SourceResult {
  /** The input for the source's config schema. */
  config: Record<string, unknown>;
  /** Keys of the job's `target:` section that are the source's business; the sink does not see them. */
  consumesTarget?: string[];
  /** The sink the job needs instead of the one it names, with its section (Markdown-KV raw files). */
  target?: { connector: string; section: Record<string, unknown> };
  notes?: string[];
}

/** A sink's reading of a v1 `target:` section. */
export interface V1TargetResult {
  /** The input for the sink's config schema. */
  config: Record<string, unknown>;
  /** Another sink serves this target, with `config` as its section (v1: iceberg without a catalog is plain Parquet). */
  connector?: string;
  notes?: string[];
}

/** Rows of any source reshaped, because a v1 `target:` section asks for it. */
export interface V1TransformResult {
  /** The `target:` keys that asked for it; the sink does not see them. */
  consumesTarget: string[];
  /** The columns the sink receives. */
  output: FieldSpec[];
  /** Loads the transform (its runtime) when the job runs. */
  create(): Promise<BatchTransform>;
  notes?: string[];
}

/** A command a connector adds to the CLI: `dativo <connector id> <name> --config job.yaml`. */
export interface ConnectorCommand {
  name: string;
  description: string;
  /** Commander-style flags: `--older-than <duration>`. */
  options?: Array<{ flags: string; description: string }>;
  /** Runs on the job's validated config for this connector (its target or source). */
  run(input: { config: unknown; streams: string[]; options: Record<string, string | undefined>; ctx: RunContext }): Promise<{ lines: string[]; result: unknown }>;
}

/**
 * What a connector package exports as `dativoConnector`, so the CLI can load it by name
 * (`source_connector: csv` → a built-in, or any npm package name). Third-party packages export the
 * same shape.
 */
export interface ConnectorPackage {
  readonly specificationVersion: 'v1';
  /** The names jobs use for it (`csv`, `markdown_kv`…); a package name works too. */
  readonly ids: readonly string[];
  readonly source?: () => Extractor<unknown>;
  readonly sink?: () => Sink<unknown>;
  /**
   * Optional: called by the CLI as soon as it knows a job will run with this connector, before the
   * job's modules load: start what the run will need and takes long to boot (a thread, compiled
   * WebAssembly), so it boots on another core meanwhile. Must be quick, must not throw, and must not
   * keep the process alive on its own (the run may still fail validation, or not use it).
   */
  readonly warmUp?: (role: 'source' | 'target') => void;
  /**
   * Optional: how the connector reads v1 job files — their key shapes, environment fallbacks and
   * default locations. Without hooks, `source:` and `target:` are validated as they are.
   */
  readonly v1?: {
    source?(job: { source: Record<string, unknown>; target: Record<string, unknown> }, context: V1JobContext): V1SourceResult;
    target?(section: Record<string, unknown>, context: V1JobContext): V1TargetResult;
    /** A reshaping of any source's rows that a `target:` section may ask for; undefined when it does not. */
    transform?(section: Record<string, unknown>, context: V1JobContext): V1TransformResult | undefined;
  };
  /** Commands the connector adds to the CLI (table maintenance…). */
  readonly commands?: readonly ConnectorCommand[];
}

/** Declares a connector package's export (type helper). */
export function defineConnector(pkg: ConnectorPackage): ConnectorPackage {
  return pkg;
}
