import { MetricsRegistry, MetricsStore } from '@dativo/core';
import { describe, expect, it } from 'vitest';
import { MetricsServer, otlpSettings, renderSeries } from './observability.js';

describe('OTLP settings from the standard variables', () => {
  it('is off without an endpoint, when disabled, or with another exporter', () => {
    expect(otlpSettings({})).toBeUndefined();
    expect(otlpSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' })).toBeUndefined();
    expect(otlpSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' })).toBeUndefined();
    expect(otlpSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'zipkin' })).toBeUndefined();
  });

  it('derives the traces URL, headers and resource', () => {
    expect(
      otlpSettings({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
        OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20abc,x-team=data',
        OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-team=ingest',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,service.name=from-resource',
      }),
    ).toEqual({
      url: 'http://collector:4318/v1/traces',
      headers: { authorization: 'Bearer abc', 'x-team': 'ingest' },
      serviceName: 'from-resource',
      resource: { 'deployment.environment': 'prod', 'service.name': 'from-resource' },
    });
    expect(otlpSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:4318/custom', OTEL_SERVICE_NAME: 'etl' })).toMatchObject({ url: 'http://b:4318/custom', serviceName: 'etl' });
  });

  it('refuses gRPC with a clear message', () => {
    expect(() => otlpSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(/not supported.*OTLP\/HTTP.*4318/);
  });
});

describe('metrics of one job out of the process', () => {
  it('renders only the series of the given tenant and job, histograms whole', async () => {
    const store = new MetricsStore();
    const a = new MetricsRegistry({ tenant: 'acme', job: 'orders' }, store);
    a.inc('dativo_records_processed_total', 10, { connector: 'parquet', stream: 'orders' });
    a.observe('dativo_job_duration_seconds', 3, { status: 'succeeded' });
    new MetricsRegistry({ tenant: 'globex', job: 'orders' }, store).inc('dativo_records_processed_total', 99);
    const text = await renderSeries(store, { tenant: 'acme', job: 'orders' });
    expect(text).toContain('# TYPE dativo_records_processed_total counter');
    expect(text).toContain('dativo_records_processed_total{tenant="acme",job="orders",connector="parquet",stream="orders"} 10');
    expect(text).toContain('dativo_job_duration_seconds_bucket{le="+Inf",tenant="acme",job="orders",status="succeeded"} 1');
    expect(text).toContain('dativo_job_duration_seconds_sum{tenant="acme",job="orders",status="succeeded"} 3');
    expect(text).not.toContain('globex');
    expect(text).not.toContain('dativo_retries_total');
  });
});

describe('MetricsServer', () => {
  it('serves /metrics, and waits for one more scrape at the end only when something scrapes it', async () => {
    const store = new MetricsStore();
    new MetricsRegistry({ tenant: 't', job: 'j' }, store).inc('dativo_commits_total');
    const server = await MetricsServer.start(store, 0, '127.0.0.1');
    try {
      const base = `http://127.0.0.1:${server.port}`;
      expect(await server.finalScrape(5000)).toBe(false);
      const res = await fetch(`${base}/metrics`);
      expect(res.headers.get('content-type')).toContain('text/plain');
      expect(await res.text()).toContain('dativo_commits_total{tenant="t",job="j"} 1');
      expect((await fetch(`${base}/other`)).status).toBe(404);
      expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
      const waiting = server.finalScrape(5000);
      setTimeout(() => void fetch(`${base}/metrics`), 50);
      expect(await waiting).toBe(true);
      await expect(MetricsServer.start(store, server.port, '127.0.0.1')).rejects.toThrow(/--metrics-port \d+: the port is in use/);
    } finally {
      await server.close();
    }
  });
});
