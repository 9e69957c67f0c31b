import test, { type ExecutionContext } from 'ava';
import { isPostgres } from '../src/db/index.ts';
import { enqueue } from '../src/features/notifications/outbox.ts';
import { finishClaim } from '../src/features/notifications/queries.ts';
import { NotificationWorker } from '../src/features/notifications/worker.ts';
import { createTicket as createTicketService } from '../src/features/tickets/service.ts';
import type { PublicUserRow } from '../src/features/users/queries.ts';
import { startApp, type TestApp } from './support/app.ts';
import type { Client } from './support/client.ts';
import { type ManualClock, manualClock } from './support/clock.ts';
import { createUser, tokenClient } from './support/factories.ts';
import {
  error,
  type FakeProviders,
  FROM_EMAIL,
  hang,
  type Provider,
  RESEND_KEY,
  SENDGRID_KEY,
  startFakeProviders,
  TWILIO_FROM,
  TWILIO_SID,
  TWILIO_TOKEN,
} from './support/fake-providers.ts';
import { createTicket } from './support/tickets.ts';

/**
 * The outbox worker against a local fake of Resend, SendGrid and Twilio, driven through the real SDKs
 * (RESEND_BASE_URL, SENDGRID_BASE_URL, TWILIO_BASE_URL). Each test has its own app, database and fake.
 * Time is a fake clock handed to the worker: backoff is checked by moving it, never by sleeping.
 */

const APP_URL = 'https://tickets.example.test';
const ASSIGNEE_PHONE = '+12025550142';

interface Rig {
  app: TestApp;
  fake: FakeProviders;
  clock: ManualClock;
  worker: NotificationWorker;
  creator: Client;
  assignee: PublicUserRow;
}

async function rig(
  t: ExecutionContext,
  providers: Provider[] = ['resend', 'sendgrid', 'twilio'],
  env: Record<string, string> = {},
) {
  const fake = await startFakeProviders();
  const app = await startApp({ APP_URL, ...fake.env(providers), ...env });
  t.teardown(async () => {
    await app.close();
    await fake.close();
  });
  await createUser(app.db, { username: 'tech' });
  const assignee = await createUser(app.db, { username: 'stock', email: 'stock.room@example.test', phone: ASSIGNEE_PHONE });
  const creator = await tokenClient(app.url, 'tech');
  const clock = manualClock(60_000);
  const worker = new NotificationWorker({
    db: app.db,
    logger: app.logger,
    settings: app.config.notifications,
    clock: clock.now,
    random: () => 0.5,
  });
  return { app, fake, clock, worker, creator, assignee } satisfies Rig;
}

const rowsOf = (r: Rig, ticketId: number) => r.app.db('notifications').where({ ticket_id: ticketId }).orderBy('id');
// biome-ignore lint/suspicious/noExplicitAny: a raw database row, read column by column.
type Row = Record<string, any>;
const rowFor = async (r: Rig, ticketId: number, channel: 'email' | 'sms') =>
  (await r.app.db('notifications').where({ ticket_id: ticketId, channel }).first()) as Row;

const newTicket = (r: Rig) =>
  createTicket(r.creator, {
    assigned_to_id: r.assignee.id,
    location: 'Building A, room 101',
    items: [{ cable_type: 'Cat6', cable_length: '100ft', quantity: 2 }],
  });

/** Secrets and personal data that must never reach a log line. */
function assertLogsClean(t: ExecutionContext, r: Rig, more: string[] = []) {
  const all = r.app.logs.join('\n');
  for (const secret of [RESEND_KEY, SENDGRID_KEY, TWILIO_TOKEN, ASSIGNEE_PHONE, 'stock.room@example.test', ...more]) {
    t.false(all.includes(secret), `logs must not contain ${secret}`);
  }
}

