import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from './metrics.js';

describe('MetricsRegistry', () => {
  it('renders counters, gauges and summaries in the Prometheus text format', () => {
    const m = new MetricsRegistry({ tenant: 'acme' });
    m.inc('dativo_rows_read_total', 5, { stream: 'a' });
    m.inc('dativo_rows_read_total', 2, { stream: 'a' });
    m.set('dativo_lag_seconds', 1.5);
    m.observe('dativo_commit_seconds', 0.25);
    m.observe('dativo_commit_seconds', 0.75);
    expect(m.get('dativo_rows_read_total', { stream: 'a' })).toBe(7);
    expect(m.render()).toBe(
      [
        '# TYPE dativo_commit_seconds summary',
        'dativo_commit_seconds_sum{tenant="acme"} 1',
        'dativo_commit_seconds_count{tenant="acme"} 2',
        '# TYPE dativo_lag_seconds gauge',
        'dativo_lag_seconds{tenant="acme"} 1.5',
        '# TYPE dativo_rows_read_total counter',
        'dativo_rows_read_total{tenant="acme",stream="a"} 7',
        '',
      ].join('\n'),
    );
  });
});
