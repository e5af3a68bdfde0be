import { Redactor } from './redact.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger whose lines carry `fields` too (stream, connector…). */
  child(fields: LogFields): Logger;
}

export interface LogSink {
  write(line: string): void;
}

export interface JsonLoggerOptions {
  level?: LogLevel;
  /** Where lines go; default stderr (stdout stays free for `--json` output). */
  sink?: LogSink;
  /** Fields on every line: runId (correlation id), tenant, job. */
  fields?: LogFields;
  redactor?: Redactor;
  now?: () => Date;
}

/** v1 spells levels in capitals (`INFO`). */
export function parseLogLevel(value: string | undefined, fallback: LogLevel = 'info'): LogLevel {
  const v = value?.toLowerCase();
  if (v === 'warning') return 'warn';
  if (v === 'critical' || v === 'fatal') return 'error';
  return v && v in ORDER ? (v as LogLevel) : fallback;
}

/** One JSON object per line: time, level, msg, run id and fields, with secrets redacted. */
export class JsonLogger implements Logger {
  private readonly level: number;
  private readonly sink: LogSink;
  private readonly fields: LogFields;
  readonly redactor: Redactor;
  private readonly now: () => Date;

  constructor(options: JsonLoggerOptions = {}) {
    this.level = ORDER[options.level ?? 'info'];
    this.sink = options.sink ?? { write: (line) => process.stderr.write(line) };
    this.fields = options.fields ?? {};
    this.redactor = options.redactor ?? new Redactor();
    this.now = options.now ?? (() => new Date());
  }

  private emit(level: LogLevel, message: string, fields?: LogFields): void {
    if (ORDER[level] < this.level) return;
    const record = { time: this.now().toISOString(), level, msg: message, ...this.fields, ...fields };
    // Always redacted: v1's `logging.redaction: false` is accepted but cannot turn this off.
    const safe = this.redactor.redact(record);
    this.sink.write(`${JSON.stringify(safe, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}\n`);
  }

  debug(message: string, fields?: LogFields): void {
    this.emit('debug', message, fields);
  }
  info(message: string, fields?: LogFields): void {
    this.emit('info', message, fields);
  }
  warn(message: string, fields?: LogFields): void {
    this.emit('warn', message, fields);
  }
  error(message: string, fields?: LogFields): void {
    this.emit('error', message, fields);
  }

  child(fields: LogFields): Logger {
    return new JsonLogger({
      level: (Object.keys(ORDER) as LogLevel[]).find((l) => ORDER[l] === this.level) ?? 'info',
      sink: this.sink,
      fields: { ...this.fields, ...fields },
      redactor: this.redactor,
      now: this.now,
    });
  }
}

/** Drops everything. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};

/** Keeps lines in memory (tests, `--json` summaries). */
export class MemoryLogSink implements LogSink {
  readonly lines: string[] = [];
  write(line: string): void {
    this.lines.push(line);
  }
  records(): Array<Record<string, unknown>> {
    return this.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}