test('a new request goes out by Resend and Twilio exactly as the SDKs send it, with a review link that works', async (t) => {
  const r = await rig(t);
  const ticket = await newTicket(r);
  t.is((await rowsOf(r, ticket.id)).length, 2, 'an email and an SMS row are written with the ticket');

  const report = await r.worker.runOnce();
  t.like(report, { claimed: 2, sent: 2, failed: 0, retried: 0 });

  const [mail] = r.fake.of('resend');
  t.is(r.fake.of('resend').length, 1);
  t.is(mail?.headers.authorization, `Bearer ${RESEND_KEY}`);
  t.is(mail?.body.from, FROM_EMAIL);
  t.deepEqual([mail?.body.to].flat(), ['stock.room@example.test']);
  t.regex(mail?.body.subject, new RegExp(`Cable request #${ticket.id} from tech needs your review`));
  const emailLink = String(mail?.body.text).match(/https:\/\/tickets\.example\.test\/tickets\/\d+\/review\/[\w-]+/)?.[0];
  t.truthy(emailLink, 'the text email carries the review link');
  t.true(String(mail?.body.html).includes(`href="${emailLink}"`), 'the HTML email links to the same review page');
  t.regex(String(mail?.headers['idempotency-key']), /^cable-ticketing-notification-\d+-\d+$/);

  const [sms] = r.fake.of('twilio');
  t.is(r.fake.of('twilio').length, 1);
  t.is(sms?.path, `/2010-04-01/Accounts/${TWILIO_SID}/Messages.json`);
  t.is(sms?.headers.authorization, `Basic ${Buffer.from(`${TWILIO_SID}:${TWILIO_TOKEN}`).toString('base64')}`);
  t.is(sms?.body.To, ASSIGNEE_PHONE);
  t.is(sms?.body.From, TWILIO_FROM);
  t.true(String(sms?.body.Body).length <= 160, `one SMS segment: ${sms?.body.Body}`);
  t.true(String(sms?.body.Body).includes(emailLink as string), 'the SMS carries the same review link');
  t.true(String(sms?.body.Body).includes(`#${ticket.id}`));
  t.is(r.fake.of('sendgrid').length, 0, 'SendGrid is only the fallback');

  const email = await rowFor(r, ticket.id, 'email');
  t.like(email, { status: 'sent', provider: 'resend', attempts: 1, error_message: null, locked_at: null });
  t.truthy(email.sent_at);
  t.truthy(email.provider_message_id);
  const text = await rowFor(r, ticket.id, 'sms');
  t.like(text, { status: 'sent', provider: 'twilio', attempts: 1 });
  t.regex(text.provider_message_id, /^SM[0-9a-f]{32}$/);

  // The link opens the review page (the app is reached at its test address; APP_URL is the public one).
  const page = await r.creator.get(new URL(emailLink as string).pathname);
  t.is(page.status, 200);
  t.is(page.$('h1').text(), `Review request #${ticket.id}`);
  t.true(page.$('button').length >= 2, 'approve and reject buttons');

  t.like(await r.worker.runOnce(), { claimed: 0 }, 'nothing is sent twice');
  assertLogsClean(t, r, [(emailLink as string).split('/').at(-1) as string]);
});

test('the requester hears of the decision by email and SMS', async (t) => {
  const r = await rig(t);
  const ticket = await newTicket(r);
  await r.worker.runOnce();
  const approver = await tokenClient(r.app.url, 'stock');
  t.is((await approver.send('PATCH', `/api/tickets/${ticket.id}`, { status: 'approved' })).status, 200);
  t.like(await r.worker.runOnce(), { claimed: 2, sent: 2 });
  const mail = r.fake.of('resend')[1];
  t.deepEqual([mail?.body.to].flat(), [`tech@example.test`]);
  t.regex(mail?.body.subject, new RegExp(`Your cable request #${ticket.id} was approved`));
  const sms = r.fake.of('twilio')[1];
  t.regex(String(sms?.body.Body), new RegExp(`#${ticket.id} .*approved by stock`));
});

test('Resend answering 500 hands the row to SendGrid', async (t) => {
  const r = await rig(t);
  r.fake.respond('resend', error(500, 'upstream trouble'));
  const ticket = await newTicket(r);
  t.like(await r.worker.runOnce(), { sent: 2 });
  t.is(r.fake.of('resend').length, 1);
  const [mail] = r.fake.of('sendgrid');
  t.is(r.fake.of('sendgrid').length, 1);
  t.is(mail?.headers.authorization, `Bearer ${SENDGRID_KEY}`);
  t.deepEqual(mail?.body.personalizations[0].to, [{ email: 'stock.room@example.test' }]);
  t.is(mail?.body.from.email, FROM_EMAIL);
  t.regex(mail?.body.subject, new RegExp(`Cable request #${ticket.id}`));
  const plain = mail?.body.content.find((c: { type: string }) => c.type === 'text/plain');
  t.regex(plain.value, /\/tickets\/\d+\/review\/[\w-]{43}/);
  t.regex(mail?.body.custom_args.notification_key, /^cable-ticketing-notification-\d+-\d+$/);
  const email = await rowFor(r, ticket.id, 'email');
  t.like(email, { status: 'sent', provider: 'sendgrid', attempts: 1 });
  t.truthy(email.provider_message_id, 'the X-Message-Id SendGrid answered');
});

