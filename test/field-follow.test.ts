import { randomUUID } from 'node:crypto';
import test from 'ava';
import { cookiesAfter } from '../src/http/follow-redirect.ts';
import { startApp, type TestApp } from './support/app.ts';
import { Client } from './support/client.ts';
import { createUser, PASSWORD, signedInClient } from './support/factories.ts';

/**
 * Field mode's two savings on a slow link, over HTTP:
 *   - a form post the service worker sends with `X-Follow-Redirect: 1` gets the page its 303 names
 *     (200, Content-Location), made as the browser's GET of it would be, Idempotency-Key replays
 *     included; without the header, the plain 303 (src/http/follow-redirect.ts);
 *   - the sign-in form's CSRF token is bound to a cookie of its own, not a session, so the worker's
 *     saved copy of the page still signs in (src/http/csrf.ts).
 */

let app: TestApp;

test.before(async () => {
  app = await startApp();
  await createUser(app.db, { username: 'follow_tech' });
  await createUser(app.db, { username: 'follow_approver' });
});
test.after.always(async () => {
  await app?.close();
});

const FOLLOW = { 'x-follow-redirect': '1', accept: 'text/html' };
const request = (location: string) => ({
  assignee_name: 'follow_approver',
  priority: 'medium',
  location,
  'items[0][cable_type]': 'Cat6',
  'items[0][cable_length]': '100ft',
  'items[0][quantity]': '2',
});

test('a request filed with X-Follow-Redirect gets its page at once; without it, the plain 303', async (t) => {
  const tech = await signedInClient(app.url, 'follow_tech');
  const csrf = await tech.csrfFrom('/tickets/new');
  const key = randomUUID();
  const fields = { _csrf: csrf, idempotency_key: key, ...request('Followed hut') };
  const res = await tech.postForm('/tickets', fields, FOLLOW);
  t.is(res.status, 200, res.text);
  const to = res.headers.get('content-location') ?? '';
  t.regex(to, /^\/tickets\/\d+$/);
  t.is(res.headers.get('location'), null);
  t.is(res.headers.get('cache-control'), 'no-store');
  t.regex(res.headers.get('content-type') ?? '', /^text\/html/);
  t.regex(res.$('h1').text(), new RegExp(`#${to.split('/')[2]}`));
  t.regex(res.$('.flash').text(), /sent for approval/, 'the flash of the 303 is on the page');
  t.regex(res.text, /Followed hut/);
  // The flash was for once: the page's own GET does not show it again.
  t.is((await tech.get(to)).$('.flash.success').length, 0);

  // The same key again (the answer was lost): the kept 303, followed the same way; one request.
  const again = await tech.postForm('/tickets', fields, FOLLOW);
  t.is(again.status, 200);
  t.is(again.headers.get('idempotent-replayed'), 'true');
  t.is(again.headers.get('content-location'), to);
  t.regex(again.text, /Followed hut/);
  // And without the header, the kept 303 itself.
  const plain = await tech.postForm('/tickets', fields);
  t.is(plain.status, 303);
  t.is(plain.headers.get('location'), to);
  t.is(plain.headers.get('idempotent-replayed'), 'true');
  t.is((await app.db('tickets').where({ location: 'Followed hut' })).length, 1);

  // No header (no JavaScript, or another client): post/redirect/get as before.
  const noJs = await tech.postForm('/tickets', { _csrf: csrf, idempotency_key: randomUUID(), ...request('Plain hut') });
  t.is(noJs.status, 303);
  t.regex(noJs.headers.get('location') ?? '', /^\/tickets\/\d+$/);
  t.is(noJs.headers.get('content-location'), null);
});

test('X-Follow-Redirect changes nothing for a refused form, a missing CSRF token or an API call', async (t) => {
  const tech = await signedInClient(app.url, 'follow_tech');
  const csrf = await tech.csrfFrom('/tickets/new');
  const refused = await tech.postForm('/tickets', { _csrf: csrf, ...request('') }, FOLLOW);
  t.is(refused.status, 400);
  t.is(refused.headers.get('content-location'), null);
  const forged = await tech.postForm('/tickets', request('Forged hut'), FOLLOW);
  t.is(forged.status, 403);
  t.is((await app.db('tickets').where({ location: 'Forged hut' })).length, 0);
  const api = await tech.send('POST', '/api/tickets', { location: 'x' }, { 'x-follow-redirect': '1', 'x-csrf-token': csrf });
  t.not(api.status, 200);
  t.is(api.headers.get('content-location'), null);
});

