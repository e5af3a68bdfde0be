import { createVerify, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { recordPrivateKey, recordSecret } from './audit.js';
import type { FakeHttpServer, HttpReply, RecordedRequest } from './http.js';

/** Google's error body (`{ error: { code, message, errors: [{ domain, reason, message }], status } }`). */
export function googleErrorReply(code: number, status: string, reason: string, message: string, headers?: Record<string, string>): HttpReply {
  const domain = reason.includes('RateLimit') || reason === 'quotaExceeded' ? 'usageLimits' : 'global';
  return { status: code, ...(headers ? { headers } : {}), body: { error: { code, message, errors: [{ domain, reason, message }], status } } };
}

/**
 * A Google account on a fake API server: a service account key whose `token_uri` is the server's
 * `/token` (the JWT bearer grant, the assertion's RS256 signature checked against the key's public
 * half, `iss`/`aud`/`exp` checked), and the bearer check of the API's routes.
 */
export interface FakeGoogleAccount {
  /** The key file's JSON, as Google issues it. */
  serviceAccountKey: Record<string, string>;
  /** Tokens the token endpoint issued. */
  readonly tokensIssued: number;
  /** Every access token issued so far stops working. */
  expireAccessTokens(): void;
  /** Adds an access token (from another grant, such as a fake OAuth endpoint) the API accepts. */
  accept(token: string): void;
  /** Undefined when the request carries a live token, else Google's 401. */
  check(request: RecordedRequest): HttpReply | undefined;
}

export function fakeGoogleAccount(server: FakeHttpServer): FakeGoogleAccount {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const tokens = new Set<string>();
  let issued = 0;
  recordPrivateKey(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 'Google service account private key');
  const account: FakeGoogleAccount = {
    serviceAccountKey: {
      type: 'service_account',
      project_id: 'dativo-test',
      private_key_id: 'fake0001',
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      client_email: 'ingest@dativo-test.iam.gserviceaccount.com',
      client_id: '100000000000000000001',
      token_uri: `${server.url}/token`,
    },
    get tokensIssued() {
      return issued;
    },
    expireAccessTokens: () => tokens.clear(),
    accept: (token) => void tokens.add(token),
    check(req) {
      const auth = String(req.headers.authorization ?? '');
      if (tokens.has(auth.replace(/^Bearer /, ''))) return undefined;
      return googleErrorReply(401, 'UNAUTHENTICATED', 'authError', 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.');
    },
  };
  server.route('POST', '/token', (req) => {
    const form = req.form();
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return { status: 400, body: { error: 'unsupported_grant_type' } };
    const [h, c, sig] = (form.get('assertion') ?? '').split('.');
    if (!h || !c || !sig || !createVerify('RSA-SHA256').update(`${h}.${c}`).verify(publicKey as KeyObject, sig, 'base64url')) return { status: 400, body: { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' } };
    const claims = JSON.parse(Buffer.from(c, 'base64url').toString()) as { iss?: string; aud?: string; exp?: number; scope?: string };
    const key = account.serviceAccountKey;
    if (claims.iss !== key.client_email || claims.aud !== key.token_uri || (claims.exp ?? 0) * 1000 < Date.now()) return { status: 400, body: { error: 'invalid_grant', error_description: 'Invalid JWT: claims' } };
    if (!claims.scope) return { status: 400, body: { error: 'invalid_scope', error_description: 'Invalid OAuth scope or ID token audience provided.' } };
    const token = `ya29.fake-${randomBytes(12).toString('hex')}`;
    tokens.add(token);
    issued++;
    recordSecret(token, 'Google access token');
    return { body: { access_token: token, expires_in: 3599, token_type: 'Bearer' } };
  });
  return account;
}

/** The part of a Google discovery document (`../shared/reference/google/*.json`) the check reads. */
export interface DiscoveryDocument {
  servicePath?: string;
  parameters?: Record<string, DiscoveryParameter>;
  resources?: Record<string, DiscoveryResource>;
}
interface DiscoveryParameter {
  location?: string;
  enum?: string[];
  type?: string;
  repeated?: boolean;
  required?: boolean;
}
interface DiscoveryResource {
  methods?: Record<string, { id: string; httpMethod: string; path: string; parameters?: Record<string, DiscoveryParameter> }>;
  resources?: Record<string, DiscoveryResource>;
}

interface Method {
  id: string;
  httpMethod: string;
  pattern: RegExp;
  names: string[];
  parameters: Record<string, DiscoveryParameter>;
}

/**
 * Requests checked against a discovery document: the method (HTTP verb and path template), and
 * every query parameter — known to the method or the API, enum values among those listed,
 * required ones present. A fake answers a request the real API would refuse with the same 400.
 */
export class DiscoveryContract {
  private readonly methods: Method[] = [];
  private readonly global: Record<string, DiscoveryParameter>;

  constructor(doc: DiscoveryDocument) {
    this.global = doc.parameters ?? {};
    const prefix = `/${doc.servicePath ?? ''}`;
    const walk = (r: DiscoveryResource) => {
      for (const m of Object.values(r.methods ?? {})) {
        const names: string[] = [];
        const source = (prefix + m.path).replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{\+?(\w+)\}/g, (_, name: string) => {
          names.push(name);
          return '([^/]+?)';
        });
        this.methods.push({ id: m.id, httpMethod: m.httpMethod, pattern: new RegExp(`^${source}$`), names, parameters: m.parameters ?? {} });
      }
      for (const sub of Object.values(r.resources ?? {})) walk(sub);
    };
    walk(doc);
  }

  /** The method a request calls, or undefined. */
  methodOf(req: Pick<RecordedRequest, 'method' | 'path'>): { id: string; params: Record<string, string> } | undefined {
    for (const m of this.methods) {
      if (m.httpMethod !== req.method) continue;
      const match = m.pattern.exec(req.path);
      if (match) return { id: m.id, params: Object.fromEntries(m.names.map((n, i) => [n, decodeURIComponent(match[i + 1] as string)])) };
    }
    return undefined;
  }

  /** Google's 400 for a request the API would refuse; undefined when it is valid. */
  violation(req: Pick<RecordedRequest, 'method' | 'path' | 'query'>): HttpReply | undefined {
    const found = this.methodOf(req);
    if (!found) return googleErrorReply(404, 'NOT_FOUND', 'notFound', `no method of the discovery document answers ${req.method} ${req.path}`);
    const method = this.methods.find((m) => m.id === found.id) as Method;
    for (const [name, value] of req.query) {
      const p = method.parameters[name] ?? this.global[name];
      if (!p) return googleErrorReply(400, 'INVALID_ARGUMENT', 'badRequest', `Invalid JSON payload received. Unknown name "${name}": Cannot bind query parameter.`);
      if (p.enum && !p.enum.includes(value)) return googleErrorReply(400, 'INVALID_ARGUMENT', 'badRequest', `Invalid value at '${name}' (${p.enum.join(', ')}), "${value}"`);
      if (p.type === 'boolean' && value !== 'true' && value !== 'false') return googleErrorReply(400, 'INVALID_ARGUMENT', 'badRequest', `Invalid value at '${name}' (TYPE_BOOL), "${value}"`);
      if (p.type === 'integer' && !/^-?\d+$/.test(value)) return googleErrorReply(400, 'INVALID_ARGUMENT', 'badRequest', `Invalid value at '${name}' (TYPE_INT32), "${value}"`);
      if (!p.repeated && req.query.getAll(name).length > 1) return googleErrorReply(400, 'INVALID_ARGUMENT', 'badRequest', `'${name}' given more than once`);
    }
    for (const [name, p] of Object.entries(method.parameters)) {
      if (p.required && p.location === 'query' && !req.query.has(name)) return googleErrorReply(400, 'INVALID_ARGUMENT', 'required', `Required parameter: ${name}`);
    }
    return undefined;
  }
}

/** One of Google's discovery documents kept in this package's fixtures (`fixtures/google/`). */
export function googleDiscovery(name: 'drive__v3' | 'sheets__v4'): DiscoveryDocument {
  return JSON.parse(readFileSync(new URL(`../fixtures/google/${name}.json`, import.meta.url), 'utf8')) as DiscoveryDocument;
}
