import { once } from 'node:events';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import test, { type ExecutionContext } from 'ava';
import { type Browser, chromium, type Page } from 'playwright-core';
import { publicDir } from '../../src/paths.ts';
import { startApp, type TestApp } from '../support/app.ts';
import { CHROMIUM_PATH, inspectPage, launchBrowser, openPage, PHONE, screenshot, signIn } from '../support/browser.ts';
import { createUser, tokenClient } from '../support/factories.ts';

/**
 * Field mode in a real Chromium at phone size (DESIGN.md §14, issue 21): installable, requests filed
 * without signal queued on the phone and sent exactly once when it is back, a refusal kept with its
 * reason, a double tap on a slow link filing one request, and a new deploy's service worker taking
 * over without serving the old version's stylesheet or pages.
 */

let app: TestApp;
let browser: Browser;

test.before(async () => {
  app = await startApp();
  browser = await launchBrowser();
  await createUser(app.db, { username: 'tess' });
  await createUser(app.db, { username: 'sam' });
});
test.after.always(async () => {
  await browser?.close();
  await app?.close();
});

/** Waits until the service worker controls the page (it claims open pages when it activates). */
async function controlled(page: Page): Promise<void> {
  await page.evaluate(`navigator.serviceWorker.ready.then(() => navigator.serviceWorker.controller || new Promise((resolve) =>
    navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true })))`);
}

/** Tickets at `location`, as the API lists them to their creator. */
async function ticketsAt(location: string, username = 'tess') {
  const api = await tokenClient(app.url, username);
  const res = await api.get(`/api/tickets?filter=mine&limit=100&q=${encodeURIComponent(location)}`, {
    accept: 'application/json',
  });
  return (res.json as { id: number; location: string; items: unknown[] }[]).filter((ticket) => ticket.location === location);
}

async function fillRequest(page: Page, location: string, items: [string, string, string][], assignee = 'sam') {
  await page.getByLabel('Assign to').selectOption({ label: assignee });
  await page.getByLabel('Location').fill(location);
  for (const [i, [type, length, quantity]] of items.entries()) {
    if (i > 0) {
      await page.getByRole('button', { name: 'Add another item' }).click();
      await page.locator(`#i${i}-type`).waitFor();
    }
    await page.locator(`#i${i}-type`).fill(type);
    await page.locator(`#i${i}-len`).fill(length);
    await page.locator(`#i${i}-qty`).fill(quantity);
  }
}

/** Waits until `expression` (evaluated in the page, a promise is awaited) is truthy. */
async function until(page: Page, expression: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await page.evaluate(expression))) {
    if (Date.now() > end) throw new Error(`still false after ${timeoutMs} ms: ${expression}`);
    await page.waitForTimeout(100);
  }
}

/** Waits until the worker has saved its copy of `path` (it does so as the page arrives). */
const saved = (page: Page, path: string) => until(page, `caches.match(${JSON.stringify(path)}).then(Boolean)`);

const queuedCount = (page: Page) => page.locator('#queued').textContent();

