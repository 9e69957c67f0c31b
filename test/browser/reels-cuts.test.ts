import test from 'ava';
import type { Browser } from 'playwright-core';
import { startApp, type TestApp } from '../support/app.ts';
import { inspectPage, launchBrowser, openPage, signIn } from '../support/browser.ts';
import { buildReel, createUser } from '../support/factories.ts';

/**
 * Cut-to-length on a 390 px phone (DESIGN.md §13): with two bulk reels of Cat6 in stock (1000 ft and
 * 500 ft, received through the engine: receiving by page is reels.test.ts's journey), a technician asks for 350 ft unbroken and 2 x 100 ft; the admin approves, starts work
 * and fulfils with the proposed reels (best fit: the 350 ft and one 100 ft piece on the 500 ft reel,
 * the other 100 ft on the 1000 ft one), sees the remaining lengths and the offcut prompt, then opens
 * a reel's label and its /r/:code page.
 */

let app: TestApp;
let browser: Browser;
test.before(async () => {
  // An offcut limit of 60 ft, so the 50 ft this journey leaves on a reel is offered "keep or scrap".
  app = await startApp({ APP_URL: 'https://cable.example.test', REEL_OFFCUT_MIN: '60 ft' });
  browser = await launchBrowser();
  const rhea = await createUser(app.db, { username: 'rhea', role: 'admin' });
  await createUser(app.db, { username: 'tomas' });
  // One after the other, so their codes are R-000001 (1000 ft) and R-000002 (500 ft).
  await buildReel(app, { cable_type: 'Cat6', length: '1000 ft', admin: rhea });
  await buildReel(app, { cable_type: 'Cat6', length: '500 ft', admin: rhea });
});
test.after.always(async () => {
  await browser?.close();
  await app?.close();
});

