import test from 'ava';
import { firstAnswerLine, htmlToText, parseEmailReply, senderAuthenticated } from '../src/features/approvals/email-reply.ts';
import { NotificationWorker } from '../src/features/notifications/worker.ts';
import { startApp, type TestApp } from './support/app.ts';
import { Client } from './support/client.ts';
import { buildCast, buildRequest } from './support/factories.ts';
import { startFakeProviders } from './support/fake-providers.ts';
import { INBOUND_DOMAIN, INBOUND_SECRET, inboundForm, postInbound, replyTo } from './support/inbound-email.ts';

/**
 * Replies by email (DESIGN.md §15) through SendGrid Inbound Parse posts with real multipart bodies:
 * plain text, HTML only, quoted replies as Gmail and Outlook write them, a forged sender, a wrong
 * sender, oversize bodies; the secret; every attempt in the timeline; help answers to accounts only.
 */

let app: TestApp;
let cast: Awaited<ReturnType<typeof castOf>>;
const castOf = (a: TestApp) =>
  buildCast(a, {
    tech: { email: 'tech@field.example.test' },
    stock: { email: 'Stock.Keeper@warehouse.example.test' },
    other: { email: 'other@warehouse.example.test' },
    boss: { role: 'admin' },
  });

test.before(async () => {
  app = await startApp({
    INBOUND_EMAIL_DOMAIN: INBOUND_DOMAIN,
    INBOUND_EMAIL_SECRET: INBOUND_SECRET,
    INBOUND_EMAIL_MAX_KB: '64',
  });
  cast = await castOf(app);
});
test.after.always(async () => {
  await app?.close();
});

const request = () => buildRequest(app, { creator: cast.tech.user, assignee: cast.stock.user });
const ticketOf = async (id: number) => (await cast.boss.api.send('GET', `/api/tickets/${id}`)).json;
const STOCK = 'Stock Keeper <stock.keeper@warehouse.example.test>';
const help = (to: number) => app.db('notifications').where({ recipient_user_id: to, notification_type: 'approval_email_help' });

const GMAIL = (answer: string, id: number) => `${answer}

On Tue, Jan 5, 2027 at 9:14 AM Cable Ticketing <tickets@example.test>
wrote:

> Hello stock,
>
> tech asks for cable at Building A (priority: medium):
>   - Cat6 100ft x2
> Approve or reject it here: https://tickets.example.test/tickets/${id}/review/abc
`;

const OUTLOOK = (answer: string) => `${answer}\r
\r
________________________________\r
From: Cable Ticketing <tickets@example.test>\r
Sent: Tuesday, January 5, 2027 9:14 AM\r
To: Stock Keeper <stock.keeper@warehouse.example.test>\r
Subject: Cable request #1 from tech needs your review\r
\r
YES\r
`;

test('the review email carries the request’s signed reply address as Reply-To, and says how to answer', async (t) => {
  const { id } = await request();
  const mail = await app
    .db('notifications')
    .where({ ticket_id: id, channel: 'email', notification_type: 'ticket_created' })
    .first();
  t.is(mail.reply_to, replyTo(app, id));
  t.regex(mail.reply_to, new RegExp(`^approve\\+${id}\\.[0-9a-f]{20}@${INBOUND_DOMAIN}$`));
  t.regex(mail.body_text, /Or reply to this email: YES on the first line approves it as asked/);
  const sms = await app.db('notifications').where({ ticket_id: id, channel: 'sms' }).first();
  t.is(sms.reply_to, null);
});

test('a plain YES from the assignee approves, as the assignee via email; the address is compared without case', async (t) => {
  const { id } = await request();
  const res = await postInbound(
    app,
    inboundForm({ from: STOCK, to: replyTo(app, id), text: 'Yes\n\n-- \nStock Keeper\nWarehouse' }),
  );
  t.is(res.status, 200);
  t.deepEqual(res.json, { outcome: 'decided', ticketId: id });
  const json = await ticketOf(id);
  t.is(json.status, 'approved');
  t.like(json.events.at(-1), { type: 'status_changed', via: 'email', actor: { username: 'stock' }, to_status: 'approved' });
});

