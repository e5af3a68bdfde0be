import { Counter, Gauge, Histogram, Registry, type Metric } from 'prom-client';
import { DativoError } from './errors.js';

/** Labels on a metric sample. */
export type Labels = Record<string, string>;

export interface Metrics {
  /** Adds to a counter (`dativo_records_processed_total`), or to a gauge (negative to lower it). */
  inc(name: string, value?: number, labels?: Labels): void;
  /** Sets a gauge. */
  set(name: string, value: number, labels?: Labels): void;
  /** Records an observation in a histogram (durations in seconds, sizes in bytes). */
  observe(name: string, value: number, labels?: Labels): void;
  /** When the data behind a stream's last commit was current (epoch ms): `dativo_checkpoint_lag_seconds`. */
  checkpointTime?(time: number, labels?: Labels): void;
}

/** The labels every Dativo metric may carry; values come from configuration (never ids, never raw URLs). */
export const METRIC_LABELS = ['tenant', 'job', 'connector', 'stream'] as const;

interface MetricDefinition {
  type: 'counter' | 'gauge' | 'histogram';
  help: string;
  /** Labels beyond {@link METRIC_LABELS}. */
  extraLabels?: string[];
  buckets?: number[];
}

/**
 * Every metric Dativo exports, with its type and meaning. The dashboard and alert rules in
 * `docs/observability/` may reference only these (a test checks).
 */
export const METRIC_CATALOG = {
  dativo_job_duration_seconds: { type: 'histogram', help: 'Wall time of a job run, by outcome', extraLabels: ['status'], buckets: [1, 5, 15, 30, 60, 300, 900, 1800, 3600, 7200, 21600] },
  dativo_job_runs_total: { type: 'counter', help: 'Job runs finished, by outcome (succeeded, partial, failed)', extraLabels: ['status'] },
  dativo_job_cpu_seconds_total: { type: 'counter', help: 'CPU seconds (user + system) spent by job runs: cost attribution per tenant and job' },
  dativo_job_wall_seconds_total: { type: 'counter', help: 'Wall-clock seconds spent by job runs: cost attribution per tenant and job' },
  dativo_active_jobs: { type: 'gauge', help: 'Job runs in progress' },
  dativo_records_read_total: { type: 'counter', help: 'Records the source delivered (before the sink commits them)' },
  dativo_records_processed_total: { type: 'counter', help: 'Records written to the target and committed' },
  dativo_records_failed_total: { type: 'counter', help: 'Records that could not be turned into rows (invalid values, bad encodings…)' },
  dativo_records_dead_lettered_total: { type: 'counter', help: 'Records set aside in the dead-letter queue' },
  dativo_bytes_read_total: { type: 'counter', help: 'Bytes read from the source (as Arrow buffers handed to the sink)' },
  dativo_bytes_written_total: { type: 'counter', help: 'Bytes published to the target (file sizes)' },
  dativo_files_written_total: { type: 'counter', help: 'Files published to the target' },
  dativo_commits_total: { type: 'counter', help: 'Commits (data and checkpoint published together)' },
  dativo_checkpoint_lag_seconds: { type: 'gauge', help: 'Age of the data behind the last committed checkpoint: now minus its source time (or the time its read began)' },
  dativo_api_requests_total: { type: 'counter', help: 'Requests to remote systems, by endpoint template and outcome (HTTP status, ok, or the error kind)', extraLabels: ['endpoint', 'status'] },
  dativo_api_request_duration_seconds: { type: 'histogram', help: 'Duration of requests to remote systems', extraLabels: ['endpoint'], buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] },
  dativo_retries_total: { type: 'counter', help: 'Retries after a retryable failure' },
  dativo_rate_limit_wait_seconds_total: { type: 'counter', help: 'Seconds requests waited for the rate limiter (including Retry-After pauses)' },
  dativo_circuit_breaker_state: { type: 'gauge', help: 'Circuit breaker state per connector: 0 closed, 1 half-open, 2 open' },
} as const satisfies Record<string, MetricDefinition>;

export type MetricName = keyof typeof METRIC_CATALOG;

/** The prom-client registry of a process, shared by the runs it makes (one `/metrics`, one push). */
export class MetricsStore {
  readonly registry = new Registry();
  private readonly metrics = new Map<string, Metric & { labelNames?: string[] }>();
  /** Source time (epoch ms) of each stream's last committed checkpoint, by its label set. */
  private readonly checkpointTimes = new Map<string, { labels: Labels; time: number }>();

  constructor() {
    for (const [name, def] of Object.entries(METRIC_CATALOG) as Array<[string, MetricDefinition]>) this.define(name, def);
  }

  private define(name: string, def: MetricDefinition): Metric {
    const labelNames = [...METRIC_LABELS, ...(def.extraLabels ?? [])];
    const common = { name, help: def.help, labelNames, registers: [this.registry] };
    const times = this.checkpointTimes;
    const metric: Metric =
      def.type === 'counter'
        ? new Counter(common)
        : def.type === 'histogram'
          ? new Histogram({ ...common, ...(def.buckets ? { buckets: def.buckets } : {}) })
          : name === 'dativo_checkpoint_lag_seconds'
            ? new Gauge({
                ...common,
                // Computed at scrape time, so the lag grows while nothing is committed.
                collect(this: Gauge) {
                  const now = Date.now();
                  for (const { labels, time } of times.values()) this.set(labels, Math.max(0, (now - time) / 1000));
                },
              })
            : new Gauge(common);
    this.metrics.set(name, metric);
    return metric;
  }

