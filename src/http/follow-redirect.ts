import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import type { Context, Next } from 'koa';

/** Sent by the service worker (src/client/worker.js) with the forms it posts for the page. */
export const FOLLOW_HEADER = 'X-Follow-Redirect';
/** The request headers the page's GET takes from the form post. */
const CARRIED = ['host', 'accept', 'accept-language', 'user-agent', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host'];
const SAME_SITE_PATH = /^\/(?![/\\])/;

/** The cookies a browser would send after this response: the request's, with the response's Set-Cookie applied. */
export function cookiesAfter(requestCookie: string | undefined, setCookie: string[]): string {
  const jar = new Map<string, string>();
  for (const pair of (requestCookie ?? '').split(';')) {
    const at = pair.indexOf('=');
    if (at > 0) jar.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
  }
  for (const line of setCookie) {
    const first = line.split(';')[0] ?? '';
    const at = first.indexOf('=');
    if (at <= 0) continue;
    const name = first.slice(0, at).trim();
    const value = first.slice(at + 1).trim();
    // A cookie is deleted with an empty value and an expiry in the past.
    if (value === '' || /;\s*max-age=0\b|expires=Thu, 01 Jan 1970/i.test(line)) jar.delete(name);
    else jar.set(name, value);
  }
  return [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
}

/**
 * Post/redirect/get in one round trip, for the service worker: a form post that carries
 * `X-Follow-Redirect: 1` and is answered with 303 to a page of this site is answered with that page
 * instead (200, its address in Content-Location), made by the whole app as a GET of it with the
 * cookies the browser would send after the 303 (a new session after sign-in, say). The worker shows
 * it at its address (it answers the browser's GET of it with this page). On a slow link this saves
 * the redirect's round trip (400 ms on slow 3G).
 *
 * Nothing else changes: the post runs as before (CSRF, Idempotency-Key: a replay of a kept 303 is
 * followed the same way), the page is made by the same code as the browser's own GET, with the same
 * client address (rate limits). When the page is not a plain 200 (a redirect to sign in, an error, a
 * stream), the 303 goes out as it was and the browser follows it itself. Without the header (no
 * JavaScript, API clients, htmx) the answer is the plain 303.
 */
export async function followRedirects(ctx: Context, next: Next): Promise<void> {
  await next();
  const location = ctx.response.get('Location');
  if (ctx.method !== 'POST' || ctx.status !== 303 || ctx.get(FOLLOW_HEADER) !== '1' || !SAME_SITE_PATH.test(location)) return;
  const setCookie = ([] as string[]).concat(ctx.response.get('Set-Cookie') || []);
  let page: Context;
  try {
    page = await getPage(ctx, location, cookiesAfter(ctx.get('Cookie'), setCookie));
  } catch (err) {
    // The post is done: its 303 still says where to go.
    ctx.log.error({ err }, 'follow-redirect: the page was not made');
    return;
  }
  const body = page.body;
  if (page.status !== 200 || !(typeof body === 'string' || Buffer.isBuffer(body))) return;
  ctx.status = 200;
  ctx.remove('Location');
  ctx.body = body;
  ctx.type = page.response.get('Content-Type') || 'text/html';
  ctx.set('Content-Location', location);
  ctx.set('Cache-Control', 'no-store');
  const more = page.response.get('Set-Cookie');
  if (more) ctx.set('Set-Cookie', [...setCookie, ...([] as string[]).concat(more)]);
}

/** A GET of `path` through the whole app, in this process, as the browser would send it. */
async function getPage(ctx: Context, path: string, cookie: string): Promise<Context> {
  const req = new IncomingMessage(new Socket());
  req.method = 'GET';
  req.url = path;
  for (const name of CARRIED) {
    const value = ctx.get(name);
    if (value) req.headers[name] = value;
  }
  if (cookie) req.headers.cookie = cookie;
  const page = ctx.app.createContext(req, new ServerResponse(req));
  // The client's address, as the post had it (a proxy's X-Forwarded-For is carried too).
  page.request.ip = ctx.ip;
  const chain = ctx.app.middleware;
  const run = async (i: number): Promise<void> => {
    await chain[i]?.(page, () => run(i + 1));
  };
  await run(0);
  return page;
}