test('NO with a reason rejects; quoted Gmail and Outlook replies decide by the line above the quotation', async (t) => {
  const a = await request();
  await postInbound(
    app,
    inboundForm({ from: STOCK, to: replyTo(app, a.id), text: GMAIL('NO we are out of OM4 until Friday', a.id) }),
  );
  const rejected = await ticketOf(a.id);
  t.is(rejected.status, 'rejected');
  t.is(rejected.rejection_reason, 'we are out of OM4 until Friday');

  const b = await request();
  await postInbound(app, inboundForm({ from: STOCK, to: replyTo(app, b.id), text: OUTLOOK('approve') }));
  t.is((await ticketOf(b.id)).status, 'approved');

  // Nothing above the quotation: the YES inside it does not count.
  const c = await request();
  const quoted = await postInbound(app, inboundForm({ from: STOCK, to: replyTo(app, c.id), text: OUTLOOK('') }));
  t.is(quoted.json.outcome, 'not_a_decision');
  t.is((await ticketOf(c.id)).status, 'pending_approval');
});

test('an HTML-only reply is read from its HTML, quotation cut', async (t) => {
  const { id } = await request();
  const html = `<html><head><style>p{color:red}</style></head><body><div dir="ltr">REJECT&nbsp;wrong building &amp; floor<br></div><br>
<div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Tue, Jan 5, 2027 at 9:14 AM Cable Ticketing wrote:<br></div>
<blockquote class="gmail_quote">YES</blockquote></div></body></html>`;
  const res = await postInbound(app, inboundForm({ from: STOCK, to: replyTo(app, id), html }));
  t.is(res.json.outcome, 'decided');
  const json = await ticketOf(id);
  t.is(json.status, 'rejected');
  t.is(json.rejection_reason, 'wrong building & floor');
});

test('a forged sender (no passing DKIM or SPF for the From domain) is refused and logged, and nobody is answered', async (t) => {
  const { id } = await request();
  const forged = [
    inboundForm({ from: STOCK, to: replyTo(app, id), text: 'YES', dkim: '{@evil.example : pass}', SPF: 'fail' }),
    inboundForm({ from: STOCK, to: replyTo(app, id), text: 'YES', dkim: '{@warehouse.example.test : fail}', SPF: 'softfail' }),
    // SPF passes, but for another domain's envelope sender.
    inboundForm({ from: STOCK, to: replyTo(app, id), text: 'YES', dkim: '', SPF: 'pass', envelopeFrom: 'x@evil.example' }),
  ];
  for (const form of forged) {
    const res = await postInbound(app, form);
    t.is(res.status, 200);
    t.is(res.json.outcome, 'unverified');
  }
  const json = await ticketOf(id);
  t.is(json.status, 'pending_approval');
  const refused = json.events.filter((e: { type: string }) => e.type === 'email_refused');
  t.is(refused.length, 3);
  t.regex(refused[0].note, /^Email reply from s\S+@warehouse\.example\.test refused: the sender could not be verified/);
  t.false(refused[0].note.includes('stock.keeper@'), 'the address is masked');
  t.is((await help(cast.stock.user.id).where({ ticket_id: id })).length, 0, 'no answer to a sender who may not have written');
  // SPF alone passes when the envelope sender is of the From domain.
  const spf = await postInbound(
    app,
    inboundForm({
      from: STOCK,
      to: replyTo(app, id),
      text: 'YES',
      dkim: '',
      SPF: 'pass',
      envelopeFrom: 'bounces@mail.warehouse.example.test',
    }),
  );
  t.is(spf.json.outcome, 'decided');
});

