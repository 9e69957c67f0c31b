import test from 'ava';
import { startApp, type TestApp } from './support/app.ts';
import { Client } from './support/client.ts';
import { createUser, signedInClient, tokenClient } from './support/factories.ts';
import { layoutUser } from './support/pages.ts';
import { checkNoPasswordHashInResponses } from './support/record.ts';

/** The users API, the admin page and role changes. */

checkNoPasswordHashInResponses(test, 30);
let app: TestApp;
test.before(async () => {
  app = await startApp();
});
test.after.always(async () => {
  await app?.close();
});

const roleOf = async (id: number, db = app.db) => (await db('users').where({ id }).first()).role;

// --- GET /api/users, /api/users/:id ---

test('the users API needs a signed-in caller', async (t) => {
  const someone = await createUser(app.db);
  const anon = new Client(app.url);
  for (const path of ['/api/users', `/api/users/${someone.id}`, '/api/users/abc']) {
    const res = await anon.send('GET', path);
    t.is(res.status, 401, path);
    t.deepEqual(res.json, { error: 'Sign in to continue.' }, path);
  }
  const browserAnon = await anon.get('/api/users', { accept: 'text/html' });
  t.is(browserAnon.status, 401);
  t.is(browserAnon.json.error, 'Sign in to continue.', '/api answers JSON even to a browser');
});

test('a signed-in user lists users: phones only for themself, never a hash', async (t) => {
  const me = await createUser(app.db, { phone: '+12025550111' });
  const other = await createUser(app.db, { phone: '+12025550222' });
  for (const client of [await signedInClient(app.url, me.username), await tokenClient(app.url, me.username)]) {
    const res = await client.send('GET', '/api/users');
    t.is(res.status, 200);
    t.true(Array.isArray(res.json));
    const mine = res.json.find((u: { id: number }) => u.id === me.id);
    const theirs = res.json.find((u: { id: number }) => u.id === other.id);
    t.deepEqual(Object.keys(mine).sort(), ['created_at', 'email', 'id', 'phone', 'role', 'username']);
    t.is(mine.phone, '+12025550111');
    t.deepEqual(Object.keys(theirs).sort(), ['created_at', 'email', 'id', 'role', 'username']);
    t.like(theirs, { username: other.username, email: other.email, role: 'user' });
    t.false(res.text.includes('+12025550222'));
    t.false(Number.isNaN(Date.parse(theirs.created_at)));
  }
});

test('an admin sees every phone', async (t) => {
  const admin = await createUser(app.db, { role: 'admin' });
  const other = await createUser(app.db, { phone: '+12025550333' });
  const api = await tokenClient(app.url, admin.username);
  const list = await api.send('GET', '/api/users');
  t.is(list.json.find((u: { id: number }) => u.id === other.id).phone, '+12025550333');
  const one = await api.send('GET', `/api/users/${other.id}`);
  t.is(one.status, 200);
  t.is(one.json.phone, '+12025550333');
});

test('GET /api/users/:id shows one user, the phone only to themself', async (t) => {
  const me = await createUser(app.db, { phone: '+12025550444' });
  const other = await createUser(app.db, { phone: '+12025550555' });
  const api = await tokenClient(app.url, me.username);
  const self = await api.send('GET', `/api/users/${me.id}`);
  t.is(self.status, 200);
  t.like(self.json, { id: me.id, username: me.username, phone: '+12025550444', role: 'user' });
  const theirs = await api.send('GET', `/api/users/${other.id}`);
  t.is(theirs.status, 200);
  t.false('phone' in theirs.json);
  t.false('password_hash' in theirs.json);
});

test('GET /api/users/:id with a bad id is 400, a missing one 404', async (t) => {
  const me = await createUser(app.db);
  const api = await tokenClient(app.url, me.username);
  for (const id of ['abc', '0', '-1', '1.5', '1e3', '99999999999']) {
    const res = await api.send('GET', `/api/users/${id}`);
    t.is(res.status, 400, id);
    t.truthy(res.json.fields?.id, id);
  }
  const missing = await api.send('GET', '/api/users/999999');
  t.is(missing.status, 404);
  t.deepEqual(missing.json, { error: 'No user with that id.' });
});