test.serial(
  'two reels in stock: request 350 ft unbroken + 2 x 100 ft, fulfil with the proposed reels, offcut, label',
  async (t) => {
    const admin = await openPage(browser);
    const tech = await openPage(browser);
    try {
      const page = admin.page;
      await signIn(page, app.url, 'rhea');
      await page.goto(`${app.url}/inventory/reels`);
      t.deepEqual(await page.locator('table.reels tbody th').allTextContents(), ['R-000001', 'R-000002']);

      // The technician asks: 350 ft in one piece, and two pieces of 100 ft.
      const tp = tech.page;
      await signIn(tp, app.url, 'tomas');
      await tp.getByLabel('Assign to').selectOption({ label: 'rhea' });
      await tp.getByLabel('Location').fill('Building 2, riser');
      await tp.locator('#i0-type').fill('Cat6');
      await tp.locator('#i0-len').fill('350 ft');
      await tp.locator('#i0-qty').fill('1');
      await tp.getByRole('button', { name: 'Add another item' }).click();
      await tp.locator('#i1-type').waitFor();
      await tp.locator('#i1-type').fill('Cat6');
      await tp.locator('#i1-len').fill('100 ft');
      await tp.locator('#i1-qty').fill('2');
      await tp.getByRole('button', { name: 'Send request' }).click();
      await tp.waitForURL(/\/tickets\/\d+$/);
      const ticketUrl = tp.url();
      t.deepEqual(await tp.locator('.cut-from-reels').allTextContents(), [
        '1 × 350 ft cut from reels (1,500 ft available on reels)',
        '2 × 100 ft cut from reels (1,500 ft available on reels)',
      ]);

      // The admin approves (the decision form), starts work, and opens the fulfilment page.
      await page.goto(ticketUrl);
      await page.getByRole('button', { name: 'Approve', exact: true }).click();
      await page.locator('.ticket-head .badge').first().filter({ hasText: 'Approved' }).waitFor();
      t.deepEqual(await page.locator('.cut-from-reels').allTextContents(), [
        '1 × 350 ft cut from reels (950 ft available on reels)',
        '2 × 100 ft cut from reels (950 ft available on reels)',
      ]);
      await page.getByRole('button', { name: 'Start work', exact: true }).click();
      await page.locator('.ticket-head .badge').first().filter({ hasText: 'In progress' }).waitFor();
      await page.getByRole('link', { name: 'Mark fulfilled' }).click();
      await page.waitForURL(`${ticketUrl}/fulfil`);
      const rows = page.locator('li.cut');
      t.is(await rows.count(), 3);
      t.deepEqual(
        await page.locator('li.cut select').evaluateAll((els) => els.map((e) => (e as unknown as { value: string }).value)),
        ['R-000002', 'R-000002', 'R-000001'],
      );
      t.deepEqual(await page.locator('li.cut .before').allTextContents(), ['500 ft', '150 ft', '1,000 ft']);
      t.deepEqual(await page.locator('li.cut .after').allTextContents(), ['150 ft', '50 ft', '900 ft']);
      await inspectPage(t, page, 'reels-cuts-fulfil');

      // Every piece on the 500 ft reel: the third no longer fits, refused with a sentence, the form shown again.
      for (const n of [0, 1, 2]) await page.locator('li.cut select').nth(n).selectOption('R-000002');
      await page.getByRole('button', { name: 'Cut and mark fulfilled' }).click();
      await page.locator('#cut-2-error').waitFor();
      t.is(
        (await page.locator('#cut-2-error').textContent())?.trim(),
        'Reel R-000002 has 50 ft left; piece 2 of Cat6 100 ft needs 100 ft. Choose another reel.',
      );
      t.deepEqual(
        await page.locator('li.cut select').evaluateAll((els) => els.map((e) => (e as unknown as { value: string }).value)),
        ['R-000002', 'R-000002', 'R-000002'],
      );
      await inspectPage(t, page, 'reels-cuts-fulfil-refused');
      await page.locator('li.cut select').nth(2).selectOption('R-000001');

      await page.getByRole('button', { name: 'Cut and mark fulfilled' }).click();
      await page.waitForURL(ticketUrl);
      t.regex((await page.getByRole('status').first().textContent()) ?? '', /Fulfilled: each cut is recorded on its reel/);
      t.deepEqual(await page.locator('.cuts-made li').allTextContents(), [
        'Cat6 350 ft: 350 ft from R-000002 (50 ft left now)',
        'Cat6 100 ft: 100 ft from R-000002 (50 ft left now)',
        'Cat6 100 ft: 100 ft from R-000001 (900 ft left now)',
      ]);
      t.is(await page.locator('.offcut').count(), 1);
      t.is((await page.locator('.offcut p').first().textContent())?.trim(), 'R-000002: 50 ft left (below 60 ft)');
      await inspectPage(t, page, 'reels-cuts-fulfilled');
      await page.getByRole('button', { name: 'Keep R-000002' }).click();
      await page.locator('.offcut').waitFor({ state: 'detached' });
      t.regex((await page.locator('#ticket-alert').textContent()) ?? '', /Reel R-000002 kept as an offcut/);

      // The reel page and the label of the reel the cuts came from.
      await page.getByRole('link', { name: 'R-000002' }).first().click();
      await page.waitForURL(`${app.url}/r/R-000002`);
      t.is((await page.locator('dd.big').textContent())?.trim(), '50 ft');
      t.regex((await page.locator('table.reel-history').textContent()) ?? '', /cut/i);
      await inspectPage(t, page, 'reels-cuts-reel-page');
      await page.getByRole('link', { name: 'Print label' }).click();
      await page.waitForURL(`${app.url}/inventory/reels/R-000002/label`);
      t.is(await page.locator('.label .url').textContent(), 'https://cable.example.test/r/R-000002');
      await inspectPage(t, page, 'reels-cuts-label');
      // The refused choice answered 409 on purpose (the form shown again); nothing else may complain.
      const expected = /\/fulfil: Failed to load resource: the server responded with a status of 409/;
      t.deepEqual(
        [...admin.problems, ...tech.problems].filter((p) => !expected.test(p)),
        [],
      );
    } finally {
      await admin.close();
      await tech.close();
    }
  },
);
