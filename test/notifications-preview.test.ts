import test, { type ExecutionContext } from 'ava';
import { enqueue } from '../src/features/notifications/outbox.ts';
import { NotificationWorker } from '../src/features/notifications/worker.ts';
import { startApp, type TestApp } from './support/app.ts';
import { Client } from './support/client.ts';
import { createUser, signedInClient, tokenClient } from './support/factories.ts';
import { FROM_EMAIL, startFakeProviders, TWILIO_FROM } from './support/fake-providers.ts';
import { createTicket } from './support/tickets.ts';

/**
 * Mail preview: an admin opens any notification and sees exactly what was (or would be) sent: the
 * email's HTML in a sandboxed iframe served from its own address under a strict CSP, its text part,
 * and the SMS text, all from the row's stored bodies, the same ones the worker hands the provider.
 */

const APP_URL = 'https://tickets.example.test';
const EMAIL_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox; frame-ancestors 'self'";

interface Cast {
  app: TestApp;
  admin: Client;
  adminApi: Client;
  ticketId: number;
  /** The request's email and SMS rows. */
  emailId: number;
  smsId: number;
}

async function cast(t: ExecutionContext, env: Record<string, string> = {}): Promise<Cast> {
  const app = await startApp({ APP_URL, ...env });
  t.teardown(() => app.close());
  await createUser(app.db, { username: 'chief', role: 'admin' });
  await createUser(app.db, { username: 'tech' });
  const assignee = await createUser(app.db, { username: 'stock', email: 'stock.room@example.test', phone: '+12025550142' });
  const ticket = await createTicket(await tokenClient(app.url, 'tech'), {
    assigned_to_id: assignee.id,
    location: 'Building <A> & "B"',
  });
  const rows = await app.db('notifications').where({ ticket_id: ticket.id });
  return {
    app,
    admin: await signedInClient(app.url, 'chief'),
    adminApi: await tokenClient(app.url, 'chief'),
    ticketId: ticket.id,
    emailId: rows.find((r) => r.channel === 'email').id,
    smsId: rows.find((r) => r.channel === 'sms').id,
  };
}

const stored = (c: Cast, id: number) => c.app.db('notifications').where({ id }).first();

test('with no provider configured the log says messages are kept for preview, and each row opens its message', async (t) => {
  const c = await cast(t);
  const worker = new NotificationWorker({ db: c.app.db, logger: c.app.logger, settings: c.app.config.notifications });
  t.like(await worker.runOnce(), { skipped: 2 });

  const log = await c.admin.get('/admin/notifications');
  t.is(log.status, 200);
  t.regex(log.$('#unconfigured-email').text(), /^Email is not configured: .*SMTP_URL.* Messages are kept here for preview/);
  t.regex(log.$('#unconfigured-sms').text(), /^SMS is not configured: .* Messages are kept here for preview/);
  t.is(log.$(`#notification-${c.emailId} a[href="/admin/notifications/${c.emailId}"]`).length, 1, 'the row links to its preview');

  const page = await c.admin.get(`/admin/notifications/${c.emailId}`);
  t.is(page.status, 200);
  t.is(page.headers.get('cache-control'), 'no-store');
  t.is(page.$('h1').text(), `Notification #${c.emailId}`);
  t.regex(page.$('[role=note]').text(), /Email is not configured.*kept here for preview/);
  t.is(page.$('#message-from').text(), '(no provider configured)');
  t.is(page.$('.recipient').text(), 's***@example.test', 'the recipient is masked as in the log');
  const row = await stored(c, c.emailId);
  t.is(page.$('#message-subject').text(), row.subject);
  t.is(page.$('#message-text').text(), row.body_text, 'the text part exactly as stored');
  t.true(row.body_text.includes('Building <A> & "B"'), 'plain text is not escaped in the stored text part');

  const frame = page.$('iframe#message-html');
  t.is(frame.attr('src'), `/admin/notifications/${c.emailId}/email.html`);
  t.is(frame.attr('sandbox'), '', 'sandboxed with no allowances: no scripts, no same origin, no forms, no popups');
  t.truthy(frame.attr('title'));

  const html = await c.admin.get(`/admin/notifications/${c.emailId}/email.html`);
  t.is(html.status, 200);
  t.is(html.text, row.body_html, 'the HTML part exactly as stored');
  t.regex(html.headers.get('content-type') ?? '', /^text\/html/);
  t.is(html.headers.get('content-security-policy'), EMAIL_CSP);
  t.is(html.headers.get('x-frame-options'), 'SAMEORIGIN');
  t.is(html.headers.get('cache-control'), 'no-store');
  t.true(html.text.includes('Building &lt;A&gt; &amp; &quot;B&quot;'), 'the HTML part escaped the data');

  const sms = await c.admin.get(`/admin/notifications/${c.smsId}`);
  t.is(sms.status, 200);
  t.is(sms.$('#sms-text').text(), (await stored(c, c.smsId)).body_text);
  t.is(sms.$('iframe').length, 0);
  t.regex(sms.$('.muted').last().text(), /^\d+ characters/);
  const noHtml = await c.admin.get(`/admin/notifications/${c.smsId}/email.html`);
  t.is(noHtml.status, 404);
  t.is(noHtml.$('[role=alert]').text().trim(), 'This notification has no HTML part.');
});