test('a Resend timeout hands the row to SendGrid too', async (t) => {
  const r = await rig(t, ['resend', 'sendgrid'], { NOTIFY_SEND_TIMEOUT_MS: '300' });
  r.fake.respond('resend', hang);
  const ticket = await newTicket(r);
  await r.worker.runOnce();
  t.is(r.fake.of('resend').length, 1);
  t.is(r.fake.of('sendgrid').length, 1);
  t.like(await rowFor(r, ticket.id, 'email'), { status: 'sent', provider: 'sendgrid' });
});

test('when both email providers fail the row is retried with growing backoff, then failed at NOTIFY_MAX_ATTEMPTS', async (t) => {
  const r = await rig(t, ['resend', 'sendgrid'], { NOTIFY_MAX_ATTEMPTS: '3' });
  r.fake.respond('resend', error(500));
  r.fake.respond('sendgrid', error(503));
  const ticket = await newTicket(r);

  const first = r.clock.ms();
  t.like(await r.worker.runOnce(), { claimed: 2, retried: 1, skipped: 1 });
  let email = await rowFor(r, ticket.id, 'email');
  t.like(email, { status: 'queued', attempts: 1, locked_at: null });
  // random() = 0.5: equal jitter gives 3/4 of 30 s after the first failure.
  t.is(new Date(email.next_attempt_at).getTime(), first + 22_500);
  t.regex(email.error_message, /Resend answered HTTP 500/);
  t.regex(email.error_message, /SendGrid answered HTTP 503/);

  r.clock.advance(20_000);
  t.like(await r.worker.runOnce(), { claimed: 0 }, 'not due yet');

  r.clock.advance(2_500);
  t.like(await r.worker.runOnce(), { claimed: 1, retried: 1 });
  email = await rowFor(r, ticket.id, 'email');
  t.is(email.attempts, 2);
  t.is(new Date(email.next_attempt_at).getTime(), r.clock.ms() + 45_000, 'the second wait is twice the first');

  r.clock.advance(45_000);
  t.like(await r.worker.runOnce(), { claimed: 1, failed: 1 });
  email = await rowFor(r, ticket.id, 'email');
  t.like(email, { status: 'failed', attempts: 3, provider: 'sendgrid' });
  t.regex(email.error_message, /gave up after 3 attempts/);

  r.clock.advance(24 * 3_600_000);
  t.like(await r.worker.runOnce(), { claimed: 0 }, 'a failed row stays failed');
  t.is(r.fake.of('resend').length, 3);
  t.is(r.fake.of('sendgrid').length, 3);
  const keys = new Set(r.fake.of('resend').map((q) => q.headers['idempotency-key']));
  t.is(keys.size, 1, 'every retry of the row carries the same idempotency key');
});

test('a 4xx fails the row at once, and provider errors are stored without the full address', async (t) => {
  const r = await rig(t);
  r.fake.respond('resend', error(422, 'Invalid `to` field: stock.room@example.test'));
  r.fake.respond('sendgrid', error(400, 'The to email does not contain a valid address.'));
  r.fake.respond('twilio', error(400, `The 'To' number ${ASSIGNEE_PHONE} is not a valid phone number.`, 21211));
  const ticket = await newTicket(r);
  t.like(await r.worker.runOnce(), { claimed: 2, failed: 2, retried: 0 });
  const email = await rowFor(r, ticket.id, 'email');
  t.like(email, { status: 'failed', attempts: 1 });
  t.regex(email.error_message, /Resend answered HTTP 422/);
  t.true(email.error_message.includes('s***@example.test'));
  t.false(email.error_message.includes('stock.room@example.test'));
  const sms = await rowFor(r, ticket.id, 'sms');
  t.like(sms, { status: 'failed', attempts: 1, provider: 'twilio' });
  t.regex(sms.error_message, /Twilio answered HTTP 400 \(code 21211\)/);
  t.true(sms.error_message.includes('+1******0142'));
  t.false(sms.error_message.includes(ASSIGNEE_PHONE));
  r.clock.advance(3_600_000);
  t.like(await r.worker.runOnce(), { claimed: 0 });
  t.is(r.fake.of('twilio').length, 1);
  assertLogsClean(t, r);
});

