import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorHandlingResilience, forTenant, loadErrorHandling, mergeErrorHandling } from './error-handling.js';

const FIXTURE = path.resolve(import.meta.dirname, '../fixtures/error_handling.yaml');

describe('error policy (configs/error_handling.yaml)', () => {
  it("loads the roadmap's file as written, ${TENANT_ID} left for each job, other variables from the environment", async () => {
    const { value, warnings } = await loadErrorHandling({ file: FIXTURE, cwd: process.cwd(), env: { S3_BUCKET: 'lake' } });
    expect(warnings).toEqual([]);
    expect(value).toEqual({
      retry: { max_attempts: 3, base_delay: 1, max_delay: 60, jitter: true, overrides: { stripe: { max_attempts: 5, base_delay: 2 }, hubspot: { max_attempts: 4, base_delay: 1.5 } } },
      circuit_breaker: { enabled: true, failure_threshold: 5, timeout: 60, success_threshold: 2 },
      dead_letter_queue: { enabled: true, s3_bucket: 'lake', s3_prefix: 'dlq/${TENANT_ID}/', retention_days: 7 },
    });
    expect(forTenant(value, 'acme').dead_letter_queue?.s3_prefix).toBe('dlq/acme/');
  });

  it('maps onto the run\'s resilience: general retry settings, the connector\'s override over them, the breaker thresholds', async () => {
    const { value } = await loadErrorHandling({ file: FIXTURE, cwd: process.cwd(), env: { S3_BUCKET: 'lake' } });
    expect(errorHandlingResilience(value, ['stripe'])).toEqual({
      retry: { maxRetries: 4, baseDelayMs: 2000, maxDelayMs: 60_000, jitter: 'full' },
      breaker: { enabled: true, failureThreshold: 5, resetTimeoutMs: 60_000, successThreshold: 2 },
    });
    expect(errorHandlingResilience(value, ['postgres']).retry).toEqual({ maxRetries: 2, baseDelayMs: 1000, maxDelayMs: 60_000, jitter: 'full' });
  });

  it("a job's error_handling wins key by key", () => {
    const merged = mergeErrorHandling({ retry: { max_attempts: 3, overrides: { stripe: { max_attempts: 5 } } }, max_dlq_ratio: 0.1, dead_letter_queue: { retention_days: 7 } }, { retry: { base_delay: 0.5, overrides: { hubspot: { max_attempts: 2 } } }, dead_letter_queue: { enabled: false } });
    expect(merged).toEqual({ retry: { max_attempts: 3, base_delay: 0.5, overrides: { stripe: { max_attempts: 5 }, hubspot: { max_attempts: 2 } } }, max_dlq_ratio: 0.1, dead_letter_queue: { retention_days: 7, enabled: false } });
  });

  it('no file: an empty policy; a bad file: errors naming the file, the key and what was expected; a misspelt key is named', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dativo-eh-'));
    expect(await loadErrorHandling({ cwd: dir, env: {} })).toEqual({ value: {}, warnings: [] });
    writeFileSync(path.join(dir, 'bad.yaml'), 'error_handling:\n  retry:\n    max_attempts: 0\n  circuit_breaker:\n    enabled: maybe\n  max_dlq_ratio: 2\n');
    const error = await loadErrorHandling({ file: 'bad.yaml', cwd: dir, env: {} }).catch((e: unknown) => e as Error);
    expect(String((error as Error).message)).toMatch(/bad\.yaml:3.*error_handling\.retry\.max_attempts/s);
    expect(String((error as Error).message)).toMatch(/error_handling\.circuit_breaker\.enabled/);
    expect(String((error as Error).message)).toMatch(/error_handling\.max_dlq_ratio/);
    writeFileSync(path.join(dir, 'typo.yaml'), 'retry:\n  max_atempts: 4\n');
    const { warnings } = await loadErrorHandling({ file: 'typo.yaml', cwd: dir, env: {} });
    expect(warnings.map((w) => `${w.path}: ${w.message}`)).toEqual(['retry.max_atempts: unknown key (ignored); did you mean max_attempts?']);
  });
});
