import Tokens from 'csrf';
import type { Context, Next } from 'koa';
import { HttpError } from './errors.ts';

const tokens = new Tokens();
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);
const ANONYMOUS_SESSION_MS = 2 * 3_600_000;
/** The sign-in form's CSRF secret: in its own cookie, not a session (see csrfProtection). */
export const SIGN_IN_COOKIE = 'ct_signin';
export const SIGN_IN_COOKIE_MS = 30 * 86_400_000;
const SECRET_SHAPE = /^[\w-]{16,64}$/;

/**
 * A fresh secret for a session that just signed in: made there, not by the first form after, so pages
 * opened at once (two tabs, a page and its htmx request) share it instead of each saving their own
 * and all but the last then failing the check.
 */
export const newCsrfSecret = (): string => tokens.secretSync();

/**
 * CSRF for cookie sessions. The secret lives in the session, made at sign-in or when a form asks for a
 * token, so API clients never get a session. A request is checked when its method is unsafe, it does
 * not carry a bearer token, and it either has the session cookie or is a form (a cross-site form post
 * is the attack; a cross-site JSON post cannot be sent without a CORS preflight we never allow).
 * `exempt` paths carry their own unguessable secret in the URL (review links).
 * koa-csrf does the same check but creates a session for every request, including API calls.
 *
 * The sign-in form (`signIn` paths) takes its token from a secret in its own long-lived cookie
 * (SIGN_IN_COOKIE, httpOnly, SameSite=Lax, renewed whenever the page is made) instead of a session:
 * the service worker can then show its saved copy of the page and the token still holds days later,
 * and a visitor who only looks at the sign-in page gets no session row. It guards against the same
 * thing (another site signing the browser in to an account of its choosing): a token verifies only
 * against the secret in this browser's cookie, which another site can neither read nor send
 * cross-site. Tokens of the session's secret are accepted there too (a form shown before this cookie).
 */
export function csrfProtection(sessionCookie: string, exempt: RegExp[] = [], signIn: RegExp[] = []) {
  return async function checkCsrf(ctx: Context, next: Next): Promise<void> {
    let token: string | undefined;
    const signInForm = signIn.some((re) => re.test(ctx.path));
    const cookieSecret = () => {
      const kept = ctx.cookies.get(SIGN_IN_COOKIE, { signed: false });
      return kept && SECRET_SHAPE.test(kept) ? kept : undefined;
    };
    ctx.state.csrfToken = () => {
      if (token) return token;
      if (signInForm) {
        const secret = cookieSecret() ?? tokens.secretSync();
        ctx.cookies.set(SIGN_IN_COOKIE, secret, {
          httpOnly: true,
          sameSite: 'lax',
          secure: ctx.deps.config.isProduction,
          maxAge: SIGN_IN_COOKIE_MS,
          // Unsigned: a signature proves the server made the value, and anyone can get one made by
          // opening the page; the secret is safe because only this browser holds it.
          signed: false,
        });
        token = tokens.create(secret);
        return token;
      }
      if (!ctx.session.csrfSecret) {
        ctx.session.csrfSecret = newCsrfSecret();
        // A visitor who only looked at a form keeps that session row for hours, not the week a
        // signed-in session lasts (sign-in sets the full length): bots cannot grow the table much.
        if (ctx.session.userId === undefined) ctx.session.maxAge = ANONYMOUS_SESSION_MS;
      }
      token = tokens.create(ctx.session.csrfSecret as string);
      return token;
    };
    if (SAFE.has(ctx.method) || /^Bearer\s/i.test(ctx.get('Authorization'))) return next();
    if (exempt.some((re) => re.test(ctx.path))) return next();
    const hasCookie = Boolean(ctx.cookies.get(sessionCookie));
    // Without the cookie, only what a cross-site form can send (urlencoded, multipart, text/plain) is
    // checked: a JSON or body-less request without cookie or token carries no credentials to abuse.
    if (!hasCookie && !ctx.is('urlencoded', 'multipart', 'text/plain')) return next();
    const body = ctx.request.body as Record<string, unknown> | undefined;
    const sent = (typeof body?._csrf === 'string' ? body._csrf : undefined) ?? ctx.get('X-CSRF-Token');
    const secrets = [hasCookie ? (ctx.session.csrfSecret as string | undefined) : undefined];
    if (signInForm) secrets.push(cookieSecret());
    if (!sent || !secrets.some((secret) => secret && tokens.verify(secret, sent))) {
      throw new HttpError(403, 'This form has expired or did not come from this site. Reload the page and try again.');
    }
    await next();
  };
}