test('a Twilio 5xx or 429 is retried, not failed', async (t) => {
  const r = await rig(t, ['twilio']);
  r.fake.respond('twilio', error(429, 'Too many requests', 20429), 1);
  const ticket = await newTicket(r);
  await r.worker.runOnce();
  t.like(await rowFor(r, ticket.id, 'sms'), { status: 'queued', attempts: 1 });
  r.clock.advance(60_000);
  await r.worker.runOnce();
  t.like(await rowFor(r, ticket.id, 'sms'), { status: 'sent', attempts: 2 });
});

test('without credentials a channel marks its rows skipped with a clear reason, and the app works on', async (t) => {
  const r = await rig(t, []);
  const ticket = await newTicket(r);
  t.like(await r.worker.runOnce(), { claimed: 2, skipped: 2 });
  const email = await rowFor(r, ticket.id, 'email');
  t.like(email, { status: 'skipped', attempts: 0 });
  t.regex(email.error_message, /Email is not configured: set RESEND_API_KEY, SENDGRID_API_KEY or SMTP_URL/);
  const sms = await rowFor(r, ticket.id, 'sms');
  t.like(sms, { status: 'skipped', attempts: 0 });
  t.is(sms.error_message, 'SMS is not configured: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_PHONE_NUMBER are not set.');
  t.is(r.fake.requests.length, 0);
  const again = await r.creator.send('GET', `/api/tickets/${ticket.id}`);
  t.is(again.status, 200);
});

test('a key without SENDGRID_FROM_EMAIL is not enough to send email', async (t) => {
  const r = await rig(t, ['resend'], { SENDGRID_FROM_EMAIL: '' });
  const ticket = await newTicket(r);
  await r.worker.runOnce();
  t.regex((await rowFor(r, ticket.id, 'email')).error_message, /SENDGRID_FROM_EMAIL/);
  t.is(r.fake.requests.length, 0);
});

test('a worker killed mid-batch: its stale rows are claimed again and sent once; a live claim is left alone', async (t) => {
  const r = await rig(t);
  const ticket = await newTicket(r);
  const email = await rowFor(r, ticket.id, 'email');
  const sms = await rowFor(r, ticket.id, 'sms');
  const deadClaim = new Date(r.clock.ms() - 6 * 60_000).toISOString();
  const liveClaim = new Date(r.clock.ms() - 60_000).toISOString();
  // As a worker leaves them when it dies between claiming and recording: `sending`, attempts counted.
  await r.app.db('notifications').where({ id: email.id }).update({ status: 'sending', locked_at: deadClaim, attempts: 1 });
  await r.app.db('notifications').where({ id: sms.id }).update({ status: 'sending', locked_at: liveClaim, attempts: 1 });

  t.like(await r.worker.runOnce(), { claimed: 1, sent: 1 });
  t.like(await rowFor(r, ticket.id, 'email'), { status: 'sent', attempts: 2 });
  t.like(await rowFor(r, ticket.id, 'sms'), { status: 'sending' }, 'a claim inside its lease belongs to a live worker');
  t.is(r.fake.of('resend').length, 1);
  t.is(r.fake.of('twilio').length, 0);

  // The dead worker, had it only been slow, cannot overwrite the outcome: its claim is gone.
  t.false(await finishClaim(r.app.db, { id: email.id, lockedAt: deadClaim }, { status: 'failed', error_message: 'late' }));
  t.like(await rowFor(r, ticket.id, 'email'), { status: 'sent', error_message: null });

  r.clock.advance(5 * 60_000);
  t.like(await r.worker.runOnce(), { claimed: 1, sent: 1 }, 'the SMS lease ran out too');
  t.is(r.fake.of('twilio').length, 1);
  t.like(await r.worker.runOnce(), { claimed: 0 });
});

test('a row interrupted on its last attempt fails instead of looping', async (t) => {
  const r = await rig(t, ['resend'], { NOTIFY_MAX_ATTEMPTS: '2' });
  const ticket = await newTicket(r);
  const email = await rowFor(r, ticket.id, 'email');
  await r.app
    .db('notifications')
    .where({ id: email.id })
    .update({ status: 'sending', locked_at: new Date(r.clock.ms() - 10 * 60_000).toISOString(), attempts: 2 });
  await r.worker.runOnce();
  t.like(await rowFor(r, ticket.id, 'email'), { status: 'failed', attempts: 3 });
  t.is(r.fake.of('resend').length, 0);
});

