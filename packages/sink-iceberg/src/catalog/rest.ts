import { classifyError, DativoError, withRetry, type ResilienceService, type RetryPolicy } from '@dativo/core';
import { parseJsonLossless, stringifyJsonLossless } from '../json.js';
import { CommitConflictError, CommitStateUnknownError, type TableRequirement, type TableUpdate } from '../metadata.js';
import type { TableIdentifier, TableMetadata } from '../types.js';
import type { Catalog, CreateTableRequest, LoadedTable } from './catalog.js';
import { warehouseLocation } from './location.js';

export interface RestCatalogOptions {
  /** Base URI of the catalog (`http://host:8181`, `https://polaris/api/catalog`). */
  uri: string;
  warehouse?: string;
  /** Fixed path prefix; by default the one the server's /v1/config returns. */
  prefix?: string;
  /** Nessie: the branch (`target.branch` in v1 jobs); replaces the reference part of the prefix. */
  branch?: string;
  /** OAuth2 client credentials `client_id:client_secret` (client_credentials grant). */
  credential?: string;
  /** A bearer token, used as given. */
  token?: string;
  /** Token endpoint; default `<uri>/v1/oauth/tokens` (or the server's `oauth2-server-uri`). */
  oauth2ServerUri?: string;
  scope?: string;
  headers?: Record<string, string>;
  /** Per-request timeout. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** The run's resilience for this connector: rate limit, breaker and retries of reads. */
  resilience?: Pick<ResilienceService, 'call'>;
}

interface ErrorModel {
  error?: { message?: string; type?: string; code?: number };
}

/**
 * A non-2xx answer, classified by core's classifier (429 with `Retry-After` is `rate_limit`, 401
 * `auth_expired`, 5xx `transient`…), so retries treat it as any other HTTP failure.
 */
class HttpError extends DativoError {
  static override readonly brand: string = 'IcebergRestHttpError';
  readonly status: number;
  readonly type: string | undefined;
  constructor(status: number, type: string | undefined, message: string, headers?: Headers) {
    const classified = classifyError({ message, status, headers: { 'retry-after': headers?.get('retry-after') ?? undefined } });
    super(message, { kind: classified.kind, retryable: classified.retryable, statusCode: status, ...(classified.retryAfterMs !== undefined ? { retryAfterMs: classified.retryAfterMs } : {}) });
    this.status = status;
    this.type = type;
  }
}

/**
 * A client of the Iceberg REST catalog API (Nessie, Apache Polaris, Lakekeeper, Gravitino, AWS S3
 * Tables / Glue): config, namespaces, load / create / commit with requirements, OAuth2 client
 * credentials or bearer tokens. 409 on commit is a conflict (reload and retry); 5xx on commit is
 * an unknown outcome (the writer checks the table before retrying).
 */
export class RestCatalog implements Catalog {
  readonly kind = 'rest' as const;
  readonly description: string;
  private readonly options: RestCatalogOptions;
  private readonly base: string;
  private prefix: string | undefined;
  private token: string | undefined;
  private configured: Promise<void> | undefined;
  private readonly fetchImpl: typeof fetch;
  private tokenUri: string | undefined;

  constructor(options: RestCatalogOptions) {
    this.options = options;
    this.base = options.uri.replace(/\/+$/, '');
    this.token = options.token;
    this.fetchImpl = options.fetch ?? fetch;
    this.description = `REST catalog ${this.base}`;
  }

  defaultLocation(id: TableIdentifier): string {
    if (!this.options.warehouse) throw new DativoError(`${this.description} decides table locations; set target.warehouse to create tables here`, { kind: 'config' });
    return warehouseLocation(this.options.warehouse, id);
  }

