import { z } from 'zod';
import { createSign } from 'node:crypto';
import { DativoError, storeSecret, type RunContext } from '@dativo/core';
import { requestForm } from './form.js';

/** Adds credentials to a request; `refresh` is called once after a 401 when the auth can renew itself. */
export interface Auth {
  headers(ctx: RunContext): Promise<Record<string, string>>;
  /** Renews the credential after the API said it expired; false when it cannot (a fixed key). */
  refresh?(ctx: RunContext): Promise<boolean>;
}

/** A key sent in a header (`Authorization: Bearer <key>` by default, or `X-Api-Key: <key>`). */
export function apiKeyAuth(key: string, header = 'authorization', scheme: string | null = 'Bearer'): Auth {
  const value = scheme ? `${scheme} ${key}` : key;
  return { headers: async () => ({ [header]: value }) };
}

export const bearerAuth = (token: string): Auth => apiKeyAuth(token);

/** HTTP Basic (Stripe accepts its key as the user name with an empty password). */
export function basicAuth(user: string, password = ''): Auth {
  const value = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  return { headers: async () => ({ authorization: value }) };
}

interface TokenAnswer {
  access_token?: string;
  expires_in?: number;
  refresh_token?: string;
  error?: string;
  error_description?: string;
}

/** An access token kept until shortly before it expires. */
abstract class TokenAuth implements Auth {
  private token: { value: string; until: number } | undefined;
  private pending: Promise<string> | undefined;

  protected abstract fetchToken(ctx: RunContext): Promise<TokenAnswer>;
  protected abstract describe(): string;

  async headers(ctx: RunContext): Promise<Record<string, string>> {
    if (!this.token || Date.now() > this.token.until) {
      this.pending ??= this.renew(ctx).finally(() => (this.pending = undefined));
      await this.pending;
    }
    return { authorization: `Bearer ${(this.token as { value: string }).value}` };
  }

  async refresh(ctx: RunContext): Promise<boolean> {
    this.token = undefined;
    await this.headers(ctx);
    return true;
  }

  private async renew(ctx: RunContext): Promise<string> {
    const answer = await this.fetchToken(ctx);
    if (!answer.access_token) {
      throw new DativoError(`${this.describe()}: the token endpoint gave no access token${answer.error ? ` (${answer.error}${answer.error_description ? `: ${answer.error_description}` : ''})` : ''}`, {
        kind: 'config',
        code: 'OAUTH_NO_TOKEN',
      });
    }
    // Renew a minute early so a token never expires between the check and the request.
    const lifetime = (answer.expires_in ?? 3600) * 1000;
    this.token = { value: answer.access_token, until: Date.now() + Math.max(lifetime - 60_000, lifetime / 2) };
    return answer.access_token;
  }
}

export interface OAuth2RefreshOptions {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  /**
   * The secret the refresh token came from: a rotated token is stored there through the run's
   * secret store (`ctx.secrets`), so the next run starts from it. When the store cannot keep
   * values (environment variables), the run warns that the new token must be saved by hand.
   */
  secretName?: string;
  /** Also called with a rotated refresh token (after it is stored). */
  onRotated?: (refreshToken: string) => Promise<void>;
  /** The config field holding the refresh token, named in errors. */
  field?: string;
}

/** OAuth2 refresh-token flow: an access token from the refresh token, renewed when it expires or after a 401. */
export class OAuth2RefreshAuth extends TokenAuth {
  private refreshToken: string;
  private readonly options: OAuth2RefreshOptions;

  constructor(options: OAuth2RefreshOptions) {
    super();
    this.options = options;
    this.refreshToken = options.refreshToken;
  }

  protected describe(): string {
    return `OAuth2 token endpoint ${new URL(this.options.tokenUrl).origin}`;
  }