test('a wrong sender cannot decide: refused in the timeline, a help answer to an account, nothing to a stranger', async (t) => {
  const { id } = await request();
  const other = await postInbound(app, inboundForm({ from: 'other@warehouse.example.test', to: replyTo(app, id), text: 'YES' }));
  t.is(other.json.outcome, 'refused');
  const stranger = await postInbound(app, inboundForm({ from: 'someone@else.example', to: replyTo(app, id), text: 'YES' }));
  t.is(stranger.json.outcome, 'refused');
  const requester = await postInbound(app, inboundForm({ from: 'tech@field.example.test', to: replyTo(app, id), text: 'YES' }));
  t.is(requester.json.outcome, 'refused', 'the requester does not approve their own request');
  const json = await ticketOf(id);
  t.is(json.status, 'pending_approval');
  t.is(json.events.filter((e: { type: string }) => e.type === 'email_refused').length, 3);
  const answers = await help(cast.other.user.id);
  t.is(answers.length, 1);
  t.regex(answers[0].body_text, new RegExp(`this address cannot decide request #${id}`));
  t.is(answers[0].reply_to, replyTo(app, id));
  t.is((await app.db('notifications').where({ recipient_address: 'someone@else.example' })).length, 0);
});

test('a reply that is not a decision gets a short help answer; a forged or foreign reply address decides nothing', async (t) => {
  const { id } = await request();
  const res = await postInbound(
    app,
    inboundForm({ from: STOCK, to: replyTo(app, id), text: 'Can we talk about this tomorrow?' }),
  );
  t.is(res.json.outcome, 'not_a_decision');
  const answers = await help(cast.stock.user.id);
  t.true(answers.some((a) => /the first line is not YES, APPROVE, NO <reason> or REJECT <reason>/.test(a.body_text)));
  const no = await postInbound(app, inboundForm({ from: STOCK, to: replyTo(app, id), text: 'NO' }));
  t.is(no.json.outcome, 'not_a_decision');
  const badSig = replyTo(app, id).replace(/\.[0-9a-f]{4}/, '.0000');
  const forgedAddress = await postInbound(app, inboundForm({ from: STOCK, to: badSig, text: 'YES' }));
  t.deepEqual(forgedAddress.json, { outcome: 'no_request' });
  const otherTicket = replyTo(app, id).replace(`+${id}.`, `+${id + 1000}.`);
  t.deepEqual((await postInbound(app, inboundForm({ from: STOCK, to: otherTicket, text: 'YES' }))).json, {
    outcome: 'no_request',
  });
  t.is((await ticketOf(id)).status, 'pending_approval');
  t.is((await ticketOf(id)).events.filter((e: { type: string }) => e.type === 'email_refused').length, 2);
});

test('attachments are ignored; a body past INBOUND_EMAIL_MAX_KB is 413 and reads nothing', async (t) => {
  const { id } = await request();
  const small = inboundForm({
    from: STOCK,
    to: replyTo(app, id),
    text: 'YES',
    attachments: [{ name: 'signature.png', type: 'image/png', bytes: new Uint8Array(2048) }],
  });
  t.is((await postInbound(app, small)).json.outcome, 'decided');
  const next = await request();
  const big = inboundForm({
    from: STOCK,
    to: replyTo(app, next.id),
    text: 'YES',
    attachments: [{ name: 'photo.jpg', type: 'image/jpeg', bytes: new Uint8Array(80 * 1024) }],
  });
  const res = await postInbound(app, big);
  t.is(res.status, 413);
  t.is(typeof res.json.error, 'string');
  const longText = inboundForm({ from: STOCK, to: replyTo(app, next.id), text: `YES\n${'x'.repeat(70 * 1024)}` });
  t.is((await postInbound(app, longText)).status, 413);
  t.is((await ticketOf(next.id)).status, 'pending_approval');
});

