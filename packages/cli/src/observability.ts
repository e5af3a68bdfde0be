import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DativoError, type Logger, type MetricsStore } from '@dativo/core';
import { VERSION } from './version.js';

/**
 * `/metrics` for Prometheus while a command runs (`dativo run --metrics-port N`). When a scraper has
 * come at least once, {@link finalScrape} keeps serving until it comes once more after the run
 * ended (bounded), so the last values of a short job are not lost between two scrapes.
 */
export class MetricsServer {
  private scrapes = 0;
  private lastScrape = 0;
  private interval = 0;
  private waiters: Array<() => void> = [];

  private constructor(
    private readonly server: http.Server,
    readonly port: number,
  ) {}

  static async start(store: MetricsStore, port: number, host = '0.0.0.0'): Promise<MetricsServer> {
    let self: MetricsServer | undefined;
    const server = http.createServer((req, res) => {
      const url = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      if (url !== '/metrics') {
        res.writeHead(url === '/' ? 200 : 404, { 'content-type': 'text/plain; charset=utf-8' }).end(url === '/' ? 'dativo: metrics at /metrics\n' : 'not found\n');
        return;
      }
      store.render().then(
        (text) => {
          res.writeHead(200, { 'content-type': store.contentType }).end(text);
          self?.scraped();
        },
        (error: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${error instanceof Error ? error.message : String(error)}\n`),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(new DativoError(`--metrics-port ${port}: ${error.code === 'EADDRINUSE' ? 'the port is in use' : error.message}`, { kind: 'config', ...(error.code ? { code: error.code } : {}) })),
      );
      server.listen(port, host, () => resolve());
    });
    server.unref();
    self = new MetricsServer(server, (server.address() as AddressInfo).port);
    return self;
  }

  private scraped(): void {
    const now = Date.now();
    if (this.lastScrape) this.interval = now - this.lastScrape;
    this.lastScrape = now;
    this.scrapes++;
    for (const w of this.waiters.splice(0)) w();
  }

  /**
   * Waits for one more scrape when something scrapes this server, at most twice the scrape interval
   * seen (and never over `maxMs`). Returns whether it came.
   */
  async finalScrape(maxMs = 30_000): Promise<boolean> {
    if (this.scrapes === 0) return false;
    const limit = Math.min(maxMs, this.interval ? this.interval * 2 + 1000 : maxMs);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve(false);
      }, limit);
      const done = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.waiters.push(done);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** The text exposition of the series whose labels include `only` (one job's metrics out of a process's). */
export async function renderSeries(store: MetricsStore, only: Record<string, string>): Promise<string> {
  const lines: string[] = [];
  for (const metric of await store.registry.getMetricsAsJSON()) {
    const values = metric.values.filter((v) => Object.entries(only).every(([k, want]) => String((v.labels as Record<string, unknown>)[k] ?? '') === want));
    if (values.length === 0) continue;
    lines.push(`# HELP ${metric.name} ${metric.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${metric.name} ${String(metric.type)}`);
    for (const v of values) {
      const labels = Object.entries(v.labels as Record<string, string | number>)
        .map(([k, x]) => `${k}="${escapeLabel(String(x))}"`)
        .join(',');
      const name = (v as { metricName?: string }).metricName ?? metric.name;
      lines.push(`${name}${labels ? `{${labels}}` : ''} ${Number.isFinite(v.value) ? v.value : String(v.value).replace('Infinity', 'Inf')}`);
    }
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url') || '=';
}

/**
 * Pushes one job's metrics to a Prometheus Pushgateway (`--pushgateway URL`), grouped by job and
 * tenant (`/metrics/job@base64/…/tenant@base64/…`: any characters are safe). A push replaces the
 * group's previous push. Failures are logged, never fail the job; tried three times.
 */
export async function pushMetrics(store: MetricsStore, gateway: string, group: { tenant: string; job: string }, log: Logger): Promise<boolean> {
  const body = await renderSeries(store, group);
  const base = gateway.replace(/\/+$/, '');
  const url = `${base}/metrics/job@base64/${base64url(group.job)}/tenant@base64/${base64url(group.tenant)}`;
  let last = '';
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      const res = await fetch(url, { method: 'PUT', body, headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }, signal: AbortSignal.timeout(10_000) });
      if (res.ok) {
        log.debug('metrics pushed', { pushgateway: base });
        return true;
      }
      last = `HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`;
      if (res.status < 500) break;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((r) => setTimeout(r, 300 * attempt));
  }
  log.warn('could not push metrics to the Pushgateway', { pushgateway: base, error: last });
  return false;
}

/** Settings of the OTLP trace export, from the standard `OTEL_*` variables. */
export interface OtlpSettings {
  url: string;
  headers: Record<string, string>;
  serviceName: string;
  resource: Record<string, string>;
}

function keyValues(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (text ?? '').split(',')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    try {
      out[decodeURIComponent(part.slice(0, i).trim())] = decodeURIComponent(part.slice(i + 1).trim());
    } catch {
      out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
    }
  }
  return out;
}

/**
 * Whether and where to export traces: on when `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or
 * `OTEL_EXPORTER_OTLP_ENDPOINT` is set, unless `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`.
 * Headers from `OTEL_EXPORTER_OTLP_(TRACES_)HEADERS`, resource from `OTEL_SERVICE_NAME` and
 * `OTEL_RESOURCE_ATTRIBUTES`. The export is OTLP over HTTP with JSON bodies.
 */
export function otlpSettings(env: NodeJS.ProcessEnv, log?: Logger): OtlpSettings | undefined {
  if ((env.OTEL_SDK_DISABLED ?? '').toLowerCase() === 'true') return undefined;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? 'otlp').toLowerCase();
  if (exporters === 'none' || !exporters.split(',').includes('otlp')) return undefined;
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!traces && !base) return undefined;
  const protocol = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL;
  if (protocol && protocol !== 'http/json' && protocol !== 'http/protobuf') {
    throw new DativoError(`OTEL_EXPORTER_OTLP_PROTOCOL=${protocol} is not supported: Dativo exports traces over OTLP/HTTP (http/json); point the endpoint at the collector's HTTP port (4318)`, { kind: 'config' });
  }
  if (protocol === 'http/protobuf') log?.debug('traces are exported as OTLP/HTTP JSON (collectors accept both encodings on the HTTP port)');
  const resource = keyValues(env.OTEL_RESOURCE_ATTRIBUTES);
  return {
    url: traces || `${(base as string).replace(/\/+$/, '')}/v1/traces`,
    headers: { ...keyValues(env.OTEL_EXPORTER_OTLP_HEADERS), ...keyValues(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS) },
    serviceName: env.OTEL_SERVICE_NAME ?? resource['service.name'] ?? 'dativo',
    resource,
  };
}

