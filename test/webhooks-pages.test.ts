import test from 'ava';
import { startApp, type TestApp } from './support/app.ts';
import { buildCast, buildRequest } from './support/factories.ts';
import { Receiver } from './support/receiver.ts';
import { deliveriesOf, webhookWorker } from './support/webhooks.ts';

/**
 * The admin's webhook pages without JavaScript (issue #23): make one (its secret shown once), see
 * it, change it, disable and enable it, rotate its secret, read its delivery log, redeliver, delete.
 */

let app: TestApp;
let receiver: Receiver;
let people: Awaited<ReturnType<typeof cast>>;
const cast = (a: TestApp) => buildCast(a, { page_admin: { role: 'admin', browser: true }, page_tech: {}, page_stock: {} });

test.before(async () => {
  app = await startApp({ WEBHOOK_ALLOW_PRIVATE: 'true' });
  receiver = await new Receiver().start();
  people = await cast(app);
});
test.after.always(async () => {
  await receiver?.close();
  await app?.close();
});

test.serial('make a webhook from the page: the secret once, then the list and the detail page', async (t) => {
  const browser = people.page_admin.browser;
  const empty = await browser.get('/admin/webhooks');
  t.is(empty.status, 200);
  t.is(empty.$('p.empty').text(), 'No webhooks yet.');
  t.is(empty.$('input[name=events]').length, 5);

  const bad = await browser.submit('/admin/webhooks', '/admin/webhooks', { url: 'ftp://x', description: 'ERP' });
  t.is(bad.status, 400);
  t.regex(bad.$('#f-url-error').text(), /http/);
  t.regex(bad.$('.events .field-error').text(), /at least one event/);
  t.is(bad.$('#f-description').val(), 'ERP', 'what was typed is kept');

  const page = await browser.get('/admin/webhooks');
  const csrf = String(page.$('input[name=_csrf]').first().val());
  const body = new URLSearchParams([
    ['_csrf', csrf],
    ['url', receiver.url],
    ['description', 'ERP sync'],
    ['events', 'ticket.created'],
    ['events', 'ticket.status_changed'],
  ]).toString();
  const made = await browser.request('POST', '/admin/webhooks', {
    body,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  t.is(made.status, 200);
  const secret = String(made.$('#webhook-secret').val());
  t.regex(secret, /^whsec_/);
  t.is(made.$('#webhook-list li.webhook').length, 1);
  const id = (await app.db('webhook_subscriptions').first()).id;

  const list = await browser.get('/admin/webhooks');
  t.is(list.$('#webhook-secret').length, 0, 'never shown again');
  t.false(list.text.includes(secret));
  t.regex(list.$(`#webhook-${id}`).text(), /ticket\.created, ticket\.status_changed/);

  const detail = await browser.get(`/admin/webhooks/${id}`);
  t.is(detail.status, 200);
  t.is(detail.$('#f-url').val(), receiver.url);
  t.deepEqual(
    detail
      .$('input[name=events]:checked')
      .map((_, e) => detail.$(e).val())
      .get(),
    ['ticket.created', 'ticket.status_changed'],
  );
  t.is(detail.$('input[name=enabled]:checked').length, 1);
  t.is(detail.$('#delivery-log li.delivery').length, 0);
  t.false(detail.text.includes(secret));
});

test.serial('the delivery log shows each attempt, and a delivery can be sent again from it', async (t) => {
  const browser = people.page_admin.browser;
  const id = (await app.db('webhook_subscriptions').first()).id;
  receiver.answer({ status: 500, body: '<b>boom</b>' });
  await buildRequest(app, { creator: people.page_tech.user, assignee: people.page_stock.user });
  const worker = webhookWorker(app, { retryBaseMs: 1 });
  await worker.runOnce();
  await new Promise((r) => setTimeout(r, 5));
  await worker.runOnce();
  const page = await browser.get(`/admin/webhooks/${id}`);
  const row = page.$('#delivery-log li.delivery').first();
  t.regex(row.text(), /delivered/);
  t.regex(row.text(), /2 attempts/);
  t.is(row.find('ol.attempts li').length, 2);
  t.regex(row.find('ol.attempts li').first().text(), /failed · 500/);
  t.is(row.find('ol.attempts pre code').first().text(), '<b>boom</b>', 'the answer shown as text');
  t.regex(row.find('details > pre code').text(), /"type": "ticket\.created"/);

  const [delivery] = await deliveriesOf(app, id);
  const again = await browser.submit(`/admin/webhooks/${id}`, `/admin/webhook-deliveries/${delivery?.id}/redeliver`, {});
  t.is(again.status, 303);
  t.is(again.headers.get('location'), `/admin/webhooks/${id}`);
  const after = await browser.get(`/admin/webhooks/${id}?status=queued`);
  t.regex(after.$('.flash.success').text(), /queued again/);
  t.is(after.$('#delivery-log li.delivery').length, 1);
  const twice = await browser.submit(`/admin/webhooks/${id}`, `/admin/webhook-deliveries/${delivery?.id}/redeliver`, {});
  t.is(twice.status, 303);
  t.regex((await browser.get(`/admin/webhooks/${id}`)).$('.flash.error').text(), /waiting to be sent already/);
  await worker.runOnce();
});

test.serial('change, disable, enable, rotate and delete from the page', async (t) => {
  const browser = people.page_admin.browser;
  const id = (await app.db('webhook_subscriptions').first()).id;
  const path = `/admin/webhooks/${id}`;
  const page = await browser.get(path);
  const csrf = String(page.$('input[name=_csrf]').first().val());
  const form = (fields: [string, string][]) =>
    browser.request('POST', path, {
      body: new URLSearchParams([['_csrf', csrf], ...fields]).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });

  // Unticking "Enabled" sends nothing for it: the webhook is disabled.
  const off = await form([
    ['url', receiver.url],
    ['description', 'ERP sync (paused)'],
    ['events', 'stock.low'],
  ]);
  t.is(off.status, 303);
  let row = await app.db('webhook_subscriptions').where({ id }).first();
  t.falsy(row.enabled);
  t.is(row.description, 'ERP sync (paused)');
  const disabled = await browser.get(path);
  t.regex(disabled.$('h1 .badge').text(), /disabled/);
  t.regex(disabled.text, /Disabled by an admin/);

  const on = await form([
    ['url', receiver.url],
    ['events', 'stock.low'],
    ['events', 'optics_request.created'],
    ['enabled', 'true'],
  ]);
  t.is(on.status, 303);
  row = await app.db('webhook_subscriptions').where({ id }).first();
  t.truthy(row.enabled);

  const wrong = await form([
    ['url', 'http://[not an address'],
    ['events', 'nope'],
  ]);
  t.is(wrong.status, 400);
  t.truthy(wrong.$('#f-url-error').text());

  const rotated = await browser.submit(path, `${path}/secret`, {});
  t.is(rotated.status, 200);
  t.regex(String(rotated.$('#webhook-secret').val()), /^whsec_/);

  const gone = await browser.submit(path, `${path}/delete`, {});
  t.is(gone.status, 303);
  t.is(gone.headers.get('location'), '/admin/webhooks');
  t.is(await app.db('webhook_subscriptions').where({ id }).first(), undefined);
  t.is(Number((await app.db('webhook_deliveries').count({ n: '*' }).first())?.n), 0, 'its log goes with it');
  t.is((await browser.get(path)).status, 404);
});
