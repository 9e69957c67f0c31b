import { randomBytes } from 'node:crypto';
import test from 'ava';
import { startApp, type TestApp } from './support/app.ts';
import { Client } from './support/client.ts';
import { createUser, PASSWORD, signedInClient, tokenClient } from './support/factories.ts';
import { layoutUser, signedInAs } from './support/pages.ts';
import { checkNoPasswordHashInResponses } from './support/record.ts';

/** Registration and sign-in, as pages and as the JSON API. */

checkNoPasswordHashInResponses(test, 30);
let app: TestApp;
let adminName: string;

const uniq = (prefix = 'u') => `${prefix}_${randomBytes(4).toString('hex')}`;
const newAccount = (overrides: Record<string, unknown> = {}) => {
  const username = uniq();
  return { username, email: `${username}@example.test`, phone: '+12025551234', password: 'a long password 1', ...overrides };
};

test.before(async () => {
  app = await startApp();
  // An admin exists from the start, so no test here is "the first account".
  adminName = (await createUser(app.db, { role: 'admin', username: uniq('admin') })).username;
});
test.after.always(async () => {
  await app?.close();
});

const userRow = (username: string) => app.db('users').where({ username_key: username.toLowerCase() }).first();

// --- registration: API ---

test('POST /api/register creates an account and returns a working token', async (t) => {
  const account = newAccount();
  const res = await new Client(app.url).send('POST', '/api/register', account);
  t.is(res.status, 201);
  t.is(res.json.token_type, 'Bearer');
  t.is(typeof res.json.access_token, 'string');
  t.true(res.json.access_token.length >= 40);
  t.is(res.json.expires_in, 86400);
  t.true(Date.parse(res.json.expires_at) > Date.now() + 86000 * 1000);
  t.deepEqual(Object.keys(res.json.user).sort(), ['created_at', 'email', 'id', 'phone', 'role', 'username']);
  t.like(res.json.user, { username: account.username, email: account.email, phone: '+12025551234', role: 'user' });
  t.false(res.text.includes(account.password));
  t.is(res.headers.getSetCookie().length, 0, 'an API registration starts no cookie session');

  const row = await userRow(account.username);
  t.is(row.id, res.json.user.id);
  t.true(row.password_hash.startsWith('scrypt$'));
  t.false(row.password_hash.includes(account.password));

  const me = await new Client(app.url).withToken(res.json.access_token).send('GET', `/api/users/${row.id}`);
  t.is(me.status, 200);
  t.is(me.json.username, account.username);
});

test('a phone with spaces and brackets is stored in E.164; a missing phone is null', async (t) => {
  const formatted = await new Client(app.url).send('POST', '/api/register', newAccount({ phone: '+1 (202) 555-0199' }));
  t.is(formatted.status, 201);
  t.is(formatted.json.user.phone, '+12025550199');
  const none = await new Client(app.url).send('POST', '/api/register', newAccount({ phone: '' }));
  t.is(none.status, 201);
  t.is(none.json.user.phone, null);
  t.is((await userRow(none.json.user.username)).phone, null);
});

test('the first account ever registered is an admin; the next is a user', async (t) => {
  const fresh = await startApp();
  t.teardown(() => fresh.close());
  const first = await new Client(fresh.url).send('POST', '/api/register', newAccount());
  t.is(first.status, 201);
  t.is(first.json.user.role, 'admin');
  t.true(fresh.logs.some((l) => l.includes('first account registered')));
  const second = await new Client(fresh.url).send('POST', '/api/register', newAccount());
  t.is(second.status, 201);
  t.is(second.json.user.role, 'user');
  const roles = await fresh.db('users').orderBy('id').pluck('role');
  t.deepEqual(roles, ['admin', 'user']);
});

