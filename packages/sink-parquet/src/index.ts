import { defineConnector } from '@dativo/core';
import { parquetSink } from './sink.js';
import { parquetV1Target } from './v1.js';

export { parquetSink, storageFor } from './sink.js';
export { parquetSinkConfigSchema, s3ConnectionSchema, COMPRESSIONS, type ParquetSinkConfig, type S3Connection } from './config.js';
export { ParquetSinkWriter } from './writer.js';
export { RawFileWriter, type RawFileOptions } from './raw-writer.js';
export { CommitLog, COMMITS_DIR, STAGING_DIR, type CommitRecord, type CommittedFile } from './commit-log.js';
export { ParquetEncoder, EncodedFile, type ColumnStats, type EncoderProps, type StatsRequest } from './encoder.js';
export { LocalStorage } from './storage/local.js';
export { S3Storage } from './storage/s3.js';
export type { Storage, StorageUpload } from './storage/storage.js';
export { VERSION } from './version.js';
export { parquetV1Target, v1S3Connection, v1TableName, v1TablePrefix, type V1S3Connection } from './v1.js';


/** Loaded by the CLI for `target_connector: parquet | s3 | minio | local`. */
export const dativoConnector = defineConnector({ specificationVersion: 'v1', ids: ['parquet', 's3', 'minio', 'local', 'file'], sink: parquetSink, v1Target: parquetV1Target });
