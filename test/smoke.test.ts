import test from 'ava';
import { startApp, type TestApp } from './support/app.ts';
import { Client } from './support/client.ts';
import { createUser, signedInClient, tokenClient } from './support/factories.ts';

let app: TestApp;
test.before(async () => {
  app = await startApp();
});
test.after.always(async () => {
  await app?.close();
});

test('a user signs in by form and by token', async (t) => {
  const user = await createUser(app.db, { username: 'smoke' });
  const browser = await signedInClient(app.url, 'smoke');
  const home = await browser.get('/');
  t.is(home.status, 200);
  t.is(home.$('main h1').first().text(), 'Requests');
  const api = await tokenClient(app.url, 'smoke');
  const me = await api.send('GET', `/api/users/${user.id}`);
  t.is(me.status, 200);
  t.is(me.json.username, 'smoke');
  t.false('password_hash' in me.json);
  const anon = await new Client(app.url).send('GET', '/api/users');
  t.is(anon.status, 401);
  t.deepEqual(Object.keys(anon.json), ['error']);
});
