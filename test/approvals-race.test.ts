import test from 'ava';
import twilio from 'twilio';
import { startApp, type TestApp } from './support/app.ts';
import { Client } from './support/client.ts';
import { buildCast, buildRequest } from './support/factories.ts';
import { TWILIO_TOKEN } from './support/fake-providers.ts';
import { INBOUND_DOMAIN, INBOUND_SECRET, inboundForm, postInbound, replyTo } from './support/inbound-email.ts';

/**
 * The first decision wins (DESIGN.md §4, §15): the review link, the ticket page, an SMS reply and an
 * email reply sent at the same moment make one decision in the timeline; the others are told.
 */

const APP_URL = 'https://tickets.example.test';
let app: TestApp;

test.before(async () => {
  app = await startApp({
    APP_URL,
    TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
    INBOUND_EMAIL_DOMAIN: INBOUND_DOMAIN,
    INBOUND_EMAIL_SECRET: INBOUND_SECRET,
  });
});
test.after.always(async () => {
  await app?.close();
});

test('link, page, SMS and email at once: one decision, and each of the others is told', async (t) => {
  const cast = await buildCast(app, {
    tech: {},
    stock: { phone: '+12025550142', email: 'stock@warehouse.example.test', browser: true },
  });
  const winners: string[] = [];
  for (let round = 0; round < 6; round++) {
    const r = await buildRequest(app, { creator: cast.tech.user, assignee: cast.stock.user });
    const csrf = await cast.stock.browser.csrfFrom(`/tickets/${r.id}`);
    const sms = { From: '+12025550142', To: '+15005550006', Body: `YES ${r.id}` };
    const signature = twilio.getExpectedTwilioSignature(TWILIO_TOKEN, `${APP_URL}/api/twilio/sms`, sms);
    const [link, page, text, mail] = await Promise.all([
      new Client(app.url).postForm(r.reviewPath, { decision: 'approve' }),
      cast.stock.browser.postForm(`/tickets/${r.id}/decision`, { _csrf: csrf, decision: 'reject', reason: 'from the page' }),
      new Client(app.url).postForm('/api/twilio/sms', sms, { 'X-Twilio-Signature': signature }),
      postInbound(app, inboundForm({ from: 'stock@warehouse.example.test', to: replyTo(app, r.id), text: 'NO from the email' })),
    ]);
    const json = (await cast.tech.api.send('GET', `/api/tickets/${r.id}`)).json;
    const decisions = json.events.filter((e: { type: string }) => e.type === 'status_changed');
    t.is(decisions.length, 1, `round ${round}: one decision`);
    const winner = decisions[0];
    t.is(json.status, winner.to_status);
    winners.push(winner.via ?? 'page');
    // Each loser heard that it lost; nothing else changed.
    const linkWon = /the request is now/.test(link.$('main .flash.success').text());
    const pageWon = page.status === 303 && !(await cast.stock.browser.get(`/tickets/${r.id}`)).$('.flash.error').length;
    const smsWon = /Request #\d+ approved/.test(text.$('Response > Message').text());
    const mailWon = mail.json.outcome === 'decided';
    t.is([linkWon, pageWon, smsWon, mailWon].filter(Boolean).length, 1, `round ${round}: one winner`);
    if (!linkWon) t.regex(link.$('main .flash.info').text(), /already (approved|rejected) by stock/);
    if (!smsWon) t.regex(text.$('Response > Message').text(), /was already/);
    if (!mailWon) t.is(mail.json.outcome, 'refused');
    const refusals = json.events.filter((e: { type: string }) => e.type === 'sms_refused' || e.type === 'email_refused');
    t.is(refusals.length, (smsWon ? 0 : 1) + (mailWon ? 0 : 1), 'each losing reply is in the timeline');
  }
  t.log(`winners: ${winners.join(', ')}`);
});
