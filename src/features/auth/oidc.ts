import * as client from 'openid-client';
import type { OidcSettings } from '../../config.ts';
import { HttpError } from '../../http/errors.ts';

/**
 * Sign-in with OpenID Connect through openid-client: authorization code with PKCE (S256), state and
 * nonce checked against what this browser's session sent, the ID token's issuer, audience, expiry,
 * nonce and signature (the provider's JWKS) validated, then the userinfo claims merged in.
 *
 * The provider is discovered on first use, not at start: an identity provider that is down must not
 * take password sign-in and the API down with it. A failed discovery is remembered for RETRY_MS (the
 * sign-in page says single sign-on is unavailable) and tried again after that. main.ts probes the
 * issuer at start-up to stop on a configuration the issuer itself refuses (probeIssuer).
 */

/** How long a failed discovery is remembered before the next sign-in tries again. */
export const RETRY_MS = 30_000;
/** Seconds a request to the provider may take (discovery, token, userinfo, JWKS). */
const TIMEOUT_SECONDS = 10;
/** A sign-in must come back from the provider within this time. */
export const PENDING_TTL_MS = 15 * 60_000;

/** What the session keeps between leaving for the provider and coming back. */
export interface PendingSignIn {
  state: string;
  nonce: string;
  verifier: string;
  /** Where to go after signing in (a same-site path). */
  next: string;
  startedAt: number;
}

/** The person as the provider describes them, after validation. */
export interface OidcIdentity {
  issuer: string;
  subject: string;
  email: string | null;
  emailVerified: boolean;
  preferredUsername: string | null;
  name: string | null;
  groups: string[];
  /** Kept in the session for RP-initiated logout (id_token_hint). */
  idToken: string;
}

/** The provider could not be reached (or answered with an error): a 503 with a sentence. */
export const providerUnavailable = (issuer: string, why: string) =>
  new HttpError(
    503,
    `Single sign-on is unavailable right now: the identity provider at ${new URL(issuer).host} did not answer (${why}). Try again in a minute.`,
  );

const isLoopbackHttp = (url: URL) => url.protocol === 'http:';

/** Why a request to the provider failed, in a few words (never a secret: no request bodies or headers). */
function networkReason(err: unknown): string {
  const e = err as {
    name?: string;
    code?: unknown;
    message?: string;
    cause?: { name?: string; code?: unknown; message?: string; status?: number };
  };
  // A timeout arrives as the error itself or as its cause (a DOMException whose numeric code means nothing to a reader).
  const timedOut = (name?: string) => name === 'TimeoutError' || name === 'AbortError';
  if (timedOut(e?.name) || timedOut(e?.cause?.name)) return 'timed out';
  if (e?.cause && typeof e.cause === 'object' && 'status' in e.cause && typeof e.cause.status === 'number') {
    return `HTTP ${e.cause.status}`;
  }
  const text = (value: unknown) => (typeof value === 'string' && value ? value : undefined);
  return text(e?.cause?.code) ?? text(e?.code) ?? text(e?.cause?.message) ?? text(e?.message) ?? 'no answer';
}

/** A discovery failure that is the issuer's own answer (wrong URL, not an OpenID provider), not an outage. */
function isConfigurationAnswer(err: unknown): boolean {
  const e = err as { code?: string; cause?: { status?: number } };
  if (e?.code === 'OAUTH_RESPONSE_IS_NOT_CONFORM') {
    const status = e.cause?.status;
    return typeof status === 'number' && status >= 400 && status < 500;
  }
  return [
    'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED',
    'OAUTH_RESPONSE_IS_NOT_JSON',
    'OAUTH_INVALID_RESPONSE',
    'OAUTH_PARSE_ERROR',
  ].includes(e?.code ?? '');
}

/** One sentence for a discovery failure that is the configuration's fault. */
function configurationSentence(err: unknown, issuer: string): string {
  const e = err as { code?: string; cause?: { status?: number } };
  if (e?.code === 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED') {
    return `the provider names itself differently: its discovery document's "issuer" is not exactly ${issuer} (check the trailing slash)`;
  }
  if (e?.code === 'OAUTH_RESPONSE_IS_NOT_CONFORM') {
    return `${issuer}/.well-known/openid-configuration answered HTTP ${e.cause?.status}: is this the issuer URL?`;
  }
  return `${issuer}/.well-known/openid-configuration is not an OpenID Connect discovery document`;
}

