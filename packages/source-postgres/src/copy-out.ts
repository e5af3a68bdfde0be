import type { Socket } from 'node:net';
import { EventChannel, type StreamEvent } from '@dativo/sql-kit';
import type pg from 'pg';
import type { CopyBinaryDecoder } from './binary-parser.js';

const COPY_DATA = 0x64; // 'd'
const COPY_DONE = 0x63; // 'c'
const COPY_OUT_RESPONSE = 0x48; // 'H'
/** Messages the server may interleave with COPY data: notices, parameter status, notifications. */
const ASYNC_MESSAGES = new Set([0x4e, 0x53, 0x41]);

interface PgConnection {
  stream: Socket;
  query(text: string): void;
}

/**
 * Runs `COPY … TO STDOUT` on a pg client and reads the server's CopyData messages straight from
 * the socket into the decoder: no Buffer per message, no re-chunking. Anything that is not COPY
 * output (an error, the end of the copy) is handed back to pg's own protocol parser, which then
 * reports the error or completes the query as usual. Implements pg's "submittable" contract.
 */
class CopyOutQuery {
  private connection: PgConnection | undefined;
  private pgHandler: ((chunk: Buffer) => void) | undefined;
  private readonly onData = (chunk: Buffer): void => this.consume(chunk, 0);
  /** An incomplete message at the end of a socket chunk, completed from the next one. */
  private stitch: Buffer | undefined;
  private stitchLength = 0;
  /** Input left when a flush paused reading, continued on `resume`. */
  private rest: { chunk: Buffer; at: number } | undefined;
  private copying = false;
  private detached = false;

  constructor(
    private readonly text: string,
    private readonly decoder: CopyBinaryDecoder,
    private readonly events: EventChannel,
  ) {}

  submit(connection: PgConnection): void {
    this.connection = connection;
    const stream = connection.stream;
    const listeners = stream.listeners('data') as Array<(chunk: Buffer) => void>;
    if (listeners.length !== 1) throw new Error('unexpected pg connection state: expected one data listener');
    this.pgHandler = listeners[0];
    stream.removeListener('data', this.pgHandler as (chunk: Buffer) => void);
    stream.on('data', this.onData);
    connection.query(this.text);
  }

  /** Parses socket bytes from `at`; stops early (keeping the rest) when a batch is full. */
  private consume(chunk: Buffer, at: number): void {
    let pos = at;
    if (this.stitch) {
      const header = this.stitchLength < 5;
      const want = header ? 5 : this.stitch.length;
      const take = Math.min(want - this.stitchLength, chunk.length - pos);
      chunk.copy(this.stitch, this.stitchLength, pos, pos + take);
      this.stitchLength += take;
      pos += take;
      if (this.stitchLength < want) return;
      if (header) {
        const total = 1 + this.stitch.readUInt32BE(1);
        const code = this.stitch[0] as number;
        if (code !== COPY_DATA && !ASYNC_MESSAGES.has(code) && code !== COPY_OUT_RESPONSE && code !== COPY_DONE) return this.detach(Buffer.concat([this.stitch.subarray(0, 5), chunk.subarray(pos)]));
        const full = Buffer.allocUnsafe(total);
        this.stitch.copy(full, 0, 0, 5);
        this.stitch = full;
        return this.consume(chunk, pos);
      }
      const message = this.stitch;
      this.stitch = undefined;
      this.stitchLength = 0;
      if (!this.message(message, 0, message.length)) return this.detach(chunk.subarray(pos));
      if (this.paused(chunk, pos)) return;
    }
    while (pos < chunk.length) {
      if (chunk.length - pos < 5) {
        this.startStitch(chunk, pos, 5);
        break;
      }
      const code = chunk[pos] as number;
      const total = 1 + chunk.readUInt32BE(pos + 1);
      if (code !== COPY_DATA && code !== COPY_OUT_RESPONSE && !ASYNC_MESSAGES.has(code) && code !== COPY_DONE) return this.detach(chunk.subarray(pos));
      if (pos + total > chunk.length) {
        this.startStitch(chunk, pos, total);
        break;
      }
      if (!this.message(chunk, pos, pos + total)) {
        return this.detach(chunk.subarray(pos + total));
      }
      pos += total;
      if (this.paused(chunk, pos)) return;
    }
    this.decoder.settle();
  }

  private startStitch(chunk: Buffer, pos: number, size: number): void {
    this.stitch = Buffer.allocUnsafe(Math.max(size, 5));
    chunk.copy(this.stitch, 0, pos);
    this.stitchLength = chunk.length - pos;
  }

  /** Handles one complete message; false when the copy is over (CopyDone). */
  private message(buf: Buffer, start: number, end: number): boolean {
    const code = buf[start] as number;
    if (code === COPY_DATA) {
      this.copying = true;
      this.decoder.payload(buf, start + 5, end);
      return true;
    }
    if (code === COPY_DONE) {
      this.decoder.settle();
      return false;
    }
    return true; // CopyOutResponse, notices, parameter status
  }

  /** After a full batch: pause the socket and keep the rest of the chunk for `resume`. */
  private paused(chunk: Buffer, pos: number): boolean {
    const flush = this.decoder.takeFlush();
    if (!flush) return false;
    this.connection?.stream.pause();
    this.rest = { chunk, at: pos };
    this.events.push(flush);
    return true;
  }

  /** Continues after the consumer took a flush. */
  resume(): void {
    const rest = this.rest;
    this.rest = undefined;
    if (rest && rest.at < rest.chunk.length) this.consume(rest.chunk, rest.at);
    if (!this.rest && !this.detached) this.connection?.stream.resume();
  }

  /** Gives the connection back to pg with the bytes it must parse (the end of the copy, or an error). */
  private detach(remaining: Buffer): void {
    if (this.detached) return;
    this.detached = true;
    const stream = (this.connection as PgConnection).stream;
    stream.removeListener('data', this.onData);
    stream.on('data', this.pgHandler as (chunk: Buffer) => void);
    if (remaining.length) (this.pgHandler as (chunk: Buffer) => void)(remaining);
    stream.resume();
  }

  // pg's submittable callbacks
  handleCommandComplete(): void {}
  handleReadyForQuery(): void {
    if (!this.copying && !this.detached) return;
    this.events.finish();
  }
  handleError(error: unknown): void {
    this.events.fail(error);
  }
  handleEmptyQuery(): void {}
}

/**
 * Streams `COPY (sql) TO STDOUT (FORMAT binary)` through the decoder and yields its flushes; the
 * socket is paused while a full batch waits for the consumer. On abort or early return the
 * client's connection is closed (a COPY cannot be stopped half way otherwise).
 */
export async function* copyOut(client: pg.Client, sql: string, decoder: CopyBinaryDecoder, signal: AbortSignal): AsyncGenerator<StreamEvent> {
  const channel = new EventChannel(signal);
  const query = new CopyOutQuery(`COPY (${sql}) TO STDOUT (FORMAT binary)`, decoder, channel);
  const onEnd = (): void => channel.fail(new Error('Connection terminated unexpectedly'));
  client.once('end', onEnd);
  client.query(query as unknown as pg.Submittable);
  try {
    yield* channel.drain(
      () => decoder.end(),
      () => query.resume(),
    );
  } finally {
    client.removeListener('end', onEnd);
    if (!channel.completed) await client.end().catch(() => undefined);
  }
}