test('the secret: basic auth or the path; anything else is refused before the body is read', async (t) => {
  const { id } = await request();
  const form = () => inboundForm({ from: STOCK, to: replyTo(app, id), text: 'YES' });
  const none = await postInbound(app, form(), { basic: null });
  t.is(none.status, 401);
  t.regex(none.headers.get('www-authenticate') ?? '', /^Basic realm="inbound email"/);
  t.is((await postInbound(app, form(), { basic: 'wrong-secret-0123456789' })).status, 401);
  t.is((await postInbound(app, form(), { path: 'wrong-secret-0123456789' })).status, 404);
  t.is((await postInbound(app, { raw: 'from=x&text=YES', contentType: 'application/x-www-form-urlencoded' })).status, 415);
  t.is((await postInbound(app, { raw: '--x\r\nbroken', contentType: 'multipart/form-data' })).status, 415, 'no boundary');
  t.is((await postInbound(app, { raw: '--x\r\nbroken', contentType: 'multipart/form-data; boundary=x' })).status, 400);
  t.is((await ticketOf(id)).status, 'pending_approval');
  t.is((await postInbound(app, form(), { path: INBOUND_SECRET })).json.outcome, 'decided');
});

test('replies by email are off without INBOUND_EMAIL_DOMAIN: no Reply-To, and the route is 404', async (t) => {
  const off = await startApp();
  t.teardown(() => off.close());
  const { id } = await buildRequest(off);
  t.is((await off.db('notifications').where({ ticket_id: id, channel: 'email' }).first()).reply_to, null);
  const res = await new Client(off.url).send('POST', '/api/inbound/email', {});
  t.is(res.status, 404);
});

test('reading a reply: the first line above the quotation', (t) => {
  t.is(firstAnswerLine('\n\n  yes  \n> quoted'), 'yes');
  t.is(firstAnswerLine('> YES\nyes'), undefined);
  t.is(firstAnswerLine('On Mon, Jan 4, 2027 at 10:00, Bob <b@x.test> wrote:\n> YES'), undefined);
  t.is(firstAnswerLine('-----Original Message-----\nYES'), undefined);
  t.is(firstAnswerLine('Sent from my iPhone'), undefined);
  t.deepEqual(parseEmailReply({ text: 'APPROVED.' }), { kind: 'decision', decision: 'approved' });
  t.deepEqual(parseEmailReply({ text: 'Reject: no budget' }), { kind: 'decision', decision: 'rejected', reason: 'no budget' });
  t.is(parseEmailReply({ text: 'Yes but only two' }).kind, 'invalid', 'a YES with conditions is not an approval');
  t.is(parseEmailReply({ text: 'Nope' }).kind, 'invalid');
  t.is(parseEmailReply({ text: '', html: '<p>Yes</p>' }).kind, 'decision');
  t.is(htmlToText('<p>a &lt;b&gt; &#39;c&#x27;</p>').trim(), "a <b> 'c'");
  t.true(senderAuthenticated('a@mail.example.test', { dkim: '{@example.test : pass}' }), 'a parent domain’s signature aligns');
  t.true(senderAuthenticated('a@example.test', { dkim: '{@mail.example.test : pass}' }), 'so does a subdomain’s');
  t.false(senderAuthenticated('a@example.test', { dkim: '{@notexample.test : pass}' }), 'a name that only ends alike does not');
  t.false(senderAuthenticated('a@example.test', { dkim: '{@example.test : fail}', SPF: 'neutral' }));
});

test('the Reply-To reaches Resend and SendGrid through their SDKs', async (t) => {
  const fake = await startFakeProviders();
  t.teardown(() => fake.close());
  for (const provider of ['resend', 'sendgrid'] as const) {
    const rigged = await startApp({
      ...fake.env([provider]),
      INBOUND_EMAIL_DOMAIN: INBOUND_DOMAIN,
      INBOUND_EMAIL_SECRET: INBOUND_SECRET,
    });
    t.teardown(() => rigged.close());
    const { id } = await buildRequest(rigged);
    const worker = new NotificationWorker({ db: rigged.db, logger: rigged.logger, settings: rigged.config.notifications });
    await worker.runOnce();
    const [sent] = fake.of(provider);
    const expected = replyTo(rigged, id);
    if (provider === 'resend') t.is(sent?.body.reply_to, expected);
    else t.deepEqual(sent?.body.reply_to, { email: expected });
  }
});
