import { createHash } from 'node:crypto';
import { Stream } from 'node:stream';
import type { Context, Next } from 'koa';
import { claimIdempotencyKey, keepIdempotentResponse, releaseIdempotencyKey } from '../db/idempotency-keys.ts';
import { bodyBytes } from './compress.ts';
import { badRequest, HttpError } from './errors.ts';
import { rowEdit } from './forms.ts';
import { errorHandler } from './middleware.ts';

/**
 * The Idempotency-Key header (IETF httpapi draft) for every unsafe request, JSON and form alike.
 *
 * A request carrying a key (the header, or for a form without JavaScript the hidden field
 * `idempotency_key` that forms render) is run once per (caller, key) for 24 hours:
 *   - the same key with the same request again gets the first response (status, body, Location and
 *     the other headers in KEPT_HEADERS) with `Idempotent-Replayed: true`, and nothing runs twice;
 *   - the same key with another request is 422; a repeat while the first still runs is 409;
 *   - an empty key, or one longer than 255 characters or with characters a header cannot carry, is 400.
 * The request's fingerprint is its method, path and body (as parsed, keys sorted) without the CSRF
 * token and the key field, so a fresh CSRF token at a resend changes nothing.
 *
 * Only successes (2xx) and redirects (3xx) are kept. Every refusal here is decided before anything is
 * written (a state change commits in one transaction or not at all), so a request that got a 4xx or
 * 5xx changed nothing: its key is released and a retry runs afresh. Kept, a refusal would pin the key
 * to it: a draft corrected after "no such assignee", or a rejection sent again with its reason, would
 * be 422. A process that dies between its commit and keeping the response leaves the key running; a
 * retry after the lease (RUNNING_LEASE_MS) runs again, the one case this middleware cannot close.
 *
 * The caller is the signed-in user (session or bearer token). A review link used without a session
 * is its own caller (a hash of its path, which holds the link's secret). Anyone else is not keyed:
 * the route refuses them anyway. Excluded paths are never keyed: sign-in, registration and sign-out
 * (responses that carry tokens or start sessions) and signed webhooks.
 */
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
export const IDEMPOTENCY_FIELD = 'idempotency_key';
export const KEY_TTL_MS = 24 * 3_600_000;
/** A key still running after this long belonged to a process that stopped: a retry may take it over. */
export const RUNNING_LEASE_MS = 2 * 60_000;
const MAX_KEY_LENGTH = 255;
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** The response headers a replay repeats (never Set-Cookie: the session is not part of the response kept). */
const KEPT_HEADERS = [
  'content-type',
  'location',
  'cache-control',
  'referrer-policy',
  'vary',
  'link',
  'retry-after',
  'hx-redirect',
  'hx-location',
  'hx-refresh',
  'hx-trigger',
  'hx-push-url',
  'hx-replace-url',
  'hx-retarget',
  'hx-reswap',
];

export interface IdempotencyOptions {
  /** Paths never keyed. */
  exclude: RegExp[];
  /** Paths that carry their own secret (review links): for a visitor without a session, the caller. */
  linkPaths: RegExp[];
  /** The clock (tests pass their own). */
  now?: () => Date;
}

/** The key's characters: what an RFC 8941 sf-string holds (visible ASCII and space). */
const KEY_CHARS = /^[\x20-\x7e]*$/;

/**
 * The header's value as a key: an RFC 8941 sf-string (`"8e03…"`, as the draft writes it, parameters
 * after it ignored) or, as most clients send it, the bare value.
 */
export function parseKeyHeader(value: string): string {
  const text = value.trim();
  if (!text.startsWith('"')) return text;
  let key = '';
  for (let i = 1; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '\\') {
      const next = text[i + 1];
      if (next !== '"' && next !== '\\')
        throw badRequest('The Idempotency-Key header is not a valid string: a backslash escapes only " and \\.');
      key += next;
      i++;
    } else if (c === '"') {
      const rest = text.slice(i + 1).trim();
      if (rest && !rest.startsWith(';'))
        throw badRequest('The Idempotency-Key header holds one quoted string, and nothing after it.');
      return key;
    } else {
      key += c;
    }
  }
  throw badRequest('The Idempotency-Key header opens a quoted string it does not close.');
}

function checkKey(key: string, source: string): string {
  if (key.length === 0) throw badRequest(`The ${source} must not be empty.`);
  if (key.length > MAX_KEY_LENGTH) throw badRequest(`The ${source} is at most ${MAX_KEY_LENGTH} characters long.`);
  if (!KEY_CHARS.test(key)) throw badRequest(`The ${source} may hold only visible ASCII characters and spaces.`);
  return key;
}

const isForm = (ctx: Context) => Boolean(ctx.request.is('urlencoded'));
const bodyObject = (ctx: Context): Record<string, unknown> | undefined => {
  const body = ctx.request.body;
  return body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
};

