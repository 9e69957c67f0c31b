import test, { type ExecutionContext } from 'ava';
import { ConfigError, loadConfig } from '../src/config.ts';
import { createChannels, describeChannels } from '../src/features/notifications/delivery.ts';
import { smtpSender } from '../src/features/notifications/smtp.ts';
import { NotificationWorker } from '../src/features/notifications/worker.ts';
import type { PublicUserRow } from '../src/features/users/queries.ts';
import { startApp, type TestApp } from './support/app.ts';
import type { Client } from './support/client.ts';
import { type ManualClock, manualClock } from './support/clock.ts';
import { createUser, tokenClient } from './support/factories.ts';
import { error, FROM_EMAIL, startFakeProviders } from './support/fake-providers.ts';
import { type LocalSmtp, SMTP_PASSWORD, SMTP_USER, selfSignedCertificate, startSmtpServer } from './support/smtp.ts';
import { createTicket } from './support/tickets.ts';

/**
 * Email through SMTP (nodemailer) into a real SMTP server started here (`smtp-server`), each message
 * read back with `mailparser`: what arrives, the order Resend → SendGrid → SMTP, reply codes mapped to
 * the outbox's retry rules, STARTTLS and smtps with a certificate the test trusts, a refused login,
 * and the password kept out of every log line and error text.
 */

const APP_URL = 'https://tickets.example.test';
const SMTP_FROM = 'Cable Ticketing <relay@example.test>';
const ASSIGNEE_EMAIL = 'stock.room@example.test';

interface Rig {
  app: TestApp;
  smtp: LocalSmtp;
  clock: ManualClock;
  worker: NotificationWorker;
  creator: Client;
  assignee: PublicUserRow;
}

async function rig(
  t: ExecutionContext,
  opts: {
    env?: (smtp: LocalSmtp) => Record<string, string>;
    worker?: Partial<ConstructorParameters<typeof NotificationWorker>[0]>;
  } = {},
): Promise<Rig> {
  const smtp = await startSmtpServer();
  const env = opts.env?.(smtp) ?? { SMTP_URL: smtp.url(), SMTP_FROM };
  const app = await startApp({ APP_URL, ...env });
  const clock = manualClock(60_000);
  const worker = new NotificationWorker({
    db: app.db,
    logger: app.logger,
    settings: app.config.notifications,
    clock: clock.now,
    random: () => 0.5,
    ...opts.worker,
  });
  // The worker closes its pooled SMTP connections first; only then can the server close at once.
  t.teardown(async () => {
    await worker.stop();
    await smtp.close();
    await app.close();
  });
  await createUser(app.db, { username: 'tech' });
  const assignee = await createUser(app.db, { username: 'stock', email: ASSIGNEE_EMAIL, phone: null });
  const creator = await tokenClient(app.url, 'tech');
  return { app, smtp, clock, worker, creator, assignee };
}

const newTicket = (r: Rig) =>
  createTicket(r.creator, {
    assigned_to_id: r.assignee.id,
    location: 'Building A, room 101',
    items: [{ cable_type: 'Cat6', cable_length: '100ft', quantity: 2 }],
  });

// biome-ignore lint/suspicious/noExplicitAny: a raw database row, read column by column.
const emailRow = async (r: Rig, ticketId: number): Promise<Record<string, any>> =>
  r.app.db('notifications').where({ ticket_id: ticketId, channel: 'email' }).first();

function assertNoPassword(t: ExecutionContext, r: Rig, texts: string[] = []) {
  const all = [...r.app.logs, ...texts].join('\n');
  for (const secret of [SMTP_PASSWORD, encodeURIComponent(SMTP_PASSWORD)]) {
    t.false(all.includes(secret), `the SMTP password (${secret}) must not reach a log line or an error text`);
  }
}

