export { describeExtractorConformance, describeSinkConformance, type ExtractorConformanceOptions, type SinkConformanceOptions } from './conformance.js';
export { testRunContext, type TestRunContext } from './context.js';
export { startS3Server, type TestS3Server } from './s3.js';
export { queryDuckDb, sqlString, type DuckRow } from './duckdb.js';
export { tempDir } from './temp.js';
export { icebergDataFiles, readIcebergTable, type IcebergDataFileEntry, type IcebergReadOptions } from './iceberg.js';
export { startRestCatalog, type RestCatalogServer, type RestCatalogServerOptions } from './rest-catalog.js';
export { tempPostgresDatabase, type TempDatabase } from './postgres.js';
export { tempMysqlDatabase, type TempMysqlDatabase } from './mysql.js';
