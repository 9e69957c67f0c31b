import test from 'ava';
import type { Browser } from 'playwright-core';
import { startApp, type TestApp } from '../support/app.ts';
import { inspectPage, launchBrowser, openPage, signIn } from '../support/browser.ts';
import { createUser } from '../support/factories.ts';

/**
 * Stock where it really is, on a 390 px phone (DESIGN.md §12): a technician with a van sees its
 * stock; an admin transfers stock to the van; the technician's request takes from the van; the
 * approval reserves it there; fulfilment takes it out of the van.
 */

let app: TestApp;
let browser: Browser;
test.before(async () => {
  app = await startApp({ INVENTORY_ENFORCE_STOCK: 'true' });
  browser = await launchBrowser();
  await createUser(app.db, { username: 'vera', role: 'admin' });
  await createUser(app.db, { username: 'theo' });
});
test.after.always(async () => {
  await browser?.close();
  await app?.close();
});

test.serial('a van: the admin loads it, the technician asks from it, approval reserves, fulfilment takes from it', async (t) => {
  const admin = await openPage(browser);
  const tech = await openPage(browser);
  try {
    const page = admin.page;
    await signIn(page, app.url, 'vera');

    // Vera adds Theo's van, receives cable into the warehouse and transfers some to the van.
    await page.goto(`${app.url}/locations`);
    await page.getByLabel('Name').fill('Van 7');
    await page.getByLabel('Kind').selectOption('van');
    await page.getByLabel(/Van holder/).selectOption({ label: 'theo' });
    await page.getByRole('button', { name: 'Add location' }).click();
    await page.waitForURL(`${app.url}/locations`);
    t.regex((await page.locator('table.locations').textContent()) ?? '', /Van 7\s*van\s*theo/);
    await inspectPage(t, page, 'locations-list');

    await page.goto(`${app.url}/inventory/receiving`);
    await page.getByLabel('Vendor').fill('Anixter');
    await page.locator('#r0-type').fill('Cat6');
    await page.locator('#r0-len').fill('100ft');
    await page.locator('#r0-qty').fill('12');
    await page.getByRole('button', { name: 'Record receipt' }).click();
    await page.waitForURL(`${app.url}/inventory/receiving`);

    await page.goto(`${app.url}/inventory/transfers`);
    await page.getByLabel('From', { exact: true }).selectOption({ label: 'Main warehouse' });
    await page.getByLabel('To', { exact: true }).selectOption({ label: 'Van 7' });
    await page.locator('#r0-type').fill('Cat6');
    await page.locator('#r0-len').fill('100ft');
    await page.locator('#r0-qty').fill('5');
    await inspectPage(t, page, 'locations-transfer-form');
    await page.getByRole('button', { name: 'Transfer', exact: true }).click();
    await page.waitForURL(`${app.url}/inventory/transfers`);
    t.regex((await page.getByRole('status').first().textContent()) ?? '', /5 units from Main warehouse to Van 7/);
    t.regex((await page.locator('ul.transfers').textContent()) ?? '', /Main warehouse → Van 7/);
    await inspectPage(t, page, 'locations-transferred');

    // Theo sees his van's stock first on the inventory page.
    await signIn(tech.page, app.url, 'theo');
    await tech.page.goto(`${app.url}/inventory`);
    const van = tech.page.locator('section.my-van');
    t.regex((await van.locator('h2').textContent()) ?? '', /Your van: Van 7/);
    t.deepEqual(await van.locator('tbody tr').first().locator('td').allTextContents(), ['5', '0', '5']);
    await inspectPage(t, tech.page, 'locations-tech-van-stock');

    // Theo asks for 3 from his van (listed first, as his van).
    await tech.page.goto(`${app.url}/tickets/new`);
    await tech.page.getByLabel('Assign to').selectOption({ label: 'vera' });
    const source = tech.page.getByLabel('Take the cable from');
    t.is(await source.locator('option').first().textContent(), 'Van 7 (your van)');
    await source.selectOption({ label: 'Van 7 (your van)' });
    await tech.page.getByLabel('Location').fill('Building 2, closet B');
    await tech.page.locator('#i0-type').fill('Cat6');
    await tech.page.locator('#i0-len').fill('100ft');
    await tech.page.locator('#i0-qty').fill('3');
    await inspectPage(t, tech.page, 'locations-request-from-van');
    await tech.page.getByRole('button', { name: 'Send request' }).click();
    await tech.page.waitForURL(/\/tickets\/\d+$/);
    const ticketUrl = tech.page.url();
    t.is(await tech.page.locator('.source-location').textContent(), 'Van 7');

    // Vera approves: the ticket shows 3 reserved at the van, 2 available.
    await page.goto(ticketUrl);
    const chosen = page.getByLabel('Take the cable from');
    t.is(await chosen.locator('option:checked').textContent(), 'Van 7', 'the review form starts from the request’s source');
    await page.getByRole('button', { name: 'Approve', exact: true }).click();
    await page.locator('.ticket-head .badge').first().filter({ hasText: 'Approved' }).waitFor();
    const cells = async () =>
      [
        await page.locator('td.on-hand').first().textContent(),
        await page.locator('td.reserved').first().textContent(),
        await page.locator('td.available').first().textContent(),
      ].map((s) => (s ?? '').trim());
    t.deepEqual(await cells(), ['5', '3', '2']);
    await inspectPage(t, page, 'locations-approved-reserved');

    // Work starts and the request is fulfilled: the van has 2 left, nothing reserved.
    await page.getByRole('button', { name: 'Start work', exact: true }).click();
    await page.locator('.ticket-head .badge').first().filter({ hasText: 'In progress' }).waitFor();
    await page.getByRole('button', { name: 'Mark fulfilled', exact: true }).click();
    await page.locator('.ticket-head .badge').first().filter({ hasText: 'Fulfilled' }).waitFor();
    t.deepEqual(await cells(), ['2', '0', '2']);
    await inspectPage(t, page, 'locations-fulfilled');

    await tech.page.goto(`${app.url}/inventory`);
    t.deepEqual(await tech.page.locator('section.my-van tbody tr').first().locator('td').allTextContents(), ['2', '0', '2']);
    await page.goto(`${app.url}/inventory?location_id=1`);
    t.regex((await page.locator('h1').textContent()) ?? '', /Cable at Main warehouse/);
    t.deepEqual(await page.locator('table.at-location tbody tr').first().locator('td').allTextContents(), ['7', '0', '7']);
    await inspectPage(t, page, 'locations-warehouse-stock');
  } finally {
    await admin.close();
    await tech.close();
  }
});