test('a new request goes out through the SMTP relay: sender, recipient, subject, both parts and the review link arrive', async (t) => {
  const r = await rig(t);
  const ticket = await newTicket(r);
  t.like(await r.worker.runOnce(), { claimed: 1, sent: 1 });

  t.is(r.smtp.received.length, 1);
  const [mail] = r.smtp.received;
  const parsed = mail?.parsed;
  t.is(mail?.user, SMTP_USER, 'signed in with the user and (percent-decoded) password from SMTP_URL');
  t.deepEqual(mail?.to, [ASSIGNEE_EMAIL]);
  t.is(parsed?.from?.value[0]?.address, 'relay@example.test');
  t.is(parsed?.from?.value[0]?.name, 'Cable Ticketing');
  t.regex(parsed?.subject ?? '', new RegExp(`Cable request #${ticket.id} from tech needs your review`));
  const link = parsed?.text?.match(/https:\/\/tickets\.example\.test\/tickets\/\d+\/review\/[\w-]+/)?.[0];
  t.truthy(link, 'the text part carries the review link');
  t.true(String(parsed?.html).includes(`href="${link}"`), 'the HTML part links to the same page');
  t.regex(parsed?.messageId ?? '', /^<cable-ticketing-notification-\d+-\d+@example\.test>$/);

  const row = await emailRow(r, ticket.id);
  t.like(row, { status: 'sent', provider: 'smtp', attempts: 1, error_message: null });
  t.is(row.provider_message_id, parsed?.messageId, 'the Message-ID is recorded');
  // The stored bodies are exactly what was sent.
  t.is(parsed?.text?.trim(), row.body_text.trim());
  t.is(String(parsed?.html).trim(), row.body_html.trim());
  assertNoPassword(t, r);
});

test('SMTP comes after Resend and SendGrid: a message both refuse falls through to the relay', async (t) => {
  const fake = await startFakeProviders();
  t.teardown(() => fake.close());
  const r = await rig(t, { env: (smtp) => ({ ...fake.env(['resend', 'sendgrid']), SMTP_URL: smtp.url() }) });
  t.deepEqual(describeChannels(r.worker.channels).email, ['resend', 'sendgrid', 'smtp']);
  t.is(r.app.config.notifications.smtp?.from, FROM_EMAIL, 'without SMTP_FROM the relay uses the existing sender');

  fake.respond('resend', error(500, 'upstream trouble'));
  fake.respond('sendgrid', error(503, 'try later'));
  const ticket = await newTicket(r);
  t.like(await r.worker.runOnce(), { claimed: 1, sent: 1 });
  t.is(fake.of('resend').length, 1);
  t.is(fake.of('sendgrid').length, 1);
  t.is(r.smtp.received.length, 1);
  t.is(r.smtp.received[0]?.parsed.from?.value[0]?.address, FROM_EMAIL);
  t.like(await emailRow(r, ticket.id), { status: 'sent', provider: 'smtp' });

  // Resend taking it: SendGrid and the relay are not asked.
  fake.respond('resend', { kind: 'ok' });
  const second = await newTicket(r);
  await r.worker.runOnce();
  t.like(await emailRow(r, second.id), { status: 'sent', provider: 'resend' });
  t.is(r.smtp.received.length, 1);
});

test('a 4xx reply is retried with backoff; the relay accepting later sends the message once', async (t) => {
  const r = await rig(t);
  r.smtp.refuse(ASSIGNEE_EMAIL, 450, '4.2.1 Mailbox busy, try again later');
  const ticket = await newTicket(r);
  t.like(await r.worker.runOnce(), { claimed: 1, retried: 1 });
  const row = await emailRow(r, ticket.id);
  t.like(row, { status: 'queued', attempts: 1, provider: 'smtp' });
  t.is(row.error_message, 'The SMTP server answered 450 (EENVELOPE): 450 4.2.1 Mailbox busy, try again later.');
  t.is(r.smtp.received.length, 0);

  r.clock.advance(20_000);
  t.like(await r.worker.runOnce(), { claimed: 0 }, 'not due before its backoff');
  r.smtp.accept(ASSIGNEE_EMAIL);
  r.clock.advance(5_000);
  t.like(await r.worker.runOnce(), { claimed: 1, sent: 1 });
  t.like(await emailRow(r, ticket.id), { status: 'sent', attempts: 2 });
});