/** The request's key, from the header or (forms) the hidden field; undefined when it has none. */
export function idempotencyKeyOf(ctx: Context): string | undefined {
  const header = ctx.get(IDEMPOTENCY_HEADER);
  const fromHeader =
    ctx.headers[IDEMPOTENCY_HEADER.toLowerCase()] === undefined
      ? undefined
      : checkKey(parseKeyHeader(header), 'Idempotency-Key header');
  const field = isForm(ctx) ? bodyObject(ctx)?.[IDEMPOTENCY_FIELD] : undefined;
  if (field !== undefined && typeof field !== 'string') throw badRequest(`The ${IDEMPOTENCY_FIELD} field must be one string.`);
  const fromField = field === undefined ? undefined : checkKey(field, `${IDEMPOTENCY_FIELD} field`);
  if (fromHeader !== undefined && fromField !== undefined && fromHeader !== fromField) {
    throw badRequest(`The Idempotency-Key header and the ${IDEMPOTENCY_FIELD} field name different keys.`);
  }
  return fromHeader ?? fromField;
}

/** JSON with object keys sorted at every level: the same data always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** The request's fingerprint: method, path and query, and the body without `_csrf` and the key field. */
export function requestFingerprint(ctx: Context): string {
  const body = bodyObject(ctx);
  let content: unknown = ctx.request.body ?? null;
  if (body) {
    const { _csrf, [IDEMPOTENCY_FIELD]: _key, ...rest } = body;
    content = rest;
  }
  return createHash('sha256')
    .update(`${ctx.method}\n${ctx.path}?${ctx.querystring}\n${canonicalJson(content)}`)
    .digest('hex');
}

function callerOf(ctx: Context, linkPaths: RegExp[]): string | undefined {
  if (ctx.state.user) return `user:${ctx.state.user.id}`;
  if (linkPaths.some((re) => re.test(ctx.path))) return `link:${createHash('sha256').update(ctx.path).digest('hex')}`;
  return undefined;
}

function replay(ctx: Context, kept: { status: number; headers: Record<string, string>; body: Buffer }): void {
  ctx.body = kept.body.length ? kept.body : null;
  ctx.status = kept.status;
  for (const [name, value] of Object.entries(kept.headers)) ctx.set(name, value);
  ctx.set('Idempotent-Replayed', 'true');
}

const conflict = (status: 409 | 422, message: string) =>
  new HttpError(status, message, undefined, status === 409 ? { 'Retry-After': '1' } : undefined);

export function idempotency(options: IdempotencyOptions) {
  const now = options.now ?? (() => new Date());
  return async function keepIdempotent(ctx: Context, next: Next): Promise<void> {
    if (!UNSAFE.has(ctx.method) || options.exclude.some((re) => re.test(ctx.path))) return next();
    const caller = callerOf(ctx, options.linkPaths);
    const key = caller ? idempotencyKeyOf(ctx) : undefined;
    // A no-JavaScript form's "Add item" / "Remove" posts the form back to show it again: nothing to keep.
    const body = bodyObject(ctx);
    if (!caller || key === undefined || (body && isForm(ctx) && rowEdit(body))) return next();

    const { db } = ctx.deps;
    const claim = await claimIdempotencyKey(db, {
      caller,
      key,
      requestHash: requestFingerprint(ctx),
      now: now(),
      ttlMs: KEY_TTL_MS,
      leaseMs: RUNNING_LEASE_MS,
    });
    if (claim.kind === 'mismatch') {
      throw conflict(
        422,
        'This Idempotency-Key was already used for a different request. A new request needs a new key (reload a form to get one).',
      );
    }
    if (claim.kind === 'running') {
      throw conflict(
        409,
        'A request with this Idempotency-Key is still being processed. Wait a moment, then check whether it went through.',
      );
    }
    if (claim.kind === 'done') {
      replay(ctx, claim.response);
      return;
    }

    // Errors are rendered here, inside the claim, so the response kept is the one sent.
    await errorHandler(ctx, next);
    const sent = ctx.body;
    if (ctx.status < 200 || ctx.status >= 400 || sent instanceof Stream) {
      await releaseIdempotencyKey(db, claim.id, claim.runToken).catch((err) =>
        ctx.log.error({ err }, 'idempotency key not released'),
      );
      return;
    }
    const bytes = sent === null || sent === undefined ? Buffer.alloc(0) : bodyBytes(sent);
    if (sent !== null && sent !== undefined && !Buffer.isBuffer(sent)) {
      const type = ctx.response.get('Content-Type');
      ctx.body = bytes;
      if (type) ctx.type = type;
    }
    const headers: Record<string, string> = {};
    for (const name of KEPT_HEADERS) {
      const value = ctx.response.get(name);
      if (value) headers[name] = String(value);
    }
    try {
      await keepIdempotentResponse(db, claim.id, claim.runToken, { status: ctx.status, headers, body: bytes });
    } catch (err) {
      // The change is made and its response is ready: it is sent. The key stays claimed, so a retry
      // gets 409 until the lease ends rather than running again at once.
      ctx.log.error({ err }, 'idempotency key: response not kept');
    }
  };
}
