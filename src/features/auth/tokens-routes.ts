import Router from '@koa/router';
import type { Context } from 'koa';
import type { Deps, Principal } from '../../http/context.ts';
import { forbidden } from '../../http/errors.ts';
import { handleForm, refusalAsFlash } from '../../http/forms.ts';
import { requireUser } from '../../http/guards.ts';
import { audienceOf, respond } from '../../http/respond.ts';
import { parseWith, validBody } from '../../http/validate.ts';
import { idParam } from '../../lib/schema.ts';
import { presentPersonalToken } from './presenter.ts';
import { DEFAULT_TOKEN_DAYS, MAX_TOKEN_DAYS, newTokenSchema } from './schema.ts';
import { createPersonalToken, MAX_PERSONAL_TOKENS, personalTokens, revokePersonal } from './service.ts';

/** The expiry choices the settings form offers (the API takes any number of days up to a year). */
const EXPIRY_CHOICES = [7, 30, 90, 180, MAX_TOKEN_DAYS];

/**
 * Making and revoking tokens needs a session or a sign-in token: a personal token cannot mint others
 * (a leaked one could otherwise outlive its own expiry).
 */
function requireTokenManager(ctx: Context): Principal {
  const user = requireUser(ctx);
  const auth = ctx.state.auth;
  if (auth?.method === 'token' && auth.kind === 'personal') {
    throw forbidden('A personal token cannot make or revoke tokens. Sign in (Settings → API tokens, or POST /api/login).');
  }
  return user;
}

/** Personal API tokens: a settings page for people (beside the delegation settings), `/api/tokens` for programs. */
export function tokenRoutes({ db }: Deps): Router {
  const router = new Router();

  const settingsData = async (user: Principal, extra: object = {}) => ({
    tokens: (await personalTokens(db, user, new Date())).map(presentPersonalToken),
    expiryChoices: EXPIRY_CHOICES,
    defaultDays: DEFAULT_TOKEN_DAYS,
    maxTokens: MAX_PERSONAL_TOKENS,
    values: { scope: 'read', expires_in_days: DEFAULT_TOKEN_DAYS },
    errors: {},
    ...extra,
  });
  const settingsView = (user: Principal) => ({ page: 'auth/tokens', title: 'API tokens', data: () => settingsData(user) });

  router.get('/settings/tokens', async (ctx) => {
    const user = requireUser(ctx);
    respond(ctx, { page: 'auth/tokens', title: 'API tokens', data: await settingsData(user) });
  });

  router.get('/api/tokens', async (ctx) => {
    const user = requireUser(ctx);
    respond(ctx, { json: (await personalTokens(db, user, new Date())).map(presentPersonalToken) });
  });

  /** The token is in this one answer and nowhere else: the page shows it at once instead of redirecting. */
  router.post(['/settings/tokens', '/api/tokens'], async (ctx) => {
    const user = requireTokenManager(ctx);
    await handleForm(ctx, settingsView(user), async () => {
      const input = validBody(ctx, newTokenSchema);
      const { token, row } = await createPersonalToken(db, user, input, new Date());
      ctx.log.info({ userId: user.id, tokenId: row.id, scope: row.scope }, 'personal token created');
      const message = `Token “${row.name}” created. Copy it now: it is not shown again.`;
      respond(ctx, {
        status: audienceOf(ctx) === 'json' ? 201 : 200,
        page: 'auth/tokens',
        title: 'API tokens',
        json: { message, access_token: token, token_type: 'Bearer', token: presentPersonalToken(row) },
        data: await settingsData(user, { created: { token, name: row.name }, notice: message }),
      });
    });
  });

  router.post('/settings/tokens/:id/revoke', async (ctx) => {
    const user = requireTokenManager(ctx);
    const { id } = parseWith(idParam, ctx.params);
    await refusalAsFlash(
      ctx,
      '/settings/tokens',
      async () => {
        await revokePersonal(db, user, id, new Date());
        ctx.log.info({ userId: user.id, tokenId: id }, 'personal token revoked');
        respond(ctx, { redirect: '/settings/tokens', flash: { kind: 'success', message: 'Token revoked: it no longer works.' } });
      },
      [404],
    );
  });

  router.delete('/api/tokens/:id', async (ctx) => {
    const user = requireTokenManager(ctx);
    const { id } = parseWith(idParam, ctx.params);
    await revokePersonal(db, user, id, new Date());
    ctx.log.info({ userId: user.id, tokenId: id }, 'personal token revoked');
    respond(ctx, { json: { message: 'Token revoked.' } });
  });

  return router;
}
