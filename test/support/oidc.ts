import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type Configuration } from 'oidc-provider';
import { Client, type Reply } from './client.ts';

/**
 * A real OpenID provider (the `oidc-provider` package, certified) in the test process on loopback.
 * Its HTTP server listens first (the app needs the issuer URL at start), and the provider itself is
 * made by `register(appUrl)` once the app's address is known (its redirect URI must be registered).
 * People are a map the test edits between sign-ins (groups, email_verified). Its sign-in page is a
 * plain form naming the account (no password): login and consent in one step.
 */

export const CLIENT_ID = 'cable-ticketing';
export const CLIENT_SECRET = 'oidc-client-secret-do-not-log-0123456789';

export interface IdpAccount {
  email?: string;
  email_verified?: boolean;
  preferred_username?: string;
  name?: string;
  groups?: string[];
}

export interface TestIdp {
  issuer: string;
  accounts: Map<string, IdpAccount>;
  /** Environment for the app: issuer, client, secret, groups claim. */
  env(extra?: Record<string, string>): Record<string, string>;
  /** Makes the provider, with the app's redirect and post-logout URIs registered. */
  register(appUrl: string): void;
  /** Requests the provider received (path and query), in order. */
  requests: string[];
  /** Answer every request with 503 (an outage) until called with false. */
  down(isDown: boolean): void;
  close(): Promise<void>;
}