/** How long the end of a command waits for the last traces to be exported. */
const FLUSH_WAIT_MS = 5_000;

export interface Tracing {
  /** Sends what is buffered and stops the export. */
  shutdown(): Promise<void>;
}

/**
 * Registers an OpenTelemetry tracer provider exporting over OTLP/HTTP when the environment asks
 * for it. The SDK is loaded only then: with tracing off, Dativo's spans are the API's no-op spans.
 */
export async function startTracing(env: NodeJS.ProcessEnv, log?: Logger): Promise<Tracing | undefined> {
  const settings = otlpSettings(env, log);
  if (!settings) return undefined;
  const [{ trace }, { BasicTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ]);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ ...settings.resource, 'service.name': settings.serviceName, 'service.version': VERSION }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: settings.url, headers: settings.headers }))],
  });
  trace.setGlobalTracerProvider(provider);
  log?.debug('exporting traces over OTLP/HTTP', { endpoint: settings.url });
  return {
    async shutdown() {
      // A collector that is down must not hold the command: the last export gets a few seconds.
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), FLUSH_WAIT_MS)));
      try {
        const outcome = await Promise.race([provider.forceFlush().then(() => provider.shutdown()), late]);
        if (outcome === 'late') log?.warn(`traces not delivered within ${FLUSH_WAIT_MS / 1000} s at the end of the run; the collector may be down`, { endpoint: settings.url });
      } catch (error) {
        log?.warn('could not export traces', { endpoint: settings.url, error });
      } finally {
        clearTimeout(timer);
        trace.disable();
      }
    },
  };
}