/** Strings from a claim that may be a list, one string, or missing. */
function stringList(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string').map((v) => v.trim());
  if (typeof value === 'string' && value.trim()) return [value.trim()];
  return [];
}

const claimString = (value: unknown): string | null => (typeof value === 'string' && value.trim() ? value.trim() : null);
const claimTrue = (value: unknown) => value === true || value === 'true';

export class OidcClient {
  readonly redirectUri: string;
  readonly postLogoutRedirectUri: string;
  private discovered: client.ServerMetadata | undefined;
  private failure: { at: number; error: HttpError } | undefined;
  private jwks: client.ExportedJWKSCache | undefined;
  private readonly issuerUrl: URL;

  constructor(
    readonly settings: OidcSettings,
    appUrl: string,
    private readonly wallClock: () => number = Date.now,
  ) {
    this.redirectUri = `${appUrl}/auth/oidc/callback`;
    this.postLogoutRedirectUri = `${appUrl}/login`;
    this.issuerUrl = new URL(settings.issuer);
  }

  /** Discovers the provider ahead of the first sign-in; a failure is not remembered (sign-in tries again). */
  async warm(): Promise<void> {
    if (!this.discovered) this.discovered = (await discover(this.settings)).serverMetadata();
  }

  /** The provider's metadata: discovered once, a failure remembered for RETRY_MS. */
  private async server(): Promise<client.ServerMetadata> {
    if (this.discovered) return this.discovered;
    if (this.failure && this.wallClock() - this.failure.at < RETRY_MS) throw this.failure.error;
    try {
      const found = await discover(this.settings);
      this.discovered = found.serverMetadata();
      this.failure = undefined;
      return this.discovered;
    } catch (err) {
      const error = isConfigurationAnswer(err)
        ? new HttpError(
            503,
            `Single sign-on is misconfigured: ${configurationSentence(err, this.settings.issuer)}. Tell an admin.`,
          )
        : providerUnavailable(this.settings.issuer, networkReason(err));
      this.failure = { at: this.wallClock(), error };
      throw error;
    }
  }

  /**
   * A configuration for one request: the discovered metadata, this client's credentials, and the
   * request's clock (`now`: tests move it to check ID token expiry), the JWKS cache shared.
   */
  private configuration(server: client.ServerMetadata, now: Date): client.Configuration {
    const skew = Math.round((now.getTime() - this.wallClock()) / 1000);
    const { clientId, clientSecret } = this.settings;
    const methods = server.token_endpoint_auth_methods_supported;
    const auth = !clientSecret
      ? client.None()
      : !methods || methods.includes('client_secret_basic')
        ? client.ClientSecretBasic(clientSecret)
        : client.ClientSecretPost(clientSecret);
    const config = new client.Configuration(server, clientId, { [client.clockSkew]: skew }, auth);
    if (isLoopbackHttp(this.issuerUrl)) client.allowInsecureRequests(config);
    config.timeout = TIMEOUT_SECONDS;
    client.enableNonRepudiationChecks(config);
    if (this.jwks) client.setJwksCache(config, this.jwks);
    return config;
  }

