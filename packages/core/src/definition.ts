// `@dativo/core/definition`: the part of core that loads no runtime (no Arrow, no resilience
// libraries): contracts, errors, configuration loading and validation, logs and secrets. A
// connector's definition module (`<package>/connector`) imports only from here, so that loading
// it — to validate a job or print help — is fast; its runtime is imported when a job runs.
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
export { AbortedError, ConfigError, ConfigErrors, DativoError, throwIfAborted, toDativoError, type DativoErrorOptions, type ErrorKind } from './errors.js';
export { DEFAULT_DECIMAL, formatDataType, makeDecimal, parseDataType, TYPE_NAMES, TypeParseError, type DataType, type FieldSpec } from './schema/types.js';
export { substituteEnv, formatPath } from './config/env.js';
export { displayPath, parseYamlText, readYamlFile, type YamlFile } from './config/yaml.js';
export { formatWarning, unknownKeys, validateConfig, type ConfigWarning, type Located } from './config/issues.js';
export { boolLike, intLike, numberLike, oneOrMany, positiveIntLike } from './config/coerce.js';
export { jobSchema, type JobConfig } from './config/job.js';
export { assetFields, assetPrimaryKey, assetSchema, checkGovernance, type AssetConfig, type AssetFieldInput } from './config/asset.js';
export { recipeSchema, type RecipeConfig } from './config/recipe.js';
export { deepMerge, isPlainObject } from './config/merge.js';
export { loadAsset, loadJob, loadRecipe, recipeDefaults, resolveRelated, type LoadedFile, type LoadedJob, type LoadOptions } from './config/load.js';
export { JsonLogger, MemoryLogSink, parseLogLevel, silentLogger, type JsonLoggerOptions, type LogFields, type Logger, type LogLevel, type LogSink } from './log/logger.js';
export { Redactor, REDACTED, SECRET_KEY_PATTERN } from './log/redact.js';
export { ChainSecretResolver, EnvSecretResolver, FileSecretResolver, type SecretResolver } from './secrets.js';
export { inputBaseDirs, resolveInputPath } from './paths.js';
export { comparePosition, listInputFiles, type FilePosition, type InputFile } from './files/local-files.js';
