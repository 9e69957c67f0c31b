import Router from '@koa/router';
import type { Context } from 'koa';
import type { Deps } from '../../http/context.ts';
import { forbidden, unauthorized } from '../../http/errors.ts';
import { handleForm } from '../../http/forms.ts';
import { destroySession, safeReturnPath } from '../../http/guards.ts';
import { clientIp, Limiter } from '../../http/rate-limit.ts';
import { audienceOf, respond } from '../../http/respond.ts';
import { validBody } from '../../http/validate.ts';
import { presentUser } from '../users/presenter.ts';
import { loginSchema, registerSchema } from '../users/schema.ts';
import { registerUser } from '../users/service.ts';
import { loginView } from './login-view.ts';
import type { OidcClient } from './oidc.ts';
import { authenticate, issueApiToken, localStrategy, revokeToken, signInLimitKey } from './service.ts';
import { startSession } from './session.ts';

const registerView = { page: 'auth/register', title: 'Create account' };

const PASSWORDS_OFF = 'Password sign-in is turned off on this server: sign in with single sign-on.';
const REGISTRATION_OFF = 'Accounts are created when people first sign in with single sign-on: registration is turned off.';

export function authRoutes({ config, db }: Deps, oidc?: OidcClient): Router {
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
    if (!config.passwordLogin) {
      if (audienceOf(ctx) === 'json') throw forbidden(PASSWORDS_OFF);
      const view = loginView(ctx);
      respond(ctx, { ...view, status: 403, data: { ...view.data, error: PASSWORDS_OFF, values: {}, errors: {} } });
      return;
    }
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

  // With passwords off, only an admin makes accounts by hand (single sign-on then finds them by email).
  const registrationOpen = (ctx: Context) => config.passwordLogin || ctx.state.user?.role === 'admin';

  router.get('/register', async (ctx) => {
    if (!registrationOpen(ctx)) throw forbidden(REGISTRATION_OFF);
    respond(ctx, { ...registerView, data: { values: {}, errors: {} } });
  });

  router.post(['/register', '/api/register'], async (ctx) => {
    if (!registrationOpen(ctx)) throw forbidden(REGISTRATION_OFF);
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
    // Signed in by single sign-on: the browser goes on to the provider's logout (RP-initiated) when it has one.
    const idToken = auth?.method === 'session' ? ctx.session.oidcIdToken : undefined;
    const providerLogout = oidc && typeof idToken === 'string' ? oidc.endSessionUrl(idToken) : undefined;
    destroySession(ctx);
    respond(ctx, { json: { message: 'Signed out.' }, redirect: providerLogout ?? '/login' });
  });

  return router;
}
