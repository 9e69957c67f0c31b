import test from 'ava';
import twilio from 'twilio';
import { parseSmsReply } from '../src/features/approvals/sms-reply.ts';
import type { PublicUserRow } from '../src/features/users/queries.ts';
import { startApp, type TestApp } from './support/app.ts';
import { Client } from './support/client.ts';
import { buildCast, createUser, signedInClient, tokenClient } from './support/factories.ts';
import { TWILIO_TOKEN } from './support/fake-providers.ts';
import { createTicket } from './support/tickets.ts';

/**
 * SMS replies through Twilio's webhook: signed requests only, strict YES/NO grammar, the assignee's own
 * number only, decided through the tickets service, and every attempt in the ticket's audit trail.
 */

const APP_URL = 'https://tickets.example.test';
const WEBHOOK = '/api/twilio/sms';
const ASSIGNEE_PHONE = '+12025550142';

let app: TestApp;
let creator: Client;
let assignee: PublicUserRow;

test.before(async () => {
  app = await startApp({ APP_URL, TWILIO_AUTH_TOKEN: TWILIO_TOKEN });
  const cast = await buildCast(app, { tech: { phone: '+12025550100' }, stock: { phone: ASSIGNEE_PHONE } });
  assignee = cast.stock.user;
  creator = cast.tech.api;
});
test.after.always(async () => {
  await app?.close();
});

/** What Twilio posts for an incoming SMS, signed as Twilio signs it (unless told otherwise). */
function smsFields(from: string, body: string) {
  return { ToCountry: 'US', SmsMessageSid: `SM${'a'.repeat(32)}`, NumMedia: '0', From: from, To: '+15005550006', Body: body };
}
const signatureFor = (fields: Record<string, string>, token = TWILIO_TOKEN, url = `${APP_URL}${WEBHOOK}`) =>
  twilio.getExpectedTwilioSignature(token, url, fields);

function textIn(target: TestApp, from: string, body: string, signature?: string | null, extra: Record<string, string> = {}) {
  const fields = smsFields(from, body);
  const headers: Record<string, string> = { ...extra };
  const sig = signature === undefined ? signatureFor(fields) : signature;
  if (sig !== null) headers['X-Twilio-Signature'] = sig;
  return new Client(target.url).postForm(WEBHOOK, fields, headers);
}

const reply = (res: { $: (s: string) => { text(): string } }) => res.$('Response > Message').text();
const ticketJson = async (id: number) => (await creator.send('GET', `/api/tickets/${id}`)).json;
// biome-ignore lint/suspicious/noExplicitAny: event JSON, read field by field.
type EventJson = Record<string, any>;
const smsEvents = async (id: number) =>
  (await ticketJson(id)).events.filter((e: { via: string | null }) => e.via === 'sms') as EventJson[];
const pending = () => createTicket(creator, { assigned_to_id: assignee.id });

test('YES <id> from the assignee’s phone approves the request as the assignee, via SMS', async (t) => {
  const ticket = await pending();
  const res = await textIn(app, ASSIGNEE_PHONE, `YES ${ticket.id}`);
  t.is(res.status, 200);
  t.regex(res.headers.get('content-type') ?? '', /^text\/xml/);
  t.regex(res.text, /^<\?xml[^>]*\?><Response><Message>.*<\/Message><\/Response>$/);
  t.is(reply(res), `Request #${ticket.id} approved. tech will be told.`);
  const after = await ticketJson(ticket.id);
  t.is(after.status, 'approved');
  const [event] = await smsEvents(ticket.id);
  t.like(event, { type: 'status_changed', from_status: 'pending_approval', to_status: 'approved', actor: { id: assignee.id } });
  const told = await app.db('notifications').where({ ticket_id: ticket.id, notification_type: 'ticket_approved' });
  t.is(told.length, 2, 'the requester is told by email and SMS, as after a review link');
});

test('NO <id> <reason> rejects with the reason; case and spacing do not matter', async (t) => {
  const ticket = await pending();
  const res = await textIn(app, ASSIGNEE_PHONE, `  no  #${ticket.id}   Out of Cat6 until Monday  `);
  t.is(reply(res), `Request #${ticket.id} rejected. tech will be told.`);
  const after = await ticketJson(ticket.id);
  t.is(after.status, 'rejected');
  t.is(after.rejection_reason, 'Out of Cat6 until Monday');
  const [event] = await smsEvents(ticket.id);
  t.like(event, { type: 'status_changed', to_status: 'rejected', note: 'Out of Cat6 until Monday' });
});