// --- the admin page ---

test('/admin/users sends an anonymous visitor to sign in and back; JSON clients get 401', async (t) => {
  const res = await new Client(app.url).get('/admin/users');
  t.is(res.status, 303);
  t.is(res.headers.get('location'), '/login?next=%2Fadmin%2Fusers');
  const json = await new Client(app.url).get('/admin/users', { accept: 'application/json' });
  t.is(json.status, 401);
  t.deepEqual(json.json, { error: 'Sign in to continue.' });
  const fragment = await new Client(app.url).get('/admin/users', { 'hx-request': 'true' });
  t.is(fragment.status, 401);
  t.is(fragment.$('html').length > 0 && fragment.text.includes('<html'), false);
});

test('/admin/users is 403 for a user, with no admin link in their navigation', async (t) => {
  const user = await createUser(app.db);
  const browser = await signedInClient(app.url, user.username);
  const res = await browser.get('/admin/users');
  t.is(res.status, 403);
  t.is(res.$('main h1').text(), 'Not allowed');
  t.is(res.$('main [role=alert] p').text(), 'Only an admin can do that.');
  t.is(layoutUser(res), user.username);
  t.is(res.$('nav a[href="/admin/users"]').length, 0);
  const api = await tokenClient(app.url, user.username);
  const json = await api.send('GET', '/admin/users');
  t.is(json.status, 403);
  t.deepEqual(json.json, { error: 'Only an admin can do that.' });
});

test('/admin/users lists every user with a role form for each', async (t) => {
  const admin = await createUser(app.db, { role: 'admin' });
  const users = await Promise.all([createUser(app.db), createUser(app.db), createUser(app.db, { role: 'admin' })]);
  const browser = await signedInClient(app.url, admin.username);
  const page = await browser.get('/admin/users');
  t.is(page.status, 200);
  t.is(page.$('main h1').text(), 'Users');
  t.is(page.$('nav a[href="/admin/users"]').attr('aria-current'), 'page');
  const count = Number((await app.db('users').count({ n: '*' }))[0]?.n);
  t.is(page.$('tbody tr').length, count);
  for (const u of [admin, ...users]) {
    const row = page.$('tbody tr').filter((_, el) => page.$(el).find('strong').text() === u.username);
    t.is(row.length, 1, u.username);
    t.is(row.find('.badge').text(), u.role);
    const form = row.find(`form[action="/admin/users/${u.id}/role"]`);
    t.is(form.attr('method'), 'post');
    t.truthy(form.find('input[name=_csrf]').val());
    t.is(form.find('input[name=role]').val(), u.role === 'admin' ? 'user' : 'admin');
  }
});

test('an admin changes a role with the page form: 303, flash, row updated', async (t) => {
  const admin = await createUser(app.db, { role: 'admin' });
  const target = await createUser(app.db);
  const browser = await signedInClient(app.url, admin.username);
  const res = await browser.submit('/admin/users', `/admin/users/${target.id}/role`, { role: 'admin' });
  t.is(res.status, 303);
  t.is(res.headers.get('location'), '/admin/users');
  t.is(await roleOf(target.id), 'admin');
  const page = await browser.get('/admin/users');
  t.is(page.$('.flash.success[role=status]').text(), `${target.username} is now an admin.`);
  const back = await browser.submit('/admin/users', `/admin/users/${target.id}/role`, { role: 'user' });
  t.is(back.status, 303);
  t.is(await roleOf(target.id), 'user');
  t.is((await browser.get('/admin/users')).$('.flash.success').text(), `${target.username} is now a user.`);
});

test('PATCH /api/users/:id/role as an admin returns the user; the change applies at once', async (t) => {
  const admin = await createUser(app.db, { role: 'admin' });
  const target = await createUser(app.db);
  const targetApi = await tokenClient(app.url, target.username);
  t.is((await targetApi.send('GET', '/admin/users')).status, 403);

  const api = await tokenClient(app.url, admin.username);
  const res = await api.send('PATCH', `/api/users/${target.id}/role`, { role: 'admin' });
  t.is(res.status, 200);
  t.like(res.json, { id: target.id, username: target.username, role: 'admin' });
  t.false('password_hash' in res.json);
  t.is(await roleOf(target.id), 'admin');
  t.is((await targetApi.send('GET', '/admin/users')).status, 200, 'the existing token now has admin rights');
});

