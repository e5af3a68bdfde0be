import { recordSecret } from './audit.js';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isSafeNumber, parse, stringify } from 'lossless-json';

// The test server reads and writes JSON with an independent library (not the sink's own parser):
// integers past 2^53 (snapshot ids) stay exact as bigints.
const parseJsonLossless = (text: string): unknown => parse(text, null, (value) => (/^-?\d+$/.test(value) && !isSafeNumber(value) ? BigInt(value) : Number(value)));
const stringifyJsonLossless = (value: unknown, indent?: number): string => stringify(value, null, indent) as string;
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';
import { parse as parseYaml } from 'yaml';

/**
 * An in-process Iceberg REST catalog for tests. Every request body (and every table metadata it
 * returns) is validated against the official OpenAPI document; commit requirements are enforced,
 * so optimistic-concurrency conflicts happen as with a real server. Metadata files are written to a
 * local warehouse, so independent readers can read the tables.
 */
export interface RestCatalogServer {
  /** `http://127.0.0.1:<port>` */
  uri: string;
  warehouse: string;
  /** Requests that did not match the OpenAPI document (tests assert it stays empty). */
  violations: string[];
  /** Requests received: `POST /v1/…/tables/t` (for assertions). */
  requests: string[];
  /** Prefixes clients used in table and namespace paths. */
  prefixesUsed: Set<string>;
  /** The next `n` commits fail with this status (500: applied then reported failed; 409: rejected). */
  failCommits(n: number, status: 409 | 500 | 503): void;
  /** The current metadata file of a table. */
  metadataLocation(namespace: string, table: string): string | undefined;
  /** Creates a namespace (`a.b` for nested levels). */
  createNamespace(namespace: string): void;
  stop(): Promise<void>;
}

export interface RestCatalogServerOptions {
  /** Local directory for table data and metadata. */
  warehouse: string;
  /** Prefix the server advertises in /v1/config (like Nessie's `main|warehouse`). */
  prefix?: string;
  /** OAuth2 client credentials the token endpoint accepts. */
  clients?: Record<string, string>;
  /** Bearer tokens accepted without the token endpoint. */
  tokens?: string[];
  /** Tokens that authenticate but may not write (403). */
  readOnlyTokens?: string[];
  /** Path the API is served under (Nessie serves it at `/iceberg`). */
  basePath?: string;
  /** Other prefixes accepted besides the advertised one (Nessie: `<branch>|<warehouse>`). */
  acceptPrefixes?: string[];
  /**
   * Named warehouses (Polaris, Lakekeeper): `GET /v1/config?warehouse=<name>` answers with the
   * prefix given here; another name is refused. Their prefixes are accepted in paths.
   */
  warehouseNames?: Record<string, string>;
}

interface Table {
  metadata: Record<string, any>;
  location: string;
  version: number;
}

const SPEC_FILE = fileURLToPath(new URL('../fixtures/iceberg/rest-catalog-open-api.yaml', import.meta.url));

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

function validators(): Record<string, ValidateFunction> {
  const spec = parseYaml(readFileSync(SPEC_FILE, 'utf8')) as Record<string, unknown>;
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false, discriminator: false });
  ajv.addSchema({ $id: 'iceberg-rest', components: (spec as { components: unknown }).components });
  const get = (name: string): ValidateFunction => ajv.compile({ $ref: `iceberg-rest#/components/schemas/${name}` });
  return {
    CreateNamespaceRequest: get('CreateNamespaceRequest'),
    CreateTableRequest: get('CreateTableRequest'),
    CommitTableRequest: get('CommitTableRequest'),
    TableMetadata: get('TableMetadata'),
    OAuthTokenRequest: get('OAuthClientCredentialsRequest'),
  };
}

function branchHead(m: Record<string, any>, ref: string): bigint | null {
  const r = m.refs?.[ref];
  const id = r ? r['snapshot-id'] : ref === 'main' ? m['current-snapshot-id'] : undefined;
  return id === undefined || id === null || BigInt(id) === -1n ? null : BigInt(id);
}