test('a wrong signature is 403 and changes nothing', async (t) => {
  const ticket = await pending();
  const fields = smsFields(ASSIGNEE_PHONE, `YES ${ticket.id}`);
  const forged = [
    signatureFor(fields, 'not-the-auth-token'),
    signatureFor(fields, TWILIO_TOKEN, 'https://elsewhere.example.test/api/twilio/sms'),
    signatureFor({ ...fields, Body: `NO ${ticket.id} changed` }),
    'bm90IGEgc2lnbmF0dXJl',
  ];
  for (const signature of forged) {
    const res = await textIn(app, ASSIGNEE_PHONE, `YES ${ticket.id}`, signature);
    t.is(res.status, 403);
    t.is(typeof res.json.error, 'string');
  }
  t.is((await ticketJson(ticket.id)).status, 'pending_approval');
  t.deepEqual(await smsEvents(ticket.id), []);
});

test('a missing signature is 403 and changes nothing', async (t) => {
  const ticket = await pending();
  const res = await textIn(app, ASSIGNEE_PHONE, `YES ${ticket.id}`, null);
  t.is(res.status, 403);
  t.is((await ticketJson(ticket.id)).status, 'pending_approval');
  t.deepEqual(await smsEvents(ticket.id), []);
});

test('without TWILIO_AUTH_TOKEN nothing can be verified: every request is 403', async (t) => {
  const bare = await startApp({ APP_URL });
  t.teardown(() => bare.close());
  await createUser(bare.db, { username: 'tech' });
  const stock = await createUser(bare.db, { username: 'stock', phone: ASSIGNEE_PHONE });
  const ticket = await createTicket(await tokenClient(bare.url, 'tech'), { assigned_to_id: stock.id });
  const res = await textIn(bare, ASSIGNEE_PHONE, `YES ${ticket.id}`);
  t.is(res.status, 403);
  t.is((await bare.db('tickets').where({ id: ticket.id }).first()).status, 'pending_approval');
});

test('a reply from another number is refused, said so, and written in the audit trail with the number masked', async (t) => {
  const ticket = await pending();
  const res = await textIn(app, '+12025550999', `YES ${ticket.id}`);
  t.is(res.status, 200);
  t.is(reply(res), `This phone number cannot decide request #${ticket.id}.`);
  t.is((await ticketJson(ticket.id)).status, 'pending_approval');
  const [event] = await smsEvents(ticket.id);
  t.like(event, { type: 'sms_refused', actor: null });
  t.regex(event?.note, /\+1\*{6}0999/);
  t.regex(event?.note, /not sent from the assignee/);
  t.false(String(event?.note).includes('+12025550999'));
  // The creator's own phone is not the assignee's either.
  t.is(reply(await textIn(app, '+12025550100', `YES ${ticket.id}`)), `This phone number cannot decide request #${ticket.id}.`);
});

test('an already decided request answers so, and records the attempt', async (t) => {
  const ticket = await pending();
  t.is(reply(await textIn(app, ASSIGNEE_PHONE, `yes ${ticket.id}`)), `Request #${ticket.id} approved. tech will be told.`);
  const again = await textIn(app, ASSIGNEE_PHONE, `NO ${ticket.id} changed my mind`);
  t.is(reply(again), `Request #${ticket.id} was already approved. Nothing changed.`);
  t.is((await ticketJson(ticket.id)).status, 'approved');
  const events = await smsEvents(ticket.id);
  t.deepEqual(
    events.map((e) => e.type),
    ['status_changed', 'sms_refused'],
  );
  t.like(events[1], { actor: { id: assignee.id } });
  t.regex(events[1]?.note, /NO: the request was already approved/);
});

test('a deleted request is not decided by SMS', async (t) => {
  const ticket = await pending();
  t.is((await creator.send('DELETE', `/api/tickets/${ticket.id}`)).status, 200);
  t.is(reply(await textIn(app, ASSIGNEE_PHONE, `YES ${ticket.id}`)), `Request #${ticket.id} was deleted. Nothing changed.`);
  t.is((await creator.send('GET', `/api/tickets/${ticket.id}?include_deleted=true`)).json.status, 'deleted');
});

