import test from 'ava';
import type { Browser } from 'playwright-core';
import { startApp, type TestApp } from '../support/app.ts';
import { inspectPage, launchBrowser, openPage, PHONE, screenshot, signIn } from '../support/browser.ts';
import { createUser } from '../support/factories.ts';

/** Optics requests on a 390 px phone: a technician asks for an unlisted part, an admin approves it. */

let app: TestApp;
let browser: Browser;
test.before(async () => {
  app = await startApp();
  browser = await launchBrowser();
  await createUser(app.db, { username: 'olga', role: 'admin' });
  await createUser(app.db, { username: 'tomas' });
});
test.after.always(async () => {
  await browser?.close();
  await app?.close();
});

test.serial(
  'a technician asks for an Other part, an admin approves it with a note in place, the technician sees it',
  async (t) => {
    const tomas = await openPage(browser);
    const olga = await openPage(browser);
    try {
      // Tomas: the Other field is not there until Other is chosen, then htmx brings it.
      const page = tomas.page;
      await signIn(page, app.url, 'tomas');
      await page.getByRole('link', { name: 'Optics' }).click();
      await page.waitForURL(`${app.url}/optics`);
      await page.waitForFunction('typeof window.htmx === "object"');
      t.is(await page.getByLabel('Other part number').count(), 0, 'no Other field before Other is chosen');
      await inspectPage(t, page, 'optics-empty');

      await page.getByLabel('Part number', { exact: true }).selectOption('Other');
      await page.getByLabel('Other part number').waitFor();
      t.is(page.url(), `${app.url}/optics`, 'the field came without a page load');
      await page.getByLabel('Part number', { exact: true }).selectOption('SFP-10G-SR');
      await page.getByLabel('Other part number').waitFor({ state: 'detached' });
      await page.getByLabel('Part number', { exact: true }).selectOption('Other');
      await page.getByLabel('Other part number').fill('Finisar FTLX1471D3BCL <LR>');
      await page.getByLabel('Quantity').fill('6');
      await page.getByLabel('Your name').fill('Tomas K.');
      await inspectPage(t, page, 'optics-form-other');
      await page.getByRole('button', { name: 'Send request' }).click();
      await page.waitForURL(`${app.url}/optics`);
      t.regex((await page.getByRole('status').first().textContent()) ?? '', /Optics request #\d+ sent/);
      const row = page.locator('li.optics-row').first();
      t.regex((await row.textContent()) ?? '', /Finisar FTLX1471D3BCL <LR>/);
      t.is(await row.locator('.badge').textContent(), 'Pending');
      t.is(await page.getByLabel('Your name').inputValue(), 'Tomas K.', 'the name is remembered');
      await inspectPage(t, page, 'optics-submitted');
      const id = Number((await row.getAttribute('id'))?.replace('optics-request-', ''));

      // Olga approves from the list with a note; htmx swaps just that row.
      await signIn(olga.page, app.url, 'olga');
      await olga.page.goto(`${app.url}/optics`);
      const adminRow = olga.page.locator(`#optics-request-${id}`);
      await inspectPage(t, olga.page, 'optics-admin-list');
      await olga.page.evaluate('window.__stillHere = true');
      await adminRow.getByLabel(/Note for/).fill('Two on the shelf, four ordered');
      await adminRow.getByRole('button', { name: /^Approve/ }).click();
      await adminRow.locator('.badge', { hasText: 'Approved' }).waitFor();
      t.true((await olga.page.evaluate('window.__stillHere === true')) as boolean, 'no page load: the row changed in place');
      t.is(olga.page.url(), `${app.url}/optics`);
      t.regex((await adminRow.locator('.optics-note').textContent()) ?? '', /Two on the shelf, four ordered/);
      t.regex((await adminRow.getByRole('status').textContent()) ?? '', new RegExp(`Request #${id} approved`));
      t.deepEqual(await adminRow.locator('form.optics-actions button').allTextContents(), [`Archive #${id}`]);
      await inspectPage(t, olga.page, 'optics-approved-in-place');

      // Tomas sees it approved, with the note, on the list and on the request page.
      await page.reload();
      const mine = page.locator(`#optics-request-${id}`);
      t.is(await mine.locator('.badge').textContent(), 'Approved');
      t.regex((await mine.textContent()) ?? '', /Approved by olga/);
      t.regex((await mine.locator('.optics-note').textContent()) ?? '', /Two on the shelf/);
      t.is(await mine.locator('form.optics-actions').count(), 0);
      await mine.getByRole('link', { name: `#${id}` }).click();
      await page.waitForURL(`${app.url}/optics/${id}`);
      t.is(await page.locator('ol.timeline li').count(), 2);
      await inspectPage(t, page, 'optics-request-page');

      t.deepEqual([...tomas.problems, ...olga.problems], []);
    } finally {
      await tomas.close();
      await olga.close();
    }
  },
);

test.serial('the parts page at phone size', async (t) => {
  const olga = await openPage(browser);
  try {
    await signIn(olga.page, app.url, 'olga');
    await olga.page.goto(`${app.url}/optics/parts`);
    await olga.page.getByLabel('New part number').fill('QSFP28-100G-CWDM4');
    await olga.page.getByRole('button', { name: 'Add part' }).click();
    await olga.page.waitForURL(`${app.url}/optics/parts`);
    t.is(await olga.page.locator('ul.parts-list li').count(), 9);
    await inspectPage(t, olga.page, 'optics-parts');
    t.deepEqual(olga.problems, []);
  } finally {
    await olga.close();
  }
});

test.serial('without JavaScript the Other field is always shown and the form still works', async (t) => {
  const context = await browser.newContext({ javaScriptEnabled: false, viewport: PHONE });
  try {
    const page = await context.newPage();
    await signIn(page, app.url, 'tomas');
    await page.goto(`${app.url}/optics`);
    t.true(await page.getByLabel('Other part number').isVisible());
    await page.getByLabel('Part number', { exact: true }).selectOption('Other');
    await page.getByLabel('Other part number').fill('Cisco GLC-ZX-SMD');
    await page.getByLabel('Quantity').fill('1');
    await page.getByLabel('Your name').fill('Tomas K.');
    await page.getByRole('button', { name: 'Send request' }).click();
    await page.waitForURL(`${app.url}/optics`);
    t.regex((await page.locator('li.optics-row').first().textContent()) ?? '', /Cisco GLC-ZX-SMD/);
    await screenshot(page, 'optics-nojs');
  } finally {
    await context.close();
  }
});
