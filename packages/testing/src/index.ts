// `@dativo/testing`: what every connector's tests need, with no database drivers or servers.
// Those are in subpaths, each needing only its own optional peer dependencies:
//   @dativo/testing/duckdb   queryDuckDb, sqlString            (@duckdb/node-api)
//   @dativo/testing/s3       startS3Server                     (s3rver)
//   @dativo/testing/sql      temporary PostgreSQL / MySQL databases, TLS front doors (pg, mysql2)
//   @dativo/testing/iceberg  readIcebergTable, startRestCatalog (icebird, lossless-json, ajv, yaml)
//   @dativo/testing/http     startHttpServer: a fake HTTP API  (nothing)
export { describeExtractorConformance, describeSinkConformance, type ExtractorConformanceOptions, type SinkConformanceOptions } from './conformance.js';
export { testRunContext, type TestRunContext } from './context.js';
export { tempDir } from './temp.js';
export { AUDIT_ENV, auditDir, flushAuditedLogs, keepForAudit, recordOutput, recordPrivateKey, recordSecret, recordSecretEnv, scanAudit, type AuditFinding, type AuditReport } from './audit.js';
export { expectRowsEqual } from './compare.js';
export { crashResumeHarness, seededRandom, type CrashHarnessOptions, type HarnessIteration, type HarnessRun } from './crash-harness.js';
export { RELIABILITY_ENV, reliabilityRow, type ReliabilityRow } from './reliability.js';
