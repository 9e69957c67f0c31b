import Router from '@koa/router';
import type { Context } from 'koa';
import type { Deps } from '../../http/context.ts';
import { HttpError, notFound } from '../../http/errors.ts';
import { safeReturnPath } from '../../http/guards.ts';
import { respond } from '../../http/respond.ts';
import { loginView } from './login-view.ts';
import type { OidcClient, PendingSignIn } from './oidc.ts';
import { PENDING_TTL_MS } from './oidc.ts';
import { accountForIdentity } from './oidc-accounts.ts';
import { startSession } from './session.ts';

export const OIDC_START_PATH = '/auth/oidc';
export const OIDC_CALLBACK_PATH = '/auth/oidc/callback';

const NOT_SET_UP = 'Single sign-on is not set up on this server.';
const EXPIRED = 'This sign-in has expired or was already used. Start again.';

const isPending = (value: unknown): value is PendingSignIn => {
  const p = value as Partial<PendingSignIn> | undefined;
  return (
    typeof p?.state === 'string' &&
    typeof p.nonce === 'string' &&
    typeof p.verifier === 'string' &&
    typeof p.next === 'string' &&
    typeof p.startedAt === 'number'
  );
};

/** A refused single sign-on: the sign-in page again, with the sentence and the refusal's status. */
async function refused(ctx: Context, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (err) {
    if (!(err instanceof HttpError) || err.status < 400 || (err.status >= 500 && err.status !== 503)) throw err;
    ctx.log.warn({ status: err.status, reason: err.message }, 'single sign-on refused');
    const view = loginView(ctx);
    respond(ctx, { ...view, status: err.status, data: { ...view.data, error: err.message, values: {}, errors: {} } });
  }
}

/**
 * Single sign-on (OpenID Connect): `GET /auth/oidc` leaves for the identity provider with a fresh
 * state, nonce and PKCE verifier kept in this browser's session; `GET /auth/oidc/callback` is the
 * redirect URI registered at the provider ($APP_URL/auth/oidc/callback). Both answer 404 when
 * OIDC_ISSUER is not set.
 */
export function oidcRoutes({ db }: Deps, oidc: OidcClient | undefined): Router {
  const router = new Router();

  router.get(OIDC_START_PATH, async (ctx) => {
    if (!oidc) throw notFound(NOT_SET_UP);
    const next = safeReturnPath(ctx.query.next);
    if (ctx.state.user) return ctx.redirect(next);
    await refused(ctx, async () => {
      const { url, pending } = await oidc.start(next);
      ctx.session.oidc = pending;
      // An anonymous session that only waits for the provider lasts as long as a sign-in may take.
      if (ctx.session.userId === undefined) ctx.session.maxAge = PENDING_TTL_MS;
      ctx.status = 303;
      ctx.redirect(url);
    });
  });

  router.get(OIDC_CALLBACK_PATH, async (ctx) => {
    if (!oidc) throw notFound(NOT_SET_UP);
    const pending = ctx.session.oidc;
    // One use: a replayed or second callback finds nothing to finish.
    delete ctx.session.oidc;
    await refused(ctx, async () => {
      if (!isPending(pending) || Date.now() - pending.startedAt > PENDING_TTL_MS) throw new HttpError(401, EXPIRED);
      // The address the provider redirected to, as registered: the public one, whatever Host this hop saw.
      const callback = new URL(oidc.redirectUri);
      callback.search = ctx.querystring;
      const now = ctx.deps.clock?.() ?? new Date();
      const identity = await oidc.finish(callback, pending, now);
      const user = await accountForIdentity(db, identity, oidc.settings, ctx.log, now);
      ctx.session.oidcIdToken = identity.idToken;
      await startSession(ctx, user.id);
      ctx.log.info({ userId: user.id, method: 'oidc' }, 'signed in');
      respond(ctx, { redirect: pending.next });
    });
  });

  return router;
}
