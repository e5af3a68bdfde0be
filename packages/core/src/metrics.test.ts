import { describe, expect, it, vi } from 'vitest';
import { endpointTemplate, METRIC_CATALOG, MetricsRegistry, MetricsStore } from './metrics.js';

describe('MetricsRegistry (prom-client)', () => {
  it('renders the catalog metrics with the run labels in the Prometheus text format', async () => {
    const run = new MetricsRegistry({ tenant: 'acme', job: 'orders' });
    run.inc('dativo_records_processed_total', 5, { connector: 'parquet', stream: 'a' });
    run.inc('dativo_records_processed_total', 2, { connector: 'parquet', stream: 'a' });
    run.inc('dativo_active_jobs', 1);
    run.inc('dativo_active_jobs', -1);
    run.observe('dativo_job_duration_seconds', 2.5, { status: 'succeeded' });
    expect(await run.get('dativo_records_processed_total', { connector: 'parquet', stream: 'a' })).toBe(7);
    expect(await run.get('dativo_job_duration_seconds', { status: 'succeeded' })).toBe(2.5);
    const text = await run.render();
    expect(text).toContain('# TYPE dativo_records_processed_total counter');
    expect(text).toContain('dativo_records_processed_total{tenant="acme",job="orders",connector="parquet",stream="a"} 7');
    expect(text).toContain('dativo_active_jobs{tenant="acme",job="orders"} 0');
    expect(text).toContain('dativo_job_duration_seconds_bucket{le="5",tenant="acme",job="orders",status="succeeded"} 1');
    expect(text).toContain('dativo_job_duration_seconds_count{tenant="acme",job="orders",status="succeeded"} 1');
    // Every catalog metric is declared (HELP and TYPE), even before its first sample.
    for (const name of Object.keys(METRIC_CATALOG)) expect(text).toContain(`# TYPE ${name} `);
  });

  it('shares one store between views with different labels', async () => {
    const store = new MetricsStore();
    new MetricsRegistry({ tenant: 'a', job: 'x' }, store).inc('dativo_commits_total');
    new MetricsRegistry({ tenant: 'b', job: 'y' }, store).with({ connector: 'csv' }).inc('dativo_commits_total', 3);
    const text = await store.render();
    expect(text).toContain('dativo_commits_total{tenant="a",job="x"} 1');
    expect(text).toContain('dativo_commits_total{tenant="b",job="y",connector="csv"} 3');
  });

  it('computes checkpoint lag at scrape time', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-29T10:00:00Z') });
    try {
      const run = new MetricsRegistry({ tenant: 't', job: 'j' });
      run.checkpointTime(Date.parse('2026-11-29T09:59:00Z'), { stream: 's' });
      expect(await run.get('dativo_checkpoint_lag_seconds', { stream: 's' })).toBe(60);
      vi.setSystemTime(new Date('2026-11-29T10:01:00Z'));
      expect(await run.get('dativo_checkpoint_lag_seconds', { stream: 's' })).toBe(120);
    } finally {
      vi.useRealTimers();
    }
  });

  it('accepts a connector metric outside the catalog and refuses unknown labels and bad names', () => {
    const run = new MetricsRegistry({ tenant: 't' });
    run.inc('acme_pages_total', 1, { connector: 'acme' });
    expect(() => run.inc('acme_pages_total', 1, { page_id: '17' })).toThrow(/page_id/);
    expect(() => run.inc('bad-name', 1)).toThrow(/not a valid Prometheus name/);
    expect(() => run.observe('dativo_commits_total', 1)).toThrow(/does not support observe/);
  });
});

describe('endpointTemplate', () => {
  it('keeps the method and path template, never ids or query strings', () => {
    expect(endpointTemplate('GET /v1/customers')).toBe('GET /v1/customers');
    expect(endpointTemplate('GET /v1/customers/cus_NffrFeUfNV2Hib')).toBe('GET /v1/customers/{id}');
    expect(endpointTemplate('GET https://api.hubapi.com/crm/v3/objects/contacts/12345?archived=false')).toBe('GET /crm/v3/objects/contacts/{id}');
    expect(endpointTemplate('GET /drive/v3/files/1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms')).toBe('GET /drive/v3/files/{id}');
    expect(endpointTemplate('GET /items/3f2b8c1e-3a8d-4f39-9a43-5c1b2c3d4e5f')).toBe('GET /items/{id}');
    expect(endpointTemplate('POST /v4/spreadsheets/{spreadsheetId}/values:batchUpdate')).toBe('POST /v4/spreadsheets/{spreadsheetId}/values:batchUpdate');
    expect(endpointTemplate('connect to PostgreSQL')).toBe('connect to PostgreSQL');
  });
});
