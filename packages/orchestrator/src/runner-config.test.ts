import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '@dativo/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { runEnv, tenantEnv } from './executor.js';
import { queueNameOf } from './fleet.js';
import { loadRunnerConfig, redisUrl } from './runner-config.js';

const scratch = tempDir('dativo-runner-');
afterAll(() => scratch.cleanup());
const dir = scratch.path;
mkdirSync(path.join(dir, 'jobs'), { recursive: true });
writeFileSync(path.join(dir, 'jobs', 'a.yaml'), 'tenant_id: acme\nsource_connector: csv\ntarget_connector: parquet\n');
writeFileSync(path.join(dir, 'jobs', 'var.yaml'), 'tenant_id: ${TENANT}\nsource_connector: csv\ntarget_connector: parquet\n');

function runner(text: string): string {
  const file = path.join(dir, `runner-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, text);
  return path.basename(file);
}

describe('runner file (v1 configs/runner.yaml)', () => {
  it("reads v1's shape: defaults, tenant from the job file, the Dagster notice", async () => {
    const file = runner('runner:\n  mode: orchestrated\n  orchestrator:\n    type: dagster\n    schedules:\n      - name: hourly\n        config: jobs/a.yaml\n        cron: "0 * * * *"\n        tags: { environment: production }\n      - name: six_hours\n        config: jobs/a.yaml\n        interval_seconds: 21600\n        enabled: false\n        timezone: America/New_York\n    concurrency_per_tenant: 2\n');
    const loaded = await loadRunnerConfig(file, { cwd: dir, env: {} });
    expect(loaded.notes[0]).toContain("'dagster'");
    expect(loaded.config.orchestrator.concurrency_per_tenant).toBe(2);
    expect(loaded.schedules).toEqual([
      expect.objectContaining({ name: 'hourly', tenant: 'acme', file: path.join(dir, 'jobs', 'a.yaml'), timezone: 'UTC', enabled: true, max_concurrent_runs: 1, tags: { environment: 'production' } }),
      expect.objectContaining({ name: 'six_hours', interval_seconds: 21600, enabled: false, timezone: 'America/New_York' }),
    ]);
    expect(loaded.config.worker).toEqual({ concurrency: 1, lock_seconds: 30 });
    expect(redisUrl(loaded.config, { REDIS_URL: 'redis://r:6379' })).toBe('redis://r:6379');
    expect(redisUrl(loaded.config, {})).toBe('redis://127.0.0.1:6379');
  });

  it('names the file, line and key of every mistake', async () => {
    const file = runner('runner:\n  orchestrator:\n    schedules:\n      - name: a\n        config: jobs/a.yaml\n        cron: "99 * * * *"\n      - name: a\n        config: jobs/missing.yaml\n        cron: "0 * * * *"\n        interval_seconds: 60\n      - name: b\n        config: jobs/a.yaml\n        interval_seconds: 60\n        timezone: Nowhere/City\n      - name: c\n        config: jobs/var.yaml\n        interval_seconds: 60\n');
    const error = await loadRunnerConfig(file, { cwd: dir, env: {} }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toContain(`${file}:6`);
    expect(message).toContain('runner.orchestrator.schedules[0].cron: not a cron expression');
    expect(message).toContain("give 'cron' or 'interval_seconds', not both");
    expect(message).toContain("unknown time zone 'Nowhere/City'");
    const second = runner('runner:\n  orchestrator:\n    schedules:\n      - name: a\n        config: jobs/a.yaml\n        cron: "0 * * * *"\n      - name: a\n        config: jobs/missing.yaml\n        cron: "0 * * * *"\n      - name: c\n        config: jobs/var.yaml\n        interval_seconds: 60\n');
    const again = ((await loadRunnerConfig(second, { cwd: dir, env: {} }).catch((e: Error) => e)) as Error).message;
    expect(again).toContain("schedule name 'a' is used twice");
    expect(again).toContain("job file 'jobs/missing.yaml' of schedule 'a' not found");
    expect(again).toContain('tenant_id must be written out');
  });

  it('substitutes ${VAR} (API tokens from the environment)', async () => {
    const file = runner('runner:\n  orchestrator:\n    schedules: []\n  api:\n    tokens:\n      - { token: "${OPS_TOKEN}", tenant: acme, access: read }\n');
    const loaded = await loadRunnerConfig(file, { cwd: dir, env: { OPS_TOKEN: 'a-token-of-enough-length' } });
    expect(loaded.config.api.tokens).toEqual([{ token: 'a-token-of-enough-length', tenant: 'acme', access: 'read' }]);
    await expect(loadRunnerConfig(file, { cwd: dir, env: {} })).rejects.toThrow(/OPS_TOKEN/);
  });
});

describe('tenant boundaries', () => {
  it("a run's environment has no other tenant's v1 secret variables", () => {
    const env = { PATH: '/bin', DATIVO_API_TOKEN: 'admin-token', DATIVO_SECRET__ACME__pg__env: 'a', DATIVO_SECRET__GLOBEX__pg__env: 'g', DATIVO_SECRET__GLOBAL__stripe__text: 's', DATIVO_SECRET__all__x: 'x' };
    expect(tenantEnv(env, 'acme')).toEqual({ PATH: '/bin', DATIVO_SECRET__ACME__pg__env: 'a', DATIVO_SECRET__GLOBAL__stripe__text: 's', DATIVO_SECRET__all__x: 'x' });
    expect(Object.keys(tenantEnv(env, 'globex'))).not.toContain('DATIVO_SECRET__ACME__pg__env');
  });

  it('a run process gets two glibc malloc arenas unless the operator chose a value, and the same tenant filter', () => {
    const env = { PATH: '/bin', DATIVO_SECRET__ACME__pg__env: 'a', DATIVO_SECRET__GLOBEX__pg__env: 'g' };
    expect(runEnv(env, 'acme')).toEqual({ MALLOC_ARENA_MAX: '2', PATH: '/bin', DATIVO_SECRET__ACME__pg__env: 'a' });
    expect(runEnv({ ...env, MALLOC_ARENA_MAX: '8' }, 'acme').MALLOC_ARENA_MAX).toBe('8');
  });

  it('queue names are safe for any tenant id and distinct', () => {
    expect(queueNameOf('acme')).toBe('runs.acme');
    expect(queueNameOf('a:b')).toMatch(/^runs\.x[0-9a-f]+$/);
    expect(queueNameOf('a:b')).not.toBe(queueNameOf('a;b'));
  });
});