test('the first account registered through the page is an admin', async (t) => {
  const fresh = await startApp();
  t.teardown(() => fresh.close());
  const browser = new Client(fresh.url);
  const account = newAccount();
  const res = await browser.submit('/register', '/register', account);
  t.is(res.status, 303);
  const page = await browser.get('/register');
  t.is(layoutUser(page), account.username);
  t.is(page.$('nav a[href="/admin/users"]').length, 1, 'the admin link is in the navigation');
  t.deepEqual(await fresh.db('users').pluck('role'), ['admin']);
});

test('role in a registration body is ignored for anonymous callers', async (t) => {
  const res = await new Client(app.url).send('POST', '/api/register', newAccount({ role: 'admin' }));
  t.is(res.status, 201);
  t.is(res.json.user.role, 'user');
  t.is((await userRow(res.json.user.username)).role, 'user');
});

test('role in a registration body is ignored for a signed-in non-admin', async (t) => {
  const caller = await createUser(app.db);
  const api = await tokenClient(app.url, caller.username);
  const res = await api.send('POST', '/api/register', newAccount({ role: 'admin' }));
  t.is(res.status, 201);
  t.is(res.json.user.role, 'user');
  t.is((await userRow(res.json.user.username)).role, 'user');
});

test('role in a registration body is honoured when an admin registers someone', async (t) => {
  const api = await tokenClient(app.url, adminName);
  const asAdmin = await api.send('POST', '/api/register', newAccount({ role: 'admin' }));
  t.is(asAdmin.status, 201);
  t.is(asAdmin.json.user.role, 'admin');
  t.is((await userRow(asAdmin.json.user.username)).role, 'admin');
  const asUser = await api.send('POST', '/api/register', newAccount({ role: 'user' }));
  t.is(asUser.json.user.role, 'user');
  const badRole = await api.send('POST', '/api/register', newAccount({ role: 'root' }));
  t.is(badRole.status, 400);
  t.is(badRole.json.fields.role, 'must be user or admin');
});

test('an admin creates an admin account through the page and stays signed in as themself', async (t) => {
  const browser = await signedInClient(app.url, adminName);
  const page = await browser.get('/register');
  t.is(page.$('h1').text(), 'Create an account');
  t.is(page.$('select[name=role] option').length, 2);
  const account = newAccount({ role: 'admin' });
  const res = await browser.submit('/register', '/register', account);
  t.is(res.status, 303);
  t.is(res.headers.get('location'), '/admin/users');
  t.is((await userRow(account.username)).role, 'admin');
  const list = await browser.get('/admin/users');
  t.is(list.$('.flash.success').text(), `Account ${account.username} created.`);
  t.is(await signedInAs(browser), adminName);
});

test('anonymous visitors get no role choice on the register page', async (t) => {
  const page = await new Client(app.url).get('/register');
  t.is(page.status, 200);
  t.is(page.$('h1').text(), 'Create your account');
  t.is(page.$('select[name=role]').length, 0);
  for (const name of ['username', 'email', 'phone', 'password']) {
    const id = page.$(`input[name=${name}]`).attr('id');
    t.truthy(id, name);
    t.is(page.$(`label[for=${id}]`).length, 1, `label for ${name}`);
  }
});

// --- registration: duplicates ---

test('a duplicate username or email is 409 whatever its case', async (t) => {
  const account = newAccount({ username: uniq('Dup'), email: `${uniq('Mixed')}@Example.test` });
  t.is((await new Client(app.url).send('POST', '/api/register', account)).status, 201);

  const sameName = await new Client(app.url).send(
    'POST',
    '/api/register',
    newAccount({ username: account.username.toLowerCase() }),
  );
  t.is(sameName.status, 409);
  t.is(sameName.json.error, 'That username is already registered.');
  t.deepEqual(sameName.json.fields, { username: 'is already taken' });

  const sameEmail = await new Client(app.url).send('POST', '/api/register', newAccount({ email: account.email.toUpperCase() }));
  t.is(sameEmail.status, 409);
  t.is(sameEmail.json.error, 'That email is already registered.');
  t.deepEqual(sameEmail.json.fields, { email: 'is already registered' });

  const both = await new Client(app.url).send(
    'POST',
    '/api/register',
    newAccount({ username: account.username.toUpperCase(), email: account.email.toLowerCase() }),
  );
  t.is(both.status, 409);
  t.is(both.json.error, 'That username and email are already registered.');
  t.deepEqual(Object.keys(both.json.fields).sort(), ['email', 'username']);

  t.is(Number((await app.db('users').where({ username_key: account.username.toLowerCase() }).count({ n: '*' }))[0]?.n), 1);
});

