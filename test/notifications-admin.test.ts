import test from 'ava';
import { enqueue } from '../src/features/notifications/outbox.ts';
import { startApp, type TestApp } from './support/app.ts';
import { Client } from './support/client.ts';
import { buildCast, signedInClient } from './support/factories.ts';

/**
 * The admin notification log: `/admin/notifications` and `GET /api/notifications`, filters, masking, retry.
 * Serial: the retry tests change rows the listing tests count.
 */

let app: TestApp;
let admin: Client;
let adminBrowser: Client;
let user: Client;
const ids: Record<string, number> = {};

async function addRow(name: string, channel: 'email' | 'sms', status: string, extra: Record<string, unknown> = {}) {
  await enqueue(app.db, [
    {
      notification_type: 'ticket_created',
      channel,
      recipient: { id: null, email: 'alice.smith@example.com', phone: '+12025551234' },
      subject: channel === 'email' ? 'Cable request #1 needs your review' : undefined,
      text: 'Review: https://tickets.example.test/tickets/1/review/SECRET-TOKEN-IN-BODY',
      html: channel === 'email' ? '<p>secret body</p>' : undefined,
    },
  ]);
  const row = await app.db('notifications').orderBy('id', 'desc').first();
  await app
    .db('notifications')
    .where({ id: row.id })
    .update({ status, ...extra });
  ids[name] = row.id;
}

test.before(async () => {
  app = await startApp();
  const cast = await buildCast(app, { chief: { role: 'admin', browser: true }, tech: {} });
  ({ api: admin, browser: adminBrowser } = cast.chief);
  user = cast.tech.api;
  await addRow('sentEmail', 'email', 'sent', {
    attempts: 1,
    provider: 'resend',
    provider_message_id: 'msg-1',
    sent_at: new Date().toISOString(),
  });
  await addRow('failedSms', 'sms', 'failed', { attempts: 6, provider: 'twilio', error_message: 'Twilio 500: <b>down</b> & out' });
  await addRow('queuedEmail', 'email', 'queued');
  await addRow('failedEmail', 'email', 'failed', {
    attempts: 1,
    provider: 'resend',
    error_message: 'Resend 422: invalid address',
  });
  await addRow('sendingSms', 'sms', 'sending', { attempts: 1, locked_at: new Date().toISOString() });
  await addRow('skippedSms', 'sms', 'skipped', { error_message: 'SMS is not configured: TWILIO_ACCOUNT_SID is not set.' });
  await addRow('failedForRetry', 'email', 'failed', { attempts: 6, error_message: 'gave up' });
});
test.after.always(async () => {
  await app?.close();
});

test.serial('only admins see the log: 401 signed out, 403 for users', async (t) => {
  t.is((await new Client(app.url).send('GET', '/api/notifications')).status, 401);
  t.is((await user.send('GET', '/api/notifications')).status, 403);
  const userBrowser = await signedInClient(app.url, 'tech');
  const page = await userBrowser.get('/admin/notifications');
  t.is(page.status, 403);
  t.is(page.$('#notification-log').length, 0);
  t.is((await user.send('POST', `/api/notifications/${ids.failedEmail}/retry`)).status, 403);
  t.is((await app.db('notifications').where({ id: ids.failedEmail }).first()).status, 'failed');
});

test.serial('the API lists rows newest first, recipients masked, never the message bodies', async (t) => {
  const res = await admin.send('GET', '/api/notifications');
  t.is(res.status, 200);
  t.true(Array.isArray(res.json));
  const listed = res.json.map((n: { id: number }) => n.id);
  t.deepEqual(
    listed,
    [...listed].sort((a: number, b: number) => b - a),
  );
  const sms = res.json.find((n: { id: number }) => n.id === ids.failedSms);
  t.like(sms, {
    status: 'failed',
    channel: 'sms',
    notification_type: 'ticket_created',
    recipient: '+1******1234',
    attempts: 6,
    provider: 'twilio',
    error_message: 'Twilio 500: <b>down</b> & out',
  });
  const email = res.json.find((n: { id: number }) => n.id === ids.sentEmail);
  t.like(email, { status: 'sent', recipient: 'a***@example.com', provider_message_id: 'msg-1' });
  t.truthy(email.sent_at);
  t.truthy(email.created_at);
  t.false(res.text.includes('SECRET-TOKEN-IN-BODY'));
  t.false(res.text.includes('alice.smith'));
  t.false(res.text.includes('2025551234'));
  t.false('body_text' in email || 'body_html' in email);
});

test.serial('filters by status and channel; bad values are 400', async (t) => {
  const failed = await admin.send('GET', '/api/notifications?status=failed');
  t.deepEqual(
    failed.json.map((n: { id: number }) => n.id),
    [ids.failedForRetry, ids.failedEmail, ids.failedSms],
  );
  const sms = await admin.send('GET', '/api/notifications?channel=sms');
  t.true(sms.json.length === 3 && sms.json.every((n: { channel: string }) => n.channel === 'sms'));
  const both = await admin.send('GET', '/api/notifications?status=failed&channel=email');
  t.deepEqual(
    both.json.map((n: { id: number }) => n.id),
    [ids.failedForRetry, ids.failedEmail],
  );
  for (const q of ['status=lost', 'channel=fax', 'limit=0', 'limit=abc', 'cursor=-1']) {
    const bad = await admin.send('GET', `/api/notifications?${q}`);
    t.is(bad.status, 400, q);
    t.is(typeof bad.json.error, 'string');
  }
  const badPage = await adminBrowser.get('/admin/notifications?status=<script>');
  t.is(badPage.status, 400);
  t.false(badPage.text.includes('<script>'));
});

