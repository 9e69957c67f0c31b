import test from 'ava';
import type { Browser } from 'playwright-core';
import { startApp, type TestApp } from '../support/app.ts';
import { axeViolations, launchBrowser, openPage, PHONE, screenshot, signIn } from '../support/browser.ts';
import {
  buildConsumption,
  buildLocation,
  buildReceipt,
  buildReel,
  buildReelMovements,
  buildTimedRequest,
  buildTransfer,
  createUser,
  defaultLocationId,
} from '../support/factories.ts';

/**
 * The reports on a 390 px phone and a desktop: reached from the navigation, charts drawn (SVG, no
 * script), no CSP violation, axe clean, nothing wider than the phone; the filters change the URL.
 */

const DESKTOP = { width: 1280, height: 900 };
const RANGE = 'from=2026-09-07&to=2026-12-06';

let app: TestApp;
let browser: Browser;
test.before(async () => {
  app = await startApp();
  browser = await launchBrowser();
  const boss = await createUser(app.db, { username: 'rita', role: 'admin' });
  const approvers = await Promise.all(
    ['ann.approver', 'bob.approver', 'cy.approver'].map((username) => createUser(app.db, { username })),
  );
  const cables = ['Cat6', 'Cat6a', 'Fiber OM4', 'Coax RG6', 'Cat5e', 'Fiber OS2', 'HDMI'];
  for (let week = 0; week < 13; week++) {
    for (let k = 0; k < 4; k++) {
      const filed = new Date(Date.UTC(2026, 8, 7 + week * 7 + k, 8 + k));
      const decided = new Date(filed.getTime() + (1 + ((week * 7 + k * 5) % 30)) * 3_600_000);
      await buildTimedRequest(app, {
        creator: boss,
        assignee: approvers[(week + k) % 3] as (typeof approvers)[number],
        filed: filed.toISOString(),
        items: [{ cable_type: cables[(week + k) % cables.length] as string }],
        decided: week === 12 && k === 3 ? undefined : { at: decided.toISOString(), to: k === 3 ? 'rejected' : 'approved' },
        fulfilled: k < 2 && week < 12 ? new Date(decided.getTime() + (k + 1) * 26 * 3_600_000).toISOString() : undefined,
        reminders: k === 2 ? 1 : 0,
      });
    }
  }
  await buildReceipt(app, {
    items: cables.map((cable_type, n) => ({ cable_type, cable_length: '100ft', quantity: 20 + n * 25 })),
  });
  await buildConsumption(
    app,
    Array.from({ length: 3 * 7 * 3 }, (_, n) => ({
      at: new Date(Date.UTC(2026, 8 + Math.floor(n / 21), 1 + (n % 21))).toISOString(),
      cable_type: cables[n % cables.length] as string,
      quantity: 1 + (n % 5),
    })),
  );
  // Recent use, so days of cover show against today whatever day the test runs.
  await buildConsumption(
    app,
    cables.map((cable_type, n) => ({
      at: new Date(Date.now() - (n + 1) * 86_400_000).toISOString(),
      cable_type,
      quantity: 2 + n,
    })),
  );
  // A van stocked from the warehouse, using some of it: consumption and cover at two locations.
  const van = await buildLocation(app, 'Van 3', 'van');
  await buildTransfer(app, {
    from: await defaultLocationId(app),
    to: van.id,
    items: cables.slice(0, 3).map((cable_type) => ({ cable_type, cable_length: '100ft', quantity: 10 })),
  });
  await buildConsumption(
    app,
    cables.slice(0, 3).flatMap((cable_type, n) => [
      { at: '2026-10-05T10:00:00.000Z', cable_type, quantity: 3 + n, location_id: van.id },
      { at: new Date(Date.now() - (n + 2) * 86_400_000).toISOString(), cable_type, quantity: 1 + n, location_id: van.id },
    ]),
  );
  // Bulk cable on reels, in feet and in metres: cut in the range and lately (a chart per unit, cover).
  const reels = [
    await buildReel(app, { cable_type: 'Cat6', length: '1000 ft' }),
    await buildReel(app, { cable_type: 'Fiber OS2', length: '2000 m' }),
  ];
  await buildReelMovements(
    app,
    Array.from({ length: 12 }, (_, n) => {
      const reel = reels[n % 2] as (typeof reels)[number];
      const at = n < 10 ? new Date(Date.UTC(2026, 8 + Math.floor(n / 4), 3 + n)) : new Date(Date.now() - n * 86_400_000);
      return {
        at: at.toISOString(),
        reel,
        cable_type: n % 2 ? 'Fiber OS2' : 'Cat6',
        length: `${10 + n * 7.5} ${reel.unit}`,
      };
    }),
  );
});
test.after.always(async () => {
  await browser?.close();
  await app?.close();
});

