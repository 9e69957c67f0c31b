import { randomUUID } from 'node:crypto';
import test from 'ava';
import type { Browser, Page, Response } from 'playwright-core';
import { startApp, type TestApp } from '../support/app.ts';
import { launchBrowser, PHONE, signIn } from '../support/browser.ts';
import { createUser, PASSWORD, tokenClient } from '../support/factories.ts';

/**
 * Field mode's round trips in a real Chromium at phone size: with the service worker, a form post
 * brings back the page it leads to (src/http/follow-redirect.ts) and the browser lands on that
 * address without asking the server again; the sign-in page comes from the worker's copy while no
 * one is signed in, and signs in; the same key sent twice is one request; without JavaScript, plain
 * post/redirect/get.
 */

let app: TestApp;
let browser: Browser;

test.before(async () => {
  app = await startApp();
  browser = await launchBrowser();
  await createUser(app.db, { username: 'fran' });
  await createUser(app.db, { username: 'gus' });
});
test.after.always(async () => {
  await browser?.close();
  await app?.close();
});

/** The server's access log lines for `method` `path` (a RegExp source for the path). */
const logged = (method: string, path: string) =>
  app.logs
    .filter((line) => line.includes('"msg":"request"') && line.includes(`"method":"${method}"`))
    .map((line) => JSON.parse(line) as { path: string; status: number })
    .filter((line) => new RegExp(`^${path}$`).test(line.path));

async function controlled(page: Page): Promise<void> {
  await page.evaluate(`navigator.serviceWorker.ready.then(() => navigator.serviceWorker.controller || new Promise((resolve) =>
    navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true })))`);
}

async function fillRequest(page: Page, location: string) {
  await page.getByLabel('Assign to').selectOption({ label: 'gus' });
  await page.getByLabel('Location').fill(location);
  await page.locator('#i0-type').fill('Cat6');
  await page.locator('#i0-len').fill('30m');
  await page.locator('#i0-qty').fill('1');
}

async function ticketsAt(location: string) {
  const api = await tokenClient(app.url, 'fran');
  const res = await api.get(`/api/tickets?filter=mine&limit=100&q=${encodeURIComponent(location)}`, {
    accept: 'application/json',
  });
  return (res.json as { id: number; location: string }[]).filter((ticket) => ticket.location === location);
}

/** Clicks and returns the main frame's response for the page it lands on (`to`). */
async function landing(page: Page, to: RegExp, action: () => Promise<unknown>): Promise<Response> {
  const [response] = await Promise.all([
    page.waitForResponse((res) => res.request().isNavigationRequest() && to.test(new URL(res.url()).pathname)),
    action(),
  ]);
  await page.waitForURL((url) => to.test(url.pathname));
  return response;
}

test.serial('a request filed through the worker brings its page back: one round trip, the address updated', async (t) => {
  const context = await browser.newContext({ viewport: PHONE, hasTouch: true });
  const page = await context.newPage();
  await signIn(page, app.url, 'fran');
  await page.goto(`${app.url}/tickets/new`);
  await controlled(page);
  await page.reload();
  await fillRequest(page, 'Followed by the worker');
  const getsBefore = logged('GET', '/tickets/\\d+').length;
  const postsBefore = logged('POST', '/tickets');
  const response = await landing(page, /^\/tickets\/\d+$/, () => page.getByRole('button', { name: 'Send request' }).click());
  t.true(response.fromServiceWorker(), 'the page came from the worker');
  const [ticket] = await ticketsAt('Followed by the worker');
  t.truthy(ticket);
  t.is(new URL(page.url()).pathname, `/tickets/${ticket?.id}`, 'the address is the request’s');
  await t.notThrowsAsync(page.getByRole('heading', { name: new RegExp(`#${ticket?.id}`) }).waitFor());
  t.regex((await page.locator('.flash.success').textContent()) ?? '', /sent for approval/);
  const posts = logged('POST', '/tickets').slice(postsBefore.length);
  t.deepEqual(
    posts.map((p) => p.status),
    [200],
    'one post, answered with the page',
  );
  // The server made the page once, for the post's answer; the browser did not fetch it again.
  t.is(logged('GET', '/tickets/\\d+').length - getsBefore, 1);

  // Reloaded, the page comes from the network, without the flash and without posting again.
  const again = await landing(page, /^\/tickets\/\d+$/, () => page.reload());
  t.true(again.ok());
  t.is(await page.locator('.flash.success').count(), 0);
  t.is((await ticketsAt('Followed by the worker')).length, 1);
  t.is(logged('POST', '/tickets').length, postsBefore.length + 1);
  // Back goes to the form, not to a post to send again.
  await page.goBack();
  await page.waitForURL(/\/tickets\/new$/);
  await context.close();
});