/** Requirement checks and update application, written independently of the sink. */
function commit(table: Table | undefined, body: { requirements: any[]; updates: any[] }): Record<string, any> {
  for (const r of body.requirements) {
    const fail = (what: string): never => {
      throw new ApiError(409, 'CommitFailedException', `Requirement failed: ${what}`);
    };
    if (r.type === 'assert-create') {
      if (table) fail('table already exists');
      continue;
    }
    if (!table) throw new ApiError(404, 'NoSuchTableException', 'Table does not exist');
    const m = table.metadata;
    if (r.type === 'assert-table-uuid' && m['table-uuid'] !== r.uuid) fail('table uuid');
    if (r.type === 'assert-ref-snapshot-id') {
      const head = branchHead(m, r.ref);
      const want = r['snapshot-id'] === null || r['snapshot-id'] === undefined ? null : BigInt(r['snapshot-id']);
      if (head !== want) fail(`branch ${r.ref} has changed (expected ${want}, is ${head})`);
    }
    if (r.type === 'assert-current-schema-id' && m['current-schema-id'] !== r['current-schema-id']) fail('current schema changed');
    if (r.type === 'assert-last-assigned-field-id' && m['last-column-id'] !== r['last-assigned-field-id']) fail('last assigned field id changed');
    if (r.type === 'assert-default-spec-id' && m['default-spec-id'] !== r['default-spec-id']) fail('default spec changed');
  }
  if (!table) throw new ApiError(404, 'NoSuchTableException', 'Table does not exist');
  const m = structuredClone(table.metadata);
  let lastSchema: number | undefined;
  for (const u of body.updates) {
    switch (u.action) {
      case 'add-schema':
        m.schemas.push(u.schema);
        m['last-column-id'] = Math.max(m['last-column-id'], u['last-column-id'] ?? 0);
        lastSchema = u.schema['schema-id'];
        break;
      case 'set-current-schema':
        m['current-schema-id'] = u['schema-id'] === -1 ? lastSchema : u['schema-id'];
        break;
      case 'add-snapshot':
        if (BigInt(u.snapshot['sequence-number']) <= BigInt(m['last-sequence-number'])) throw new ApiError(409, 'CommitFailedException', 'stale sequence number');
        m.snapshots = [...(m.snapshots ?? []), u.snapshot];
        m['last-sequence-number'] = u.snapshot['sequence-number'];
        break;
      case 'set-snapshot-ref': {
        const { action: _a, 'ref-name': name, ...ref } = u;
        m.refs = { ...m.refs, [name]: ref };
        if (name === 'main') {
          m['current-snapshot-id'] = ref['snapshot-id'];
          m['snapshot-log'] = [...(m['snapshot-log'] ?? []), { 'timestamp-ms': Date.now(), 'snapshot-id': ref['snapshot-id'] }];
        }
        break;
      }
      case 'remove-snapshots': {
        const gone = new Set((u['snapshot-ids'] as Array<number | bigint>).map((x) => BigInt(x)));
        m.snapshots = (m.snapshots ?? []).filter((s: any) => !gone.has(BigInt(s['snapshot-id'])));
        m['snapshot-log'] = (m['snapshot-log'] ?? []).filter((s: any) => !gone.has(BigInt(s['snapshot-id'])));
        break;
      }
      case 'set-properties':
        m.properties = { ...m.properties, ...u.updates };
        break;
      case 'remove-properties':
        for (const k of u.removals) delete m.properties?.[k];
        break;
      default:
        throw new ApiError(400, 'BadRequestException', `unsupported update ${u.action}`);
    }
  }
  m['last-updated-ms'] = Date.now();
  return m;
}