  protected async fetchToken(ctx: RunContext): Promise<TokenAnswer> {
    const answer = await requestForm<TokenAnswer>(ctx, this.options.tokenUrl, {
      grant_type: 'refresh_token',
      refresh_token: this.refreshToken,
      client_id: this.options.clientId,
      client_secret: this.options.clientSecret,
    }, this.describe());
    if (answer.error === 'invalid_grant') {
      throw new DativoError(`${this.describe()}: auth expired: the refresh token in ${this.options.field ?? 'refresh_token'} was revoked or has expired; authorise the app again and update the secret`, {
        kind: 'config',
        code: 'AUTH_EXPIRED',
      });
    }
    if (answer.refresh_token && answer.refresh_token !== this.refreshToken) {
      this.refreshToken = answer.refresh_token;
      await this.persist(ctx, answer.refresh_token);
      await this.options.onRotated?.(answer.refresh_token);
    }
    return answer;
  }

  private async persist(ctx: RunContext, token: string): Promise<void> {
    const name = this.options.secretName;
    if (!name) return;
    if (await storeSecret(ctx.secrets, name, token)) {
      ctx.log.info('stored the rotated OAuth refresh token', { secret: name });
      return;
    }
    ctx.log.warn(`${this.describe()} rotated the refresh token, and the secret store cannot keep values: this run goes on, but the next run needs the new token in ${name} (use a secret store that can store, e.g. --secret-manager filesystem)`, { secret: name });
  }
}

export interface ServiceAccountOptions {
  /** The service account's e-mail (`client_email` of a Google key file). */
  clientEmail: string;
  /** PEM private key (`private_key`). */
  privateKey: string;
  tokenUrl: string;
  scopes: readonly string[];
  /** Domain-wide delegation: the user to act as. */
  subject?: string;
}

const b64url = (data: string | Buffer): string => Buffer.from(data).toString('base64url');

/** Service-account JWT bearer flow (RFC 7523, as Google uses): a signed assertion exchanged for an access token. */
export class ServiceAccountAuth extends TokenAuth {
  private readonly options: ServiceAccountOptions;

  constructor(options: ServiceAccountOptions) {
    super();
    this.options = options;
  }

  protected describe(): string {
    return `service account ${this.options.clientEmail}`;
  }

  /** The signed assertion (RS256), valid for an hour. */
  assertion(now = Math.floor(Date.now() / 1000)): string {
    const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }));
    const claims = b64url(
      JSON.stringify({ iss: this.options.clientEmail, scope: this.options.scopes.join(' '), aud: this.options.tokenUrl, iat: now, exp: now + 3600, ...(this.options.subject ? { sub: this.options.subject } : {}) }),
    );
    let signature: string;
    try {
      signature = createSign('RSA-SHA256').update(`${header}.${claims}`).sign(this.options.privateKey, 'base64url');
    } catch (error) {
      throw new DativoError(`${this.describe()}: the private key cannot sign (${(error as Error).message.split('\n')[0]}); expected a PEM RSA key`, { kind: 'config', code: 'JWT_KEY' });
    }
    return `${header}.${claims}.${signature}`;
  }

  protected fetchToken(ctx: RunContext): Promise<TokenAnswer> {
    return requestForm<TokenAnswer>(ctx, this.options.tokenUrl, { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: this.assertion() }, this.describe());
  }
}

/**
 * The `oauth:` section of a connector whose API takes OAuth2 refresh tokens (an app's client id and
 * secret, a refresh token), for {@link OAuth2RefreshAuth}; `token_url` defaults per API.
 */
export const oauthRefreshConfigSchema = z.object({
  client_id: z.string().min(1),
  client_secret: z.string().min(1),
  refresh_token: z.string().min(1),
  /** The secret holding the refresh token, where a rotated one is stored (`--secret-manager filesystem`). */
  refresh_token_secret: z.string().min(1).optional(),
  token_url: z.string().url().optional(),
});
export type OAuthRefreshConfig = z.output<typeof oauthRefreshConfigSchema>;