test('a duplicate through the page re-renders the form with the message beside the field', async (t) => {
  const taken = await createUser(app.db);
  const browser = new Client(app.url);
  const res = await browser.submit('/register', '/register', newAccount({ username: taken.username.toUpperCase() }));
  t.is(res.status, 409);
  t.true(res.$('form').prevAll('[role=alert]').text().trim().length > 0, 'a summary above the form');
  t.is(res.$('#f-username').attr('aria-invalid'), 'true');
  t.is(res.$('#f-username-error').text(), 'is already taken');
  t.is(res.$('#f-username').attr('value'), taken.username.toUpperCase());
});

// --- registration: validation ---

test('400 names every bad field', async (t) => {
  const res = await new Client(app.url).send('POST', '/api/register', {
    email: 'not-an-email',
    phone: '2025551234',
    password: 'short',
  });
  t.is(res.status, 400);
  t.is(typeof res.json.error, 'string');
  t.deepEqual(res.json.fields, {
    username: 'is required',
    email: 'must be an email address',
    phone: 'must be in international form, e.g. +12025551234',
    password: 'must be at least 8 characters',
  });
  t.is(res.json.error, 'Check these fields: username, email, phone, password.');
});

test('400 with one bad field names it in the sentence', async (t) => {
  const res = await new Client(app.url).send('POST', '/api/register', newAccount({ password: '1234567' }));
  t.is(res.status, 400);
  t.is(res.json.error, 'password: must be at least 8 characters');
  t.deepEqual(res.json.fields, { password: 'must be at least 8 characters' });
});

test('400 for wrong JSON types: numbers, arrays, objects, booleans', async (t) => {
  const res = await new Client(app.url).send('POST', '/api/register', {
    username: 12345,
    email: ['a@example.test'],
    phone: { number: '+12025551234' },
    password: true,
  });
  t.is(res.status, 400);
  t.deepEqual(res.json.fields, {
    username: 'must be text',
    email: 'must be text',
    phone: 'must be text',
    password: 'must be text',
  });
});

test('400 for phones that are not E.164 and for bad usernames', async (t) => {
  const client = new Client(app.url);
  for (const phone of ['202-555-1234', '+0123456789', '+1', '+1202555123456789', 'call me']) {
    const res = await client.send('POST', '/api/register', newAccount({ phone }));
    t.is(res.status, 400, phone);
    t.truthy(res.json.fields.phone, phone);
  }
  for (const username of ['ab', 'has space', 'semi;colon', 'x'.repeat(51), '   ']) {
    const res = await client.send('POST', '/api/register', newAccount({ username }));
    t.is(res.status, 400, username);
    t.truthy(res.json.fields.username, username);
  }
  const longPassword = await client.send('POST', '/api/register', newAccount({ password: 'p'.repeat(201) }));
  t.is(longPassword.json.fields.password, 'must be at most 200 characters');
  const longEmail = await client.send('POST', '/api/register', newAccount({ email: `${'e'.repeat(250)}@x.io` }));
  t.is(longEmail.json.fields.email, 'must be at most 254 characters');
});

