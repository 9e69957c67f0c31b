import test from 'ava';
import type { Browser } from 'playwright-core';
import { enqueue } from '../../src/features/notifications/outbox.ts';
import { startApp, type TestApp } from '../support/app.ts';
import { inspectPage, launchBrowser, openPage, screenshot } from '../support/browser.ts';
import { createUser, tokenClient } from '../support/factories.ts';
import { startIdp, type TestIdp } from '../support/oidc.ts';
import { createTicket } from '../support/tickets.ts';

/**
 * Single sign-on in a real browser at phone size, through the test OpenID provider (oidc-provider in
 * this process): the button, the provider's page, back signed in; an admin previews a notification
 * (the email's HTML in its sandboxed frame stays inert); sign-out goes through the provider's logout.
 */

let app: TestApp;
let idp: TestIdp;
let browser: Browser;
let hostileId: number;

test.before(async () => {
  idp = await startIdp();
  app = await startApp(idp.env({ OIDC_ADMIN_GROUPS: 'cable-admins', OIDC_BUTTON_LABEL: 'Sign in with Example SSO' }), {
    appUrlFromPort: true,
  });
  idp.register(app.url);
  idp.accounts.set('alice', {
    email: 'alice@example.test',
    email_verified: true,
    preferred_username: 'alice',
    groups: ['cable-admins'],
  });
  await createUser(app.db, { username: 'tech' });
  const stock = await createUser(app.db, { username: 'stock' });
  await createTicket(await tokenClient(app.url, 'tech'), { assigned_to_id: stock.id, location: 'Building A, room 101' });
  // A stored body that tries everything an email must not do inside the app.
  await enqueue(app.db, [
    {
      notification_type: 'test_message',
      channel: 'email',
      recipient: { id: null, email: 'someone@example.test', phone: null },
      subject: 'Hostile message',
      text: 'Plain text part.',
      html: '<!doctype html><html lang="en"><body><p id="hello">Hello from the message.</p><script>parent.document.title = "owned"; document.body.textContent = "owned";</script><img alt="" src="https://tracker.example/pixel.gif"></body></html>',
    },
  ]);
  hostileId = (await app.db('notifications').where({ notification_type: 'test_message' }).first()).id;
  browser = await launchBrowser();
});
test.after.always(async () => {
  await browser?.close();
  await app?.close();
  await idp?.close();
});

test.serial('sign in with single sign-on on a phone, preview an email, sign out at the provider', async (t) => {
  const { page, problems, close } = await openPage(browser);
  try {
    await page.goto(`${app.url}/login`);
    await inspectPage(t, page, 'sso-login');
    await page.getByRole('link', { name: 'Sign in with Example SSO' }).click();

    // The provider's own page (the test provider's plain form).
    await page.waitForURL(`${idp.issuer}/interaction/**`);
    await screenshot(page, 'sso-provider');
    await page.getByLabel('Account').fill('alice');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(`${app.url}/`);
    const signOut = page.getByRole('banner').getByRole('button', { name: 'Sign out' });
    t.is(await signOut.getAttribute('title'), 'Signed in as alice');
    await inspectPage(t, page, 'sso-home');

    // An admin (the provider's group says so): the notification log and one message.
    await page.goto(`${app.url}/admin/notifications`);
    t.is(await page.getByRole('note').first().isVisible(), true, 'no provider configured: messages kept for preview');
    await inspectPage(t, page, 'sso-notification-log');
    const email = await app.db('notifications').where({ channel: 'email', notification_type: 'ticket_created' }).first();
    await page.locator(`#notification-${email.id} a`).first().click();
    await page.waitForURL(`${app.url}/admin/notifications/${email.id}`);
    const frame = page.frameLocator('#message-html');
    await frame.getByRole('link', { name: /Review request/ }).waitFor();
    t.is(await page.locator('#message-subject').textContent(), email.subject);
    await inspectPage(t, page, 'sso-notification-preview');

    // Hostile HTML: its script never runs, its remote image never loads, the page keeps its title.
    await page.goto(`${app.url}/admin/notifications/${hostileId}`);
    await frame.locator('#hello').waitFor();
    t.is(await frame.locator('#hello').textContent(), 'Hello from the message.');
    t.is(await page.title(), `Notification #${hostileId} · Cable Ticketing`);
    await screenshot(page, 'sso-notification-hostile');
    const hostileProblems = problems.splice(0);
    t.true(
      hostileProblems.some((p) => /Blocked script execution .* sandboxed/.test(p)),
      'the browser says the sandbox blocked the script',
    );
    t.true(
      hostileProblems.every((p) => /sandboxed|allow-scripts|img-src|tracker\.example/.test(p)),
      `only the sandbox and the frame's CSP refusing: ${hostileProblems.join(' / ')}`,
    );

    // Sign-out: the local session ends, the provider asks to confirm, then back to the sign-in page.
    await page.goto(`${app.url}/`);
    await signOut.click();
    await page.waitForURL(`${idp.issuer}/session/end**`);
    await screenshot(page, 'sso-provider-logout');
    await page.getByRole('button', { name: /yes/i }).click();
    await page.waitForURL(`${app.url}/login`);
    t.is(await signOut.count(), 0);
    await page.goto(`${app.url}/`);
    t.regex(page.url(), /\/login/);
    t.deepEqual(problems, [], 'no console errors, page errors or CSP violations');
  } finally {
    await close();
  }
});
