import type Koa from 'koa';
import type { Context, Next } from 'koa';
import session from 'koa-session';
import type { Config } from '../../config.ts';
import type { Db } from '../../db/index.ts';
import { newCsrfSecret } from '../../http/csrf.ts';
import { randomToken, sha256 } from '../../lib/crypto.ts';
import type { PublicUserRow } from '../users/service.ts';
import { deleteSession, readSession, writeSession } from './queries.ts';

export const SESSION_COOKIE = 'ct_session';

/** The account row read together with this request's session row (see readSession). */
const accountsRead = new WeakMap<Context, PublicUserRow>();
export const accountReadWithSession = (ctx: Context): PublicUserRow | undefined => accountsRead.get(ctx);

/**
 * koa-session with the data kept server-side in the `sessions` table (revocable: delete the row).
 * The cookie carries a random 256-bit id, signed; the table keys rows by its sha256.
 */
export function sessionMiddleware(app: Koa, db: Db, config: Config) {
  const maxAge = config.sessionTtlSeconds * 1000;
  const sessions = session(
    {
      key: SESSION_COOKIE,
      maxAge,
      httpOnly: true,
      sameSite: 'lax',
      secure: config.isProduction,
      signed: true,
      rolling: false,
      renew: true,
      genid: () => randomToken(32),
      store: {
        async get(key: string, _maxAge: unknown, options?: { ctx?: Context }) {
          const row = await readSession(db, sha256(key));
          if (!row || new Date(row.expires_at).getTime() < Date.now()) return null;
          if (row.user && options?.ctx) accountsRead.set(options.ctx, row.user);
          return JSON.parse(row.data);
        },
        async set(key: string, sess: Record<string, unknown>, ttl: number) {
          const { _expire, _maxAge, ...data } = sess;
          const userId = typeof data.userId === 'number' ? data.userId : null;
          const expiresAt = new Date(Date.now() + (typeof ttl === 'number' ? ttl : maxAge)).toISOString();
          await writeSession(db, sha256(key), JSON.stringify(sess), userId, expiresAt);
        },
        async destroy(key: string) {
          await deleteSession(db, sha256(key));
        },
      },
    } as Parameters<typeof session>[0],
    app,
  );
  // Secure in production. TLS usually ends at a proxy, so this hop may be plain HTTP (and TRUST_PROXY
  // unset): the cookies library would then throw "Cannot send secure cookie over unencrypted
  // connection" and every page that saves a session (sign-in first) would be a 500. The cookie keeps
  // its Secure flag; the browser, which talks HTTPS to the proxy, sends it back.
  return async function cookieSession(ctx: Context, next: Next): Promise<void> {
    if (config.isProduction) ctx.cookies.secure = true;
    await sessions(ctx, next);
  };
}

/** Starts a fresh cookie session for the user: a new session id, so a planted one is useless. */
export async function startSession(ctx: Context, userId: number): Promise<void> {
  ctx.session.userId = userId;
  ctx.session.maxAge = ctx.deps.config.sessionTtlSeconds * 1000;
  // Never the secret of the session before sign-in (its tokens may have been seen by someone else).
  ctx.session.csrfSecret = newCsrfSecret();
  await ctx.session.regenerate();
}