test('400 for a JSON body that is not an object', async (t) => {
  const res = await new Client(app.url).request('POST', '/api/register', {
    body: '["alice", "secret"]',
    headers: { 'content-type': 'application/json' },
  });
  t.is(res.status, 400);
  t.is(typeof res.json.error, 'string');
  t.is(Number((await app.db('users').where({ username_key: 'alice' }).count({ n: '*' }))[0]?.n), 0);
});

test('the register form re-renders with errors beside the fields, values kept, password never echoed', async (t) => {
  const browser = new Client(app.url);
  const password = 'Zq9#kx';
  const res = await browser.submit('/register', '/register', {
    username: 'kept_name',
    email: 'kept-but-bad',
    phone: '+12025550123',
    password,
  });
  t.is(res.status, 400);
  t.is(res.$('h1').text(), 'Create your account');
  t.true(res.$('form').prevAll('[role=alert]').text().trim().length > 0, 'a summary above the form');

  t.is(res.$('#f-email').attr('aria-invalid'), 'true');
  t.is(res.$('#f-email').attr('aria-describedby'), 'f-email-error');
  t.is(res.$('#f-email-error').text(), 'must be an email address');
  t.is(res.$('#f-email').attr('value'), 'kept-but-bad');
  t.is(res.$('#f-password').attr('aria-invalid'), 'true');
  t.is(res.$('#f-password-error').text(), 'must be at least 8 characters');

  t.is(res.$('#f-username').attr('aria-invalid'), undefined);
  t.is(res.$('#f-username').attr('value'), 'kept_name');
  t.is(res.$('#f-phone').attr('value'), '+12025550123');
  t.is(res.$('#f-password').attr('value'), '');
  t.false(res.text.includes(password));
  t.is(res.$('input[name=_csrf]').length, 1, 'the re-rendered form can be sent again');
  t.is(await userRow('kept_name'), undefined);
});

test('registering through the page signs the new user in', async (t) => {
  const browser = new Client(app.url);
  const account = newAccount();
  const res = await browser.submit('/register', '/register', account);
  t.is(res.status, 303);
  t.is(res.headers.get('location'), '/');
  const next = await browser.get('/register');
  t.is(layoutUser(next), account.username);
  t.is(next.$('.flash.success').text(), `Welcome, ${account.username}.`);
  t.is((await userRow(account.username)).role, 'user');
  t.is((await browser.get('/register')).$('.flash').length, 0, 'the flash is shown once');
});

// --- sign-in ---

test('signing in by form redirects home and shows the user', async (t) => {
  const user = await createUser(app.db);
  const browser = new Client(app.url);
  const res = await browser.submit('/login', '/login', { username: user.username, password: PASSWORD });
  t.is(res.status, 303);
  t.is(res.headers.get('location'), '/');
  t.is(await signedInAs(browser), user.username);
  t.is((await browser.get('/login')).status, 302, 'the sign-in page now sends the user on');
});

test('sign-in accepts the email or the username in any case', async (t) => {
  const user = await createUser(app.db, { username: uniq('Cased') });
  for (const login of [user.username.toUpperCase(), user.email.toUpperCase(), ` ${user.username} `]) {
    const res = await new Client(app.url).send('POST', '/api/login', { username: login, password: PASSWORD });
    t.is(res.status, 200, login);
    t.is(res.json.user.id, user.id);
  }
});

test('POST /api/login returns an access token and the user', async (t) => {
  const user = await createUser(app.db, { phone: '+442071234567' });
  const res = await new Client(app.url).send('POST', '/api/login', { username: user.username, password: PASSWORD });
  t.is(res.status, 200);
  t.is(res.json.token_type, 'Bearer');
  t.true(res.json.access_token.length >= 40);
  t.is(res.json.expires_in, 86400);
  t.like(res.json.user, { id: user.id, username: user.username, email: user.email, phone: '+442071234567', role: 'user' });
  t.false(res.text.includes(PASSWORD));
  t.is(res.headers.getSetCookie().length, 0);
});