for (const [name, viewport] of [
  ['phone', PHONE],
  ['desktop', DESKTOP],
] as const) {
  test.serial(`the reports page on a ${name}`, async (t) => {
    const { page, problems, close } = await openPage(browser, viewport);
    try {
      await signIn(page, app.url, 'rita');
      await page.getByRole('link', { name: 'Reports' }).click();
      await page.waitForURL(`${app.url}/reports`);
      await page.goto(`${app.url}/reports?${RANGE}`);
      t.is(await page.locator('svg.chart').count(), 7, 'consumption: pieces, feet and metres apart');
      t.is(await page.locator('script').count(), 0);
      await screenshot(page, `reports-${name}`);
      // Each report's chart and legend alone, to look at closely.
      await page
        .locator('main > section')
        .first()
        .screenshot({ path: `test-results/reports-${name}-filters.png` });
      await page.locator('#turnaround').screenshot({ path: `test-results/reports-${name}-turnaround.png` });
      await page.locator('#consumption').screenshot({ path: `test-results/reports-${name}-consumption.png` });
      const figures = page.locator('section.report figure');
      for (let n = 0; n < (await figures.count()); n++) {
        await figures.nth(n).screenshot({ path: `test-results/reports-${name}-chart-${n + 1}.png` });
      }
      t.deepEqual(await axeViolations(page), [], `axe on reports (${name})`);
      const width = (await page.evaluate('document.documentElement.scrollWidth')) as number;
      t.true(width <= viewport.width, `no sideways scroll: ${width} px`);
      // Each chart fits its card: drawn 480 px wide, scaled down on a phone.
      const widths = (await page.evaluate(
        "[...document.querySelectorAll('svg.chart')].map((e) => e.getBoundingClientRect().width)",
      )) as number[];
      for (const box of widths) {
        t.true(box <= Math.min(480, viewport.width), `chart ${box} px wide`);
      }
      // The filters are a plain GET form: the URL says what is shown.
      await page.getByLabel('Cable type', { exact: true }).fill('Cat6');
      await page.getByRole('button', { name: 'Show' }).click();
      await page.waitForURL(/cable_type=Cat6/);
      t.regex(page.url(), /from=2026-09-07&to=2026-12-06/);
      // One location: the inventory reports keep its figures and name it.
      await page.getByLabel('Cable type', { exact: true }).fill('');
      await page.getByLabel('Location', { exact: true }).selectOption({ label: 'Van 3' });
      await page.getByRole('button', { name: 'Show' }).click();
      await page.waitForURL(/location=\d+/);
      t.deepEqual([...new Set(await page.locator('#consumption tbody td:nth-child(2)').allTextContents())], ['Van 3']);
      t.is(await page.locator('#cover table caption').textContent(), 'Days of cover per SKU, Van 3');
      await page.locator('#consumption').screenshot({ path: `test-results/reports-${name}-van-consumption.png` });
      await page.locator('#cover').screenshot({ path: `test-results/reports-${name}-van-cover.png` });
      t.deepEqual(await axeViolations(page), [], `axe on reports at a location (${name})`);
      // A first day after the last: the form again (400), the dates as typed, the sentence beside "From".
      await page.getByLabel('From (UTC day)').fill('2026-12-06');
      await page.getByLabel('To (UTC day, included)').fill('2026-09-07');
      const [answer] = await Promise.all([
        page.waitForResponse((r) => r.url().includes('/reports?')),
        page.getByRole('button', { name: 'Show' }).click(),
      ]);
      t.is(answer.status(), 400);
      t.is(await page.locator('#r-from-error').textContent(), 'From must not be after "to".');
      t.is(await page.getByLabel('From (UTC day)').inputValue(), '2026-12-06');
      t.is(await page.locator('section.report').count(), 0);
      await page
        .locator('main > section')
        .first()
        .screenshot({ path: `test-results/reports-${name}-bad-filter.png` });
      t.deepEqual(await axeViolations(page), [], `axe on a bad filter (${name})`);
      t.deepEqual(
        problems.filter((p) => !/status of 400/.test(p)),
        [],
      );
    } finally {
      await close();
    }
  });
}

test.serial('printed: filters hidden, charts and tables kept', async (t) => {
  const { page, close } = await openPage(browser, DESKTOP);
  try {
    await signIn(page, app.url, 'rita');
    await page.goto(`${app.url}/reports?${RANGE}`);
    await page.emulateMedia({ media: 'print' });
    t.false(await page.locator('form.report-filters').isVisible());
    t.true(await page.locator('#turnaround svg.chart').isVisible());
    await screenshot(page, 'reports-print');
  } finally {
    await close();
  }
});
