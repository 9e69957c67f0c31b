import test from 'ava';
import type { Browser } from 'playwright-core';
import { startApp, type TestApp } from '../support/app.ts';
import { inspectPage, launchBrowser, openPage, signIn } from '../support/browser.ts';
import { createUser } from '../support/factories.ts';

/**
 * Reels on a 390 px phone (DESIGN.md §13): an admin receives two bulk reels, finds them in the reel
 * list, opens one at /r/:code (what its label's QR code opens), counts it, and opens its label and
 * the receipt's label sheet; a technician opens the same reel page and sees the reel, not the actions.
 */

let app: TestApp;
let browser: Browser;
test.before(async () => {
  app = await startApp({ APP_URL: 'https://cable.example.test' });
  browser = await launchBrowser();
  await createUser(app.db, { username: 'rhea', role: 'admin' });
  await createUser(app.db, { username: 'tomas' });
});
test.after.always(async () => {
  await browser?.close();
  await app?.close();
});

test.serial('receive two bulk reels, list them, open /r/:code, count one, print labels', async (t) => {
  const admin = await openPage(browser);
  const tech = await openPage(browser);
  try {
    const page = admin.page;
    await signIn(page, app.url, 'rhea');
    await page.goto(`${app.url}/inventory/receiving/bulk`);
    await page.getByLabel('Vendor').fill('Anixter');
    await page.getByLabel('PO number').fill('PO-2291');
    await page.getByLabel('Cable type').fill('Cat6');
    await page.getByLabel('Unit').selectOption('ft');
    await page.locator('#b0-len').fill('1000');
    await page.locator('#b0-lot').fill('LOT-A1');
    await page.locator('#b1-len').fill('500 ft');
    await inspectPage(t, page, 'reels-receive-form');
    await page.getByRole('button', { name: 'Receive reels' }).click();
    await page.waitForURL(/\/inventory\/reels\?receipt_id=\d+&all=true$/);
    t.regex((await page.getByRole('status').first().textContent()) ?? '', /2 reels received \(R-000001, R-000002\)/);
    t.deepEqual(await page.locator('table.reels tbody th').allTextContents(), ['R-000001', 'R-000002']);
    await inspectPage(t, page, 'reels-list');

    await page.getByRole('link', { name: 'R-000001' }).click();
    await page.waitForURL(`${app.url}/r/R-000001`);
    t.is((await page.locator('dd.big').textContent())?.trim(), '1,000 ft');
    await page.getByLabel('Measured remaining').fill('985');
    await page.locator('#f-count-reason').fill('Measured after unpacking');
    await page.getByRole('button', { name: 'Record count' }).click();
    await page.waitForURL(`${app.url}/r/R-000001`);
    t.is((await page.locator('dd.big').textContent())?.trim(), '985 ft');
    t.regex((await page.locator('table.reel-history').textContent()) ?? '', /Measured after unpacking/);
    await inspectPage(t, page, 'reels-reel-page');

    await page.getByRole('link', { name: 'Print label' }).click();
    await page.waitForURL(`${app.url}/inventory/reels/R-000001/label`);
    t.is(await page.locator('.label .qr svg').count(), 1);
    t.is(await page.locator('.label .url').textContent(), 'https://cable.example.test/r/R-000001');
    await inspectPage(t, page, 'reels-label');
    await page.getByRole('link', { name: '62 mm roll' }).click();
    await page.waitForURL(/format=roll$/);
    await inspectPage(t, page, 'reels-label-roll');

    await page.goto(`${app.url}/inventory/reels?receipt_id=1&all=true`);
    await page.getByRole('link', { name: /Print the labels of receipt #1/ }).click();
    t.is(await page.locator('.label').count(), 2);
    await inspectPage(t, page, 'reels-label-sheet');

    // The technician who scans the label sees the reel.
    await signIn(tech.page, app.url, 'tomas');
    await tech.page.goto(`${app.url}/r/R-000002`);
    t.is((await tech.page.locator('dd.big').textContent())?.trim(), '500 ft');
    t.is(await tech.page.getByRole('button', { name: 'Record count' }).count(), 0);
    await inspectPage(t, tech.page, 'reels-reel-page-technician');
  } finally {
    await admin.close();
    await tech.close();
  }
});
