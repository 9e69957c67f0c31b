import test from 'ava';
import { nowIso } from '../src/db/index.ts';
import { randomToken, sha256 } from '../src/lib/crypto.ts';
import { startApp, type TestApp } from './support/app.ts';
import { Client } from './support/client.ts';
import { createUser, PASSWORD, signedInClient, tokenClient } from './support/factories.ts';
import { signedInAs } from './support/pages.ts';
import { checkNoPasswordHashInResponses } from './support/record.ts';

/** Cookie sessions (fixation, sign-out, storage) and API tokens (expiry, revocation, storage). */

checkNoPasswordHashInResponses(test, 20);
let app: TestApp;
test.before(async () => {
  app = await startApp();
});
test.after.always(async () => {
  await app?.close();
});

const SESSION = 'ct_session';
const INVALID_TOKEN = 'The access token is invalid, expired or revoked. Sign in again.';

/** A client that presents the given cookies, as an attacker replaying them would. */
function replay(cookies: Map<string, string>): Client {
  const client = new Client(app.url);
  for (const [name, value] of cookies) client.cookies.set(name, value);
  return client;
}

const sessionRow = (cookieValue: string | undefined) =>
  app
    .db('sessions')
    .where({ id_hash: sha256(cookieValue ?? '') })
    .first();

// --- cookie sessions ---

test('random tokens are 256-bit base64url strings, never repeated, across refills of the random pool', (t) => {
  // 4096-byte pool, 32 bytes a token: 1,000 tokens cross several refills, and odd sizes cross the edges.
  const tokens = Array.from({ length: 1000 }, (_, i) => randomToken(i % 7 === 0 ? 31 : 32));
  t.is(new Set(tokens).size, tokens.length);
  t.true(tokens.every((x, i) => /^[A-Za-z0-9_-]+$/.test(x) && x.length === (i % 7 === 0 ? 42 : 43)));
  t.is(Buffer.from(randomToken(), 'base64url').length, 32);
  t.is(Buffer.from(randomToken(5000), 'base64url').length, 5000, 'larger than the pool: straight from the CSPRNG');
});

test('pages opened at once after signing in share one CSRF secret: every form they show can be sent', async (t) => {
  const user = await createUser(app.db);
  const browser = await signedInClient(app.url, user.username);
  // Two pages with forms at the same moment (two tabs): each used to make and save its own secret.
  const pages = await Promise.all(['/tickets/new', '/', '/tickets/new', '/'].map((path) => browser.get(path)));
  const tokens = pages.map((p) => p.$('input[name=_csrf]').first().val() as string);
  t.is(new Set(tokens).size, tokens.length, 'four different tokens');
  for (const token of tokens) {
    // "Add item" without JavaScript: the form again, one row more; nothing is stored.
    const res = await browser.postForm('/tickets', { _csrf: token, add_item: '1', location: 'Dock' });
    t.is(res.status, 200, `token ${token.slice(0, 8)}… accepted`);
  }
  const before = new Client(app.url);
  const oldToken = (await before.get('/login')).$('input[name=_csrf]').val() as string;
  await before.submit('/login', '/login', { username: user.username, password: PASSWORD });
  t.is((await before.postForm('/tickets', { _csrf: oldToken, add_item: '1' })).status, 403, 'a token from before sign-in is not');
});

test('signing in issues a new session id; the one from before sign-in signs no one in', async (t) => {
  const user = await createUser(app.db);
  const browser = new Client(app.url);
  // A session from before sign-in (the registration page starts one for its CSRF token; the sign-in
  // page's token has a cookie of its own).
  await browser.get('/register');
  const before = new Map(browser.cookies);
  const beforeId = before.get(SESSION);
  t.truthy(beforeId, 'the registration page starts a session for its CSRF token');
  t.is((await sessionRow(beforeId))?.user_id, null);

  const res = await browser.submit('/login', '/login', { username: user.username, password: PASSWORD });
  t.is(res.status, 303);
  const afterId = browser.cookies.get(SESSION);
  t.truthy(afterId);
  t.not(afterId, beforeId);
  t.is((await sessionRow(afterId))?.user_id, user.id);
  t.is(await sessionRow(beforeId), undefined, 'the pre-sign-in session row is gone');

  t.is(await signedInAs(browser), user.username);
  const planted = replay(before);
  t.is(await signedInAs(planted), undefined);
  t.is((await planted.send('GET', '/api/users')).status, 401);
});

test('the session cookie is httpOnly, SameSite=Lax, not Secure outside production, and stored only hashed', async (t) => {
  const user = await createUser(app.db);
  const browser = new Client(app.url);
  const page = await browser.get('/login');
  const res = await browser.postForm('/login', {
    _csrf: String(page.$('input[name=_csrf]').val()),
    username: user.username,
    password: PASSWORD,
  });
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith(`${SESSION}=`));
  t.truthy(cookie);
  t.regex(cookie ?? '', /;\s*httponly/i);
  t.regex(cookie ?? '', /;\s*samesite=lax/i);
  t.regex(cookie ?? '', /;\s*path=\//i);
  t.notRegex(cookie ?? '', /;\s*secure/i);
  const id = browser.cookies.get(SESSION) ?? '';
  t.true(id.length >= 40, 'a long random id');
  const rows = await app.db('sessions').select('*');
  t.false(JSON.stringify(rows).includes(id), 'no session row holds the cookie value');
  t.truthy(await sessionRow(id));
});

