import { pino, type Logger as PinoLogger } from 'pino';
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
  /** `json` (default): one JSON object per line; `text`: a readable line for terminals. */
  format?: 'json' | 'text';
  now?: () => Date;
}

/** v1 spells levels in capitals (`INFO`). */
export function parseLogLevel(value: string | undefined, fallback: LogLevel = 'info'): LogLevel {
  const v = value?.toLowerCase();
  if (v === 'warning') return 'warn';
  if (v === 'critical' || v === 'fatal') return 'error';
  return v && v in ORDER ? (v as LogLevel) : fallback;
}

/**
 * One JSON object per line: level, time, run id and fields, msg, with secrets redacted. JSON lines
 * are written by pino (docs/adr/0005-logger.md); `text` lines, for terminals, by a small formatter.
 * Every record passes through the {@link Redactor}: secret values are masked wherever they appear
 * (message, fields, bound fields) and secret-named keys are masked.
 */
export class JsonLogger implements Logger {
  private readonly levelName: LogLevel;
  private readonly format: 'json' | 'text';
  private readonly level: number;
  private readonly sink: LogSink;
  private readonly fields: LogFields;
  readonly redactor: Redactor;
  private readonly now: () => Date;
  private readonly pino: PinoLogger | undefined;

  constructor(options: JsonLoggerOptions = {}, parent?: PinoLogger) {
    this.levelName = options.level ?? 'info';
    this.format = options.format ?? 'json';
    this.level = ORDER[this.levelName];
    this.sink = options.sink ?? { write: (line) => process.stderr.write(line) };
    this.fields = options.fields ?? {};
    this.redactor = options.redactor ?? new Redactor();
    this.now = options.now ?? (() => new Date());
    if (this.format === 'json') this.pino = parent ?? this.makePino();
  }

  private makePino(): PinoLogger {
    const redactor = this.redactor;
    const now = this.now;
    const sink = this.sink;
    return pino(
      {
        level: this.levelName,
        base: null,
        messageKey: 'msg',
        timestamp: () => `,"time":"${now().toISOString()}"`,
        formatters: {
          level: (label) => ({ level: label }),
          // Always redacted: v1's `logging.redaction: false` is accepted but cannot turn this off.
          bindings: (bindings) => redactor.redact(bindings),
          log: (record) => redactor.redact(record),
        },
        hooks: {
          logMethod(args, method) {
            const [fields, message] = args as unknown as [LogFields, string];
            method.call(this, fields, redactor.redactText(message));
          },
        },
      },
      { write: (line: string) => sink.write(line) },
    ).child(this.fields);
  }

  private emit(level: LogLevel, message: string, fields?: LogFields): void {
    if (ORDER[level] < this.level) return;
    if (this.pino) {
      this.pino[level](fields ?? {}, message);
      return;
    }
    const record = { time: this.now().toISOString(), level, msg: message, ...this.fields, ...fields };
    this.sink.write(textLine(this.redactor.redact(record)));
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
    return new JsonLogger(
      {
        level: this.levelName,
        sink: this.sink,
        fields: { ...this.fields, ...fields },
        redactor: this.redactor,
        format: this.format,
        now: this.now,
      },
      this.pino?.child(fields),
    );
  }
}

const TEXT_SKIP = new Set(['time', 'level', 'msg', 'runId', 'tenant', 'job']);

/** `07:35:12 warn  message  key=value …` (run id, tenant and job are left to the summary). */
function textLine(record: Record<string, unknown>): string {
  const time = typeof record.time === 'string' ? record.time.slice(11, 19) : '';
  const extra = Object.entries(record)
    .filter(([k]) => !TEXT_SKIP.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' || typeof v === 'bigint' ? String(v) : JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x))}`)
    .join(' ');
  return `${time} ${String(record.level).padEnd(5)} ${String(record.msg)}${extra ? `  ${extra}` : ''}\n`;
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
