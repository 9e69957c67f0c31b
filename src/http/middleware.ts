import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import { HttpError, notFound, STATUS_TITLES } from './errors.ts';
import { audienceOf, renderView } from './respond.ts';

/** Opaque path segments (tokens in review links) never reach the logs. */
export function redactPath(path: string): string {
  return path.replace(/\/[A-Za-z0-9_-]{20,}(?=\/|$)/g, '/[redacted]');
}

/** A request id (kept from a sane `X-Request-Id`, else new) and one structured log line per request. */
export async function requestLogger(ctx: Context, next: Next): Promise<void> {
  const incoming = ctx.get('X-Request-Id');
  const id = /^[A-Za-z0-9._-]{1,64}$/.test(incoming) ? incoming : randomUUID();
  ctx.state.requestId = id;
  ctx.set('X-Request-Id', id);
  ctx.log = ctx.deps.logger.child({ reqId: id });
  const started = process.hrtime.bigint();
  try {
    await next();
  } finally {
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    ctx.log.info(
      {
        method: ctx.method,
        path: redactPath(ctx.path),
        route: ctx._matchedRoute,
        status: ctx.status,
        ms: Math.round(ms * 10) / 10,
        user: ctx.state.user?.id,
      },
      'request',
    );
  }
}

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08006',
]);

/**
 * The database is down or unreachable (not a bug in the request): 503, not 500. node-postgres says
 * "Client has encountered a connection error and is not queryable" (or "Client was closed and is not
 * queryable") for a transaction whose connection died under it, without a code: found by
 * test/outage.test.ts, where it was a 500.
 */
function isDatabaseUnavailable(err: unknown): boolean {
  const e = (err ?? {}) as { code?: string; message?: string; name?: string };
  if (e.code && UNREACHABLE.has(e.code)) return true;
  return (
    e.name === 'KnexTimeoutError' ||
    /Timeout acquiring a connection|Unable to acquire a connection|Connection terminated|connection is closed|is not queryable|timeout exceeded when trying to connect/i.test(
      e.message ?? '',
    )
  );
}

/**
 * PostgreSQL refusing text it cannot store: a NUL byte (22021, "invalid byte sequence for encoding
 * UTF8: 0x00"), which JSON ("\u0000") and forms ("%00") can both carry, or a character with no
 * equivalent in the server encoding (22P05). The client's input is at fault: 400, not 500.
 */
const UNSTORABLE_TEXT = new Set(['22021', '22P05']);

interface KnownError {
  code?: string;
  name?: string;
  status?: number;
  statusCode?: number;
  expose?: boolean;
  type?: string;
  message?: string;
  headers?: Record<string, string>;
}

/** Maps anything thrown to a status and a sentence safe to show. */
function describe(err: unknown): {
  status: number;
  message: string;
  fields?: Record<string, string>;
  headers?: Record<string, string>;
} {
  if (err instanceof HttpError) return { status: err.status, message: err.message, fields: err.fields, headers: err.headers };
  const e = (err ?? {}) as KnownError;
  const status = e.status ?? e.statusCode ?? 500;
  if (e.type === 'entity.too.large' || status === 413) return { status: 413, message: 'The request body is too large.' };
  if (e.type === 'entity.parse.failed' || (status === 400 && /JSON/i.test(e.message ?? '')))
    return { status: 400, message: 'The request body is not valid JSON.' };
  // co-body (through @hapi/bourne) refuses a "__proto__" key with a bare SyntaxError and status 400.
  if (status === 400 && e.name === 'SyntaxError' && /prototype property/i.test(e.message ?? ''))
    return { status: 400, message: 'The request body contains a forbidden key (__proto__).' };
  if (e.type === 'encoding.unsupported' || status === 415)
    return { status: 415, message: 'The request body uses an unsupported encoding.' };
  if (status >= 400 && status < 500 && e.expose && e.message)
    return { status, message: e.message.endsWith('.') ? e.message : `${e.message}.`, headers: e.headers };
  if (e.code && UNSTORABLE_TEXT.has(e.code))
    return { status: 400, message: 'The request contains a character that cannot be stored (such as a NUL byte).' };
  if (status === 503 || isDatabaseUnavailable(err))
    return { status: 503, message: 'The service is unavailable right now (the database cannot be reached). Try again shortly.' };
  return { status: 500, message: 'Something went wrong on our side. Try again, and tell an admin if it keeps happening.' };
}

/** The page an htmx request came from (same site only), else the request's own address. */
function currentPage(ctx: Context): string {
  try {
    const url = new URL(ctx.get('HX-Current-URL'));
    if (url.host === ctx.host) return url.pathname + url.search;
  } catch {
    // no or bad header: fall through
  }
  return ctx.originalUrl;
}

/** The one error middleware: JSON for API clients, a fragment for htmx, a page in the layout otherwise. */
export async function errorHandler(ctx: Context, next: Next): Promise<void> {
  try {
    await next();
    if (ctx.status === 404 && ctx.body === undefined) throw notFound('There is nothing at this address.');
    // The router answers a wrong method with a bare 405 and its Allow header: give it a sentence.
    if (ctx.status === 405 && !ctx.body) throw new HttpError(405, `This address does not accept ${ctx.method}.`);
  } catch (err) {
    const { status, message, fields, headers } = describe(err);
    const audience = audienceOf(ctx);
    // A person who is not signed in is sent to sign in, and brought back afterwards (htmx: the
    // whole page goes, with the page's own address as the way back, not the fragment's).
    if (status === 401 && audience === 'page' && ctx.method === 'GET') {
      ctx.status = 303;
      ctx.redirect(`/login?next=${encodeURIComponent(ctx.originalUrl)}`);
      return;
    }
    if (status === 401 && audience === 'partial') ctx.set('HX-Redirect', `/login?next=${encodeURIComponent(currentPage(ctx))}`);
    if (status >= 500) ctx.log.error({ err }, 'request failed');
    ctx.status = status;
    if (headers) ctx.set(headers);
    ctx.vary('Accept');
    ctx.vary('HX-Request');
    if (audience === 'json') {
      ctx.body = fields ? { error: message, fields } : { error: message };
      return;
    }
    ctx.type = 'html';
    const data = { status, heading: STATUS_TITLES[status] ?? 'Error', message, fields };
    try {
      ctx.body = renderView(ctx, audience === 'partial' ? 'partials/error' : 'error', data, data.heading);
    } catch (renderErr) {
      ctx.log.error({ err: renderErr }, 'error page failed to render');
      ctx.type = 'text';
      ctx.body = message;
    }
  }
}

/**
 * Security headers, with a CSP that allows no inline script (and no inline style). `formTargets`:
 * other origins a form's answer may redirect to (the identity provider's logout).
 */
export function securityHeaders(isProduction: boolean, formTargets: string[] = []) {
  const csp = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    ["form-action 'self'", ...formTargets].join(' '),
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
  ].join('; ');
  return async function setSecurityHeaders(ctx: Context, next: Next): Promise<void> {
    ctx.set({
      'Content-Security-Policy': csp,
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'same-origin',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'Permissions-Policy': 'camera=(), microphone=(), geolocation=()',
    });
    if (isProduction) ctx.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    await next();
  };
}