  /** A metric by name; names outside the catalog (a third-party connector's own) are made counters, gauges or histograms on first use. */
  metric(name: string, type: MetricDefinition['type']): Metric {
    const found = this.metrics.get(name);
    if (found) return found;
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) throw new DativoError(`metric name '${name}' is not a valid Prometheus name`, { kind: 'permanent' });
    return this.define(name, { type, help: `${name} (reported by a connector)`, extraLabels: ['endpoint', 'status'] });
  }

  /** Remembers when the data behind a committed checkpoint was current (`dativo_checkpoint_lag_seconds`). */
  checkpointTime(labels: Labels, time: number): void {
    this.checkpointTimes.set(JSON.stringify(Object.entries(labels).sort()), { labels, time });
  }

  /** The Prometheus text exposition of everything. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/**
 * A view of a {@link MetricsStore} that adds labels to everything it records (tenant and job for a
 * run, connector for a connector's resilience service). Metric names outside the catalog are
 * allowed (third-party connectors); labels must be among tenant, job, connector, stream, endpoint
 * and status.
 */
export class MetricsRegistry implements Metrics {
  readonly store: MetricsStore;
  readonly labels: Labels;

  constructor(labels: Labels = {}, store: MetricsStore = new MetricsStore()) {
    this.labels = labels;
    this.store = store;
  }

  /** The same store, with more labels. */
  with(labels: Labels): MetricsRegistry {
    return new MetricsRegistry({ ...this.labels, ...labels }, this.store);
  }

  private all(labels: Labels | undefined): Labels {
    return labels ? { ...this.labels, ...labels } : this.labels;
  }

  inc(name: string, value = 1, labels?: Labels): void {
    const m = this.store.metric(name, 'counter');
    if (m instanceof Counter || m instanceof Gauge) m.inc(this.all(labels), value);
    else throw wrongType(name, 'inc');
  }

  set(name: string, value: number, labels?: Labels): void {
    const m = this.store.metric(name, 'gauge');
    if (m instanceof Gauge) m.set(this.all(labels), value);
    else throw wrongType(name, 'set');
  }

  observe(name: string, value: number, labels?: Labels): void {
    const m = this.store.metric(name, 'histogram');
    if (m instanceof Histogram) m.observe(this.all(labels), value);
    else throw wrongType(name, 'observe');
  }

  /** Marks the time the data behind a stream's last commit was current. */
  checkpointTime(time: number, labels?: Labels): void {
    this.store.checkpointTime(this.all(labels), time);
  }

  /** The current value of a counter or gauge with exactly these labels (sum of observations for histograms). */
  async get(name: string, labels: Labels = {}): Promise<number> {
    const m = this.store.metric(name, 'counter');
    const all = this.all(labels);
    const { values } = await m.get();
    const wanted = m instanceof Histogram ? `${name}_sum` : name;
    const match = values.find((v) => ((v as { metricName?: string }).metricName ?? name) === wanted && sameLabels(v.labels as Labels, all));
    return match?.value ?? 0;
  }

  render(): Promise<string> {
    return this.store.render();
  }
}

function sameLabels(a: Record<string, unknown>, b: Labels): boolean {
  const ka = Object.keys(a).filter((k) => k !== 'le');
  return ka.length === Object.keys(b).length && ka.every((k) => String(a[k]) === b[k]);
}

function wrongType(name: string, op: string): DativoError {
  return new DativoError(`metric '${name}' does not support ${op}()`, { kind: 'permanent' });
}

/** Metrics that are dropped (a run nobody watches). */
export const noMetrics: Metrics = { inc() {}, set() {}, observe() {} };

/**
 * An endpoint as a label value: the method and path template only. Query strings are dropped and
 * path segments that look like ids (numbers, long hex, UUIDs, Stripe-style `cus_…` ids, Google file
 * ids) become `{id}`, so a label never grows with the data.
 */
export function endpointTemplate(endpoint: string): string {
  const [method, ...rest] = endpoint.split(' ');
  const hasMethod = rest.length > 0 && /^[A-Z]+$/.test(method ?? '');
  let target = hasMethod ? rest.join(' ') : endpoint;
  try {
    if (/^[a-z]+:\/\//i.test(target)) target = new URL(target).pathname;
  } catch {
    /* not a URL */
  }
  target = target.split('?')[0] ?? '';
  const segments = target.split('/').map((s) => (isIdLike(s) ? '{id}' : s));
  const out = segments.join('/').slice(0, 100);
  return hasMethod ? `${method} ${out}` : out;
}

function isIdLike(segment: string): boolean {
  if (segment.length === 0 || segment.startsWith('{')) return false;
  if (/^\d+$/.test(segment)) return true;
  if (/^[0-9a-f]{8,}$/i.test(segment) || /^[0-9a-f-]{36}$/i.test(segment)) return true;
  if (/^[a-z]{2,8}_[A-Za-z0-9]{8,}$/.test(segment)) return true;
  // Long mixed-case tokens with digits (Drive / Sheets ids, opaque cursors).
  return segment.length >= 20 && /\d/.test(segment) && /[A-Za-z]/.test(segment) && !segment.includes('.');
}