const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title></head><body><main><h1>${title}</h1>${body}</main></body></html>`;

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function formFields(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export async function startIdp(): Promise<TestIdp> {
  const accounts = new Map<string, IdpAccount>();
  const requests: string[] = [];
  let provider: Provider | undefined;
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  let isDown = false;

  const interaction = async (req: IncomingMessage, res: ServerResponse, uid: string) => {
    const p = provider as Provider;
    const details = await p.interactionDetails(req, res);
    if (details.uid !== uid) throw new Error('interaction mismatch');
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(
        page(
          'Test identity provider',
          `<form method="post" action="/interaction/${escapeHtml(uid)}"><p><label for="account">Account</label> <input id="account" name="account" autocomplete="username" required></p><p><button type="submit">Continue</button></p></form>`,
        ),
      );
      return;
    }
    const accountId = (await formFields(req)).get('account') ?? '';
    if (!accounts.has(accountId)) {
      await p.interactionFinished(req, res, { error: 'access_denied', error_description: 'No such account' });
      return;
    }
    const grant = new p.Grant({ accountId, clientId: String(details.params.client_id) });
    grant.addOIDCScope(String(details.params.scope));
    const grantId = await grant.save();
    await p.interactionFinished(req, res, { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false });
  };

  const server = createServer((req, res) => {
    requests.push(req.url ?? '/');
    if (isDown || !handler) {
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('down');
      return;
    }
    if (req.url === '/favicon.ico') {
      res.writeHead(204);
      res.end();
      return;
    }
    const uid = /^\/interaction\/([\w-]+)$/.exec((req.url ?? '').split('?')[0] ?? '')?.[1];
    if (uid) {
      interaction(req, res, uid).catch((err: Error) => {
        res.writeHead(400, { 'content-type': 'text/plain' });
        res.end(err.message);
      });
      return;
    }
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key', use: 'sig', alg: 'RS256' };

  return {
    issuer,
    accounts,
    requests,
    env: (extra = {}) => ({
      OIDC_ISSUER: issuer,
      OIDC_CLIENT_ID: CLIENT_ID,
      OIDC_CLIENT_SECRET: CLIENT_SECRET,
      OIDC_SCOPES: 'openid email profile groups',
      ...extra,
    }),
    register(appUrl) {
      const configuration: Configuration = {
        clients: [
          {
            client_id: CLIENT_ID,
            client_secret: CLIENT_SECRET,
            redirect_uris: [`${appUrl}/auth/oidc/callback`],
            post_logout_redirect_uris: [`${appUrl}/login`],
            response_types: ['code'],
            grant_types: ['authorization_code'],
            token_endpoint_auth_method: 'client_secret_basic',
          },
        ],
        jwks: { keys: [signingKey as never] },
        cookies: { keys: ['test-idp-cookie-key-0123456789abcdef'] },
        claims: {
          openid: ['sub'],
          email: ['email', 'email_verified'],
          profile: ['preferred_username', 'name'],
          groups: ['groups'],
        },
        features: {
          devInteractions: { enabled: false },
          rpInitiatedLogout: {
            enabled: true,
            // The provider's own confirmation page, plain (its default one loads remote fonts).
            logoutSource: (ctx, form) => {
              ctx.type = 'html';
              ctx.body = page(
                'Sign out of the test identity provider?',
                `${form}<p><button type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button></p>`,
              );
            },
          },
        },
        interactions: { url: (_ctx, i) => `/interaction/${i.uid}` },
        pkce: { required: () => true },
        ttl: { Interaction: 600, Grant: 600, Session: 3600, AccessToken: 600, IdToken: 3600 },
        findAccount: (_ctx, id) => {
          if (!accounts.has(id)) return undefined;
          return { accountId: id, claims: () => ({ sub: id, ...(accounts.get(id) as IdpAccount) }) };
        },
      };
      provider = new Provider(issuer, configuration);
      handler = provider.callback();
    },
    down(value) {
      isDown = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A browser without JavaScript that follows redirects by hand between the app and the provider,
 * each with its own cookie jar: `signIn` walks the whole code flow, and the test may change the
 * authorization request or the callback on the way (a tampered state, a wrong nonce).
 */
export class SsoBrowser {
  readonly app: Client;
  readonly idp: Client;
  /** The app's public origin (APP_URL), where the provider sends the browser back. */
  private readonly publicOrigin: string;

  constructor(appUrl: string, issuer: string, publicUrl = appUrl) {
    this.app = new Client(appUrl);
    this.idp = new Client(issuer);
    this.publicOrigin = new URL(publicUrl).origin;
  }

  /** GET an absolute or app-relative address with the jar of its origin. */
  get(target: string): Promise<Reply> {
    const url = new URL(target, this.app.base);
    const client = url.origin === new URL(this.idp.base).origin ? this.idp : this.app;
    return client.get(url.pathname + url.search);
  }

  /** Walks the flow as `signIn` does but stops before the callback: its path and query, unsent. */
  async callbackFor(account: string): Promise<string> {
    const url = await this.walk(account, {});
    return url.pathname + url.search;
  }

  /**
   * Starts at /auth/oidc, signs in at the provider as `account` (when it asks), and returns the app's
   * answer to the callback. `authorize` and `callback` may change those URLs before they are followed.
   */
  async signIn(
    account: string,
    opts: { next?: string; authorize?: (url: URL) => void; callback?: (url: URL) => void } = {},
  ): Promise<{ reply: Reply; callbackUrl: URL }> {
    const callbackUrl = await this.walk(account, opts);
    opts.callback?.(callbackUrl);
    return { reply: await this.app.get(callbackUrl.pathname + callbackUrl.search), callbackUrl };
  }

  /** From /auth/oidc through the provider to the redirect back to the app (not followed). */
  private async walk(account: string, opts: { next?: string; authorize?: (url: URL) => void }): Promise<URL> {
    const start = await this.app.get(opts.next ? `/auth/oidc?next=${encodeURIComponent(opts.next)}` : '/auth/oidc');
    if (start.status !== 303) throw new Error(`/auth/oidc answered ${start.status}: ${start.text.slice(0, 300)}`);
    const authorize = new URL(start.headers.get('location') as string);
    opts.authorize?.(authorize);
    let reply = await this.get(authorize.href);
    for (let hops = 0; hops < 10; hops += 1) {
      const location = reply.headers.get('location');
      if (!location) throw new Error(`the provider stopped at ${reply.status}: ${reply.text.slice(0, 300)}`);
      const next = new URL(location, this.idp.base);
      if (next.origin === new URL(this.app.base).origin || next.origin === this.publicOrigin) return next;
      if (/^\/interaction\//.test(next.pathname)) {
        await this.idp.get(next.pathname);
        reply = await this.idp.postForm(next.pathname, { account });
      } else {
        reply = await this.idp.get(next.pathname + next.search);
      }
    }
    throw new Error('too many redirects');
  }
}