test.serial('the same Idempotency-Key posted twice through the worker: one request, the same page both times', async (t) => {
  const context = await browser.newContext({ viewport: PHONE, hasTouch: true });
  const page = await context.newPage();
  await signIn(page, app.url, 'fran');
  await page.goto(`${app.url}/tickets/new`);
  await controlled(page);
  await page.reload();
  const key = randomUUID();
  // A form sent twice with one key (what a resend after a lost answer does), as a navigation.
  const post = () =>
    page.evaluate(`(() => {
      const form = document.querySelector('form.ticket-form');
      form.elements.idempotency_key.value = ${JSON.stringify(key)};
      form.elements.assigned_to_id.selectedIndex = [...form.elements.assigned_to_id.options].findIndex((o) => o.text === 'gus');
      form.elements.location.value = 'One key, twice';
      form.querySelector('#i0-type').value = 'Cat6';
      form.querySelector('#i0-len').value = '10m';
      form.querySelector('#i0-qty').value = '1';
      HTMLFormElement.prototype.submit.call(form);
    })()`);
  const first = await landing(page, /^\/tickets\/\d+$/, post);
  const firstUrl = page.url();
  t.true(first.fromServiceWorker());
  await page.goto(`${app.url}/tickets/new`);
  const second = await landing(page, /^\/tickets\/\d+$/, post);
  t.is(page.url(), firstUrl, 'the replay leads to the same request');
  t.is((await second.allHeaders())['idempotent-replayed'], 'true');
  await t.notThrowsAsync(page.getByRole('heading', { name: /#\d+/ }).waitFor());
  t.is((await ticketsAt('One key, twice')).length, 1);
  await context.close();
});

test.serial('signed out, the sign-in page comes from the worker’s copy, and signs in: the list in one round trip', async (t) => {
  const context = await browser.newContext({ viewport: PHONE, hasTouch: true });
  const page = await context.newPage();
  await signIn(page, app.url, 'fran');
  await controlled(page);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/login$/);
  // The worker keeps the sign-in page as it arrives.
  await signInPageKept(page);

  const getsBefore = logged('GET', '/login').length;
  const copy = await landing(page, /^\/login$/, () => page.goto(`${app.url}/login`));
  t.true(copy.fromServiceWorker());
  t.is(logged('GET', '/login').length, getsBefore, 'the server was not asked for the sign-in page');
  t.is(await page.locator('.flash').count(), 0, 'the copy has no “signed out” message of its own');
  await page.getByLabel('Username or email').fill('fran');
  await page.getByLabel('Password').fill(PASSWORD);
  const list = await landing(page, /^\/$/, () => page.getByRole('button', { name: 'Sign in' }).click());
  t.true(list.fromServiceWorker(), 'the list came with the sign-in post');
  t.is(await page.locator('body').getAttribute('data-user-name'), 'fran');
  t.is(logged('POST', '/login').at(-1)?.status, 200);

  // Signed in, /login is the server's to answer (it sends a signed-in visitor on to the list).
  await page.goto(`${app.url}/login`);
  await page.waitForURL(`${app.url}/`);
  await context.close();
});

/** Waits until the worker keeps its copy of the sign-in page. */
async function signInPageKept(page: Page): Promise<void> {
  const end = Date.now() + 10_000;
  const kept = `caches.keys().then((names) => Promise.all(names.map((n) => caches.open(n).then((c) => c.match('/login'))))).then((hits) => hits.some(Boolean))`;
  while (!(await page.evaluate(kept))) {
    if (Date.now() > end) throw new Error('the sign-in page was not kept');
    await page.waitForTimeout(100);
  }
}

test.serial('the sign-in page’s copy whose cookie is gone is refused once, then fetched again, and signs in', async (t) => {
  const context = await browser.newContext({ viewport: PHONE, hasTouch: true });
  const page = await context.newPage();
  await signIn(page, app.url, 'fran');
  await controlled(page);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/login$/);
  await signInPageKept(page);
  // Cookies cleared, the worker's caches kept (a browser setting can do that).
  await context.clearCookies();
  const copy = await landing(page, /^\/login$/, () => page.goto(`${app.url}/login`));
  t.true(copy.fromServiceWorker());
  await page.getByLabel('Username or email').fill('fran');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await t.notThrowsAsync(page.getByText('This form has expired').waitFor());
  // The copy is dropped: the sign-in page comes from the server again, with a token that holds.
  const gets = logged('GET', '/login').length;
  await page.goto(`${app.url}/login`);
  t.is(logged('GET', '/login').length, gets + 1, 'fetched from the server');
  await page.getByLabel('Username or email').fill('fran');
  await page.getByLabel('Password').fill(PASSWORD);
  await landing(page, /^\/$/, () => page.getByRole('button', { name: 'Sign in' }).click());
  t.is(await page.locator('body').getAttribute('data-user-name'), 'fran');
  await context.close();
});

test.serial('without JavaScript: plain post/redirect/get, signing in and filing a request', async (t) => {
  const context = await browser.newContext({ javaScriptEnabled: false, viewport: PHONE, hasTouch: true });
  const page = await context.newPage();
  const before = logged('POST', '/(login|tickets)').length;
  await page.goto(`${app.url}/login`);
  await page.getByLabel('Username or email').fill('fran');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${app.url}/`);
  await page.goto(`${app.url}/tickets/new`);
  await fillRequest(page, 'Filed without JavaScript');
  await page.getByRole('button', { name: 'Send request' }).click();
  await page.waitForURL(/\/tickets\/\d+$/);
  t.regex((await page.locator('.flash.success').textContent()) ?? '', /sent for approval/);
  t.deepEqual(
    logged('POST', '/(login|tickets)')
      .slice(before)
      .map((p) => [p.path, p.status]),
    [
      ['/login', 303],
      ['/tickets', 303],
    ],
  );
  t.is((await ticketsAt('Filed without JavaScript')).length, 1);
  await context.close();
});
