import { createReadStream } from 'node:fs';
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { DativoError } from '@dativo/core';

const READ_CHUNK = 1 << 20;

export interface InputOptions {
  encoding: string;
  compression: 'auto' | 'gzip' | 'none';
  /** Byte offset to start at; only for uncompressed UTF-8 files. */
  offset?: number;
  signal?: AbortSignal;
  /**
   * The file's size when the run listed it: reading ends short of it only when the file shrank
   * (rewritten, truncated) meanwhile, which fails the read instead of delivering a part silently.
   */
  size?: number;
  /** The file as shown in messages. */
  shown?: string;
}

/** True when byte offsets in the file equal offsets in the parsed UTF-8 text, so resume can seek. */
export function isSeekable(file: string, options: Pick<InputOptions, 'encoding' | 'compression'>): boolean {
  return options.encoding === 'utf-8' && !isGzip(file, options.compression);
}

export function isGzip(file: string, compression: InputOptions['compression']): boolean {
  return compression === 'gzip' || (compression === 'auto' && /\.gz$/i.test(file));
}

/** Checks an encoding label before any file is opened, so a typo is a configuration error. */
export function checkEncoding(encoding: string): void {
  try {
    new TextDecoder(encoding);
  } catch {
    throw new DativoError(`unsupported encoding '${encoding}'; use utf-8, utf-16-le, utf-16-be, latin1, windows-1252 or another WHATWG encoding label`, {
      kind: 'config',
      code: 'CSV_ENCODING',
    });
  }
}

/**
 * Reads a file as UTF-8 byte chunks: gunzips `.gz`, transcodes other encodings and drops a
 * leading byte order mark. Memory stays at a few chunks whatever the file size.
 */
export async function* openUtf8Chunks(file: string, options: InputOptions): AsyncGenerator<Buffer> {
  const seekable = isSeekable(file, options);
  const start = seekable && options.offset ? options.offset : 0;
  const raw = createReadStream(file, { highWaterMark: READ_CHUNK, start, ...(options.signal ? { signal: options.signal } : {}) });
  let read = start;
  const counted = async function* (): AsyncGenerator<Buffer> {
    for await (const chunk of raw as AsyncIterable<Buffer>) {
      read += chunk.length;
      yield chunk;
    }
    if (options.size !== undefined && read < options.size && !options.signal?.aborted) {
      throw new DativoError(
        `${options.shown ?? file}: the file ended after ${read} bytes but was ${options.size} bytes when the run listed it: it shrank during the run (rewritten or truncated), so its rows cannot be trusted to be complete; rerun to read its new version`,
        { kind: 'permanent', code: 'FILE_CHANGED', details: { file: options.shown ?? file, listedBytes: options.size, readBytes: read } },
      );
    }
  };
  // pipeline(), not pipe(): a read error (or the size check above) must reach the gunzip stream
  // being iterated, or the iteration would wait for an end that never comes.
  const source: AsyncIterable<Buffer> = isGzip(file, options.compression) ? pipeline(Readable.from(counted()), createGunzip({ chunkSize: 256 * 1024 }), () => undefined) : counted();
  yield* utf8Chunks(source, options.encoding, start === 0);
}

/**
 * Bytes in `encoding` as UTF-8 byte chunks (transcoded unless already UTF-8), without a leading
 * byte order mark when `atStart`: files, downloads and exports all go through it.
 */
export async function* utf8Chunks(source: AsyncIterable<Buffer>, encoding: string, atStart: boolean): AsyncGenerator<Buffer> {
  let first = atStart;
  if (encoding === 'utf-8') {
    for await (const chunk of source) {
      if (first) {
        first = false;
        if (chunk.length >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) {
          yield chunk.subarray(3);
          continue;
        }
      }
      yield chunk;
    }
    return;
  }
  const decoder = new TextDecoder(encoding, { fatal: false });
  for await (const chunk of source) {
    let text = decoder.decode(chunk, { stream: true });
    if (first && text.length > 0) {
      first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (text.length > 0) yield Buffer.from(text, 'utf8');
  }
  const rest = decoder.decode();
  if (rest.length > 0) yield Buffer.from(rest, 'utf8');
}