test('a 5xx reply fails the row at once, with the address masked in the sentence', async (t) => {
  const r = await rig(t);
  r.smtp.refuse(ASSIGNEE_EMAIL, 550, `5.1.1 <${ASSIGNEE_EMAIL}>: Recipient address rejected: User unknown`);
  const ticket = await newTicket(r);
  t.like(await r.worker.runOnce(), { claimed: 1, failed: 1, retried: 0 });
  const row = await emailRow(r, ticket.id);
  t.like(row, { status: 'failed', attempts: 1, provider: 'smtp' });
  t.regex(row.error_message, /^The SMTP server answered 550 \(EENVELOPE\): .*Recipient address rejected: User unknown\.$/);
  t.true(row.error_message.includes('s***@example.test'));
  t.false(row.error_message.includes(ASSIGNEE_EMAIL));
  r.clock.advance(24 * 3_600_000);
  t.like(await r.worker.runOnce(), { claimed: 0 }, 'a permanent failure is not tried again');
});

test('a wrong password is a permanent 535, and the password appears in no log line or error text', async (t) => {
  const r = await rig(t, { env: (smtp) => ({ SMTP_URL: smtp.url({ password: `${SMTP_PASSWORD}-old` }), SMTP_FROM }) });
  const ticket = await newTicket(r);
  t.like(await r.worker.runOnce(), { claimed: 1, failed: 1 });
  const row = await emailRow(r, ticket.id);
  t.like(row, { status: 'failed', provider: 'smtp' });
  t.regex(row.error_message, /^The SMTP server answered 535 \(EAUTH\): .*Authentication credentials invalid\.$/);
  t.true(r.smtp.authFailures >= 1);
  t.is(r.smtp.received.length, 0);
  assertNoPassword(t, r, [row.error_message]);
  t.false(r.app.logs.join('\n').includes(`${SMTP_PASSWORD}-old`));
  t.false(r.app.logs.join('\n').includes(encodeURIComponent(`${SMTP_PASSWORD}-old`)));
});

test('a relay that does not answer is a transient failure: retried, not failed', async (t) => {
  const r = await rig(t, { env: () => ({ SMTP_URL: 'smtp://user:pw-0123456789@127.0.0.1:9', SMTP_FROM }) });
  const ticket = await newTicket(r);
  t.like(await r.worker.runOnce(), { claimed: 1, retried: 1 });
  const row = await emailRow(r, ticket.id);
  t.like(row, { status: 'queued', attempts: 1, provider: 'smtp' });
  t.regex(row.error_message, /^The SMTP server failed \(\w+\): .*ECONNREFUSED.*\.$/);
  t.false(r.app.logs.join('\n').includes('pw-0123456789'));
});

test('STARTTLS: offered by the relay, used by the transport, with the certificate checked', async (t) => {
  const tls = selfSignedCertificate();
  const smtp = await startSmtpServer({ tls });
  t.teardown(() => smtp.close());
  const message = {
    id: 1,
    channel: 'email' as const,
    to: ASSIGNEE_EMAIL,
    subject: 'Over TLS',
    text: 'Sent after STARTTLS.',
    html: '<p>Sent after STARTTLS.</p>',
    idempotencyKey: 'cable-ticketing-notification-1-1',
  };

  const trusting = smtpSender({ url: smtp.url(), from: SMTP_FROM, timeoutMs: 5000, tls: { ca: [tls.cert] } });
  t.teardown(() => trusting.close?.());
  const sent = await trusting.send(message);
  t.is(sent.provider, 'smtp');
  t.is(smtp.received.length, 1);
  t.true(smtp.received[0]?.secure, 'the session was upgraded with STARTTLS before AUTH and DATA');
  t.is(smtp.received[0]?.user, SMTP_USER);
  t.is(smtp.received[0]?.parsed.subject, 'Over TLS');

  // Not trusting the relay's certificate: nothing is sent, and the failure is retried, not final.
  const doubting = smtpSender({ url: smtp.url(), from: SMTP_FROM, timeoutMs: 5000 });
  t.teardown(() => doubting.close?.());
  const err = await t.throwsAsync(doubting.send(message));
  t.false((err as { permanent?: boolean }).permanent);
  t.regex(err?.message ?? '', /^The SMTP server failed \(\w+\): .*(self-signed|self signed).*\.$/);
  t.false((err?.message ?? '').includes(SMTP_PASSWORD));
  t.is(smtp.received.length, 1);
});