test('the preview is what the provider receives: same subject, text and HTML as the worker sent', async (t) => {
  const fake = await startFakeProviders();
  t.teardown(() => fake.close());
  const c = await cast(t, fake.env(['resend', 'twilio']));
  const worker = new NotificationWorker({ db: c.app.db, logger: c.app.logger, settings: c.app.config.notifications });
  t.like(await worker.runOnce(), { sent: 2 });
  const [mail] = fake.of('resend');
  const [text] = fake.of('twilio');

  const email = await c.adminApi.send('GET', `/api/notifications/${c.emailId}`);
  t.is(email.status, 200);
  t.like(email.json, { id: c.emailId, channel: 'email', status: 'sent', provider: 'resend', ticket_id: c.ticketId });
  t.deepEqual(email.json.message, {
    from: FROM_EMAIL,
    to: 's***@example.test',
    subject: mail?.body.subject,
    text: mail?.body.text,
    html: mail?.body.html,
    characters: [...String(mail?.body.text)].length,
  });

  const sms = await c.adminApi.send('GET', `/api/notifications/${c.smsId}`);
  t.like(sms.json.message, { from: TWILIO_FROM, to: '+1******0142', subject: null, html: null, text: text?.body.Body });

  const page = await c.admin.get(`/admin/notifications/${c.emailId}`);
  t.is(page.$('#message-from').text(), FROM_EMAIL);
  t.is(page.$('[role=note]').length, 0, 'no "kept for preview" note when a provider is configured');
  t.is((await c.admin.get('/admin/notifications')).$('[role=note]').length, 0);
});

test('only admins preview: 401 signed out, 403 for users, 404 for an unknown id; HTML of any content stays inert', async (t) => {
  const c = await cast(t);
  const user = await tokenClient(c.app.url, 'tech');
  t.is((await new Client(c.app.url).send('GET', `/api/notifications/${c.emailId}`)).status, 401);
  const denied = await user.send('GET', `/api/notifications/${c.emailId}`);
  t.is(denied.status, 403);
  t.is(denied.json.error, 'Only an admin can do that.');
  const userPage = await signedInClient(c.app.url, 'tech');
  const frame = await userPage.get(`/admin/notifications/${c.emailId}/email.html`);
  t.is(frame.status, 403);
  t.false(frame.text.includes('Review request'), 'no message body for a non-admin');
  const anonymous = await new Client(c.app.url).get(`/admin/notifications/${c.emailId}`);
  t.is(anonymous.status, 303);
  t.is(anonymous.headers.get('location'), `/login?next=${encodeURIComponent(`/admin/notifications/${c.emailId}`)}`);
  const missing = await c.adminApi.send('GET', '/api/notifications/999999');
  t.is(missing.status, 404);
  t.is(missing.json.error, 'No notification with that id.');
  t.is((await c.adminApi.send('GET', '/api/notifications/abc')).status, 400);

  // Whatever a stored body holds, its document runs no script and loads nothing (the CSP says so).
  await enqueue(c.app.db, [
    {
      notification_type: 'test_message',
      channel: 'email',
      recipient: { id: null, email: 'x@example.test', phone: null },
      subject: 'Hostile',
      text: 'text',
      html: '<script>parent.document.title="owned"</script><img src="https://tracker.example/pixel.gif">',
    },
  ]);
  const row = await c.app.db('notifications').orderBy('id', 'desc').first();
  const hostile = await c.admin.get(`/admin/notifications/${row.id}/email.html`);
  t.is(hostile.headers.get('content-security-policy'), EMAIL_CSP);
  t.is(hostile.text, row.body_html, 'served as stored; the sandbox and CSP keep it inert (the browser journey watches it)');
});