  /** Where to send the browser, and what its session must keep until it comes back. */
  async start(next: string): Promise<{ url: string; pending: PendingSignIn }> {
    const server = await this.server();
    const config = this.configuration(server, new Date(this.wallClock()));
    const verifier = client.randomPKCECodeVerifier();
    const pending: PendingSignIn = {
      state: client.randomState(),
      nonce: client.randomNonce(),
      verifier,
      next,
      startedAt: this.wallClock(),
    };
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: this.redirectUri,
      scope: this.settings.scopes.join(' '),
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
    });
    return { url: url.href, pending };
  }

  /**
   * The provider's answer at the redirect URI (`callback`: this app's public address with the query
   * the browser brought): code exchanged, every check made, claims of the ID token and userinfo.
   */
  async finish(callback: URL, pending: PendingSignIn, now: Date): Promise<OidcIdentity> {
    const server = await this.server();
    const config = this.configuration(server, now);
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: pending.verifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
    } catch (err) {
      throw signInRefused(err, this.settings.issuer);
    } finally {
      this.jwks = client.getJwksCache(config) ?? this.jwks;
    }
    const idClaims = tokens.claims();
    const idToken = tokens.id_token;
    if (!idClaims || !idToken) throw new HttpError(401, 'The identity provider sent no ID token. Try again.');
    let claims: Record<string, unknown> = { ...idClaims };
    if (server.userinfo_endpoint && tokens.access_token) {
      try {
        // Its subject is checked against the ID token's; providers put email and groups in either place.
        claims = { ...idClaims, ...(await client.fetchUserInfo(config, tokens.access_token, idClaims.sub)) };
      } catch (err) {
        throw signInRefused(err, this.settings.issuer);
      }
    }
    const verified = 'email_verified' in claims ? claimTrue(claims.email_verified) : claimTrue(claims.xms_edov);
    return {
      issuer: idClaims.iss,
      subject: idClaims.sub,
      email: claimString(claims.email),
      emailVerified: verified,
      preferredUsername: claimString(claims.preferred_username),
      name: claimString(claims.name),
      groups: stringList(claims[this.settings.groupsClaim]),
      idToken,
    };
  }

  /**
   * The provider's logout address (RP-initiated logout) when it offers one, else undefined. Never
   * discovers: a provider not yet seen (or down) means a local sign-out only.
   */
  endSessionUrl(idToken: string | undefined): string | undefined {
    const server = this.discovered;
    if (!server?.end_session_endpoint || !idToken) return undefined;
    const config = this.configuration(server, new Date(this.wallClock()));
    return client.buildEndSessionUrl(config, {
      id_token_hint: idToken,
      post_logout_redirect_uri: this.postLogoutRedirectUri,
    }).href;
  }
}

function discover(settings: OidcSettings, timeoutSeconds = TIMEOUT_SECONDS): Promise<client.Configuration> {
  const issuer = new URL(settings.issuer);
  return client.discovery(issuer, settings.clientId, undefined, client.None(), {
    execute: isLoopbackHttp(issuer) ? [client.allowInsecureRequests] : [],
    timeout: timeoutSeconds,
  });
}

/** A failed code exchange or validation as a sentence for the sign-in page (401), or 503 when the provider is unreachable. */
function signInRefused(err: unknown, issuer: string): HttpError {
  if (err instanceof client.AuthorizationResponseError) {
    const said = err.error_description ? `${err.error}: ${err.error_description}` : err.error;
    return new HttpError(401, `The identity provider did not sign you in (${said}).`);
  }
  if (err instanceof client.ResponseBodyError) {
    return new HttpError(401, `The identity provider refused the sign-in (${err.error}). Start again.`);
  }
  const e = err as { code?: string; message?: string; cause?: { message?: string; claim?: string } };
  const detail = `${e?.message ?? ''} ${e?.cause?.message ?? ''}`;
  if (e?.code === 'OAUTH_INVALID_RESPONSE' && /"state"/.test(detail)) {
    return new HttpError(401, 'This sign-in did not start in this browser, or was changed on the way (state). Start again.');
  }
  if (e?.code === 'OAUTH_JWT_CLAIM_COMPARISON_FAILED' && /nonce/.test(detail)) {
    return new HttpError(401, 'The ID token was not issued for this sign-in (nonce). Start again.');
  }
  if (e?.code === 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED') {
    return new HttpError(
      401,
      "The identity provider's ID token has expired or is not valid yet (check the server clocks). Start again.",
    );
  }
  if (e?.code?.startsWith('OAUTH_')) {
    return new HttpError(
      401,
      `The identity provider's answer could not be validated (${e.cause?.message ?? e.message}). Start again.`,
    );
  }
  return providerUnavailable(issuer, networkReason(err));
}

export type IssuerProbe = { ok: true } | { ok: false; fatal: boolean; reason: string };

/**
 * Start-up's look at OIDC_ISSUER: an issuer that answers but is no OpenID provider, or names itself
 * differently, is a configuration error (fatal); one that does not answer is only a warning (the
 * sign-in page shows the error until it does).
 */
export async function probeIssuer(settings: OidcSettings, timeoutSeconds = TIMEOUT_SECONDS): Promise<IssuerProbe> {
  try {
    await discover(settings, timeoutSeconds);
    return { ok: true };
  } catch (err) {
    return isConfigurationAnswer(err)
      ? { ok: false, fatal: true, reason: configurationSentence(err, settings.issuer) }
      : { ok: false, fatal: false, reason: networkReason(err) };
  }
}
