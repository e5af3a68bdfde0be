/** A file being written to storage. */
export interface StorageUpload {
  write(chunk: Uint8Array): Promise<void>;
  /** Makes the file complete and durable; returns its size. */
  finish(): Promise<number>;
  abort(): Promise<void>;
}

/**
 * Where Parquet files and commit records live: a local directory or an S3 prefix. Keys are
 * relative to the table root and use `/`.
 */
export interface Storage {
  /** The root for messages: `/data/out/orders` or `s3://bucket/prefix`. */
  readonly location: string;
  /** Connectivity and permissions; throws a DativoError naming the endpoint. */
  check(): Promise<void>;
  create(key: string): Promise<StorageUpload>;
  /** Moves a file into place; a no-op when it already moved (for roll-forward). */
  move(from: string, to: string): Promise<void>;
  exists(key: string): Promise<boolean>;
  /** Keys under a prefix (recursive). */
  list(prefix: string): Promise<string[]>;
  delete(key: string): Promise<void>;
  readText(key: string): Promise<string | undefined>;
  /** Replaces a small file atomically. */
  writeText(key: string, text: string): Promise<void>;
  /** Creates a small file only when it does not exist yet; false when it did. */
  createText(key: string, text: string): Promise<boolean>;
  /** A whole (small) file, or undefined when it does not exist. */
  readBytes(key: string): Promise<Uint8Array | undefined>;
  /** Replaces a small file atomically. */
  writeBytes(key: string, data: Uint8Array): Promise<void>;
  /** The file's URI: `file:///abs/path` or `s3://bucket/key`. */
  uri(key: string): string;
  close(): Promise<void>;
}
