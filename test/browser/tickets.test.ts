import test from 'ava';
import type { Browser } from 'playwright-core';
import { startApp, type TestApp } from '../support/app.ts';
import { inspectPage, launchBrowser, openPage, screenshot, signIn } from '../support/browser.ts';
import { createUser } from '../support/factories.ts';

let app: TestApp;
let browser: Browser;
test.before(async () => {
  app = await startApp();
  browser = await launchBrowser();
  await createUser(app.db, { username: 'tess', role: 'admin' });
  await createUser(app.db, { username: 'sam' });
});
test.after.always(async () => {
  await browser?.close();
  await app?.close();
});

test.serial('a two-item request goes from the form to fulfilled, with every step on the timeline', async (t) => {
  const tess = await openPage(browser);
  const sam = await openPage(browser);
  try {
    const page = tess.page;
    await signIn(page, app.url, 'tess');
    await inspectPage(t, page, 'tickets-dashboard-empty');

    // The new-request form is open on an empty dashboard; htmx adds the second item row in place.
    await page.getByLabel('Assign to').selectOption({ label: 'sam' });
    await page.getByLabel('Priority').selectOption('high');
    await page.getByLabel('Location').fill('Building 4, room 210');
    await page.getByLabel('Notes').fill('For the new office <b>desks</b>');
    await page.locator('#i0-type').fill('Cat6');
    await page.locator('#i0-len').fill('100ft');
    await page.locator('#i0-qty').fill('3');
    await page.getByRole('button', { name: 'Add another item' }).click();
    await page.locator('#i1-type').waitFor();
    t.is(page.url(), `${app.url}/`, 'adding a row did not reload the page');
    await page.locator('#i1-type').fill('OM4 fibre');
    await page.locator('#i1-len').fill('10m');
    await page.locator('#i1-gauge').fill('50/125');
    await page.getByRole('button', { name: 'Send request' }).click();
    await page.waitForURL(/\/tickets\/\d+$/);
    const ticketUrl = page.url();
    t.regex((await page.getByRole('status').first().textContent()) ?? '', /sent for approval/);
    t.is(await page.locator('table.items:not(.decide) tbody tr').count(), 2);
    t.regex((await page.locator('.facts').textContent()) ?? '', /<b>desks<\/b>/, 'notes shown as text');
    await inspectPage(t, page, 'tickets-created');

    // "Created by me" on the dashboard lists it; the tab filters through htmx and pushes the URL.
    await page.goto(`${app.url}/`);
    await page.locator('label[for=tab-mine]').click();
    await page.waitForURL(/\?filter=mine/);
    t.is(await page.locator('ul.tickets > li:not(.more)').count(), 1);
    t.regex((await page.locator('ul.tickets').textContent()) ?? '', /Cat6 · 100ft × 3/);
    await page.locator('label[for=tab-assigned]').click();
    await page.waitForURL(/filter=assigned/);
    await page.getByText('No requests match.').waitFor();
    await page.goBack();
    await page.waitForURL(/\?filter=mine/);
    await inspectPage(t, page, 'tickets-created-by-me');

    // Sam, the assignee, approves from the ticket page; htmx swaps the ticket in place.
    await signIn(sam.page, app.url, 'sam');
    await sam.page.goto(ticketUrl);
    t.is(await sam.page.getByRole('link', { name: 'Edit request' }).count(), 0);
    await inspectPage(t, sam.page, 'tickets-assignee-view');
    for (const [button, status] of [
      ['Approve', 'Approved'],
      ['Start work', 'In progress'],
      ['Mark fulfilled', 'Fulfilled'],
    ] as const) {
      await sam.page.getByRole('button', { name: button, exact: true }).click();
      await sam.page.locator('.ticket-head .badge').first().filter({ hasText: status }).waitFor();
      t.is(sam.page.url(), ticketUrl);
    }
    const timeline = sam.page.locator('ol.timeline li');
    t.is(await timeline.count(), 4);
    t.regex((await timeline.nth(1).textContent()) ?? '', /sam\s+moved it from Pending approval to Approved/);
    t.regex((await timeline.nth(3).textContent()) ?? '', /In progress to Fulfilled/);
    await inspectPage(t, sam.page, 'tickets-fulfilled');

    // Tess sees the same history after a reload.
    await page.goto(ticketUrl);
    t.is(await page.locator('ol.timeline li').count(), 4);
    t.deepEqual([...tess.problems, ...sam.problems], []);
  } finally {
    await tess.close();
    await sam.close();
  }
});

test.serial('without JavaScript the same form adds rows by posting back', async (t) => {
  const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 } });
  try {
    const page = await context.newPage();
    await signIn(page, app.url, 'sam');
    await page.goto(`${app.url}/tickets/new`);
    await page.locator('#i0-type').fill('Cat5e');
    await page.getByRole('button', { name: 'Add another item' }).click();
    await page.locator('#i1-type').waitFor();
    t.is(await page.locator('#i0-type').inputValue(), 'Cat5e', 'typed values survive the round trip');
    await page.getByLabel('Assign to').selectOption({ label: 'tess' });
    await page.getByLabel('Location').fill('Yard');
    await page.locator('#i0-len').fill('5m');
    await page.getByRole('button', { name: 'Send request' }).click();
    // Row 2 is blank and is dropped; the request is created with one item.
    await page.waitForURL(/\/tickets\/\d+$/);
    t.is(await page.locator('table.items:not(.decide) tbody tr').count(), 1);
    await screenshot(page, 'tickets-nojs-created');
    // Deleting asks first: a stray tap on Delete (where Send request was) only opens the question.
    await page.getByRole('link', { name: 'Delete…' }).click();
    await page.waitForURL(/\/tickets\/\d+\/delete$/);
    await screenshot(page, 'tickets-delete-ask');
    await page.getByRole('button', { name: 'Delete the request' }).click();
    await page.waitForURL(/include_deleted=true$/);
    t.regex((await page.locator('.flash').textContent()) ?? '', /deleted\. You can restore it here/);
  } finally {
    await context.close();
  }
});
