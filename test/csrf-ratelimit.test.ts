import test from 'ava';
import { startApp, type TestApp } from './support/app.ts';
import { Client } from './support/client.ts';
import { createUser, PASSWORD, signedInClient, tokenClient } from './support/factories.ts';
import { signedInAs } from './support/pages.ts';

/** CSRF on cookie sessions (forms and htmx), its exemptions, and the sign-in/registration rate limits. */

const CSRF_MESSAGE = 'This form has expired or did not come from this site. Reload the page and try again.';

let app: TestApp;
test.before(async () => {
  app = await startApp();
});
test.after.always(async () => {
  await app?.close();
});

const roleOf = async (id: number) => (await app.db('users').where({ id }).first()).role;

/** An admin signed in by cookie and a user whose role they will try to change. */
async function adminAndTarget() {
  const admin = await createUser(app.db, { role: 'admin' });
  const target = await createUser(app.db);
  return { browser: await signedInClient(app.url, admin.username), target };
}

// --- CSRF ---

test('a form post with the session cookie but no _csrf is 403 and changes nothing', async (t) => {
  const { browser, target } = await adminAndTarget();
  const res = await browser.postForm(`/admin/users/${target.id}/role`, { role: 'admin' });
  t.is(res.status, 403);
  t.is(res.$('main h1').text(), 'Not allowed');
  t.is(res.$('main [role=alert] p').text(), CSRF_MESSAGE);
  t.is(await roleOf(target.id), 'user');
});

test('a wrong _csrf, or one from another session, is 403 and changes nothing', async (t) => {
  const { browser, target } = await adminAndTarget();
  const wrong = await browser.postForm(`/admin/users/${target.id}/role`, { role: 'admin', _csrf: 'abc-not-a-token' });
  t.is(wrong.status, 403);
  const otherSession = await signedInClient(app.url, (await createUser(app.db, { role: 'admin' })).username);
  const foreign = await otherSession.csrfFrom('/admin/users');
  const stolen = await browser.postForm(`/admin/users/${target.id}/role`, { role: 'admin', _csrf: foreign });
  t.is(stolen.status, 403);
  t.is(await roleOf(target.id), 'user');
});

test('the token in the X-CSRF-Token header works instead of the form field', async (t) => {
  const { browser, target } = await adminAndTarget();
  const token = await browser.csrfFrom('/admin/users');
  const bad = await browser.postForm(`/admin/users/${target.id}/role`, { role: 'admin' }, { 'x-csrf-token': 'nope' });
  t.is(bad.status, 403);
  const res = await browser.postForm(`/admin/users/${target.id}/role`, { role: 'admin' }, { 'x-csrf-token': token });
  t.is(res.status, 303);
  t.is(await roleOf(target.id), 'admin');
});

test('htmx gets the token from the page body and is answered with HX-Redirect', async (t) => {
  const { browser, target } = await adminAndTarget();
  const page = await browser.get('/admin/users');
  const hxHeaders = JSON.parse(page.$('body').attr('hx-headers:inherited') ?? '{}');
  t.is(typeof hxHeaders['X-CSRF-Token'], 'string');
  const res = await browser.postForm(
    `/admin/users/${target.id}/role`,
    { role: 'admin' },
    { 'x-csrf-token': hxHeaders['X-CSRF-Token'], 'hx-request': 'true' },
  );
  t.is(res.status, 204);
  t.is(res.headers.get('hx-redirect'), '/admin/users');
  t.is(await roleOf(target.id), 'admin');
});

test('a signed-out page hands htmx no token', async (t) => {
  const page = await new Client(app.url).get('/login');
  t.is(page.$('body').attr('hx-headers:inherited'), undefined);
});

test('a JSON request with the session cookie needs the token too', async (t) => {
  const { browser, target } = await adminAndTarget();
  const without = await browser.send('PATCH', `/api/users/${target.id}/role`, { role: 'admin' });
  t.is(without.status, 403);
  t.deepEqual(without.json, { error: CSRF_MESSAGE });
  t.is(await roleOf(target.id), 'user');
  const token = await browser.csrfFrom('/admin/users');
  const withToken = await browser.send('PATCH', `/api/users/${target.id}/role`, { role: 'admin' }, { 'x-csrf-token': token });
  t.is(withToken.status, 200);
  t.is(await roleOf(target.id), 'admin');
});

test('bearer-token requests need no CSRF token', async (t) => {
  const admin = await createUser(app.db, { role: 'admin' });
  const target = await createUser(app.db);
  const api = await tokenClient(app.url, admin.username);
  const res = await api.send('PATCH', `/api/users/${target.id}/role`, { role: 'admin' });
  t.is(res.status, 200);
  t.is(await roleOf(target.id), 'admin');
  t.is((await api.send('POST', '/api/logout')).status, 200);
});