test('smtps://: TLS from the first byte', async (t) => {
  const tls = selfSignedCertificate();
  const smtp = await startSmtpServer({ tls, secure: true });
  t.teardown(() => smtp.close());
  const sender = smtpSender({ url: smtp.url({ scheme: 'smtps' }), from: SMTP_FROM, timeoutMs: 5000, tls: { ca: [tls.cert] } });
  t.teardown(() => sender.close?.());
  await sender.send({
    id: 2,
    channel: 'email',
    to: ASSIGNEE_EMAIL,
    subject: 'Implicit TLS',
    text: 'Hello.',
    html: null,
    idempotencyKey: 'cable-ticketing-notification-2-2',
  });
  t.true(smtp.received[0]?.secure);
  t.is(smtp.received[0]?.parsed.html, false, 'a message without HTML has only the text part');
});

test('?requireTLS=true: a relay without STARTTLS gets no credentials and no message', async (t) => {
  const smtp = await startSmtpServer();
  t.teardown(() => smtp.close());
  const sender = smtpSender({ url: smtp.url({ query: '?requireTLS=true' }), from: SMTP_FROM, timeoutMs: 5000 });
  t.teardown(() => sender.close?.());
  const err = await t.throwsAsync(
    sender.send({ id: 3, channel: 'email', to: ASSIGNEE_EMAIL, subject: 's', text: 't', html: null, idempotencyKey: 'k-3' }),
  );
  // nodemailer asks for STARTTLS anyway; the relay's 500 refusal ends it before AUTH or DATA.
  t.is(err?.message, 'The SMTP server answered 500 (ETLS): 500 Error: command not recognized.');
  t.true((err as { permanent?: boolean }).permanent);
  t.is(smtp.received.length, 0);
});

test('SMTP_URL and SMTP_FROM: checked at start with one line naming the variable, never echoing the password', (t) => {
  const cases: [string, RegExp][] = [
    ['not a url with secret-pass', /^Invalid SMTP_URL: must be a URL such as smtp:\/\//],
    [
      'http://user:secret-pass@mail.example.com',
      /^Invalid SMTP_URL: must start with smtp:\/\/ \(STARTTLS\) or smtps:\/\/ \(TLS\)$/,
    ],
    ['smtp://:secret-pass@mail.example.com:587', /^Invalid SMTP_URL: has a password but no user name$/],
    ['smtp://user:secret-pass@mail.example.com:99999', /^Invalid SMTP_URL: must be a URL/],
  ];
  for (const [url, expected] of cases) {
    const err = t.throws(() => loadConfig({ SMTP_URL: url }), { instanceOf: ConfigError });
    t.regex(err?.message ?? '', expected, url);
    t.false((err?.message ?? '').includes('secret-pass'));
    t.false((err?.message ?? '').includes('\n'));
  }
  t.throws(() => loadConfig({ SMTP_URL: 'smtp://mail.example.com', SMTP_FROM: 'nobody' }), {
    message: /^Invalid SMTP_FROM: must be an email address/,
  });
  const config = loadConfig({ SMTP_URL: 'smtps://u:p@mail.example.com:465', SMTP_FROM, SENDGRID_FROM_EMAIL: FROM_EMAIL });
  t.deepEqual(config.notifications.smtp, { url: 'smtps://u:p@mail.example.com:465', from: SMTP_FROM }, 'SMTP_FROM wins');
  const noSender = createChannels(loadConfig({ SMTP_URL: 'smtp://mail.example.com' }).notifications);
  t.is(noSender.unconfigured.email, 'Email is not configured: the sender address (SMTP_FROM or SENDGRID_FROM_EMAIL) is not set.');
});
