import test from 'ava';
import type { Browser, Page } from 'playwright-core';
import { startApp, type TestApp } from '../support/app.ts';
import { documentScrollWidth, inspectPage, launchBrowser, openPage, screenshot, signIn } from '../support/browser.ts';

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

/** The header's sign-out button (a form button, so signing out is a POST with the CSRF token). */
const signOutButton = (page: Page) => page.getByRole('banner').getByRole('button', { name: 'Sign out' });

test.serial('register, sign out and sign in again on a phone, accessibly and within the CSP', async (t) => {
  const { page, problems, close } = await openPage(browser);
  try {
    await page.goto(`${app.url}/register`);
    t.is(await page.title(), 'Create account · Cable Ticketing');
    await inspectPage(t, page, 'accounts-register');

    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Email').fill('alice@example.test');
    await page.getByLabel('Mobile phone for SMS').fill('+12025551234');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL(`${app.url}/`);
    t.is(await page.getByRole('status').textContent(), 'Welcome, alice.');
    t.is(await signOutButton(page).getAttribute('title'), 'Signed in as alice');
    await inspectPage(t, page, 'accounts-home');

    // The first account is an admin: the Admin link is there, and the users page says so.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).click();
    await page.waitForURL(`${app.url}/admin/users`);
    const row = page.getByRole('row').filter({ hasText: 'alice@example.test' });
    t.is(await row.locator('.badge').textContent(), 'admin');
    await inspectPage(t, page, 'accounts-admin-users');

    await signOutButton(page).click();
    await page.waitForURL(`${app.url}/login`);
    t.is(await signOutButton(page).count(), 0);
    await inspectPage(t, page, 'accounts-login');

    // Signed out means signed out: the home page sends us back to sign in.
    await page.goto(`${app.url}/`);
    t.regex(page.url(), /\/login/);

    await signIn(page, app.url, 'alice@example.test');
    t.is(await signOutButton(page).getAttribute('title'), 'Signed in as alice');
    await screenshot(page, 'accounts-home-again');

    t.deepEqual(problems, [], 'no console errors, page errors or CSP violations');
  } finally {
    await close();
  }
});

test.serial('a wrong password shows the error beside the form, accessibly', async (t) => {
  const { page, problems, close } = await openPage(browser);
  try {
    await page.goto(`${app.url}/login`);
    await page.getByLabel('Username or email').fill('nobody');
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForLoadState();
    t.is(
      await page
        .getByRole('alert')
        .textContent()
        .then((s) => s?.trim()),
      'Wrong username or password.',
    );
    await inspectPage(t, page, 'accounts-login-error');
    // The browser logs the 401 document load itself; anything else is a real problem.
    t.deepEqual(
      problems.filter((p) => !/Failed to load resource: the server responded with a status of 401/.test(p)),
      [],
    );
  } finally {
    await close();
  }
});

test.serial('a register form with mistakes comes back with each error beside its field', async (t) => {
  const { page, problems, close } = await openPage(browser);
  try {
    await page.goto(`${app.url}/register`);
    await page.getByLabel('Username').fill('bob');
    await page.getByLabel('Email').fill('bob@example.test');
    await page.getByLabel('Mobile phone for SMS').fill('555-1234');
    await page.getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForLoadState();
    const phone = page.getByLabel('Mobile phone for SMS');
    t.is(await phone.getAttribute('aria-invalid'), 'true');
    t.is(await phone.inputValue(), '555-1234', 'what was typed is kept');
    t.regex((await page.locator(`#${await phone.getAttribute('aria-describedby')}`).textContent()) ?? '', /international form/);
    const password = page.getByLabel('Password');
    t.is(await password.getAttribute('aria-invalid'), 'true');
    t.is(await password.inputValue(), '', 'a password is never sent back');
    t.regex((await page.locator(`#${await password.getAttribute('aria-describedby')}`).textContent()) ?? '', /at least 8/);
    await inspectPage(t, page, 'accounts-register-errors');
    t.deepEqual(
      problems.filter((p) => !/Failed to load resource: the server responded with a status of 400/.test(p)),
      [],
    );
  } finally {
    await close();
  }
});

test.serial('pages do not scroll sideways on a 360 px wide phone', async (t) => {
  const { page, problems, close } = await openPage(browser, { width: 360, height: 740 });
  try {
    for (const path of ['/login', '/register']) {
      await page.goto(`${app.url}${path}`);
      t.true((await documentScrollWidth(page)) <= 360, `${path} fits in 360 px`);
    }
    await screenshot(page, 'accounts-register-360');

    // Signed in, the header carries the navigation and the sign-out button.
    await signIn(page, app.url, 'alice');
    for (const path of ['/', '/admin/users']) {
      await page.goto(`${app.url}${path}`);
      t.true((await documentScrollWidth(page)) <= 360, `${path} fits in 360 px`);
    }
    // The users table may scroll inside its wrapper, but one ordinary row should not need to.
    const table = await page.locator('.table-wrap').evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth }));
    t.true(table.scroll <= table.client, `users table fits (${table.scroll} > ${table.client})`);
    await screenshot(page, 'accounts-admin-users-360');
    t.deepEqual(problems, []);
  } finally {
    await close();
  }
});
