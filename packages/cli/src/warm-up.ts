import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { connectorPackageName, loadDefinition } from './connectors.js';

/**
 * Lets the connectors of the job in `file` start what they boot slowly (their
 * `ConnectorPackage.warmUp`: the Parquet encoding thread, say) before the run's own modules load, so
 * both happen at once on two cores. Best effort and silent: the run itself reports any problem with
 * the file, and a connector that was warmed up for nothing costs only the idle thread it started.
 */
export async function warmUpJob(file: string, cwd: string): Promise<void> {
  let job: unknown;
  try {
    job = parse(await fs.readFile(path.resolve(cwd, file), 'utf8'));
  } catch {
    return;
  }
  if (!job || typeof job !== 'object') return;
  const roles = [
    ['target', (job as Record<string, unknown>).target_connector],
    ['source', (job as Record<string, unknown>).source_connector],
  ] as const;
  for (const [role, name] of roles) {
    if (typeof name !== 'string') continue;
    const packageName = connectorPackageName(name, role);
    if (!packageName) continue;
    try {
      (await loadDefinition(packageName, cwd)).warmUp?.(role);
    } catch {
      // Not installed, not a connector, a failing warm-up: the run says what is wrong.
    }
  }
}
