import test from 'ava';
import type { Browser } from 'playwright-core';
import { startApp, type TestApp } from '../support/app.ts';
import { inspectPage, launchBrowser, openPage, signIn } from '../support/browser.ts';
import { buildRequest, createUser } from '../support/factories.ts';

/** Approve with changes from the review link at phone size (DESIGN.md §15), and the delegation settings page. */

let app: TestApp;
let browser: Browser;
test.before(async () => {
  app = await startApp();
  browser = await launchBrowser();
});
test.after.always(async () => {
  await browser?.close();
  await app?.close();
});

test.serial('from the review link: approve 2 of 3 items with one line reduced', async (t) => {
  const tess = await createUser(app.db, { username: 'tess' });
  const sam = await createUser(app.db, { username: 'sam' });
  const r = await buildRequest(app, {
    creator: tess,
    assignee: sam,
    location: 'Building 4, room 210',
    items: [
      { cable_type: 'Cat6', cable_length: '100ft', quantity: 3 },
      { cable_type: 'OM4 fibre', cable_length: '10m', cable_gauge: '50/125', quantity: 2 },
      { cable_type: 'Cat5e', cable_length: '3ft', quantity: 10 },
    ],
  });
  const approver = await openPage(browser);
  try {
    const { page } = approver;
    await page.goto(r.reviewUrl.replace(app.config.appUrl, app.url));
    t.is(await page.locator('form.decision input.qty').count(), 3);
    await inspectPage(t, page, 'approvals-review-open');

    await page.getByLabel('Approve how many of Cat6 100ft (asked 3)').fill('2');
    await page.getByLabel('Note on Cat6 100ft').fill('only two on the truck');
    await page.getByLabel('Approve how many of Cat5e 3ft (asked 10)').fill('0');
    await page.getByLabel('Note on Cat5e 3ft').fill('take the spares in room 3');
    await inspectPage(t, page, 'approvals-review-filled');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByText('the request is now').waitFor();
    t.regex((await page.getByRole('status').first().textContent()) ?? '', /now approved/);
    const granted = await page.locator('table.items tbody tr td:nth-child(4)').allTextContents();
    t.deepEqual(
      granted.map((s) => s.replace(/\s+/g, ' ').trim()),
      ['2 of 3', '2', '0 of 10'],
    );
    t.deepEqual(await page.locator('ul.approval-notes li').allTextContents(), [
      'Cat6 100ft: only two on the truck',
      'Cat5e 3ft: take the spares in room 3',
    ]);
    await inspectPage(t, page, 'approvals-review-done');

    // The requester sees requested and approved per line, and the change on the timeline.
    const requester = await openPage(browser);
    try {
      await signIn(requester.page, app.url, 'tess');
      await requester.page.goto(`${app.url}/tickets/${r.id}`);
      t.regex((await requester.page.locator('ol.timeline').textContent()) ?? '', /Cat6 100ft: 3 → 2 · only two on the truck/);
      await inspectPage(t, requester.page, 'approvals-ticket-approved');
      t.deepEqual(requester.problems, []);
    } finally {
      await requester.close();
    }
    t.deepEqual(approver.problems, []);
  } finally {
    await approver.close();
  }
});

test.serial('the settings page: away, with a delegate', async (t) => {
  await createUser(app.db, { username: 'ada' });
  await createUser(app.db, { username: 'deputy' });
  const { page, problems, close } = await openPage(browser);
  try {
    await signIn(page, app.url, 'ada');
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByLabel('Delegate (username)').fill('deputy');
    await page.getByLabel('Away from').fill('2099-03-01');
    await page.getByLabel('Back after (last day away)').fill('2099-03-05');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('deputy decides requests assigned to you').first().waitFor();
    await inspectPage(t, page, 'approvals-settings');
    t.deepEqual(problems, []);
  } finally {
    await close();
  }
});