export async function startRestCatalog(options: RestCatalogServerOptions): Promise<RestCatalogServer> {
  const v = validators();
  const namespaces = new Set<string>();
  const tables = new Map<string, Table>();
  const issued = new Set<string>(options.tokens ?? []);
  const readOnly = new Set(options.readOnlyTokens ?? []);
  for (const token of [...issued, ...readOnly]) recordSecret(token, 'Iceberg REST catalog token');
  for (const secret of Object.values(options.clients ?? {})) recordSecret(secret, 'Iceberg REST catalog client secret');
  const violations: string[] = [];
  const requests: string[] = [];
  const prefixesUsed = new Set<string>();
  let failures: { n: number; status: number } = { n: 0, status: 500 };
  const warehouse = path.resolve(options.warehouse);
  const prefix = options.prefix;
  const authRequired = Boolean(options.clients || options.tokens || options.readOnlyTokens);

  const check = (name: string, value: unknown, what: string): void => {
    const validate = v[name] as ValidateFunction;
    if (!validate(JSON.parse(stringifyJsonLossless(value)))) violations.push(`${what}: ${JSON.stringify(validate.errors?.slice(0, 3))}`);
  };

  const writeMetadata = (t: Table, ns: string, name: string): string => {
    t.version++;
    const dir = path.join(warehouse, ...ns.split('\u001f'), name, 'metadata');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${String(t.version).padStart(5, '0')}-${randomUUID()}.metadata.json`);
    writeFileSync(file, stringifyJsonLossless(t.metadata, 2));
    return pathToFileURL(file).href;
  };
  const locations = new Map<string, string>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (options.basePath && url.pathname.startsWith(options.basePath)) url.pathname = url.pathname.slice(options.basePath.length);
    const method = req.method ?? 'GET';
    requests.push(`${method} ${url.pathname}`);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const send = (status: number, body?: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body === undefined ? '' : stringifyJsonLossless(body));
    };
    try {
      if (url.pathname === '/v1/oauth/tokens' && method === 'POST') {
        const form = Object.fromEntries(new URLSearchParams(text));
        check('OAuthTokenRequest', form, 'POST /v1/oauth/tokens');
        if (!options.clients || options.clients[form.client_id ?? ''] !== form.client_secret) {
          send(401, { error: 'invalid_client', error_description: 'bad client credentials' });
          return;
        }
        const token = randomBytes(12).toString('hex');
        issued.add(token);
        recordSecret(token, 'Iceberg REST catalog token');
        send(200, { access_token: token, token_type: 'bearer', expires_in: 3600, issued_token_type: 'urn:ietf:params:oauth:token-type:access_token' });
        return;
      }
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (authRequired && (!token || (!issued.has(token) && !readOnly.has(token)))) throw new ApiError(401, 'NotAuthorizedException', 'Not authorized: missing or invalid token');
      if (url.pathname === '/v1/config' && method === 'GET') {
        const name = url.searchParams.get('warehouse');
        if (name !== null && options.warehouseNames) {
          const named = options.warehouseNames[name];
          if (named === undefined) throw new ApiError(400, 'BadRequestException', `unknown warehouse '${name}'`);
          send(200, { defaults: {}, overrides: { prefix: named } });
          return;
        }
        send(200, { defaults: {}, overrides: prefix ? { prefix } : {} });
        return;
      }
      const m = /^\/v1\/(?:([^/]+)\/)?namespaces(?:\/([^/]+))?(?:\/tables(?:\/([^/]+))?)?$/.exec(url.pathname);
      if (!m) throw new ApiError(404, 'NoSuchEndpointException', `no route ${method} ${url.pathname}`);
      const [, pfx, nsRaw, tableRaw] = m;
      const given = decodeURIComponent(pfx ?? '');
      const accepted = [...(options.acceptPrefixes ?? []), ...Object.values(options.warehouseNames ?? {})];
      if ((prefix !== undefined || accepted.length > 0) && given !== prefix && !accepted.includes(given)) throw new ApiError(404, 'NoSuchEndpointException', `unknown prefix ${pfx}`);
      prefixesUsed.add(given);
      const write = method !== 'GET' && method !== 'HEAD';
      if (write && token && readOnly.has(token)) throw new ApiError(403, 'ForbiddenException', 'Forbidden: principal may not write');
      const body = text ? parseJsonLossless(text) : undefined;
      const ns = nsRaw === undefined ? undefined : decodeURIComponent(nsRaw);
      if (!ns) {
        if (method !== 'POST') throw new ApiError(405, 'BadRequestException', 'method not allowed');
        check('CreateNamespaceRequest', body, 'POST namespaces');
        const name = ((body as { namespace: string[] }).namespace ?? []).join('\u001f');
        if (namespaces.has(name)) throw new ApiError(409, 'AlreadyExistsException', 'Namespace already exists');
        namespaces.add(name);
        send(200, { namespace: (body as { namespace: string[] }).namespace, properties: {} });
        return;
      }
      if (!namespaces.has(ns)) throw new ApiError(404, 'NoSuchNamespaceException', `Namespace does not exist: ${ns.split('\u001f').join('.')}`);
      if (tableRaw === undefined && !url.pathname.endsWith('/tables')) {
        send(200, { namespace: ns.split('\u001f'), properties: {} });
        return;
      }
      if (tableRaw === undefined) {
        if (method !== 'POST') throw new ApiError(405, 'BadRequestException', 'method not allowed');
        check('CreateTableRequest', body, 'POST tables');
        const b = body as Record<string, any>;
        const key = `${ns}\u0000${b.name}`;
        if (tables.has(key)) throw new ApiError(409, 'AlreadyExistsException', 'Table already exists');
        const location = b.location ?? pathToFileURL(path.join(warehouse, ...ns.split('\u001f'), b.name)).href;
        const spec = b['partition-spec'] ?? { 'spec-id': 0, fields: [] };
        const metadata = {
          'format-version': 2,
          'table-uuid': randomUUID(),
          location,
          'last-sequence-number': 0,
          'last-updated-ms': Date.now(),
          'last-column-id': Math.max(0, ...collectIds(b.schema)),
          schemas: [{ ...b.schema, 'schema-id': 0 }],
          'current-schema-id': 0,
          'partition-specs': [{ ...spec, 'spec-id': 0 }],
          'default-spec-id': 0,
          'last-partition-id': Math.max(999, ...(spec.fields ?? []).map((f: any) => f['field-id'])),
          properties: b.properties ?? {},
          'current-snapshot-id': -1,
          snapshots: [],
          'snapshot-log': [],
          'metadata-log': [],
          'sort-orders': [{ 'order-id': 0, fields: [] }],
          'default-sort-order-id': 0,
          refs: {},
        };
        const t: Table = { metadata, location, version: -1 };
        tables.set(key, t);
        const file = writeMetadata(t, ns, b.name);
        locations.set(key, file);
        check('TableMetadata', metadata, 'created table metadata');
        send(200, { 'metadata-location': file, metadata, config: {} });
        return;
      }
      const name = decodeURIComponent(tableRaw);
      const key = `${ns}\u0000${name}`;
      const t = tables.get(key);
      if (method === 'GET') {
        if (!t) throw new ApiError(404, 'NoSuchTableException', `Table does not exist: ${name}`);
        check('TableMetadata', t.metadata, 'loaded table metadata');
        send(200, { 'metadata-location': locations.get(key), metadata: t.metadata, config: {} });
        return;
      }
      if (method !== 'POST') throw new ApiError(405, 'BadRequestException', 'method not allowed');
      check('CommitTableRequest', body, `POST table ${name}`);
      if (failures.n > 0 && failures.status === 409) {
        failures.n--;
        throw new ApiError(409, 'CommitFailedException', 'injected conflict');
      }
      const next = commit(t, body as { requirements: any[]; updates: any[] });
      if (!t) throw new ApiError(404, 'NoSuchTableException', `Table does not exist: ${name}`);
      const previous = locations.get(key);
      next['metadata-log'] = [...(next['metadata-log'] ?? []), ...(previous ? [{ 'timestamp-ms': t.metadata['last-updated-ms'], 'metadata-file': previous }] : [])];
      t.metadata = next;
      const file = writeMetadata(t, ns, name);
      locations.set(key, file);
      check('TableMetadata', next, 'committed table metadata');
      if (failures.n > 0) {
        failures.n--;
        throw new ApiError(failures.status, 'ServiceFailureException', 'injected failure after the commit was applied');
      }
      send(200, { 'metadata-location': file, metadata: next });
    } catch (error) {
      if (error instanceof ApiError) send(error.status, { error: { message: error.message, type: error.type, code: error.status } });
      else send(500, { error: { message: (error as Error).message, type: 'ServiceFailureException', code: 500 } });
    }
  };

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    uri: `http://127.0.0.1:${port}`,
    warehouse,
    violations,
    requests,
    prefixesUsed,
    failCommits: (n, status) => {
      failures = { n, status };
    },
    metadataLocation: (namespace, table) => locations.get(`${namespace.split('.').join('\u001f')}\u0000${table}`),
    createNamespace: (namespace) => void namespaces.add(namespace.split('.').join('\u001f')),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function collectIds(type: any): number[] {
  if (!type || typeof type !== 'object') return [];
  const ids: number[] = [];
  for (const f of type.fields ?? []) ids.push(f.id, ...collectIds(f.type));
  if (type['element-id'] !== undefined) ids.push(type['element-id'], ...collectIds(type.element));
  return ids;
}