test.serial('the app passes Chromium’s installability check, with its manifest and icons', async (t) => {
  // Chromium never offers to install from an incognito window: a profile of its own.
  const profile = mkdtempSync(path.join(os.tmpdir(), 'ct-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    viewport: PHONE,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run'],
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${app.url}/login`);
    await controlled(page);
    const cdp = await context.newCDPSession(page);
    const manifest = (await cdp.send('Page.getAppManifest')) as { url: string; errors: unknown[] };
    t.is(manifest.url, `${app.url}/manifest.webmanifest`);
    t.deepEqual(manifest.errors, []);
    const { installabilityErrors } = (await cdp.send('Page.getInstallabilityErrors')) as { installabilityErrors: unknown[] };
    t.deepEqual(installabilityErrors, [], JSON.stringify(installabilityErrors));
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
});

test.serial('the request form’s copy made from the request list is the form page the server makes', async (t) => {
  const { page, close } = await openPage(browser);
  try {
    await signIn(page, app.url, 'tess');
    await controlled(page);
    await page.goto(`${app.url}/?filter=mine`);
    await saved(page, '/tickets/new');
    const copy = String(await page.evaluate("caches.match('/tickets/new').then((res) => res.text())"));
    // The page's own fetch (not a navigation) goes past the worker to the server.
    const fresh = String(await page.evaluate("fetch('/tickets/new').then((res) => res.text())"));
    // Each page has its own CSRF token and Idempotency-Key: the rest is the same, byte for byte.
    const tokensOut = (html: string) =>
      html
        .replace(/name="(_csrf|idempotency_key)" value="[^"]*"/g, 'name="$1" value="-"')
        .replace(/"X-CSRF-Token":"[^"]*"/, '"X-CSRF-Token":"-"');
    t.true(copy.includes('<h1>New cable request</h1>'));
    t.is(tokensOut(copy), tokensOut(fresh));
    // And it is what the form opens with, at once (a copy served has a new key: the keys differ).
    await page.goto(`${app.url}/tickets/new`);
    t.is(await page.title(), 'New request · Cable Ticketing');
    const copyKey = /name="idempotency_key" value="([^"]*)"/.exec(copy)?.[1];
    t.truthy(copyKey);
    t.not(await page.locator('input[name="idempotency_key"]').inputValue(), copyKey);
  } finally {
    await close();
  }
});

test.serial('offline: two requests are queued, survive a reload, and are each sent once when the signal is back', async (t) => {
  const { page, context, problems, close } = await openPage(browser);
  try {
    await signIn(page, app.url, 'tess');
    await controlled(page);
    // The pages kept for offline reading are those opened before the signal went.
    await page.goto(`${app.url}/tickets/new`);
    await page.goto(`${app.url}/?filter=mine`);
    await page.goto(`${app.url}/tickets/new`);
    await saved(page, '/tickets/new');
    const savedKey = await page.locator('input[name=idempotency_key]').inputValue();
    await context.setOffline(true);

    await fillRequest(page, 'Basement B2, riser room', [['Cat6', '100ft', '2']]);
    await page.getByRole('button', { name: 'Send request' }).click();
    await page.getByText('Queued — sends when you’re back online.').waitFor();
    // The header counts the drafts in IndexedDB after they change or the page loads: waited for, not read at once.
    await page.locator('#queued', { hasText: /^Queued: 1$/ }).waitFor();
    t.is(await page.getByLabel('Location').inputValue(), '', 'the form is ready for the next one');

    // A second, with two items: the row is added without the server.
    await fillRequest(page, 'Hut 7, north field', [
      ['OM4 fibre', '10m', '4'],
      ['Cat6a', '50ft', '1'],
    ]);
    await page.getByRole('button', { name: 'Send request' }).click();
    await page.locator('#queued', { hasText: 'Queued: 2' }).waitFor();
    await inspectPage(t, page, 'field-queued-two');

    // Reloaded with no signal: the saved form, marked with its time, and the queue is still there.
    await page.reload();
    const note = await page.locator('.saved-copy').textContent();
    t.regex(note ?? '', /^Saved at \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    await page.locator('#queued', { hasText: /^Queued: 2$/ }).waitFor();
    const shownKey = await page.locator('input[name=idempotency_key]').inputValue();
    t.regex(shownKey, /^[0-9a-f-]{36}$/);
    t.not(shownKey, savedKey, 'each showing of a saved form gets its own key');
    await inspectPage(t, page, 'field-saved-form');
    await page.goto(`${app.url}/?filter=mine`);
    await page.locator('.saved-copy').waitFor();
    await page.locator('#queued').click();
    await page.waitForURL(`${app.url}/drafts`);
    await page.locator('#drafts li').nth(1).waitFor();
    t.deepEqual(await page.locator('#drafts li strong').allTextContents(), [
      'Basement B2, riser room: Cat6 100ft × 2',
      'Hut 7, north field: OM4 fibre 10m × 4, Cat6a 50ft × 1',
    ]);
    t.is(await page.locator('#drafts li', { hasText: 'Queued — sends when you’re back online.' }).count(), 2);
    await inspectPage(t, page, 'field-drafts-offline');

    // The signal is back: both go, oldest first, once each.
    await context.setOffline(false);
    await page.locator('#drafts li.sent').nth(1).waitFor();
    await page.locator('#queued').waitFor({ state: 'hidden' });
    const links = await page
      .locator('#drafts li.sent a')
      .evaluateAll((as) => as.map((a) => (a as unknown as { pathname: string }).pathname));
    t.is(links.length, 2);
    const [first, second] = [await ticketsAt('Basement B2, riser room'), await ticketsAt('Hut 7, north field')];
    t.is(first.length, 1);
    t.is(second.length, 1);
    t.is(second[0]?.items.length, 2);
    t.true(Number(links[0]?.split('/').pop()) < Number(links[1]?.split('/').pop()), 'sent in the order filed');
    await inspectPage(t, page, 'field-drafts-sent');
    await page.locator('#drafts li.sent a').first().click();
    await page.waitForURL(/\/tickets\/\d+$/);
    t.regex((await page.locator('h1').textContent()) ?? '', /#\d+/);
    // Another page load, another chance to send: nothing is sent twice.
    await page.goto(`${app.url}/drafts`);
    t.is((await ticketsAt('Basement B2, riser room')).length, 1);
    t.is((await ticketsAt('Hut 7, north field')).length, 1);
    t.deepEqual(
      problems.filter((p) => !p.includes('ERR_INTERNET_DISCONNECTED')),
      [],
    );
  } finally {
    await close();
  }
});

test.serial('offline: an optics request for an Other part is queued and sent, with a link to it', async (t) => {
  const { page, context, close } = await openPage(browser);
  try {
    await signIn(page, app.url, 'tess');
    await controlled(page);
    await page.goto(`${app.url}/optics`);
    await saved(page, '/optics');
    await context.setOffline(true);
    await page.reload();
    await page.locator('.saved-copy').waitFor();
    // "Other" asks the server for its field; offline the page's own fallback copy of it is used.
    await page.getByLabel('Part number', { exact: true }).selectOption('Other');
    await page.getByLabel('Other part number').fill('XFP-10G-ZR80');
    await page.getByLabel('Quantity').fill('3');
    await page.getByLabel('Your name').fill('Tess T.');
    await page.getByRole('button', { name: 'Send request' }).click();
    await page.locator('#queued', { hasText: 'Queued: 1' }).waitFor();
    await page.goto(`${app.url}/drafts`);
    t.is(await page.locator('#drafts li strong').textContent(), 'Optics: XFP-10G-ZR80 × 3');
    await context.setOffline(false);
    const sent = page.locator('#drafts li.sent');
    await sent.waitFor();
    const href = await sent.locator('a').getAttribute('href');
    t.regex(href ?? '', /^\/optics\/\d+$/);
    t.regex((await sent.locator('a').textContent()) ?? '', /^optics request #\d+$/);
    const made = await app.db('optics_requests').where({ part_number: 'XFP-10G-ZR80' });
    t.is(made.length, 1);
    t.is(href, `/optics/${made[0].id}`);
  } finally {
    await close();
  }
});

test.serial('a queued request the server refuses keeps its draft and its reason; edited, it is sent', async (t) => {
  const leaver = await createUser(app.db, { username: 'leaver' });
  const { page, context, close } = await openPage(browser);
  try {
    await signIn(page, app.url, 'tess');
    await controlled(page);
    await page.goto(`${app.url}/tickets/new`);
    await context.setOffline(true);
    await fillRequest(page, 'Substation 4', [['Coax RG6', '250ft', '1']], 'leaver');
    await page.getByRole('button', { name: 'Send request' }).click();
    await page.locator('#queued', { hasText: 'Queued: 1' }).waitFor();
    // The assignee's account is deleted before the phone is back online.
    await app.db('users').where({ id: leaver.id }).delete();
    await page.goto(`${app.url}/drafts`);
    await context.setOffline(false);
    const refused = page.locator('#drafts li.refused');
    await refused.waitFor();
    t.regex((await refused.textContent()) ?? '', /Refused: assigned to: no user with that id\. The draft is kept/);
    t.is(await queuedCount(page), 'Queued: 1', 'a refused draft still counts: it is not sent');
    t.is((await ticketsAt('Substation 4')).length, 0);
    await inspectPage(t, page, 'field-drafts-refused');

    await refused.getByRole('link', { name: 'Edit' }).click();
    await page.waitForURL(/\/tickets\/new\?draft=/);
    await page.locator('.queued-note').waitFor();
    t.is(await page.getByLabel('Location').inputValue(), 'Substation 4');
    t.is(await page.locator('#i0-type').inputValue(), 'Coax RG6');
    await page.getByLabel('Assign to').selectOption({ label: 'sam' });
    await page.getByRole('button', { name: 'Send request' }).click();
    await page.waitForURL(`${app.url}/drafts`);
    await page.locator('#drafts li.sent').waitFor();
    t.is(await page.locator('#drafts li').count(), 1, 'the edited draft replaced the refused one');
    t.is((await ticketsAt('Substation 4')).length, 1);
  } finally {
    await close();
  }
});

test.serial('a signed-out account’s drafts are not sent as the next one; they go when it signs in again', async (t) => {
  const { page, context, close } = await openPage(browser);
  try {
    await signIn(page, app.url, 'tess');
    await controlled(page);
    await page.goto(`${app.url}/tickets/new`);
    await context.setOffline(true);
    await fillRequest(page, 'Pump house', [['Cat6', '20m', '1']]);
    await page.getByRole('button', { name: 'Send request' }).click();
    await page.locator('#queued', { hasText: 'Queued: 1' }).waitFor();
    // Signed out (the session ended) while offline; sam signs in on this phone.
    await context.clearCookies();
    await context.setOffline(false);
    await signIn(page, app.url, 'sam');
    await page.goto(`${app.url}/drafts`);
    await page.locator('#drafts li', { hasText: 'Kept for tess' }).waitFor();
    await page.getByRole('button', { name: 'Send now' }).click();
    await page.waitForTimeout(500);
    t.is((await ticketsAt('Pump house')).length, 0);
    t.is((await ticketsAt('Pump house', 'sam')).length, 0, 'not sent as sam');
    await inspectPage(t, page, 'field-drafts-other-account');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, app.url, 'tess');
    await page.goto(`${app.url}/drafts`);
    await page.locator('#drafts li.sent').waitFor();
    t.is((await ticketsAt('Pump house')).length, 1);
  } finally {
    await close();
  }
});

/** The slow link (slow 3G): 400 ms round trip, 400 kbit/s each way. */
const SLOW_3G = { oneWayMs: 200, bytesPerSecond: 50_000 };
const SLOW_PIECE = 1_000;

/** Copies `from` to `to` as the slow link would: after half the round trip, at its rate, then ends `to`. */
async function trickle(from: Readable, to: Writable): Promise<void> {
  await sleep(SLOW_3G.oneWayMs);
  for await (const chunk of from as AsyncIterable<Buffer>) {
    for (let at = 0; at < chunk.length; at += SLOW_PIECE) {
      const piece = chunk.subarray(at, at + SLOW_PIECE);
      await sleep((piece.length * 1000) / SLOW_3G.bytesPerSecond);
      if (!to.write(piece)) await once(to, 'drain');
    }
  }
  to.end();
}

/**
 * A proxy in front of the app that can fail the way a dropping signal does: `down` (nothing gets
 * through) or `lose` (a form post reaches the app, which acts on it, but its answer never arrives);
 * or be `slow` (SLOW_3G both ways). The link is slow for every request of the phone, the service
 * worker's included: Chromium's network emulation (Network.emulateNetworkConditions) applies to the
 * page's own requests only, while a worker in control fetches the page's form posts itself.
 */
async function flakyLink(target: string) {
  const upstream = new URL(target);
  const link = { mode: 'up' as 'up' | 'down' | 'lose' | 'slow', url: '', close: async () => {} };
  const server = http.createServer((req, res) => {
    if (link.mode === 'down') return req.socket.destroy();
    const lose = link.mode === 'lose' && req.method === 'POST';
    const slow = link.mode === 'slow';
    const forward = http.request(
      { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        if (lose) {
          answer.resume();
          answer.on('end', () => req.socket.destroy());
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        if (slow) trickle(answer, res).catch(() => req.socket.destroy());
        else answer.pipe(res);
      },
    );
    forward.on('error', () => req.socket.destroy());
    if (slow) trickle(req, forward).catch(() => req.socket.destroy());
    else req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  link.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  link.close = () => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return link;
}

test.serial(
  'a form sent as the signal drops is queued by the service worker, and sent once when the signal is back',
  async (t) => {
    const link = await flakyLink(app.url);
    const { page, problems, close } = await openPage(browser);
    try {
      await signIn(page, link.url, 'tess');
      await controlled(page);
      await page.goto(`${link.url}/tickets/new`);

      // The server cannot be reached, but the phone believes it is online: the worker keeps the post.
      await fillRequest(page, 'Lift shaft 2', [['Cat6', '15m', '1']]);
      link.mode = 'down';
      await page.getByRole('button', { name: 'Send request' }).click();
      await page.waitForURL(`${link.url}/drafts?queued=1`);
      await page.getByText('Queued — sends when you’re back online.').first().waitFor();
      await page.locator('#drafts li.queued', { hasText: 'Lift shaft 2' }).waitFor();

      // The page asked for without a connection and without a copy: the drafts page says so.
      await page.goto(`${link.url}/inventory`);
      t.regex((await page.locator('.saved-copy').textContent()) ?? '', /not saved on this phone/);
      await inspectPage(t, page, 'field-offline-page');

      // Back: the next page load sends it.
      link.mode = 'up';
      await page.goto(`${link.url}/drafts`);
      await page.locator('#drafts li.sent').waitFor();
      t.is((await ticketsAt('Lift shaft 2')).length, 1);

      // The post reaches the app, which makes the ticket, but its answer is lost on the way back.
      await page.goto(`${link.url}/tickets/new`);
      await fillRequest(page, 'Lift shaft 3', [['Cat6a', '20m', '2']]);
      link.mode = 'lose';
      await page.getByRole('button', { name: 'Send request' }).click();
      await page.waitForURL(`${link.url}/drafts?queued=1`);
      t.is((await ticketsAt('Lift shaft 3')).length, 1, 'the app made it');
      // The phone cannot know: it is queued (the page's own try to send it lost its answer too).
      await page.locator('#drafts li.queued', { hasText: 'Lift shaft 3' }).waitFor();

      // Back: the resend gets the first answer back, not a second ticket.
      link.mode = 'up';
      await page.getByRole('button', { name: 'Send now' }).click();
      const sent = page.locator('#drafts li.sent', { hasText: 'Lift shaft 3' });
      await sent.waitFor();
      const made = await ticketsAt('Lift shaft 3');
      t.is(made.length, 1);
      t.is(
        await sent.locator('a').getAttribute('href'),
        `/tickets/${made[0]?.id}`,
        'the link names the ticket made the first time',
      );
      t.deepEqual(
        problems.filter((p) => !/ERR_(CONNECTION|EMPTY_RESPONSE|INTERNET_DISCONNECTED)|Failed to load resource/.test(p)),
        [],
      );
    } finally {
      await close();
      await link.close();
    }
  },
);

/** The app's answers to form posts to `path`, in order (its request log lines' statuses). */
const postsTo = (path: string) =>
  app.logs
    .filter((line) => line.includes('"msg":"request"') && line.includes('"method":"POST"') && line.includes(`"path":"${path}"`))
    .map((line) => (JSON.parse(line) as { status: number }).status);

/**
 * The phones of the double tap: JavaScript with the service worker in control (a phone that has used
 * the app before: the worker sends the post), JavaScript before the worker is there (a first visit;
 * workers blocked), and no JavaScript.
 */
const PHONES = {
  worker: { javaScriptEnabled: true, serviceWorkers: 'allow' },
  'no worker': { javaScriptEnabled: true, serviceWorkers: 'block' },
  'no JavaScript': { javaScriptEnabled: false, serviceWorkers: 'allow' },
} as const;

/** Fills a request, taps "Send request" twice 120 ms apart on a slow link; returns the app's answers to the posts. */
async function doubleTap(t: ExecutionContext, phone: keyof typeof PHONES, location: string): Promise<number[]> {
  const context = await browser.newContext({ ...PHONES[phone], viewport: PHONE, hasTouch: true });
  const link = await flakyLink(app.url);
  try {
    const page = await context.newPage();
    await signIn(page, link.url, 'tess');
    if (phone === 'worker') await controlled(page);
    await page.goto(`${link.url}/tickets/new`);
    await fillRequest(page, location, [['Cat6', '30m', '1']]);
    link.mode = 'slow';
    const before = postsTo('/tickets').length;
    const box = await page.getByRole('button', { name: 'Send request' }).boundingBox();
    if (!box) throw new Error('no button');
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await page.waitForTimeout(120);
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    // The second tap may abort the first tap's navigation (without JavaScript): wait for the one that lands.
    for (let attempt = 0; ; attempt++) {
      try {
        await page.waitForURL(/\/tickets\/\d+$/, { timeout: 30_000 });
        break;
      } catch (err) {
        if (attempt > 2 || !/ERR_ABORTED|detached/.test(String(err))) throw err;
      }
    }
    await screenshot(page, `field-double-tap-${phone.replace(/ /g, '-')}`);
    t.is((await ticketsAt(location)).length, 1, `one request (${phone})`);
    return postsTo('/tickets').slice(before);
  } finally {
    await context.close();
    await link.close();
  }
}

test.serial('a double tap on a slow link files one request, with JavaScript and without', async (t) => {
  // With JavaScript the button is off after the first tap: one post. The worker sends it asking for
  // the page it leads to (200, src/http/follow-redirect.ts); without the worker, the plain 303.
  t.deepEqual(await doubleTap(t, 'worker', 'Double tap, JS'), [200]);
  t.deepEqual(await doubleTap(t, 'no worker', 'Double tap, JS, first visit'), [303]);
  // Without it both taps post the form with its one key: the server runs the first only.
  const posts = await doubleTap(t, 'no JavaScript', 'Double tap, no JS');
  t.log(`without JavaScript the server got ${posts.length} posts`);
  t.true(posts.length >= 1);
});

test.serial('a new deploy: its worker takes over, and no stylesheet or page of the old version is served', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ct-deploy-'));
  const dbUrl = `sqlite:${path.join(dir, 'app.sqlite')}`;
  const v2Public = path.join(dir, 'public');
  cpSync(publicDir, v2Public, { recursive: true });
  // The new version's stylesheet: a header of another colour.
  writeFileSync(
    path.join(v2Public, 'app.css'),
    `${readFileSync(path.join(publicDir, 'app.css'), 'utf8')}\n.top {\n  background: #3a0ca3;\n}\n`,
  );
  let server = await startApp({}, { databaseUrl: dbUrl });
  const port = Number(new URL(server.url).port);
  const { page, context, problems, close } = await openPage(browser);
  const headerColour = () => page.evaluate(`getComputedStyle(document.querySelector('header.top')).backgroundColor`);
  const stylesheet = () => page.locator('link[rel=stylesheet]').getAttribute('href');
  try {
    await createUser(server.db, { username: 'tess' });
    await signIn(page, server.url, 'tess');
    await controlled(page);
    await page.goto(`${server.url}/tickets/new`);
    t.is(await headerColour(), 'rgb(13, 43, 74)');
    const oldSheet = await stylesheet();
    const oldCaches = (await page.evaluate('caches.keys()')) as string[];

    // The deploy: the same address and database, the new files.
    await server.close();
    server = await startApp({}, { databaseUrl: dbUrl, publicDir: v2Public, port });
    await page.goto(`${server.url}/`);
    await page.evaluate(`navigator.serviceWorker.getRegistration().then((r) => r.update())`);
    // Installed, activated, in control of the page, and the old version's caches gone.
    await until(
      page,
      `(async (old) => {
        const reg = await navigator.serviceWorker.getRegistration();
        const names = await caches.keys();
        return !reg.installing && !reg.waiting && reg.active && navigator.serviceWorker.controller === reg.active
          && names.length > 0 && names.every((n) => !old.includes(n));
      })(${JSON.stringify(oldCaches)})`,
    );
    await page.goto(`${server.url}/tickets/new`);
    t.not(await stylesheet(), oldSheet);
    t.is(await headerColour(), 'rgb(58, 12, 163)');
    // Offline, the saved form is the new version's too.
    await saved(page, '/tickets/new');
    await context.setOffline(true);
    await page.reload();
    await page.locator('.saved-copy').waitFor();
    t.not(await stylesheet(), oldSheet);
    t.is(await headerColour(), 'rgb(58, 12, 163)');
    await context.setOffline(false);
    t.deepEqual(
      problems.filter((p) => !p.includes('ERR_INTERNET_DISCONNECTED')),
      [],
    );
  } finally {
    await close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
