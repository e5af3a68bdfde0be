// `@dativo/core/definition`: the part of core that loads no runtime (no Arrow, no resilience
// libraries): contracts, errors, config-schema helpers, logs and secrets. A
// connector's definition module (`<package>/connector`) imports only from here, so that loading
// it — to validate a job or print help — is fast; its runtime is imported when a job runs.
export type { RunContext } from './v1/context.js';
export type { BatchLimits } from './batch/batch-builder.js';
export type { ResilienceService, ResilienceSettings } from './resilience/service.js';
export type { ConnectorSpec, Extractor } from './v1/extractor.js';
export { defineConnector, type ConnectorCommand, type ConnectorPackage, type V1JobContext, type V1SourceResult, type V1TargetResult, type V1TransformResult } from './v1/connector.js';
export type { BatchTransform } from './v1/transform.js';
export { lazyExtractor, lazySink, type ExtractorHead } from './v1/lazy.js';
export { parseCheckpointState } from './v1/checkpoint.js';
export type { CommitResult, Sink, SinkWriter } from './v1/sink.js';
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
  StatusMessage,
  StreamDescriptor,
  SyncMode,
  TotalMessage,
  WarningMessage,
} from './v1/messages.js';
export { AbortedError, ConfigError, ConfigErrors, DativoError, throwIfAborted, toDativoError, type DativoErrorOptions, type ErrorKind } from './errors.js';
export { DEFAULT_DECIMAL, formatDataType, HIDDEN_VALUE, isSensitiveField, makeDecimal, parseDataType, TYPE_NAMES, TypeParseError, type DataType, type FieldSpec } from './schema/types.js';
export { boolLike, intLike, numberLike, oneOrMany, positiveIntLike } from './config/coerce.js';
export { deepMerge, isPlainObject } from './config/merge.js';
export { JsonLogger, MemoryLogSink, parseLogLevel, silentLogger, type JsonLoggerOptions, type LogFields, type Logger, type LogLevel, type LogSink } from './log/logger.js';
export { Redactor, REDACTED, SECRET_KEY_PATTERN } from './log/redact.js';
export { ChainSecretResolver, EnvSecretResolver, FileSecretResolver, storeSecret, type SecretResolver } from './secrets.js';
export { displayPath, inputBaseDirs, resolveInputPath } from './paths.js';
export { comparePosition, listInputFiles, type FilePosition, type InputFile } from './files/local-files.js';