test('a non-admin cannot change roles, by API or by form', async (t) => {
  const user = await createUser(app.db);
  const target = await createUser(app.db);
  const api = await tokenClient(app.url, user.username);
  const self = await api.send('PATCH', `/api/users/${user.id}/role`, { role: 'admin' });
  t.is(self.status, 403);
  t.deepEqual(self.json, { error: 'Only an admin can do that.' });
  t.is((await api.send('PATCH', `/api/users/${target.id}/role`, { role: 'admin' })).status, 403);

  const browser = await signedInClient(app.url, user.username);
  const form = await browser.submit('/register', `/admin/users/${user.id}/role`, { role: 'admin' });
  t.is(form.status, 403);
  t.is(form.$('main h1').text(), 'Not allowed');
  t.is(await roleOf(user.id), 'user');
  t.is(await roleOf(target.id), 'user');

  const anon = await new Client(app.url).send('PATCH', `/api/users/${target.id}/role`, { role: 'admin' });
  t.is(anon.status, 401);
  t.is(await roleOf(target.id), 'user');
});

test('a bad role is 400; an unknown user 404; a bad id 400', async (t) => {
  const admin = await createUser(app.db, { role: 'admin' });
  const target = await createUser(app.db);
  const api = await tokenClient(app.url, admin.username);
  for (const body of [{ role: 'superuser' }, { role: 'ADMIN' }, { role: 1 }, {}]) {
    const res = await api.send('PATCH', `/api/users/${target.id}/role`, body);
    t.is(res.status, 400, JSON.stringify(body));
    t.is(res.json.fields.role, 'must be user or admin');
  }
  t.is(await roleOf(target.id), 'user');
  const missing = await api.send('PATCH', '/api/users/999999/role', { role: 'admin' });
  t.is(missing.status, 404);
  t.deepEqual(missing.json, { error: 'No user with that id.' });
  t.is((await api.send('PATCH', '/api/users/abc/role', { role: 'admin' })).status, 400);

  const browser = await signedInClient(app.url, admin.username);
  const form = await browser.submit('/admin/users', `/admin/users/${target.id}/role`, { role: 'owner' });
  t.is(form.status, 400);
  t.is(form.$('main [role=alert] li').text(), 'role: must be user or admin');
});

test('demoting the only admin is 409, by API and by form', async (t) => {
  const solo = await startApp();
  t.teardown(() => solo.close());
  const admin = await createUser(solo.db, { role: 'admin' });
  await createUser(solo.db);
  const api = await tokenClient(solo.url, admin.username);
  const res = await api.send('PATCH', `/api/users/${admin.id}/role`, { role: 'user' });
  t.is(res.status, 409);
  t.deepEqual(res.json, { error: 'This is the only admin. Make someone else an admin first.' });
  t.is(await roleOf(admin.id, solo.db), 'admin');

  const browser = await signedInClient(solo.url, admin.username);
  const form = await browser.submit('/admin/users', `/admin/users/${admin.id}/role`, { role: 'user' });
  t.is(form.status, 409);
  t.is(form.$('main [role=alert] p').text(), 'This is the only admin. Make someone else an admin first.');
  t.is(await roleOf(admin.id, solo.db), 'admin');

  const same = await api.send('PATCH', `/api/users/${admin.id}/role`, { role: 'admin' });
  t.is(same.status, 200, 'setting the only admin to admin is harmless');
});

test('with a second admin, an admin may demote themself', async (t) => {
  const pair = await startApp();
  t.teardown(() => pair.close());
  const first = await createUser(pair.db, { role: 'admin' });
  await createUser(pair.db, { role: 'admin' });
  const api = await tokenClient(pair.url, first.username);
  const res = await api.send('PATCH', `/api/users/${first.id}/role`, { role: 'user' });
  t.is(res.status, 200);
  t.is(res.json.role, 'user');
  t.is((await api.send('GET', '/admin/users')).status, 403);
});
