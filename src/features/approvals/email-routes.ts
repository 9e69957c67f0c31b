import { timingSafeEqual } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Deps } from '../../http/context.ts';
import { HttpError, notFound } from '../../http/errors.ts';
import { readMultipartFields } from '../../http/multipart.ts';
import { Limiter } from '../../http/rate-limit.ts';
import { respond } from '../../http/respond.ts';
import { handleEmailReply, type InboundEmail } from './email.ts';

/** Where SendGrid's Inbound Parse posts replies. CSRF-exempt: the secret (basic auth or the path) is the proof. */
export const INBOUND_EMAIL_PATH = '/api/inbound/email';
export const INBOUND_EMAIL_PATH_PATTERN = /^\/api\/inbound\/email(\/[^/]+)?$/;

const sameSecret = (given: string, secret: string) => {
  const a = Buffer.from(given);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
};

/** The password of a Basic Authorization header (the user name is not checked), if there is one. */
function basicPassword(ctx: Context): string | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(ctx.get('Authorization'));
  if (!match) return undefined;
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

/**
 * Replies by email (DESIGN.md §15): SendGrid Inbound Parse posts each email to the hostname
 * INBOUND_EMAIL_DOMAIN here as multipart/form-data. SendGrid cannot sign these posts with a shared
 * secret, so the URL carries one, as SendGrid advises: `https://inbound:<INBOUND_EMAIL_SECRET>@host/api/inbound/email`
 * (basic auth) or `https://host/api/inbound/email/<INBOUND_EMAIL_SECRET>` where a proxy drops the
 * Authorization header. Without the secret: 401 (or 404 for a wrong path) and nothing is read. A
 * processed email is always 200 (SendGrid would otherwise send it again), its outcome in the body.
 */
export function emailReplyRoutes({ db, config }: Deps): Router {
  const router = new Router();
  const bySender = new Limiter(db, 'email-reply', config.rateLimitLinkPerMinute, 60);
  const { inboundDomain, inboundSecret, inboundMaxBytes } = config.approvals;

  const receive = (secretInPath: boolean) => async (ctx: Context) => {
    if (!inboundDomain || !inboundSecret) throw notFound('Replies by email are not configured on this server.');
    if (secretInPath) {
      if (!sameSecret(String(ctx.params.secret ?? ''), inboundSecret)) throw notFound();
    } else {
      const password = basicPassword(ctx);
      if (password === undefined || !sameSecret(password, inboundSecret)) {
        ctx.log.warn({ reason: password === undefined ? 'no credentials' : 'wrong secret' }, 'inbound email refused');
        throw new HttpError(401, 'This endpoint needs the inbound email secret.', undefined, {
          'WWW-Authenticate': 'Basic realm="inbound email", charset="UTF-8"',
        });
      }
    }
    const fields = await readMultipartFields(ctx.req, {
      maxBytes: inboundMaxBytes,
      // SendGrid names each field's charset in its `charsets` field (JSON).
      charsetOf: (raw, name) => {
        try {
          const charsets = JSON.parse(raw.get('charsets')?.toString('utf8') ?? '{}') as Record<string, unknown>;
          return typeof charsets[name] === 'string' ? (charsets[name] as string) : undefined;
        } catch {
          return undefined;
        }
      },
    });
    const mail: InboundEmail = {
      from: fields.from,
      to: fields.to,
      cc: fields.cc,
      envelope: fields.envelope,
      text: fields.text,
      html: fields.html,
      dkim: fields.dkim,
      SPF: fields.SPF,
      subject: fields.subject,
    };
    const sender = (fields.from ?? '').toLowerCase().replace(/^.*</, '').replace(/>.*$/, '').trim();
    if (sender) await bySender.hit(`email:${sender}`);
    const result = await handleEmailReply(db, mail, config);
    // Never the addresses or the text: only what happened.
    ctx.log.info({ ticketId: result.ticketId, outcome: result.outcome }, 'email reply');
    respond(ctx, { json: result });
  };

  router.post(INBOUND_EMAIL_PATH, receive(false));
  router.post(`${INBOUND_EMAIL_PATH}/:secret`, receive(true));
  return router;
}
