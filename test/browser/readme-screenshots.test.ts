import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import type { Browser } from 'playwright-core';
import { DEMO_ADMIN, DEMO_USERS, seedDemoData } from '../../seeds/demo.ts';
import { projectRoot } from '../../src/paths.ts';
import { startApp, type TestApp } from '../support/app.ts';
import { inspectPage, launchBrowser, openPage, screenshotDir, signIn } from '../support/browser.ts';

/**
 * The README's pictures, taken on the demo data at phone size: the dashboard, a review page (what an
 * approver sees from the link in an email) and the inventory. Every run checks them (axe, no
 * sideways scroll); `npm run screenshots` (UPDATE_SCREENSHOTS=1) also copies them into
 * docs/screenshots/, so the README never shows a page that is gone.
 */

const README_DIR = path.join(projectRoot, 'docs/screenshots');
let app: TestApp;
let browser: Browser;
let reviewUrl: string;
test.before(async () => {
  app = await startApp();
  const seeded = await seedDemoData(app.db, app.config, app.logger);
  if (seeded.status !== 'created') throw new Error('the demo data was not created');
  reviewUrl = seeded.reviewUrl;
  browser = await launchBrowser();
});
test.after.always(async () => {
  await browser?.close();
  await app?.close();
});

/** The page's screenshot in test-results/, checked, and copied for the README when asked. */
async function picture(t: Parameters<typeof inspectPage>[0], page: Parameters<typeof inspectPage>[1], name: string) {
  await inspectPage(t, page, `readme-${name}`);
  if (process.env.UPDATE_SCREENSHOTS === '1') {
    mkdirSync(README_DIR, { recursive: true });
    copyFileSync(path.join(screenshotDir, `readme-${name}.png`), path.join(README_DIR, `${name}.png`));
  }
}

test.serial('the README pictures: dashboard, review page and inventory on the demo data', async (t) => {
  const admin = DEMO_USERS.find((u) => u.username === DEMO_ADMIN);
  if (!admin) throw new Error('no demo admin');
  const approver = await openPage(browser);
  const signedIn = await openPage(browser);
  try {
    await approver.page.goto(reviewUrl.replace(app.config.appUrl, app.url));
    t.is(await approver.page.getByRole('button', { name: 'Approve' }).count(), 1, 'the review page offers Approve');
    await picture(t, approver.page, 'review');

    await signIn(signedIn.page, app.url, admin.username, admin.demoPassword);
    t.true((await signedIn.page.locator('ul.tickets li').count()) > 0, 'the dashboard lists the demo requests');
    await picture(t, signedIn.page, 'dashboard');
    await signedIn.page.goto(`${app.url}/inventory`);
    t.true((await signedIn.page.locator('table').count()) > 0, 'the inventory shows its stock table');
    await picture(t, signedIn.page, 'inventory');
    t.deepEqual([...approver.problems, ...signedIn.problems], []);
  } finally {
    await approver.close();
    await signedIn.close();
  }
});