test.serial('keyset pagination follows the Link header to the end without overlap', async (t) => {
  const seen: number[] = [];
  let next: string | undefined = '/api/notifications?limit=3';
  let pages = 0;
  while (next) {
    const res = await admin.send('GET', next);
    t.is(res.status, 200);
    seen.push(...res.json.map((n: { id: number }) => n.id));
    next = res.headers.get('link')?.match(/^<([^>]+)>; rel="next"$/)?.[1];
    pages += 1;
  }
  t.is(pages, 3);
  t.deepEqual(
    seen,
    Object.values(ids).sort((a, b) => b - a),
  );
  const filtered = await admin.send('GET', '/api/notifications?status=failed&limit=2');
  t.regex(filtered.headers.get('link') ?? '', /status=failed&limit=2&cursor=\d+/);
});

test.serial('the page shows the queue depth, masked recipients, escaped errors, and Retry only on failed rows', async (t) => {
  const page = await adminBrowser.get('/admin/notifications');
  t.is(page.status, 200);
  const $ = page.$;
  t.is($('h1').text(), 'Notification log');
  t.is($('#queue-depth').text(), '2', 'one queued + one sending');
  t.regex($('#count-failed').text(), /3\s+failed/);
  t.is($('#notification-log li.notification').length, Object.keys(ids).length);
  const sms = $(`#notification-${ids.failedSms}`);
  t.regex(sms.text(), /\+1\*{6}1234/);
  t.is(sms.find('.field-error').text(), 'Twilio 500: <b>down</b> & out', 'shown as text');
  t.true(page.text.includes('Twilio 500: &lt;b&gt;down&lt;/b&gt; &amp; out'), 'escaped in the HTML');
  t.regex($(`#notification-${ids.sentEmail}`).text(), /a\*\*\*@example\.com/);
  t.false(page.text.includes('alice.smith'));
  t.false(page.text.includes('SECRET-TOKEN-IN-BODY'));
  const retryable = $('form.retry')
    .map((_, f) => $(f).attr('action'))
    .get();
  t.deepEqual(
    retryable.sort(),
    [ids.failedForRetry, ids.failedEmail, ids.failedSms].map((id) => `/admin/notifications/${id}/retry`).sort(),
  );
  t.is($('a[href="/admin/notifications"][aria-current="page"]').length, 1, 'the admin sub-navigation marks this page');

  const filtered = await adminBrowser.get('/admin/notifications?status=failed&channel=sms');
  t.is(filtered.$('#notification-log li.notification').length, 1);
  t.is(filtered.$('#f-status option[selected]').val(), 'failed');
  t.is(filtered.$('#f-channel option[selected]').val(), 'sms');
  t.is(filtered.$('form.retry').attr('action'), `/admin/notifications/${ids.failedSms}/retry?status=failed&channel=sms`);
});

test.serial('the users page links to the notification log', async (t) => {
  const page = await adminBrowser.get('/admin/users');
  t.is(page.$('nav[aria-label="Admin sections"] a[href="/admin/notifications"]').length, 1);
});

test.serial('Retry from the page queues a failed row again, due now, and comes back to the same view', async (t) => {
  const before = Date.now();
  const res = await adminBrowser.submit(
    '/admin/notifications?status=failed',
    `/admin/notifications/${ids.failedSms}/retry?status=failed`,
    {},
  );
  t.is(res.status, 303);
  t.is(res.headers.get('location'), '/admin/notifications?status=failed');
  const row = await app.db('notifications').where({ id: ids.failedSms }).first();
  t.like(row, { status: 'queued', attempts: 0, locked_at: null });
  t.true(new Date(row.next_attempt_at).getTime() >= before - 1000 && new Date(row.next_attempt_at).getTime() <= Date.now());
  const after = await adminBrowser.get('/admin/notifications?status=failed');
  t.regex(after.$('.flash').text(), new RegExp(`Notification #${ids.failedSms} is queued again`));
  t.is(after.$(`#notification-${ids.failedSms}`).length, 0);
});

test.serial('the API retries a failed row once; any other status is 409; a missing row 404', async (t) => {
  const ok = await admin.send('POST', `/api/notifications/${ids.failedForRetry}/retry`);
  t.is(ok.status, 200);
  t.like(ok.json, { id: ids.failedForRetry, status: 'queued', attempts: 0 });
  const again = await admin.send('POST', `/api/notifications/${ids.failedForRetry}/retry`);
  t.is(again.status, 409);
  t.regex(again.json.error, /Only a failed notification can be retried; this one is queued/);
  for (const name of ['sentEmail', 'sendingSms', 'skippedSms', 'queuedEmail']) {
    t.is((await admin.send('POST', `/api/notifications/${ids[name]}/retry`)).status, 409, name);
  }
  t.is((await admin.send('POST', '/api/notifications/999999/retry')).status, 404);
  t.is((await admin.send('POST', '/api/notifications/abc/retry')).status, 400);
});

test.serial('a retry form without the CSRF token is refused', async (t) => {
  const res = await adminBrowser.postForm(`/admin/notifications/${ids.failedEmail}/retry`, {});
  t.is(res.status, 403);
  t.is((await app.db('notifications').where({ id: ids.failedEmail }).first()).status, 'failed');
});
