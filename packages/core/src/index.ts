// Everything of `@dativo/core/definition` (contracts, errors, configuration, logs, secrets: the
// part that loads no runtime), and the runtime: batches, resilience, state, dead letters, pipeline.
export * from './definition.js';

// Errors
export { classifyError, kindForHttpStatus, parseRetryAfter, type ClassifierOverrides, type ClassifyOptions } from './classify.js';

// Resilience
export { backoffDelay, defaultRetryPolicy, retryDelay, withRetry, type RetryAttemptInfo, type RetryOptions, type RetryPolicy } from './resilience/retry.js';
export { Breaker, defaultBreakerPolicy, type BreakerPolicy, type BreakerState } from './resilience/breaker.js';
export { RateLimiter, type RateLimitPolicy } from './resilience/limiter.js';
export { abortableSleep } from './resilience/sleep.js';
export { mergeResilience, ResilienceService } from './resilience/service.js';

// Schema and batches
export { FIELD_META_CLASSIFICATION, FIELD_META_TYPE, toArrowField, toArrowSchema } from './schema/arrow.js';
export { BatchBuilder, buffersOwned, defaultBatchLimits, markBuffersOwned, type BatchLimits, type RowProblem } from './batch/batch-builder.js';
export { clearBufferPool, MAX_POOLED_BYTES, pooledBufferBytes, recycleBatchBuffers, zeroedBuffer } from './batch/buffer-pool.js';
export { appendTextFast, BuilderCode, ColumnBuilder, createColumnBuilder, jsonReplacer, type BinaryBuilder, type DateBuilder, type DecimalBuilder, type Int64PairBuilder, type StringBuilder } from './batch/builders/index.js';
export * as textParse from './batch/text-parse.js';
export { formatDate, formatDecimal, formatTimeMicros, formatTimestampMicros, readRows, readValue, type PlainValue } from './batch/read-rows.js';
export { takeData, takeRows } from './batch/take.js';

// State, dead letters, metrics, files
export { MemoryStateStore, STATE_HISTORY_RUNS, stateKeyOf, type StateKey, type StatePutOptions, type StateStore, type StoredState } from './state/state-store.js';
export { LocalFileStateStore, safeSegment } from './state/local-file.js';
export { MemoryDeadLetterQueue, RefusingDeadLetterQueue, type DeadLetterEntry, type DeadLetterQueue } from './dlq/dlq.js';
export { deadLetterLine, dlqDay, JsonlDeadLetterQueue, listDeadLetterFiles, pruneDeadLetters, readDeadLetterFile, type DeadLetterFile } from './dlq/jsonl.js';
export { endpointTemplate, METRIC_CATALOG, METRIC_LABELS, MetricsRegistry, MetricsStore, noMetrics, type Labels, type MetricName, type Metrics } from './metrics.js';
export { RUN_ID_HEADER, tracer, TRACER_NAME } from './tracing.js';
export { ensureDir, fsyncDir, readdirSorted, writeFileAtomic } from './fs-util.js';

// Pipeline
export { batchBytes, runPipeline, ZERO_RECORDS_FLAG_MIN_AVERAGE, type PipelineOptions, type RunCost, type RunProgress, type RunResult, type StreamProgress, type StreamAnomaly, type StreamResult } from './pipeline/runner.js';
export { CommitTracker, defaultCommitPolicy, type CommitPolicy } from './pipeline/commit-policy.js';
export { createRunContext, newRunId, type RunContextOptions } from './pipeline/context.js';