test('a wrong password and an unknown user get the identical 401', async (t) => {
  const user = await createUser(app.db);
  const client = new Client(app.url);
  const wrong = await client.send('POST', '/api/login', { username: user.username, password: 'not the password' });
  const unknown = await client.send('POST', '/api/login', { username: uniq('ghost'), password: 'not the password' });
  t.is(wrong.status, 401);
  t.is(unknown.status, 401);
  t.deepEqual(wrong.json, { error: 'Wrong username or password.' });
  t.deepEqual(unknown.json, wrong.json);
});

test('a failed sign-in by form re-renders the form with the username and without the password', async (t) => {
  const user = await createUser(app.db);
  const browser = new Client(app.url);
  const password = 'Wr0ng-guess-77';
  const wrong = await browser.submit('/login', '/login', { username: user.username, password });
  t.is(wrong.status, 401);
  t.is(wrong.$('[role=alert]').text().trim(), 'Wrong username or password.');
  t.is(wrong.$('#f-username').attr('value'), user.username);
  t.is(wrong.$('#f-password').attr('value'), '');
  t.false(wrong.text.includes(password));
  const unknown = await browser.submit('/login', '/login', { username: uniq('ghost'), password });
  t.is(unknown.status, 401);
  t.is(unknown.$('[role=alert]').text().trim(), 'Wrong username or password.');
  t.is(await signedInAs(browser), undefined, 'still signed out');
});

test('sign-in with missing fields is 400 naming them', async (t) => {
  const client = new Client(app.url);
  const res = await client.send('POST', '/api/login', {});
  t.is(res.status, 400);
  t.deepEqual(res.json.fields, { username: 'is required', password: 'is required' });
  const typed = await client.send('POST', '/api/login', { username: ['a'], password: 42 });
  t.is(typed.status, 400);
  t.deepEqual(typed.json.fields, { username: 'must be text', password: 'must be text' });
});

// --- return path after sign-in ---

test('next is kept through the sign-in form for a same-site path', async (t) => {
  const user = await createUser(app.db, { role: 'admin' });
  const browser = new Client(app.url);
  const page = await browser.get('/login?next=/admin/users');
  t.is(page.$('input[name=next]').val(), '/admin/users');
  const res = await browser.postForm('/login', {
    _csrf: String(page.$('input[name=_csrf]').val()),
    next: '/admin/users',
    username: user.username,
    password: PASSWORD,
  });
  t.is(res.status, 303);
  t.is(res.headers.get('location'), '/admin/users');
  t.is((await browser.get('/admin/users')).status, 200);
});

for (const evil of ['//evil.com', 'https://evil.com', '/\\evil.com', '\\\\evil.com', 'javascript:alert(1)', '/ /evil.com']) {
  test(`next=${evil} falls back to /`, async (t) => {
    const user = await createUser(app.db);
    const browser = new Client(app.url);
    const page = await browser.get(`/login?next=${encodeURIComponent(evil)}`);
    t.is(page.status, 200);
    t.is(page.$('input[name=next]').length, 0, 'the form does not carry it');
    const res = await browser.postForm('/login', {
      _csrf: String(page.$('input[name=_csrf]').val()),
      next: evil,
      username: user.username,
      password: PASSWORD,
    });
    t.is(res.status, 303);
    t.is(res.headers.get('location'), '/');
    const signedIn = await browser.get(`/login?next=${encodeURIComponent(evil)}`);
    t.is(signedIn.status, 302);
    t.is(signedIn.headers.get('location'), '/');
  });
}

test('a signed-in visitor to /login goes to a same-site next or home', async (t) => {
  const user = await createUser(app.db);
  const browser = await signedInClient(app.url, user.username);
  const res = await browser.get('/login?next=/api/users');
  t.is(res.status, 302);
  t.is(res.headers.get('location'), '/api/users');
  const home = await browser.get('/login');
  t.is(home.headers.get('location'), '/');
});
