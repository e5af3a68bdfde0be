/**
 * How a file sink encodes columns that get no dictionary:
 * - `auto`: DELTA_BYTE_ARRAY for strings, DELTA_BINARY_PACKED for integers, dates, times and
 *   timestamps (Parquet 2 encodings: smaller files and less data for the codec, so faster writes);
 * - `plain`: PLAIN, for readers that predate those encodings.
 * Dictionary encoding of string columns is decided per column either way (see EncoderProps).
 */
export const PARQUET_ENCODINGS = ['auto', 'plain'] as const;

export type ParquetEncoding = (typeof PARQUET_ENCODINGS)[number];
