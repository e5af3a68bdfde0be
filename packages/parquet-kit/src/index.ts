export * from './definition.js';
export { checkLocation, openStorage } from './open-storage.js';
export type { Storage, StorageUpload } from './storage/storage.js';
export { LocalStorage } from './storage/local.js';
export { S3Storage } from './storage/s3.js';
export { CommitLog, COMMITS_DIR, STAGING_DIR, type CommitRecord, type CommittedFile } from './commit-log.js';
export { ParquetEncoder, EncodedFile, type ColumnStats, type EncoderProps, type StatsRequest } from './encoder.js';