test('a JSON request without a cookie needs no CSRF token', async (t) => {
  const user = await createUser(app.db);
  const client = new Client(app.url);
  t.is((await client.send('POST', '/api/login', { username: user.username, password: PASSWORD })).status, 200);
  const reg = await client.send('POST', '/api/register', {
    username: `${user.username}_2`,
    email: `2_${user.email}`,
    password: 'long enough pw',
  });
  t.is(reg.status, 201);
  t.is(client.cookies.size, 0);
});

test('a cookie-less form post is still checked: no cross-site sign-in or registration', async (t) => {
  const user = await createUser(app.db);
  const client = new Client(app.url);
  const login = await client.postForm('/login', { username: user.username, password: PASSWORD });
  t.is(login.status, 403);
  t.false(client.cookies.has('ct_session'));
  const register = await client.postForm('/register', {
    username: 'csrf_victim',
    email: 'v@example.test',
    password: 'long enough pw',
  });
  t.is(register.status, 403);
  t.is(await app.db('users').where({ username_key: 'csrf_victim' }).first(), undefined);
  const plain = await client.request('POST', '/api/login', {
    body: `{"username":"${user.username}","password":"${PASSWORD}"}`,
    headers: { 'content-type': 'text/plain' },
  });
  t.is(plain.status, 403, 'text/plain is what a cross-site form can send');
});

test('sign-out by form needs the token; without it the user stays signed in', async (t) => {
  const user = await createUser(app.db);
  const browser = await signedInClient(app.url, user.username);
  const res = await browser.postForm('/logout', {});
  t.is(res.status, 403);
  t.is(await signedInAs(browser), user.username);
});

test('the token from before sign-in stops working after sign-in', async (t) => {
  const user = await createUser(app.db);
  const browser = new Client(app.url);
  const before = await browser.csrfFrom('/login');
  const login = await browser.postForm('/login', { _csrf: before, username: user.username, password: PASSWORD });
  t.is(login.status, 303);
  const res = await browser.postForm('/logout', { _csrf: before });
  t.is(res.status, 403);
  t.is(await signedInAs(browser), user.username);
  const fresh = await browser.csrfFrom('/register');
  t.not(fresh, before);
  t.is((await browser.postForm('/logout', { _csrf: fresh })).status, 303);
  t.is(await signedInAs(browser), undefined);
});

// --- rate limits ---

test('the 4th sign-in attempt in a minute is 429 with Retry-After and a sentence', async (t) => {
  const limited = await startApp({ RATE_LIMIT_AUTH_PER_MINUTE: '3' });
  t.teardown(() => limited.close());
  const user = await createUser(limited.db);
  const client = new Client(limited.url);
  for (let i = 0; i < 3; i++) {
    const res = await client.send('POST', '/api/login', { username: user.username, password: 'wrong password' });
    t.is(res.status, 401);
  }
  const blocked = await client.send('POST', '/api/login', { username: user.username, password: PASSWORD });
  t.is(blocked.status, 429);
  const retryAfter = Number(blocked.headers.get('retry-after'));
  t.true(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, String(retryAfter));
  t.deepEqual(blocked.json, { error: `Too many attempts. Try again in ${retryAfter} seconds.` });
  t.falsy(blocked.json.access_token);

  const form = new Client(limited.url);
  const page = await form.submit('/login', '/login', { username: user.username, password: PASSWORD });
  t.is(page.status, 429);
  t.truthy(page.headers.get('retry-after'));
  t.regex(page.$('[role=alert]').text(), /^\s*Too many attempts\. Try again in \d+ seconds\.\s*$/);
  t.is(page.$('#f-username').attr('value'), user.username);
  t.is(await signedInAs(form), undefined);
});

test('the 4th registration in a minute is 429 and creates nothing', async (t) => {
  const limited = await startApp({ RATE_LIMIT_AUTH_PER_MINUTE: '3' });
  t.teardown(() => limited.close());
  const client = new Client(limited.url);
  const account = (i: number) => ({ username: `rl_user_${i}`, email: `rl${i}@example.test`, password: 'long enough pw' });
  for (let i = 0; i < 3; i++) t.is((await client.send('POST', '/api/register', account(i))).status, 201);
  const blocked = await client.send('POST', '/api/register', account(3));
  t.is(blocked.status, 429);
  t.truthy(blocked.headers.get('retry-after'));
  t.regex(blocked.json.error, /^Too many attempts\. Try again in \d+ seconds\.$/);
  t.is(await limited.db('users').where({ username_key: 'rl_user_3' }).first(), undefined);
  const form = await new Client(limited.url).submit('/register', '/register', account(4));
  t.is(form.status, 429);
  t.is(await limited.db('users').where({ username_key: 'rl_user_4' }).first(), undefined);
});