test('in production the session cookie is Secure (behind a TLS proxy)', async (t) => {
  const prod = await startApp({ NODE_ENV: 'production', TRUST_PROXY: 'true' });
  t.teardown(() => prod.close());
  const res = await new Client(prod.url).get('/register', { 'x-forwarded-proto': 'https' });
  t.is(res.status, 200);
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith(`${SESSION}=`));
  t.regex(cookie ?? '', /;\s*secure/i);
  t.regex(cookie ?? '', /;\s*httponly/i);
  // The sign-in form's own cookie (its CSRF secret) too.
  const signIn = await new Client(prod.url).get('/login', { 'x-forwarded-proto': 'https' });
  const own = signIn.headers.getSetCookie().find((c) => c.startsWith('ct_signin='));
  t.regex(own ?? '', /;\s*secure/i);
  t.regex(own ?? '', /;\s*httponly/i);
  t.is(res.headers.get('strict-transport-security'), 'max-age=31536000; includeSubDomains');
});

test('in production, sign-in works when TLS ends at a proxy that is not trusted (plain HTTP here)', async (t) => {
  // No TRUST_PROXY and no X-Forwarded-Proto: this hop is plain HTTP; the cookie is Secure all the same.
  const prod = await startApp({ NODE_ENV: 'production' });
  t.teardown(() => prod.close());
  const user = await createUser(prod.db);
  const browser = new Client(prod.url);
  const page = await browser.get('/login');
  t.is(page.status, 200);
  t.regex(page.headers.getSetCookie().find((c) => c.startsWith('ct_signin=')) ?? '', /;\s*secure/i);
  const signIn = await browser.submit('/login', '/login', { username: user.username, password: PASSWORD });
  t.is(signIn.status, 303);
  t.regex(signIn.headers.getSetCookie().find((c) => c.startsWith(`${SESSION}=`)) ?? '', /;\s*secure/i);
  t.is(await signedInAs(browser), user.username);
});

test('a session cookie with a forged signature signs no one in', async (t) => {
  const user = await createUser(app.db);
  const browser = await signedInClient(app.url, user.username);
  const forged = new Map(browser.cookies);
  forged.set(`${SESSION}.sig`, 'AAAAAAAAAAAAAAAAAAAAAAAAAAA');
  t.is(await signedInAs(replay(forged)), undefined);
  const unsigned = new Map(browser.cookies);
  unsigned.delete(`${SESSION}.sig`);
  t.is(await signedInAs(replay(unsigned)), undefined);
  t.is(await signedInAs(browser), user.username, 'the real cookie still works');
});

test('signing out by form destroys the session: the old cookie no longer works', async (t) => {
  const user = await createUser(app.db);
  const browser = await signedInClient(app.url, user.username);
  const otherDevice = await signedInClient(app.url, user.username);
  const old = new Map(browser.cookies);
  t.truthy(await sessionRow(old.get(SESSION)));

  const res = await browser.submit('/register', '/logout', {});
  t.is(res.status, 303);
  t.is(res.headers.get('location'), '/login');
  t.false(browser.cookies.has(SESSION), 'the cookie is cleared');
  t.is(await sessionRow(old.get(SESSION)), undefined, 'the row is deleted');

  const stolen = replay(old);
  t.is(await signedInAs(stolen), undefined);
  t.is((await stolen.send('GET', '/api/users')).status, 401);
  t.is(await signedInAs(browser), undefined);
  t.is(await signedInAs(otherDevice), user.username, 'another session of the same user is untouched');
});

test('a deleted account is signed out at once, by cookie and by token', async (t) => {
  const user = await createUser(app.db);
  const browser = await signedInClient(app.url, user.username);
  const api = await tokenClient(app.url, user.username);
  await app.db('users').where({ id: user.id }).delete();
  t.is(await signedInAs(browser), undefined);
  t.is((await browser.send('GET', '/api/users')).status, 401);
  t.is((await api.send('GET', '/api/users')).status, 401);
});

// --- API tokens ---

test('POST /api/logout revokes the bearer token and only that token', async (t) => {
  const user = await createUser(app.db);
  const api = await tokenClient(app.url, user.username);
  const other = await tokenClient(app.url, user.username);
  t.is((await api.send('GET', '/api/users')).status, 200);

  const out = await api.send('POST', '/api/logout');
  t.is(out.status, 200);
  t.deepEqual(out.json, { message: 'Signed out.' });
  const after = await api.send('GET', '/api/users');
  t.is(after.status, 401);
  t.deepEqual(after.json, { error: INVALID_TOKEN });
  t.is((await api.send('POST', '/api/logout')).status, 401, 'a revoked token cannot sign out again');

  const row = await app
    .db('api_tokens')
    .where({ token_hash: sha256(api.token ?? '') })
    .first();
  t.truthy(row.revoked_at);
  t.is((await other.send('GET', '/api/users')).status, 200, 'the same user’s other token still works');
});

