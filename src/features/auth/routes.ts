import Router from '@koa/router';
import type { Context } from 'koa';
import type { Deps } from '../../http/context.ts';
import { newCsrfSecret } from '../../http/csrf.ts';
import { unauthorized } from '../../http/errors.ts';
import { handleForm } from '../../http/forms.ts';
import { destroySession, safeReturnPath } from '../../http/guards.ts';
import { clientIp, Limiter } from '../../http/rate-limit.ts';
import { respond } from '../../http/respond.ts';
import { validBody } from '../../http/validate.ts';
import { presentUser } from '../users/presenter.ts';
import { loginSchema, registerSchema } from '../users/schema.ts';
import { registerUser } from '../users/service.ts';
import { authenticate, issueApiToken, localStrategy, revokeToken, signInLimitKey } from './service.ts';

const loginView = (ctx: Context) => ({
  page: 'auth/login',
  title: 'Sign in',
  data: { next: safeReturnPath(ctx.query.next ?? (ctx.request.body as { next?: unknown } | undefined)?.next, '') },
});
const registerView = { page: 'auth/register', title: 'Create account' };

/** Starts a fresh cookie session for the user: a new session id, so a planted one is useless. */
async function startSession(ctx: Context, userId: number): Promise<void> {
  ctx.session.userId = userId;
  ctx.session.maxAge = ctx.deps.config.sessionTtlSeconds * 1000;
  // Never the secret of the session before sign-in (its tokens may have been seen by someone else).
  ctx.session.csrfSecret = newCsrfSecret();
  await ctx.session.regenerate();
}

export function authRoutes({ config, db }: Deps): Router {
  const router = new Router();
  const strategy = localStrategy(db);
  const perMinute = config.rateLimitAuthPerMinute;
  const signInByIp = new Limiter(db, 'sign-in-ip', perMinute, 60);
  const signInByAccount = new Limiter(db, 'sign-in-account', perMinute, 60);
  const registerByIp = new Limiter(db, 'register-ip', perMinute, 60);

  router.get('/login', async (ctx) => {
    if (ctx.state.user) return ctx.redirect(safeReturnPath(ctx.query.next));
    respond(ctx, { ...loginView(ctx), data: { ...loginView(ctx).data, values: {}, errors: {} } });
  });

  router.post(['/login', '/api/login'], async (ctx) => {
    await handleForm(ctx, loginView(ctx), async () => {
      const input = validBody(ctx, loginSchema);
      await signInByIp.hit(clientIp(ctx));
      await signInByAccount.hit(await signInLimitKey(db, input.username));
      const user = await authenticate(strategy, input);
      if (!user) throw unauthorized('Wrong username or password.');
      ctx.log.info({ userId: user.id }, 'signed in');
      if (ctx.path.startsWith('/api/')) {
        const token = await issueApiToken(db, user.id, config.authTokenTtlSeconds);
        respond(ctx, { json: { message: 'Signed in.', ...token, user: presentUser(user, { ...user }) } });
        return;
      }
      await startSession(ctx, user.id);
      respond(ctx, { redirect: safeReturnPath((ctx.request.body as { next?: unknown }).next) });
    });
  });

  router.get('/register', async (ctx) => {
    respond(ctx, { ...registerView, data: { values: {}, errors: {} } });
  });

  router.post(['/register', '/api/register'], async (ctx) => {
    await handleForm(ctx, registerView, async () => {
      const input = validBody(ctx, registerSchema);
      await registerByIp.hit(clientIp(ctx));
      const caller = ctx.state.user;
      const user = await registerUser(db, input, caller, ctx.log);
      ctx.log.info({ userId: user.id, by: caller?.id }, 'account registered');
      if (ctx.path.startsWith('/api/')) {
        const token = await issueApiToken(db, user.id, config.authTokenTtlSeconds);
        respond(ctx, {
          status: 201,
          json: { message: 'Account created.', ...token, user: presentUser(user, caller ?? { ...user }) },
        });
        return;
      }
      if (caller?.role === 'admin') {
        respond(ctx, { redirect: '/admin/users', flash: { kind: 'success', message: `Account ${user.username} created.` } });
        return;
      }
      await startSession(ctx, user.id);
      respond(ctx, { redirect: '/', flash: { kind: 'success', message: `Welcome, ${user.username}.` } });
    });
  });

  router.post(['/logout', '/api/logout'], async (ctx) => {
    const auth = ctx.state.auth;
    if (auth?.method === 'token') await revokeToken(db, auth.tokenId);
    if (ctx.state.user) ctx.log.info({ userId: ctx.state.user.id }, 'signed out');
    destroySession(ctx);
    respond(ctx, { json: { message: 'Signed out.' }, redirect: '/login' });
  });

  return router;
}
