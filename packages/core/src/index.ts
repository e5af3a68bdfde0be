// Contracts
export type { RunContext } from './spec/context.js';
export type { ConnectorSpec, Extractor } from './spec/extractor.js';
export { defineConnector, type ConnectorPackage, type V1SectionContext, type V1SectionResult } from './spec/connector.js';
export { lazyExtractor, lazySink, type ExtractorHead } from './spec/lazy.js';
export type { CommitResult, Sink, SinkWriter } from './spec/sink.js';
export type {
  BatchMessage,
  Checkpoint,
  CheckpointMessage,
  ConfiguredStream,
  ExtractMessage,
  JsonValue,
  ReadRequest,
  RejectedMessage,
  StartMessage,
  StreamDescriptor,
  SyncMode,
  WarningMessage,
} from './spec/messages.js';

// Errors
export { AbortedError, ConfigError, ConfigErrors, DativoError, throwIfAborted, toDativoError, type DativoErrorOptions, type ErrorKind } from './errors.js';
export { classifyError, kindForHttpStatus, parseRetryAfter, type ClassifierOverrides, type ClassifyOptions } from './classify.js';

// Resilience
export { backoffDelay, defaultRetryPolicy, retryDelay, withRetry, type RetryAttemptInfo, type RetryOptions, type RetryPolicy } from './resilience/retry.js';
export { Breaker, defaultBreakerPolicy, type BreakerPolicy, type BreakerState } from './resilience/breaker.js';
export { RateLimiter, type RateLimitPolicy } from './resilience/limiter.js';
export { abortableSleep } from './resilience/sleep.js';

// Schema and batches
export { DEFAULT_DECIMAL, formatDataType, makeDecimal, parseDataType, TYPE_NAMES, TypeParseError, type DataType, type FieldSpec } from './schema/types.js';
export { FIELD_META_CLASSIFICATION, FIELD_META_TYPE, toArrowField, toArrowSchema } from './schema/arrow.js';
export { BatchBuilder, buffersOwned, defaultBatchLimits, markBuffersOwned, type BatchLimits, type RowProblem } from './batch/batch-builder.js';
export { appendTextFast, BuilderCode, ColumnBuilder, createColumnBuilder, jsonReplacer, type BinaryBuilder, type DateBuilder, type DecimalBuilder, type Int64PairBuilder, type StringBuilder } from './batch/builders/index.js';
export * as textParse from './batch/text-parse.js';
export { formatDate, formatDecimal, formatTimeMicros, formatTimestampMicros, readRows, readValue, type PlainValue } from './batch/read-rows.js';

// Config
export { substituteEnv, formatPath } from './config/env.js';
export { displayPath, parseYamlText, readYamlFile, type YamlFile } from './config/yaml.js';
export { formatWarning, unknownKeys, validateConfig, type ConfigWarning, type Located } from './config/issues.js';
export { boolLike, intLike, numberLike, oneOrMany, positiveIntLike } from './config/coerce.js';
export { jobSchema, type JobConfig } from './config/job.js';
export { assetFields, assetPrimaryKey, assetSchema, checkGovernance, type AssetConfig, type AssetFieldInput } from './config/asset.js';
export { recipeSchema, type RecipeConfig } from './config/recipe.js';
export { deepMerge, isPlainObject } from './config/merge.js';
export { loadAsset, loadJob, loadRecipe, recipeDefaults, resolveRelated, type LoadedFile, type LoadedJob, type LoadOptions } from './config/load.js';

// State, dead letters, logs, metrics, secrets
export { MemoryStateStore, stateKeyOf, type StateKey, type StateStore, type StoredState } from './state/state-store.js';
export { LocalFileStateStore, safeSegment } from './state/local-file.js';
export { MemoryDeadLetterQueue, type DeadLetterEntry, type DeadLetterQueue } from './dlq/dlq.js';
export { JsonlDeadLetterQueue, listDeadLetterFiles, readDeadLetterFile, type DeadLetterFile } from './dlq/jsonl.js';
export { JsonLogger, MemoryLogSink, parseLogLevel, silentLogger, type JsonLoggerOptions, type LogFields, type Logger, type LogLevel, type LogSink } from './log/logger.js';
export { Redactor, REDACTED, SECRET_KEY_PATTERN } from './log/redact.js';
export { MetricsRegistry, type Labels, type Metrics } from './metrics.js';
export { ChainSecretResolver, EnvSecretResolver, FileSecretResolver, type SecretResolver } from './secrets.js';
export { ensureDir, fsyncDir, readdirSorted, writeFileAtomic } from './fs-util.js';

// Pipeline
export { batchBytes, runPipeline, type BatchTransform, type PipelineOptions, type RunProgress, type RunResult, type StreamResult } from './pipeline/runner.js';
export { CommitTracker, defaultCommitPolicy, type CommitPolicy } from './pipeline/commit-policy.js';
export { createRunContext, newRunId, type RunContextOptions } from './pipeline/context.js';
export { inputBaseDirs, resolveInputPath } from './paths.js';
export { comparePosition, listInputFiles, type FilePosition, type InputFile } from './files/local-files.js';
export { takeData, takeRows } from './batch/take.js';
export { parseJsonLossless, stringifyJsonLossless, toBigInt } from './json.js';
export { crashPoint } from './crash-points.js';
