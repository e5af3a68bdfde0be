// `@dativo/parquet-kit/definition`: what a file sink's definition needs without the runtime
// (no Arrow, no AWS SDK): location settings, v1's ways of naming them, and warming up the encoding thread.
export { expandLocation, hasLocation, locationShape, NO_LOCATION, s3ConnectionSchema, type LocationConfig, type S3Connection } from './location.js';
export { PARQUET_ENCODINGS, type ParquetEncoding } from './encodings.js';
export { v1LocationTarget, v1S3Connection, v1TableName, v1TablePrefix, type V1S3Connection } from './v1-s3.js';
export { hasSpareEncoderThread, warmEncoderThread } from './encoder-thread.js';