test('anything else gets the help text; attempts that name a request are in its audit trail', async (t) => {
  const ticket = await pending();
  const help = /^Reply YES <request number> to approve, or NO <request number> <reason> to reject/;
  for (const body of ['hello', 'YES', 'approve', '', 'YESS 12']) {
    t.regex(reply(await textIn(app, ASSIGNEE_PHONE, body)), help, `"${body}"`);
  }
  for (const body of [`YES ${ticket.id} please`, `NO ${ticket.id}`, `yes ${ticket.id}.`]) {
    t.regex(reply(await textIn(app, ASSIGNEE_PHONE, body)), help, `"${body}"`);
  }
  t.is((await ticketJson(ticket.id)).status, 'pending_approval');
  const notes = (await smsEvents(ticket.id)).map((e) => [e.type, e.note]);
  t.is(notes.length, 3);
  t.true(notes.every(([type]) => type === 'sms_refused'));
  t.regex(String(notes[0]?.[1]), /YES takes nothing after the request number/);
  t.regex(String(notes[1]?.[1]), /NO needs a reason/);
  const unknown = await textIn(app, ASSIGNEE_PHONE, 'YES 2147483000');
  t.is(reply(unknown), 'There is no request #2147483000.');
});

test('the ticket page shows a refused SMS reply in the timeline', async (t) => {
  const ticket = await pending();
  await textIn(app, '+12025550999', `YES ${ticket.id}`);
  const browser = await signedInClient(app.url, 'tech');
  const page = await browser.get(`/tickets/${ticket.id}`);
  t.is(page.status, 200);
  const timeline = page.$('.timeline').text();
  t.regex(timeline, /sent an SMS reply that was refused/);
  t.regex(timeline, /\+1\*{6}0999/);
  t.false(timeline.includes('+12025550999'));
});

test('a decided-by-SMS ticket moves on normally afterwards', async (t) => {
  const ticket = await pending();
  await textIn(app, ASSIGNEE_PHONE, `YES ${ticket.id}`);
  const stock = await tokenClient(app.url, 'stock');
  t.is((await stock.send('PATCH', `/api/tickets/${ticket.id}`, { status: 'in_progress' })).status, 200);
  t.is((await ticketJson(ticket.id)).status, 'in_progress');
});

test('the webhook is rate limited per sending number and per client IP', async (t) => {
  const limited = await startApp({
    APP_URL,
    TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
    RATE_LIMIT_LINK_PER_MINUTE: '2',
    TRUST_PROXY: 'true',
  });
  t.teardown(() => limited.close());
  const via = (ip: string) => ({ 'X-Forwarded-For': ip });
  // One number from three addresses: the number's allowance runs out.
  t.is((await textIn(limited, '+12025550111', 'hello', undefined, via('198.51.100.1'))).status, 200);
  t.is((await textIn(limited, '+12025550111', 'hello', undefined, via('198.51.100.2'))).status, 200);
  const byNumber = await textIn(limited, '+12025550111', 'hello', undefined, via('198.51.100.3'));
  t.is(byNumber.status, 429);
  t.truthy(byNumber.headers.get('retry-after'));
  // Three numbers from one address: the address's allowance runs out.
  t.is((await textIn(limited, '+12025550112', 'hello', undefined, via('198.51.100.9'))).status, 200);
  t.is((await textIn(limited, '+12025550113', 'hello', undefined, via('198.51.100.9'))).status, 200);
  t.is((await textIn(limited, '+12025550114', 'hello', undefined, via('198.51.100.9'))).status, 429);
});

test('the reply grammar', (t) => {
  t.deepEqual(parseSmsReply('YES 12'), { kind: 'decision', ticketId: 12, decision: 'approved' });
  t.deepEqual(parseSmsReply(' yes #12 '), { kind: 'decision', ticketId: 12, decision: 'approved' });
  t.deepEqual(parseSmsReply('No 7 wrong building'), {
    kind: 'decision',
    ticketId: 7,
    decision: 'rejected',
    reason: 'wrong building',
  });
  t.deepEqual(parseSmsReply('NO 7\nline one\nline two'), {
    kind: 'decision',
    ticketId: 7,
    decision: 'rejected',
    reason: 'line one\nline two',
  });
  t.like(parseSmsReply('NO 7'), { kind: 'invalid', ticketId: 7 });
  t.like(parseSmsReply('YES 7 thanks'), { kind: 'invalid', ticketId: 7 });
  t.like(parseSmsReply('YES 0'), { kind: 'invalid' });
  t.like(parseSmsReply('YES 99999999999'), { kind: 'invalid', ticketId: undefined });
  t.like(parseSmsReply(`NO 7 ${'x'.repeat(501)}`), { kind: 'invalid', ticketId: 7 });
  t.deepEqual(parseSmsReply('Y 7'), {
    kind: 'invalid',
    ticketId: undefined,
    problem: 'the reply is not "YES <number>" or "NO <number> <reason>".',
  });
  t.like(parseSmsReply('approve 7'), { kind: 'invalid', ticketId: undefined });
});
