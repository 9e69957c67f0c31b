import Router from '@koa/router';
import type { Deps } from '../../http/context.ts';
import { forbidden } from '../../http/errors.ts';
import { clientIp, Limiter } from '../../http/rate-limit.ts';
import { parseWith } from '../../http/validate.ts';
import { normalizePhone } from '../../lib/addresses.ts';
import { onFirstUse } from '../../lib/on-first-use.ts';
import type { Settings } from '../tickets/service.ts';
import { inboundSmsSchema } from './schema.ts';
import { decideBySms, recordSmsRefusal } from './service.ts';
import { parseSmsReply, SMS_HELP, smsAnswer } from './sms-reply.ts';

/** Where Twilio posts incoming SMS (the number's "A message comes in" webhook). CSRF-exempt: Twilio signs it. */
export const TWILIO_SMS_PATH = '/api/twilio/sms';
export const TWILIO_SMS_PATH_PATTERN = /^\/api\/twilio\/sms$/;

/** Twilio's SDK, loaded by the first webhook call rather than at start-up (see onFirstUse). */
const twilioSdk = onFirstUse(async () => (await import('twilio')).default);

/** A TwiML answer: Twilio texts `text` back to the sender. */
async function twiml(text: string): Promise<string> {
  const twilio = await twilioSdk();
  const response = new twilio.twiml.MessagingResponse();
  response.message(text);
  return response.toString();
}

/**
 * SMS replies to review requests. The request must carry a valid X-Twilio-Signature for
 * `${APP_URL}/api/twilio/sms` (HMAC with TWILIO_AUTH_TOKEN over the URL and the form fields); without
 * a token configured, or with a missing or wrong signature, it is 403 and nothing changes. Limited per
 * client IP and per sending number.
 */
export function smsReplyRoutes({ db, config }: Deps): Router {
  const router = new Router();
  const limiter = new Limiter(db, 'sms-reply', config.rateLimitLinkPerMinute, 60);
  const settings: Settings = config;

  router.post(TWILIO_SMS_PATH, async (ctx) => {
    await limiter.hit(`ip:${clientIp(ctx)}`);
    const token = config.notifications.twilio.authToken;
    const signature = ctx.get('X-Twilio-Signature');
    const params = (ctx.is('urlencoded') ? ctx.request.body : undefined) as Record<string, unknown> | undefined;
    const signedUrl = `${config.appUrl}${TWILIO_SMS_PATH}${ctx.querystring ? `?${ctx.querystring}` : ''}`;
    const twilio = await twilioSdk();
    if (!token || !signature || !params || !twilio.validateRequest(token, signature, signedUrl, params)) {
      const reason = !token ? 'TWILIO_AUTH_TOKEN is not set' : !signature ? 'no signature' : 'bad signature';
      ctx.log.warn({ reason }, 'Twilio webhook refused');
      throw forbidden('This request is not signed by Twilio.');
    }
    const message = parseWith(inboundSmsSchema, params);
    const from = normalizePhone(message.From);
    let answer = SMS_HELP;
    let outcome: string = 'help';
    let ticketId: number | undefined;
    if (from) {
      await limiter.hit(`from:${from}`);
      const reply = parseSmsReply(message.Body);
      ticketId = reply.ticketId;
      if (reply.kind === 'invalid') {
        if (reply.ticketId) await recordSmsRefusal(db, reply.ticketId, from, reply.problem);
      } else {
        const result = await decideBySms(db, reply.ticketId, from, reply.decision, reply.reason, settings);
        outcome = result.state;
        answer = smsAnswer(reply.ticketId, result);
      }
    }
    // Never the number or the text: only what happened.
    ctx.log.info({ ticketId, outcome }, 'SMS reply');
    ctx.type = 'text/xml';
    ctx.body = await twiml(answer);
  });

  return router;
}