  private async authenticate(): Promise<void> {
    if (!this.options.credential) return;
    const [clientId, ...rest] = this.options.credential.split(':');
    const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId ?? '', client_secret: rest.join(':'), scope: this.options.scope ?? 'catalog' });
    const uri = this.tokenUri ?? this.options.oauth2ServerUri ?? `${this.base}/v1/oauth/tokens`;
    let res: Response;
    try {
      res = await this.fetchImpl(uri, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body, signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000) });
    } catch (error) {
      throw this.unreachable(error);
    }
    const text = await res.text();
    if (!res.ok) {
      const detail = (() => {
        try {
          const j = JSON.parse(text) as { error?: string | { message?: string }; error_description?: string };
          return j.error_description ?? (typeof j.error === 'string' ? j.error : j.error?.message) ?? '';
        } catch {
          return '';
        }
      })();
      throw new DativoError(`${this.description}: OAuth2 token request was refused (${res.status}${detail ? `: ${detail}` : ''}); check the client id and secret`, { kind: 'permanent', statusCode: res.status, code: 'ICEBERG_CATALOG_AUTH' });
    }
    this.token = (JSON.parse(text) as { access_token?: string }).access_token;
    if (!this.token) throw new DativoError(`${this.description}: the token endpoint returned no access_token`, { kind: 'permanent', code: 'ICEBERG_CATALOG_AUTH' });
  }

  private unreachable(error: unknown): DativoError {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const code = cause?.code ?? cause?.message ?? (error as Error).message;
    return new DativoError(`${this.description} is unreachable (${code ?? (error as Error).message}); check target.catalog.uri (or target.connection.nessie.uri) and the network`, {
      kind: 'network',
      code: 'ICEBERG_CATALOG_UNREACHABLE',
      cause: error,
    });
  }

  private async request<T>(method: string, path: string, body?: unknown, query?: Record<string, string>): Promise<T | undefined> {
    const url = new URL(`${this.base}${path}`);
    for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, v);
    const send = async (): Promise<Response> => {
      try {
        return await this.fetchImpl(url, {
          method,
          headers: {
            accept: 'application/json',
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
            ...this.options.headers,
          },
          ...(body === undefined ? {} : { body: stringifyJsonLossless(body) }),
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 60_000),
        });
      } catch (error) {
        throw this.unreachable(error);
      }
    };
    let res = await send();
    if (res.status === 401 && this.options.credential) {
      await this.authenticate();
      res = await send();
    }
    const text = await res.text();
    if (res.status === 204 || (res.ok && text === '')) return undefined;
    if (res.ok) return parseJsonLossless(text) as T;
    let model: ErrorModel = {};
    try {
      model = JSON.parse(text) as ErrorModel;
    } catch {
      // not JSON
    }
    throw new HttpError(res.status, model.error?.type, model.error?.message ?? (text.slice(0, 200) || res.statusText), res.headers);
  }

  /** A read, retried (through the run's resilience when there is one): reads are safe to repeat. */
  private read<T>(endpoint: string, fn: () => Promise<T>, policy: Partial<RetryPolicy>): Promise<T> {
    return this.options.resilience ? this.options.resilience.call(fn, { endpoint, policy }) : withRetry(fn, { policy });
  }

  private fail(action: string, error: unknown): never {
    if (HttpError.isInstance(error)) {
      if (error.status === 401) throw new DativoError(`${this.description} refused the credentials (401) while trying to ${action}: ${error.message}`, { kind: 'permanent', statusCode: 401, code: 'ICEBERG_CATALOG_AUTH' });
      if (error.status === 403) throw new DativoError(`${this.description} denied access (403) while trying to ${action}: ${error.message}`, { kind: 'permanent', statusCode: 403, code: 'ICEBERG_CATALOG_FORBIDDEN' });
      const kind = error.status >= 500 || error.status === 429 ? 'transient' : error.status === 404 ? 'permanent' : 'validation';
      throw new DativoError(`${this.description} failed to ${action} (${error.status}${error.type ? ` ${error.type}` : ''}): ${error.message}`, { kind, statusCode: error.status, code: 'ICEBERG_CATALOG_ERROR' });
    }
    throw error;
  }

  private ensureConfig(): Promise<void> {
    this.configured ??= (async () => {
      if (!this.token && this.options.credential) await this.authenticate();
      let config: { defaults?: Record<string, string>; overrides?: Record<string, string> } | undefined;
      try {
        config = await this.read('GET /v1/config', () => this.request('GET', '/v1/config', undefined, this.options.warehouse ? { warehouse: this.options.warehouse } : undefined), { maxRetries: 2, baseDelayMs: 200 });
      } catch (error) {
        this.fail('read its configuration', error);
      }
      const props = { ...config?.defaults, ...config?.overrides };
      if (props['oauth2-server-uri']) this.tokenUri = props['oauth2-server-uri'];
      let prefix = this.options.prefix ?? props.prefix;
      if (this.options.branch) prefix = prefix?.includes('|') ? `${this.options.branch}|${prefix.split('|').slice(1).join('|')}` : this.options.branch;
      this.prefix = prefix;
    })();
    return this.configured;
  }

  private path(...parts: string[]): string {
    return `/v1/${this.prefix ? `${encodeURIComponent(this.prefix)}/` : ''}${parts.join('/')}`;
  }

  private ns(namespace: string[]): string {
    return encodeURIComponent(namespace.join('\u001f'));
  }

  async namespaceExists(namespace: string[]): Promise<boolean> {
    await this.ensureConfig();
    try {
      await this.request('GET', this.path('namespaces', this.ns(namespace)));
      return true;
    } catch (error) {
      if (HttpError.isInstance(error) && error.status === 404) return false;
      return this.fail(`look up namespace ${namespace.join('.')}`, error);
    }
  }

  async createNamespace(namespace: string[]): Promise<void> {
    await this.ensureConfig();
    try {
      await this.request('POST', this.path('namespaces'), { namespace, properties: {} });
    } catch (error) {
      if (HttpError.isInstance(error) && error.status === 409) return;
      this.fail(`create namespace ${namespace.join('.')}`, error);
    }
  }

  async loadTable(id: TableIdentifier): Promise<LoadedTable | undefined> {
    await this.ensureConfig();
    try {
      const r = await this.read('GET /v1/{prefix}/namespaces/{namespace}/tables/{table}', () => this.request<{ 'metadata-location'?: string; metadata: TableMetadata }>('GET', this.path('namespaces', this.ns(id.namespace), 'tables', encodeURIComponent(id.name))), {
        maxRetries: 3,
        baseDelayMs: 200,
      });
      return r ? { metadata: r.metadata, metadataLocation: r['metadata-location'] } : undefined;
    } catch (error) {
      if (HttpError.isInstance(error) && error.status === 404) {
        if (error.type === 'NoSuchNamespaceException') throw new DativoError(`namespace '${id.namespace.join('.')}' does not exist in the ${this.description}; create it, or set target.create_namespace: true`, { kind: 'config', code: 'ICEBERG_NO_NAMESPACE' });
        return undefined;
      }
      return this.fail(`load table ${[...id.namespace, id.name].join('.')}`, error);
    }
  }

  async createTable(id: TableIdentifier, request: CreateTableRequest): Promise<LoadedTable> {
    await this.ensureConfig();
    try {
      const body = {
        name: id.name,
        ...(request.location ? { location: request.location } : {}),
        schema: request.schema,
        'partition-spec': request.spec,
        'write-order': { 'order-id': 0, fields: [] },
        'stage-create': false,
        properties: { 'write.format.default': 'parquet', ...request.properties },
      };
      const r = await this.request<{ 'metadata-location'?: string; metadata: TableMetadata }>('POST', this.path('namespaces', this.ns(id.namespace), 'tables'), body);
      if (!r) throw new DativoError(`${this.description} returned no table metadata`, { kind: 'permanent' });
      return { metadata: r.metadata, metadataLocation: r['metadata-location'] };
    } catch (error) {
      if (HttpError.isInstance(error) && error.status === 409) throw new CommitConflictError(`table ${id.name} was created concurrently`);
      if (HttpError.isInstance(error) && error.status === 404) throw new DativoError(`namespace '${id.namespace.join('.')}' does not exist in the ${this.description}; create it, or set target.create_namespace: true`, { kind: 'config', code: 'ICEBERG_NO_NAMESPACE' });
      return this.fail(`create table ${[...id.namespace, id.name].join('.')}`, error);
    }
  }

  async commitTable(id: TableIdentifier, _base: LoadedTable, requirements: TableRequirement[], updates: TableUpdate[]): Promise<LoadedTable> {
    await this.ensureConfig();
    try {
      const r = await this.request<{ 'metadata-location'?: string; metadata: TableMetadata }>('POST', this.path('namespaces', this.ns(id.namespace), 'tables', encodeURIComponent(id.name)), {
        identifier: { namespace: id.namespace, name: id.name },
        requirements,
        updates,
      });
      if (!r) throw new CommitStateUnknownError(`${this.description} returned no metadata for the commit`);
      return { metadata: r.metadata, metadataLocation: r['metadata-location'] };
    } catch (error) {
      if (HttpError.isInstance(error) && error.status === 409) throw new CommitConflictError(`${this.description}: ${error.message}`);
      if (HttpError.isInstance(error) && (error.status >= 500 || error.status === 408)) throw new CommitStateUnknownError(`${this.description} answered ${error.status} to a commit: ${error.message}`, error);
      if (DativoError.isInstance(error) && error.code === 'ICEBERG_CATALOG_UNREACHABLE') throw new CommitStateUnknownError(error.message, error);
      return this.fail(`commit to ${[...id.namespace, id.name].join('.')}`, error);
    }
  }

  async close(): Promise<void> {}
}
