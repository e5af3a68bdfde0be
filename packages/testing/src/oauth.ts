import { recordSecret } from './audit.js';
import type { FakeHttpServer, HttpReply, RecordedRequest } from './http.js';

export interface FakeOAuthOptions {
  /** Token endpoint path on the server; default `/oauth/token`. */
  path?: string;
  clientId: string;
  clientSecret: string;
  /** The refresh token the endpoint accepts at first. */
  refreshToken: string;
  /** Issue a new refresh token with every access token (and refuse the old one), as HubSpot does. */
  rotate?: boolean;
  /** `expires_in` of access tokens, seconds; default 1800. */
  lifetimeSeconds?: number;
}

/**
 * An OAuth2 authorization server's token endpoint (RFC 6749 §6, refresh-token grant) on a fake
 * API server, and the bearer check of the API's routes: tokens can be expired or the grant
 * revoked mid-run, to test refresh on 401, rotation and revocation.
 */
export interface FakeOAuth {
  tokenUrl: string;
  /** The refresh token currently accepted. */
  readonly refreshToken: string;
  /** Access tokens issued so far, oldest first. */
  readonly issued: readonly string[];
  /** Token requests received. */
  readonly tokenRequests: number;
  /** Every access token issued so far stops working (the API answers 401 until a refresh). */
  expireAccessTokens(): void;
  /** The grant is revoked: refreshes fail with `invalid_grant`, access tokens stop working. */
  revoke(): void;
  /** Undefined when the request carries a live access token, else the 401 to answer. */
  check(request: RecordedRequest): HttpReply | undefined;
}

export function fakeOAuth(server: FakeHttpServer, options: FakeOAuthOptions, unauthorized: HttpReply = { status: 401, body: { status: 'error', category: 'EXPIRED_AUTHENTICATION', message: 'The OAuth token used to make this call expired.' } }): FakeOAuth {
  const path = options.path ?? '/oauth/token';
  let refreshToken = options.refreshToken;
  recordSecret(options.clientSecret, 'OAuth client secret');
  recordSecret(refreshToken, 'OAuth refresh token');
  let revoked = false;
  let tokenRequests = 0;
  const live = new Set<string>();
  const issued: string[] = [];
  const error = (code: string, description: string): HttpReply => ({ status: 400, body: { error: code, error_description: description } });
  server.route('POST', path, (req) => {
    tokenRequests++;
    const form = req.form();
    if (form.get('client_id') !== options.clientId || form.get('client_secret') !== options.clientSecret) return { status: 401, body: { error: 'invalid_client', error_description: 'unknown client or wrong secret' } };
    if (form.get('grant_type') !== 'refresh_token') return error('unsupported_grant_type', `grant_type ${form.get('grant_type')} is not supported`);
    if (revoked || form.get('refresh_token') !== refreshToken) return error('invalid_grant', 'refresh token is invalid, expired or revoked');
    const token = `at-${issued.length + 1}-${Math.random().toString(36).slice(2, 10)}`;
    recordSecret(token, 'OAuth access token');
    issued.push(token);
    live.add(token);
    if (options.rotate) refreshToken = `rt-${issued.length}-${Math.random().toString(36).slice(2, 10)}`;
    recordSecret(refreshToken, 'OAuth refresh token');
    return { body: { token_type: 'bearer', access_token: token, expires_in: options.lifetimeSeconds ?? 1800, refresh_token: refreshToken } };
  });
  return {
    tokenUrl: `${server.url}${path}`,
    get refreshToken() {
      return refreshToken;
    },
    issued,
    get tokenRequests() {
      return tokenRequests;
    },
    expireAccessTokens: () => live.clear(),
    revoke() {
      revoked = true;
      live.clear();
    },
    check(req) {
      const auth = String(req.headers.authorization ?? '');
      return auth.startsWith('Bearer ') && live.has(auth.slice(7)) ? undefined : unauthorized;
    },
  };
}