test('a token expires AUTH_TOKEN_TTL_SECONDS after sign-in: its expires_at, as the answer says', async (t) => {
  const short = await startApp({ AUTH_TOKEN_TTL_SECONDS: '90' });
  t.teardown(() => short.close());
  const user = await createUser(short.db);
  const before = Date.now();
  const login = await new Client(short.url).send('POST', '/api/login', { username: user.username, password: PASSWORD });
  const after = Date.now();
  t.is(login.json.expires_in, 90);
  const expiresAt = Date.parse(login.json.expires_at);
  t.true(expiresAt >= before + 90_000 && expiresAt <= after + 90_000, 'expires_at is 90 s after the sign-in');
  const stored = await short
    .db('api_tokens')
    .where({ token_hash: sha256(login.json.access_token) })
    .first();
  t.is(Date.parse(stored.expires_at), expiresAt, 'the stored expiry is the one announced');
  // Past that moment the token is refused: the next test moves expires_at into the past.
  t.is((await new Client(short.url).withToken(login.json.access_token).send('GET', '/api/users')).status, 200);
});

test('a token past its expires_at is refused', async (t) => {
  const user = await createUser(app.db);
  const api = await tokenClient(app.url, user.username);
  t.is((await api.send('GET', `/api/users/${user.id}`)).status, 200);
  const past = new Date(Date.now() - 60_000).toISOString();
  const changed = await app
    .db('api_tokens')
    .where({ token_hash: sha256(api.token ?? '') })
    .update({ expires_at: past });
  t.is(changed, 1);
  const res = await api.send('GET', `/api/users/${user.id}`);
  t.is(res.status, 401);
  t.deepEqual(res.json, { error: INVALID_TOKEN });
});

test('a token revoked in the database is refused', async (t) => {
  const user = await createUser(app.db);
  const api = await tokenClient(app.url, user.username);
  await app
    .db('api_tokens')
    .where({ token_hash: sha256(api.token ?? '') })
    .update({ revoked_at: nowIso() });
  t.is((await api.send('GET', '/api/users')).status, 401);
});

test('garbage tokens and malformed Authorization headers are 401 with a JSON error', async (t) => {
  const client = new Client(app.url);
  const headers = [
    'Bearer not-a-real-token',
    `Bearer ${'A'.repeat(43)}`,
    'Bearer',
    'Bearer  ',
    'Bearer two parts',
    'Basic dXNlcjpwYXNzd29yZA==',
    'Token abc',
    'abc',
  ];
  for (const authorization of headers) {
    const res = await client.send('GET', '/api/users', undefined, { authorization });
    t.is(res.status, 401, authorization);
    t.deepEqual(Object.keys(res.json ?? {}), ['error'], authorization);
  }
  // Another scheme (Basic from a proxy) is ignored: the caller is simply not signed in.
  const basic = await client.send('GET', '/api/users', undefined, { authorization: 'Basic dXNlcjpwYXNzd29yZA==' });
  t.is(basic.json.error, 'Sign in to continue.');
  t.is((await client.get('/login', { authorization: 'Basic dXNlcjpwYXNzd29yZA==' })).status, 200);
  const emptyBearer = await client.send('GET', '/api/users', undefined, { authorization: 'Bearer' });
  t.is(emptyBearer.json.error, 'The Authorization header must be "Bearer <access_token>".');
  const garbage = await client.send('GET', '/api/users', undefined, { authorization: 'Bearer not-a-real-token' });
  t.is(garbage.json.error, INVALID_TOKEN);
});

test('tokens are stored only as a hash', async (t) => {
  const user = await createUser(app.db);
  const res = await new Client(app.url).send('POST', '/api/login', { username: user.username, password: PASSWORD });
  const token: string = res.json.access_token;
  const rows = await app.db('api_tokens').where({ user_id: user.id });
  t.is(rows.length, 1);
  t.is(rows[0].token_hash, sha256(token));
  t.false(JSON.stringify(rows).includes(token));
  const all = await app.db('api_tokens').select('*');
  t.false(JSON.stringify(all).includes(token));
});

test('bearer-token calls never start a cookie session', async (t) => {
  const user = await createUser(app.db);
  const api = await tokenClient(app.url, user.username);
  const sessionsBefore = await app.db('sessions').where({ user_id: user.id }).count({ n: '*' });
  const list = await api.send('GET', '/api/users');
  const logout = await api.send('POST', '/api/logout');
  t.is(list.headers.getSetCookie().length, 0);
  // Sign-out may send an expired, empty cookie to clear a browser session; it never sets one.
  t.true(logout.headers.getSetCookie().every((c) => /expires=Thu, 01 Jan 1970/i.test(c)));
  t.is(api.cookies.size, 0);
  t.deepEqual(await app.db('sessions').where({ user_id: user.id }).count({ n: '*' }), sessionsBefore);
});
