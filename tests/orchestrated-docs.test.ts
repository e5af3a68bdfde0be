import { readFileSync } from 'node:fs';
import path from 'node:path';
import { runnerConfigSchema } from '@dativo/orchestrator';
import { parseAllDocuments, parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';

// The orchestrated-mode documentation: its runner file and Kubernetes manifests are real.

describe('orchestrated mode docs', () => {
  it('the runner file in docs/orchestrated.md is valid (v1 keys and Dativo additions)', () => {
    const md = readFileSync(path.join(ROOT, 'docs', 'orchestrated.md'), 'utf8');
    const block = /```yaml\n(runner:[\s\S]*?)```/.exec(md)?.[1];
    expect(block).toBeDefined();
    const parsed = runnerConfigSchema.parse(parse((block ?? '').replace(/\$\{\w+\}/g, 'token-of-twenty-chars')));
    expect(parsed.runner.orchestrator.type).toBe('dagster');
    expect(parsed.runner.orchestrator.schedules[0]).toMatchObject({ name: 'stripe_customers_hourly', cron: '0 * * * *', max_concurrent_runs: 1 });
    expect(parsed.runner.api.tokens).toHaveLength(2);
  });

  it('docs/operations/kubernetes.yaml: a Deployment per role running the right command, Redis with the append-only file', () => {
    const docs = parseAllDocuments(readFileSync(path.join(ROOT, 'docs', 'operations', 'kubernetes.yaml'), 'utf8')).map((d) => {
      expect(d.errors).toEqual([]);
      return d.toJS() as { kind: string; metadata: { name: string }; spec?: { template?: { spec: { containers: Array<{ args: string[] }> } } }; data?: Record<string, string> };
    });
    const args = (name: string) => docs.find((d) => d.kind === 'Deployment' && d.metadata.name === name)?.spec?.template?.spec.containers[0]?.args ?? [];
    expect(args('dativo-scheduler')[0]).toBe('scheduler');
    expect(args('dativo-worker')[0]).toBe('worker');
    expect(args('dativo-api')[0]).toBe('api');
    const redis = docs.find((d) => d.kind === 'StatefulSet')?.spec?.template?.spec.containers[0]?.args ?? [];
    expect(redis).toEqual(expect.arrayContaining(['--appendonly', 'yes', '--maxmemory-policy', 'noeviction']));
    const runner = docs.find((d) => d.kind === 'ConfigMap')?.data?.['runner.yaml'] ?? '';
    expect(runnerConfigSchema.parse(parse(runner)).runner.orchestrator.concurrency_per_tenant).toBe(1);
  });
});
