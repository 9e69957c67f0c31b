import type { Context } from 'koa';
import { safeReturnPath } from '../../http/guards.ts';

/**
 * The sign-in page's template and data: the password form when PASSWORD_LOGIN allows it, the single
 * sign-on button when OIDC_ISSUER is set (it carries `next` along).
 */
export function loginView(ctx: Context) {
  const { config } = ctx.deps;
  const next = safeReturnPath(ctx.query.next ?? (ctx.request.body as { next?: unknown } | undefined)?.next, '');
  return {
    page: 'auth/login',
    title: 'Sign in',
    data: {
      next,
      passwordLogin: config.passwordLogin,
      sso: config.oidc
        ? { label: config.oidc.buttonLabel, href: next ? `/auth/oidc?next=${encodeURIComponent(next)}` : '/auth/oidc' }
        : null,
    },
  };
}
