import { appendFileSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The secrets audit of a test suite: every secret the tests hand to Dativo (API keys, tokens,
 * passwords, private keys) is recorded, and so is everything Dativo said or wrote while they ran
 * (CLI output, in-process log records, state files, dead letters, checkpoints); the suite's last
 * test scans the second for the first. Active when `DATIVO_SUITE_AUDIT` names a directory (the
 * repository's Vitest config sets it); otherwise every function here does nothing.
 */
export const AUDIT_ENV = 'DATIVO_SUITE_AUDIT';

/** Shorter values are too likely to occur by chance to prove a leak. */
export const MIN_SECRET_LENGTH = 6;

/** Files under a test directory that Dativo writes and that could leak a secret. */
const AUDITED_FILE = /(\.jsonl|\.log)$|(^|\/)(\.dativo|state|_dativo[^/]*|metadata|dead[-_]?letters?|dlq)\/.*\.json$/i;
/** Larger files are data (no secret goes into rows in the suite), not logs or state. */
const MAX_AUDITED_BYTES = 4 << 20;

/** The audit directory (made by the suite's setup), or undefined when the audit is off or over. */
export function auditDir(): string | undefined {
  const dir = process.env[AUDIT_ENV];
  return dir && existsSync(dir) ? dir : undefined;
}

/** Records a secret the test gives to Dativo; its exact text must never come back in anything Dativo emits. */
export function recordSecret(value: string | undefined | null, label: string): void {
  const dir = auditDir();
  if (!dir || typeof value !== 'string' || value.length < MIN_SECRET_LENGTH) return;
  appendFileSync(path.join(dir, 'secrets.jsonl'), `${JSON.stringify({ label, value })}\n`);
}

/** Records the body lines of a PEM private key: any one of them in the output is a leak. */
export function recordPrivateKey(pem: string, label: string): void {
  const lines = pem.split(/\r?\n/).filter((l) => l.length >= 40 && !l.startsWith('-----'));
  for (const line of lines.slice(1, 4)) recordSecret(line, label);
}

/** Environment variables named like secrets (what a test passes to the CLI). */
const SECRET_NAME = /(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL)/i;

export function recordSecretEnv(env: Record<string, string | undefined> | undefined): void {
  for (const [name, value] of Object.entries(env ?? {})) {
    // Not secrets: paths to key files, access key ids.
    if (!SECRET_NAME.test(name) || /_(PATH|FILE|DIR|KEY_ID)$/i.test(name) || name === AUDIT_ENV || /^[./]/.test(value ?? '')) continue;
    recordSecret(value, `env ${name}`);
  }
}

let outputs = 0;

/** Keeps what a process printed (a CLI run's stdout and stderr) for the audit. */
export function recordOutput(label: string, text: string): void {
  const dir = auditDir();
  if (!dir || !text) return;
  mkdirSync(path.join(dir, 'output'), { recursive: true });
  writeFileSync(path.join(dir, 'output', `${process.pid}-${++outputs}-${label.replace(/[^\w.-]+/g, '_').slice(0, 60)}.log`), text);
}

/** Copies the state files, dead letters, checkpoints and logs under a test directory before it is removed. */
export function keepForAudit(root: string): void {
  const dir = auditDir();
  if (!dir || !existsSync(root)) return;
  const target = path.join(dir, 'files', `${process.pid}-${++outputs}-${path.basename(root)}`);
  let entries: string[];
  try {
    entries = readdirSync(root, { recursive: true }) as string[];
  } catch {
    return;
  }
  for (const rel of entries) {
    const relPosix = rel.split(path.sep).join('/');
    if (!AUDITED_FILE.test(relPosix)) continue;
    const from = path.join(root, rel);
    try {
      const stat = statSync(from);
      if (!stat.isFile() || stat.size > MAX_AUDITED_BYTES) continue;
      mkdirSync(path.dirname(path.join(target, rel)), { recursive: true });
      copyFileSync(from, path.join(target, rel));
    } catch {
      // Removed meanwhile (a test's own cleanup): nothing to keep.
    }
  }
}

const LOG_SINKS = Symbol.for('dativo.testing.audit.logSinks');

interface RecordsSink {
  records(): unknown[];
}

/** Remembers an in-process run's captured log records, written out by `flushAuditedLogs`. */
export function auditLogSink(sink: RecordsSink): void {
  if (!auditDir()) return;
  const g = globalThis as { [LOG_SINKS]?: RecordsSink[] };
  (g[LOG_SINKS] ??= []).push(sink);
}

/** Writes the log records of every in-process run since the last call (a setup file calls it after each test file). */
export function flushAuditedLogs(label = 'in-process logs'): void {
  const g = globalThis as { [LOG_SINKS]?: RecordsSink[] };
  const sinks = g[LOG_SINKS] ?? [];
  g[LOG_SINKS] = [];
  const lines: string[] = [];
  for (const sink of sinks) for (const record of sink.records()) lines.push(safeJson(record));
  if (lines.length) recordOutput(label, `${lines.join('\n')}\n`);
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  } catch {
    return String(value);
  }
}

export interface AuditFinding {
  label: string;
  /** Where it was found, relative to the audit directory. */
  where: string;
  /** The text around it, the secret itself masked. */
  excerpt: string;
}

export interface AuditReport {
  secrets: number;
  labels: string[];
  files: number;
  bytes: number;
  findings: AuditFinding[];
}

/** Scans everything kept for every recorded secret. */
export function scanAudit(dir: string): AuditReport {
  const secretsFile = path.join(dir, 'secrets.jsonl');
  const secrets = new Map<string, string>();
  if (existsSync(secretsFile)) {
    for (const line of readFileSync(secretsFile, 'utf8').split('\n')) {
      if (!line) continue;
      const { label, value } = JSON.parse(line) as { label: string; value: string };
      if (!secrets.has(value)) secrets.set(value, label);
    }
  }
  const report: AuditReport = { secrets: secrets.size, labels: [...new Set(secrets.values())].sort(), files: 0, bytes: 0, findings: [] };
  for (const sub of ['output', 'files']) {
    const root = path.join(dir, sub);
    if (!existsSync(root)) continue;
    for (const rel of readdirSync(root, { recursive: true }) as string[]) {
      const file = path.join(root, rel);
      if (!statSync(file).isFile()) continue;
      const text = readFileSync(file, 'utf8');
      report.files++;
      report.bytes += text.length;
      for (const [value, label] of secrets) {
        const at = text.indexOf(value);
        if (at < 0) continue;
        const excerpt = `${text.slice(Math.max(0, at - 80), at)}<${label}>${text.slice(at + value.length, at + value.length + 80)}`;
        report.findings.push({ label, where: path.join(sub, rel), excerpt });
      }
    }
  }
  return report;
}
