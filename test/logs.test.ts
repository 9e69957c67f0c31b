import test from 'ava';
import { startApp } from './support/app.ts';
import { Client } from './support/client.ts';
import { createUser, PASSWORD } from './support/factories.ts';

/** Structured logs: one JSON line per request, and no password, token, session id or CSRF token ever. */

test('logs carry requests and sign-ins but never passwords, tokens or session ids', async (t) => {
  const app = await startApp();
  t.teardown(() => app.close());
  const secrets: string[] = [PASSWORD];

  // API registration and sign-in.
  const apiPassword = 'api-password-Q7x!';
  const reg = await new Client(app.url).send('POST', '/api/register', {
    username: 'log_api',
    email: 'log_api@example.test',
    password: apiPassword,
  });
  t.is(reg.status, 201);
  secrets.push(apiPassword, reg.json.access_token);
  const login = await new Client(app.url).send('POST', '/api/login', { username: 'log_api', password: apiPassword });
  t.is(login.status, 200);
  const token: string = login.json.access_token;
  secrets.push(token);
  const api = new Client(app.url).withToken(token);
  t.is((await api.send('GET', '/api/users')).status, 200);
  t.is((await api.send('GET', `/api/users?access_token=${token}`)).status, 200);
  t.is((await api.send('GET', `/nothing-here/${token}`)).status, 404, 'a secret in a path is not logged either');

  // Page registration, a failed and a good sign-in.
  const formPassword = 'form-password-Z9k#';
  const browser = new Client(app.url);
  secrets.push(await browser.csrfFrom('/register'));
  const created = await browser.submit('/register', '/register', {
    username: 'log_form',
    email: 'log_form@example.test',
    password: formPassword,
  });
  t.is(created.status, 303);
  secrets.push(formPassword, ...browser.cookies.values());
  const user = await createUser(app.db);
  const other = new Client(app.url);
  const wrongPassword = 'wrong-password-P4v%';
  t.is((await other.submit('/login', '/login', { username: user.username, password: wrongPassword })).status, 401);
  secrets.push(wrongPassword);
  t.is((await other.submit('/login', '/login', { username: user.username, password: PASSWORD })).status, 303);
  secrets.push(...other.cookies.values(), await other.csrfFrom('/register'));
  t.is((await other.send('GET', '/api/users')).status, 200);
  t.is((await other.submit('/register', '/logout', {})).status, 303);

  t.is((await api.send('POST', '/api/logout')).status, 200);
  t.is((await new Client(app.url).send('POST', '/api/login', { username: 'log_api', password: 'bad-guess-R2m&' })).status, 401);
  secrets.push('bad-guess-R2m&');

  const lines = app.logs.flatMap((chunk) => chunk.split('\n')).filter(Boolean);
  t.true(lines.length > 15);
  const entries = lines.map((line) => JSON.parse(line));
  t.true(entries.some((e) => e.msg === 'signed in'));
  t.true(entries.some((e) => e.msg === 'account registered'));
  t.true(entries.some((e) => e.msg === 'request' && e.path === '/nothing-here/[redacted]'));
  t.true(entries.filter((e) => e.msg === 'request').every((e) => typeof e.reqId === 'string' && typeof e.status === 'number'));

  const all = app.logs.join('');
  for (const secret of secrets) {
    t.true(secret.length >= 8);
    t.false(all.includes(secret), `a secret (${secret.slice(0, 4)}…) reached the logs`);
  }
});
