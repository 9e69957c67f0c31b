import test from 'ava';
import type { Browser } from 'playwright-core';
import { ASSIGNEE_CHOICES_MAX } from '../../src/features/tickets/pages.ts';
import { startApp, type TestApp } from '../support/app.ts';
import { inspectPage, launchBrowser, openPage, signIn } from '../support/browser.ts';
import { createUser } from '../support/factories.ts';

/** With more accounts than the form lists, the assignee is typed, with suggestions from htmx. */

let app: TestApp;
let browser: Browser;
test.before(async () => {
  app = await startApp();
  browser = await launchBrowser();
  await createUser(app.db, { username: 'tess' });
  await createUser(app.db, { username: 'Store_Keeper' });
  for (let i = 0; i <= ASSIGNEE_CHOICES_MAX; i++) await createUser(app.db, { username: `crew${String(i).padStart(3, '0')}` });
});
test.after.always(async () => {
  await browser?.close();
  await app?.close();
});

test('typing part of a name offers the matching accounts; the request goes to the one typed', async (t) => {
  const { page, problems, close } = await openPage(browser);
  try {
    await signIn(page, app.url, 'tess');
    const field = page.getByLabel('Assign to');
    t.is(await field.evaluate((el) => el.tagName), 'INPUT');
    await field.pressSequentially('sto');
    await page.locator('#f-assignee-list option[value="Store_Keeper"]').waitFor({ state: 'attached' });
    t.is(await page.locator('#f-assignee-list option').count(), 1);
    await inspectPage(t, page, 'assignee-suggestions');

    await field.fill('store_keeper');
    await page.getByLabel('Location').fill('Dock 3');
    await page.locator('#i0-type').fill('Cat6');
    await page.locator('#i0-len').fill('20m');
    await page.getByRole('button', { name: 'Send request' }).click();
    await page.waitForURL(/\/tickets\/\d+$/);
    t.regex((await page.locator('.facts').textContent()) ?? '', /Store_Keeper/);

    // An unknown name: the form comes back with the sentence beside the field, what was typed kept.
    await page.goto(`${app.url}/tickets/new`);
    await page.getByLabel('Assign to').fill('nobody-here');
    await page.getByLabel('Location').fill('Dock 4');
    await page.locator('#i0-type').fill('Cat6');
    await page.locator('#i0-len').fill('20m');
    await page.getByRole('button', { name: 'Send request' }).click();
    await page.locator('#f-assignee-e').waitFor();
    t.is(await page.locator('#f-assignee-e').textContent(), 'no account is called "nobody-here"');
    t.is(await page.getByLabel('Assign to').inputValue(), 'nobody-here');
    await inspectPage(t, page, 'assignee-unknown');
    t.deepEqual(
      problems.filter((p) => !/Failed to load resource: the server responded with a status of 400/.test(p)),
      [],
      'nothing but the refused form (400) in the console',
    );
  } finally {
    await close();
  }
});