test('signing in with X-Follow-Redirect answers with the list, made for the new session', async (t) => {
  const browser = new Client(app.url);
  const token = await browser.csrfFrom('/login');
  const res = await browser.postForm('/login', { _csrf: token, username: 'follow_tech', password: PASSWORD }, FOLLOW);
  t.is(res.status, 200, res.text);
  t.is(res.headers.get('content-location'), '/');
  t.is(res.$('body').attr('data-user-name'), 'follow_tech', 'the page is the signed-in list');
  t.true(browser.cookies.has('ct_session'), 'the new session’s cookie comes with it');
  t.is((await browser.get('/api/session', { accept: 'application/json' })).json.user.username, 'follow_tech');

  // Signing out the same way: the sign-in page, and the session is over.
  const csrf = await browser.csrfFrom('/tickets/new');
  const out = await browser.postForm('/logout', { _csrf: csrf }, FOLLOW);
  t.is(out.status, 200);
  t.is(out.headers.get('content-location'), '/login');
  t.is(out.$('input[name=username]').length, 1);
  t.is((await browser.get('/api/session', { accept: 'application/json' })).status, 401);
});

test('cookiesAfter applies a response’s Set-Cookie to the request’s cookies', (t) => {
  t.is(
    cookiesAfter('a=1; ct_session=old; b=2', [
      'ct_session=new; path=/; httponly',
      'b=; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT',
      'c=3; path=/',
    ]),
    'a=1; ct_session=new; c=3',
  );
  t.is(cookiesAfter(undefined, []), '');
});

// ---- the sign-in form's CSRF token ---------------------------------------------------------------

test('the sign-in page binds its token to a cookie of its own, and starts no session', async (t) => {
  const browser = new Client(app.url);
  const page = await browser.get('/login');
  const line = page.headers.getSetCookie().find((c) => c.startsWith('ct_signin=')) ?? '';
  const attrs = line.split(';').map((a) => a.trim().toLowerCase());
  t.true(attrs.includes('httponly'));
  t.true(attrs.includes('samesite=lax'));
  t.true(
    attrs.some((a) => a.startsWith('expires=')),
    'it outlives the browser session',
  );
  t.false(browser.cookies.has('ct_session'), 'no session for a visitor who only looked');
  const secret = browser.cookies.get('ct_signin');
  const token = page.$('input[name=_csrf]').val() as string;

  // Shown again (a copy fetched again, another tab): the same secret, so the first token still works.
  await browser.get('/login');
  t.is(browser.cookies.get('ct_signin'), secret);
  const res = await browser.postForm('/login', { _csrf: token, username: 'follow_tech', password: PASSWORD });
  t.is(res.status, 303);
  t.is(res.headers.get('location'), '/');
});

test('a sign-in token works only with its own cookie, and only for signing in', async (t) => {
  const victim = new Client(app.url);
  await victim.get('/login');
  // Another site's page cannot read the victim's cookie: its own token (its own cookie) is refused.
  const attacker = new Client(app.url);
  const attackerToken = await attacker.csrfFrom('/login');
  const forged = await victim.postForm('/login', { _csrf: attackerToken, username: 'follow_tech', password: PASSWORD });
  t.is(forged.status, 403);
  t.false(victim.cookies.has('ct_session'));
  // Without the cookie (a cross-site post does not carry a SameSite=Lax cookie), refused too.
  const token = await victim.csrfFrom('/login');
  const bare = new Client(app.url);
  t.is((await bare.postForm('/login', { _csrf: token, username: 'follow_tech', password: PASSWORD })).status, 403);
  // A garbled cookie is not a secret: a new one is made, and the old page's token no longer works.
  victim.cookies.set('ct_signin', 'x');
  t.is((await victim.postForm('/login', { _csrf: token, username: 'follow_tech', password: PASSWORD })).status, 403);

  // Signed in, the sign-in token is no token for anything else.
  const browser = new Client(app.url);
  const signInToken = await browser.csrfFrom('/login');
  t.is((await browser.postForm('/login', { _csrf: signInToken, username: 'follow_tech', password: PASSWORD })).status, 303);
  t.is((await browser.postForm('/tickets', { _csrf: signInToken, ...request('Wrong token hut') })).status, 403);
  t.is((await browser.postForm('/logout', { _csrf: signInToken })).status, 403);
  t.is((await app.db('tickets').where({ location: 'Wrong token hut' })).length, 0);
});
