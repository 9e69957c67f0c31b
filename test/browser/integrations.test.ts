import test from 'ava';
import type { Browser } from 'playwright-core';
import { startApp, type TestApp } from '../support/app.ts';
import { inspectPage, launchBrowser, openPage, signIn } from '../support/browser.ts';
import { createUser } from '../support/factories.ts';
import { Receiver } from '../support/receiver.ts';
import { webhookWorker } from '../support/webhooks.ts';

/**
 * Issue #23 on a 390 px phone: the API reference, a personal token made and revoked, a webhook made
 * (its secret shown once), a delivery seen in its log. axe clean, nothing wider than the phone.
 */

let app: TestApp;
let browser: Browser;
let receiver: Receiver;
test.before(async () => {
  app = await startApp({ WEBHOOK_ALLOW_PRIVATE: 'true' });
  browser = await launchBrowser();
  receiver = await new Receiver().start();
  await createUser(app.db, { username: 'ines', role: 'admin' });
  await createUser(app.db, { username: 'raj' });
});
test.after.always(async () => {
  await browser?.close();
  await receiver?.close();
  await app?.close();
});

test.serial('the API reference reads on a phone: sections, an operation opened, the webhook events', async (t) => {
  const { page } = await openPage(browser);
  await page.goto(`${app.url}/api/docs`);
  t.is(await page.getByRole('heading', { level: 1 }).textContent(), 'API reference');
  await inspectPage(t, page, 'api-docs');
  const create = page.locator('#postApiTickets');
  await create.locator('summary').click();
  t.regex((await create.locator('pre').first().textContent()) ?? '', /curl -X POST/);
  await page.locator('#webhooks details').first().locator('summary').click();
  await inspectPage(t, page, 'api-docs-open');
});

test.serial('a personal token: made, shown once, used, revoked', async (t) => {
  const { page } = await openPage(browser);
  await signIn(page, app.url, 'raj');
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('link', { name: 'API tokens' }).click();
  await page.waitForURL(`${app.url}/settings/tokens`);
  await inspectPage(t, page, 'tokens-empty');
  await page.getByLabel('Name').fill('inventory sync');
  await page.getByText('Read: look only').click();
  await page.getByLabel('Expires after').selectOption('30');
  await page.getByRole('button', { name: 'Create token' }).click();
  const token = await page.getByLabel('Token “inventory sync”').inputValue();
  t.regex(token, /^ctp_/);
  await inspectPage(t, page, 'tokens-created');
  const api = await fetch(`${app.url}/api/tokens`, { headers: { authorization: `Bearer ${token}` } });
  t.is(api.status, 200);
  await page.goto(`${app.url}/settings/tokens`);
  t.is(await page.getByLabel('Token “inventory sync”').count(), 0, 'not shown again');
  await page.getByRole('button', { name: 'Revoke token inventory sync' }).click();
  await page.waitForURL(`${app.url}/settings/tokens`);
  t.regex((await page.getByRole('status').first().textContent()) ?? '', /revoked/);
  t.is((await fetch(`${app.url}/api/tokens`, { headers: { authorization: `Bearer ${token}` } })).status, 401);
});

test.serial('a webhook: made on the admin page, its secret once, a delivery in its log', async (t) => {
  const { page } = await openPage(browser);
  await signIn(page, app.url, 'ines');
  await page.goto(`${app.url}/admin/webhooks`);
  await inspectPage(t, page, 'webhooks-empty');
  await page.getByLabel('URL').fill(receiver.url);
  await page.getByLabel('Description').fill('ERP stock sync');
  await page.getByLabel('ticket.created').check();
  await page.getByLabel('stock.low').check();
  await page.getByRole('button', { name: 'Create webhook' }).click();
  t.regex(await page.getByLabel(/Signing secret of webhook/).inputValue(), /^whsec_/);
  await inspectPage(t, page, 'webhooks-created');

  const raj = (await (
    await fetch(`${app.url}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'raj', password: 'correct horse battery' }),
    })
  ).json()) as { access_token: string };
  const ines = await app.db('users').where({ username: 'ines' }).first();
  const filed = await fetch(`${app.url}/api/tickets`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${raj.access_token}` },
    body: JSON.stringify({
      assigned_to_id: ines.id,
      location: 'Dock 2',
      items: [{ cable_type: 'Cat6', cable_length: '3m', quantity: 2 }],
    }),
  });
  t.is(filed.status, 201);
  await webhookWorker(app).runOnce();
  t.is(receiver.received.length, 1);

  await page
    .getByRole('link', { name: /ERP stock sync|#\d+/ })
    .first()
    .click();
  await page.getByText('Log and payload').first().click();
  t.regex((await page.locator('#delivery-log li.delivery').first().textContent()) ?? '', /delivered/);
  await inspectPage(t, page, 'webhook-detail');
});
