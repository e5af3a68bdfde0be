/**
 * One error family for the whole platform. Every error that crosses a package boundary is a
 * {@link DativoError} with a {@link ErrorKind}, so retry, circuit breaking, dead-lettering and exit
 * codes can be decided without string matching.
 */

export type ErrorKind =
  | 'transient'
  | 'rate_limit'
  | 'auth_expired'
  | 'validation'
  | 'permanent'
  | 'network'
  | 'config';

/** Holds the brands of an error (`DativoError`, `ConfigError`…), so any copy of a package recognises them. */
const MARKER = Symbol.for('@dativo/core/DativoError');

export interface DativoErrorOptions {
  kind: ErrorKind;
  /** Overrides the default retryability of the kind. */
  retryable?: boolean;
  statusCode?: number;
  retryAfterMs?: number;
  /** Machine-readable code, e.g. `CSV_BAD_VALUE`, pg SQLSTATE, errno. */
  code?: string;
  /** Structured context (file, field, stream, row…). Must never hold secrets. */
  details?: Record<string, unknown>;
  cause?: unknown;
}

const RETRYABLE_KINDS: ReadonlySet<ErrorKind> = new Set(['transient', 'rate_limit', 'network', 'auth_expired']);

export class DativoError extends Error {
  /** The name `isInstance` recognises; each subclass declares its own. */
  static readonly brand: string = 'DativoError';
  readonly kind: ErrorKind;
  readonly retryable: boolean;
  readonly statusCode?: number;
  readonly retryAfterMs?: number;
  readonly code?: string;
  readonly details?: Record<string, unknown>;

  constructor(message: string, options: DativoErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DativoError';
    this.kind = options.kind;
    this.retryable = options.retryable ?? RETRYABLE_KINDS.has(options.kind);
    if (options.statusCode !== undefined) this.statusCode = options.statusCode;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
    if (options.code !== undefined) this.code = options.code;
    if (options.details !== undefined) this.details = options.details;
    // The brand of every class from the one constructed up to DativoError.
    const brands = new Set<string>();
    for (let c: unknown = new.target; typeof c === 'function' && c !== Error; c = Object.getPrototypeOf(c)) {
      const brand = (c as { brand?: unknown }).brand;
      if (typeof brand === 'string') brands.add(brand);
    }
    Object.defineProperty(this, MARKER, { value: brands, enumerable: false });
  }

  /**
   * Recognises instances created by any copy of this package: `DativoError.isInstance(e)`, and for
   * a subclass, `ConfigError.isInstance(e)` (each subclass declares a static `brand`).
   */
  static isInstance<T extends DativoError>(this: { brand: string; prototype: T }, value: unknown): value is T {
    if (typeof value !== 'object' || value === null) return false;
    const brands = (value as Record<symbol, unknown>)[MARKER];
    if (brands instanceof Set) return brands.has(this.brand);
    return brands === true && this.brand === DativoError.brand;
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      kind: this.kind,
      message: this.message,
      retryable: this.retryable,
      ...(this.code === undefined ? {} : { code: this.code }),
      ...(this.statusCode === undefined ? {} : { statusCode: this.statusCode }),
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }
}

/** A configuration problem: names the file, the YAML path and what was expected. */
export class ConfigError extends DativoError {
  static override readonly brand: string = 'ConfigError';
  readonly file?: string;
  readonly path?: string;
  readonly line?: number;

  constructor(message: string, where: { file?: string; path?: string; line?: number; cause?: unknown } = {}) {
    super(formatConfigMessage(message, where), {
      kind: 'config',
      retryable: false,
      code: 'CONFIG',
      details: { ...(where.file ? { file: where.file } : {}), ...(where.path ? { path: where.path } : {}) },
      cause: where.cause,
    });
    this.name = 'ConfigError';
    if (where.file !== undefined) this.file = where.file;
    if (where.path !== undefined) this.path = where.path;
    if (where.line !== undefined) this.line = where.line;
  }
}

function formatConfigMessage(message: string, where: { file?: string; path?: string; line?: number }): string {
  const location = [where.file ? `${where.file}${where.line ? `:${where.line}` : ''}` : undefined, where.path]
    .filter(Boolean)
    .join(': ');
  return location ? `${location}: ${message}` : message;
}

/** Several configuration problems reported together. */
export class ConfigErrors extends DativoError {
  static override readonly brand: string = 'ConfigErrors';
  readonly errors: ConfigError[];
  constructor(errors: ConfigError[]) {
    super(errors.map((e) => e.message).join('\n'), { kind: 'config', retryable: false, code: 'CONFIG' });
    this.name = 'ConfigError';
    this.errors = errors;
  }
}

/** Wraps anything thrown into a DativoError, keeping DativoErrors as they are. */
/** Local disk full: the run fails, keeping what it committed. */
export const DISK_FULL_CODES: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT']);
export const DISK_FULL_HINT = '(the disk is full: what was committed is kept, and the rerun resumes from it once there is space)';

export function toDativoError(error: unknown, fallbackKind: ErrorKind = 'permanent'): DativoError {
  if (DativoError.isInstance(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  // A system error keeps its code (ENOSPC, EACCES…); a full disk says what happens next.
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^E[A-Z0-9_]+$/.test(code)) {
    if (DISK_FULL_CODES.has(code)) return new DativoError(`${message} ${DISK_FULL_HINT}`, { kind: 'permanent', code, cause: error });
    return new DativoError(message, { kind: fallbackKind, code, cause: error });
  }
  return new DativoError(message, { kind: fallbackKind, cause: error });
}

/** Thrown when a run is cancelled through its AbortSignal. */
export class AbortedError extends DativoError {
  static override readonly brand: string = 'AbortedError';
  constructor(reason?: unknown) {
    super(`run aborted${reason instanceof Error ? `: ${reason.message}` : typeof reason === 'string' ? `: ${reason}` : ''}`, {
      kind: 'permanent',
      retryable: false,
      code: 'ABORTED',
    });
    this.name = 'AbortedError';
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError(signal.reason);
}