test('stopping finishes the send in flight and hands the untried rows back at once', async (t) => {
  const r = await rig(t, ['resend'], { NOTIFY_CONCURRENCY: '1' });
  const stock = { id: r.assignee.id, email: 'stock.room@example.test', phone: null };
  await enqueue(
    r.app.db,
    [1, 2, 3].map((n) => ({
      notification_type: 'test',
      channel: 'email' as const,
      recipient: stock,
      subject: `m${n}`,
      text: `body ${n}`,
    })),
  );
  const gate = r.fake.hold('resend');
  const arrived = r.fake.next('resend');
  r.worker.start();
  await arrived;
  const stopped = r.worker.stop();
  gate.release();
  await stopped;
  const rows = await r.app.db('notifications').orderBy('id');
  t.deepEqual(
    rows.map((x) => [x.status, x.attempts, x.locked_at]),
    [
      ['sent', 1, null],
      ['queued', 0, null],
      ['queued', 0, null],
    ],
  );
  t.is(r.fake.of('resend').length, 1);
});

test('the in-process worker (WORKER_IN_PROCESS=true) delivers right after the commit, without waiting for a poll', async (t) => {
  const fake = await startFakeProviders();
  const app = await startApp({ APP_URL, ...fake.env(), WORKER_IN_PROCESS: 'true', NOTIFY_POLL_MS: '600000' });
  t.teardown(async () => {
    await app.close();
    await fake.close();
  });
  await createUser(app.db, { username: 'tech' });
  const assignee = await createUser(app.db, { username: 'stock', phone: ASSIGNEE_PHONE });
  const creator = await tokenClient(app.url, 'tech');
  const both = Promise.all([fake.next('resend'), fake.next('twilio')]);
  const ticket = await createTicket(creator, { assigned_to_id: assignee.id });
  const [mail, sms] = await both;
  t.regex(String(mail.body.subject), new RegExp(`#${ticket.id}`));
  t.is(sms.body.To, ASSIGNEE_PHONE);
});

test('a ticket change that rolls back leaves no notification row', async (t) => {
  const r = await rig(t);
  const before = await r.app.db('notifications').count({ n: '*' }).first();
  // The ticket service inside an outer transaction that is then rolled back: its rows go with it.
  const settings = { appUrl: APP_URL, approvalTokenTtlHours: 1 };
  const tech = await r.app.db('users').where({ username: 'tech' }).first();
  const creator = { id: tech.id, username: 'tech', email: tech.email, role: 'user' as const };
  const input = {
    assigned_to_id: r.assignee.id,
    priority: 'medium' as const,
    location: 'Rolled back',
    notes: null,
    items: [{ cable_type: 'Cat6', cable_length: '10ft', quantity: 1 }],
  };
  await t.throwsAsync(
    r.app.db.transaction(async (trx) => {
      const { id } = await createTicketService(trx, creator, input as never, settings);
      t.is((await trx('notifications').where({ ticket_id: id })).length, 2, 'written inside the transaction');
      throw new Error('roll back');
    }),
    { message: 'roll back' },
  );
  t.is((await r.app.db('tickets').where({ location: 'Rolled back' })).length, 0);

  // And the other way round: when the outbox insert fails, the ticket is not created either.
  const db = r.app.db;
  if (isPostgres(db)) {
    await db.raw(
      `CREATE FUNCTION refuse_notifications() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'outbox down'; END $$ LANGUAGE plpgsql`,
    );
    await db.raw('CREATE TRIGGER refuse BEFORE INSERT ON notifications FOR EACH ROW EXECUTE FUNCTION refuse_notifications()');
  } else {
    await db.raw(`CREATE TRIGGER refuse BEFORE INSERT ON notifications BEGIN SELECT RAISE(ABORT, 'outbox down'); END`);
  }
  const res = await r.creator.send('POST', '/api/tickets', {
    assigned_to_id: r.assignee.id,
    location: 'Outbox down',
    items: [{ cable_type: 'Cat6', cable_length: '10ft', quantity: 1 }],
  });
  t.is(res.status, 500);
  await db.raw(isPostgres(db) ? 'DROP TRIGGER refuse ON notifications' : 'DROP TRIGGER refuse');
  t.is((await db('tickets').where({ location: 'Outbox down' })).length, 0, 'no ticket without its notifications');
  t.deepEqual(await r.app.db('notifications').count({ n: '*' }).first(), before);
});
