import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { ConfigError, loadConfig } from '../src/config.ts';
import { OidcClient, probeIssuer, RETRY_MS } from '../src/features/auth/oidc.ts';
import { usernameFrom } from '../src/features/auth/oidc-accounts.ts';
import { issueApiToken } from '../src/features/auth/service.ts';
import { startApp, type TestApp } from './support/app.ts';
import { Client } from './support/client.ts';
import { createUser, PASSWORD, signedInClient } from './support/factories.ts';
import { startFakeProviders } from './support/fake-providers.ts';
import { fuzz, queryString } from './support/fuzz.ts';
import { CLIENT_SECRET, type IdpAccount, SsoBrowser, startIdp, type TestIdp } from './support/oidc.ts';
import { freePort } from './support/pg-server.ts';
import { changedTables, snapshot } from './support/snapshot.ts';

/**
 * Single sign-on through a real OpenID provider (oidc-provider) running in this process on loopback:
 * the whole authorization-code flow with PKCE through the app's routes, followed by hand; what is
 * refused (a tampered state, a wrong nonce, an unverified email, an expired ID token, a replayed or
 * stolen callback); accounts matched by verified email or created; groups granting and taking admin;
 * PASSWORD_LOGIN=false; sign-out at the provider; a provider that is down.
 */

interface Rig {
  app: TestApp;
  idp: TestIdp;
  browser: () => SsoBrowser;
}

async function rig(
  t: ExecutionContext,
  opts: {
    env?: Record<string, string>;
    clock?: () => Date;
    accounts?: Record<string, IdpAccount>;
    /** The provider is down before the app starts (the app's discovery ahead of the first sign-in fails too). */
    providerDown?: boolean;
  } = {},
): Promise<Rig> {
  const idp = await startIdp();
  if (opts.providerDown) idp.down(true);
  const app = await startApp(idp.env({ OIDC_ADMIN_GROUPS: 'cable-admins', ...opts.env }), {
    appUrlFromPort: true,
    clock: opts.clock,
  });
  idp.register(app.url);
  for (const [id, account] of Object.entries(opts.accounts ?? {})) idp.accounts.set(id, account);
  t.teardown(async () => {
    await app.close();
    await idp.close();
  });
  return { app, idp, browser: () => new SsoBrowser(app.url, idp.issuer) };
}

const alice: IdpAccount = {
  email: 'Alice.Lee@Example.test',
  email_verified: true,
  preferred_username: 'alice',
  name: 'Alice Lee',
  groups: ['field-techs'],
};

const usersNamed = (r: Rig, username: string) => r.app.db('users').whereRaw('lower(username) = ?', [username.toLowerCase()]);

/** Who the browser's session belongs to, read from the page header (or null when signed out). */
async function signedInAs(client: Client): Promise<string | null> {
  const home = await client.get('/');
  if (home.status !== 200) return null;
  return home.$('header button.link').attr('title')?.replace('Signed in as ', '') ?? null;
}

function assertLogsClean(t: ExecutionContext, r: Rig) {
  const logs = r.app.logs.join('\n');
  t.false(logs.includes(CLIENT_SECRET), 'the client secret is in no log line');
  t.notRegex(logs, /eyJ[\w-]+\.eyJ[\w-]+\./, 'no token (JWT) is in a log line');
}

test('the full code flow creates the account at first sign-in and signs the same account in again', async (t) => {
  const r = await rig(t, { accounts: { 'sub-alice': alice } });
  await createUser(r.app.db, { username: 'boss', role: 'admin' });
  const browser = r.browser();
  const { reply } = await browser.signIn('sub-alice', {
    next: '/inventory',
    authorize: (url) => {
      // What the app asked for: code flow, PKCE S256, a state and a nonce, the scopes, the registered redirect URI.
      t.is(url.searchParams.get('response_type'), 'code');
      t.is(url.searchParams.get('code_challenge_method'), 'S256');
      t.regex(url.searchParams.get('code_challenge') ?? '', /^[\w-]{43}$/);
      t.regex(url.searchParams.get('state') ?? '', /^[\w-]{20,}$/);
      t.regex(url.searchParams.get('nonce') ?? '', /^[\w-]{20,}$/);
      t.is(url.searchParams.get('scope'), 'openid email profile groups');
      t.is(url.searchParams.get('redirect_uri'), `${r.app.url}/auth/oidc/callback`);
      t.is(url.searchParams.get('client_id'), 'cable-ticketing');
    },
  });
  t.is(reply.status, 303);
  t.is(reply.headers.get('location'), '/inventory', 'back where the person was going');
  t.is(await signedInAs(browser.app), 'alice');

  const [user] = await usersNamed(r, 'alice');
  t.like(user, { email: 'Alice.Lee@Example.test', role: 'user', phone: null });
  t.false(String(user.password_hash).startsWith('scrypt$'), 'no password: the account signs in through the provider');
  const links = await r.app.db('user_identities').where({ user_id: user.id });
  t.is(links.length, 1);
  t.like(links[0], { issuer: r.idp.issuer, subject: 'sub-alice' });

  // The account has no password that works.
  const withPassword = await new Client(r.app.url).send('POST', '/api/login', { username: 'alice', password: PASSWORD });
  t.is(withPassword.status, 401);

  // A second sign-in (the provider remembers the person: no form) is the same account, even after the email changed.
  r.idp.accounts.set('sub-alice', { ...alice, email: 'alice.lee@new.example.test' });
  const again = r.browser();
  t.is((await again.signIn('sub-alice')).reply.status, 303);
  t.is(await signedInAs(again.app), 'alice');
  t.is(Number((await r.app.db('users').count({ n: '*' }).first())?.n), 2, 'no second account');
  assertLogsClean(t, r);
});

test('an existing account is matched by its verified email (any case), and keeps its password', async (t) => {
  const r = await rig(t, { accounts: { 'sub-alice': alice } });
  const existing = await createUser(r.app.db, { username: 'alee', email: 'alice.lee@example.test' });
  const browser = r.browser();
  t.is((await browser.signIn('sub-alice')).reply.status, 303);
  t.is(await signedInAs(browser.app), 'alee');
  t.is((await r.app.db('user_identities').where({ user_id: existing.id })).length, 1);
  t.is((await usersNamed(r, 'alice')).length, 0, 'no new account');
  t.is(await signedInAs(await signedInClient(r.app.url, 'alee')), 'alee', 'password sign-in still works');
});

test('a taken username is de-duplicated, and a new account in an admin group is an admin', async (t) => {
  const r = await rig(t, {
    accounts: {
      'sub-a1': { ...alice, email: 'alice@one.example.test' },
      'sub-a2': { ...alice, email: 'alice@two.example.test', groups: ['cable-admins'] },
    },
  });
  await createUser(r.app.db, { username: 'Alice', email: 'someone@example.test' });
  const first = r.browser();
  await first.signIn('sub-a1');
  t.is(await signedInAs(first.app), 'alice-2');
  const second = r.browser();
  await second.signIn('sub-a2');
  t.is(await signedInAs(second.app), 'alice-3');
  t.like((await usersNamed(r, 'alice-3'))[0], { role: 'admin', email: 'alice@two.example.test' });
  t.like((await usersNamed(r, 'alice-2'))[0], { role: 'user' });
});

test('usernames come from preferred_username or the email, in the alphabet registration allows', (t) => {
  t.is(usernameFrom({ preferredUsername: 'jo.smith@corp.example', email: null }), 'jo.smith');
  t.is(usernameFrom({ preferredUsername: 'Zoë Ångström', email: null }), 'Zoe-Angstrom');
  t.is(usernameFrom({ preferredUsername: null, email: 'bo@example.test' }), 'user-bo');
  t.is(usernameFrom({ preferredUsername: '--', email: null }), 'user');
  t.is(usernameFrom({ preferredUsername: 'x'.repeat(80), email: null }), 'x'.repeat(40));
  t.is(usernameFrom({ preferredUsername: '山田', email: 'yamada@example.test' }), 'user');
});

test('a tampered state, a wrong nonce, a replayed or stolen callback are refused with a sentence, and sign no one in', async (t) => {
  const r = await rig(t, { accounts: { 'sub-alice': alice } });
  await createUser(r.app.db, { username: 'boss', role: 'admin' });
  const before = await snapshot(r.app.db);

  const tampered = r.browser();
  const { reply: badState } = await tampered.signIn('sub-alice', {
    callback: (url) => url.searchParams.set('state', `${url.searchParams.get('state')}x`),
  });
  t.is(badState.status, 401);
  t.is(
    badState.$('[role=alert]').text().trim(),
    'This sign-in did not start in this browser, or was changed on the way (state). Start again.',
  );
  t.is(badState.$('a#sso').length, 1, 'the sign-in page again, with the button');
  t.is(await signedInAs(tampered.app), null);

  const wrongNonce = r.browser();
  const { reply: badNonce } = await wrongNonce.signIn('sub-alice', {
    authorize: (url) => url.searchParams.set('nonce', 'a-nonce-this-browser-never-made-0123456789'),
  });
  t.is(badNonce.status, 401);
  t.is(badNonce.$('[role=alert]').text().trim(), 'The ID token was not issued for this sign-in (nonce). Start again.');
  t.is(await signedInAs(wrongNonce.app), null);

  // A callback is used once: the same browser replaying it, or another browser holding it, gets nowhere.
  const honest = r.browser();
  let callbackPath = '';
  await honest.signIn('sub-alice', {
    callback: (url) => {
      callbackPath = url.pathname + url.search;
    },
  });
  t.is(await signedInAs(honest.app), 'alice');
  const thief = new Client(r.app.url);
  const stolen = await thief.get(callbackPath);
  t.is(stolen.status, 401);
  t.is(stolen.$('[role=alert]').text().trim(), 'This sign-in has expired or was already used. Start again.');
  t.is(await signedInAs(thief), null);

  const after = await snapshot(r.app.db);
  t.deepEqual(changedTables(before, after), ['user_identities', 'users'], 'only the honest sign-in made its account');
  assertLogsClean(t, r);
});

test('an unverified email is refused: no account is made or matched', async (t) => {
  const r = await rig(t, {
    accounts: {
      'sub-unverified': { ...alice, email_verified: false },
      'sub-no-email': { preferred_username: 'ghost' },
    },
  });
  await createUser(r.app.db, { username: 'alee', email: 'alice.lee@example.test' });
  const before = await snapshot(r.app.db);
  const browser = r.browser();
  const { reply } = await browser.signIn('sub-unverified');
  t.is(reply.status, 403);
  t.is(
    reply.$('[role=alert]').text().trim(),
    'Your identity provider does not say that your email address is verified, so it cannot be matched to an account. Ask an admin.',
  );
  t.is(await signedInAs(browser.app), null);
  const { reply: noEmail } = await r.browser().signIn('sub-no-email');
  t.is(noEmail.status, 403);
  t.regex(noEmail.$('[role=alert]').text(), /sent no email address/);
  t.deepEqual(changedTables(before, await snapshot(r.app.db)), []);
});

test('an expired ID token is refused (the app clock two hours ahead of the provider)', async (t) => {
  const r = await rig(t, { accounts: { 'sub-alice': alice }, clock: () => new Date(Date.now() + 2 * 3_600_000) });
  const browser = r.browser();
  const { reply } = await browser.signIn('sub-alice');
  t.is(reply.status, 401);
  t.is(
    reply.$('[role=alert]').text().trim(),
    "The identity provider's ID token has expired or is not valid yet (check the server clocks). Start again.",
  );
  t.is(await signedInAs(browser.app), null);
  t.is((await usersNamed(r, 'alice')).length, 0);
});

test('the admin group grants admin; leaving it demotes at the next sign-in, except the last admin', async (t) => {
  const r = await rig(t, { accounts: { 'sub-alice': { ...alice, groups: ['field-techs', 'cable-admins'] } } });
  const boss = await createUser(r.app.db, { username: 'boss', role: 'admin' });
  await r.browser().signIn('sub-alice');
  t.is((await usersNamed(r, 'alice'))[0].role, 'admin');

  r.idp.accounts.set('sub-alice', { ...alice, groups: ['field-techs'] });
  const next = r.browser();
  await next.signIn('sub-alice');
  t.is((await usersNamed(r, 'alice'))[0].role, 'user', 'demoted at the next sign-in');
  t.is((await next.app.get('/admin/users')).status, 403);

  // Back in the group: admin again. Then, as the only admin, leaving the group does not demote.
  r.idp.accounts.set('sub-alice', { ...alice, groups: ['cable-admins'] });
  await r.browser().signIn('sub-alice');
  t.is((await usersNamed(r, 'alice'))[0].role, 'admin');
  await r.app.db('users').where({ id: boss.id }).update({ role: 'user' });
  r.idp.accounts.set('sub-alice', { ...alice, groups: [] });
  await r.browser().signIn('sub-alice');
  t.is((await usersNamed(r, 'alice'))[0].role, 'admin', 'the last admin stays admin');
  t.true(r.app.logs.some((l) => l.includes('the only admin: kept as admin')));
});

test('without OIDC_ADMIN_GROUPS roles are the app’s own: sign-in never changes them', async (t) => {
  const r = await rig(t, { env: { OIDC_ADMIN_GROUPS: '' }, accounts: { 'sub-alice': { ...alice, groups: ['cable-admins'] } } });
  await createUser(r.app.db, { username: 'boss', role: 'admin' });
  await r.browser().signIn('sub-alice');
  const [user] = await usersNamed(r, 'alice');
  t.is(user.role, 'user');
  await r.app.db('users').where({ id: user.id }).update({ role: 'admin' });
  await r.browser().signIn('sub-alice');
  t.is((await usersNamed(r, 'alice'))[0].role, 'admin');
});

test('the very first account, made at single sign-on, is an admin', async (t) => {
  const r = await rig(t, { env: { OIDC_ADMIN_GROUPS: '' }, accounts: { 'sub-alice': alice } });
  await r.browser().signIn('sub-alice');
  t.is((await usersNamed(r, 'alice'))[0].role, 'admin');
});

test('PASSWORD_LOGIN=false: only single sign-on on the page; password sign-in and registration refused; tokens still work', async (t) => {
  const r = await rig(t, {
    env: { PASSWORD_LOGIN: 'false', OIDC_BUTTON_LABEL: 'Sign in with Example SSO' },
    accounts: { 'sub-alice': alice },
  });
  const boss = await createUser(r.app.db, { username: 'boss', role: 'admin' });
  const page = await new Client(r.app.url).get('/login?next=/optics');
  t.is(page.status, 200);
  t.is(page.$('a#sso').text(), 'Sign in with Example SSO');
  t.is(page.$('a#sso').attr('href'), '/auth/oidc?next=%2Foptics');
  t.is(page.$('input[name=password]').length, 0, 'no password field');
  t.is(page.$('a[href="/register"]').length, 0);

  const registerPage = await new Client(r.app.url).get('/register');
  t.is(registerPage.status, 403);
  t.regex(registerPage.$('[role=alert]').text(), /registration is turned off/);
  const api = await new Client(r.app.url).send('POST', '/api/login', { username: 'boss', password: PASSWORD });
  t.is(api.status, 403);
  t.is(api.json.error, 'Password sign-in is turned off on this server: sign in with single sign-on.');
  const register = await new Client(r.app.url).send('POST', '/api/register', {
    username: 'newbie',
    email: 'newbie@example.test',
    password: PASSWORD,
  });
  t.is(register.status, 403);
  t.regex(register.json.error, /registration is turned off/);

  const { access_token } = await issueApiToken(r.app.db, boss.id, 3600);
  const withToken = await new Client(r.app.url).withToken(access_token).send('GET', '/api/users');
  t.is(withToken.status, 200, 'an API token made before keeps working');

  const browser = r.browser();
  t.is((await browser.signIn('sub-alice', { next: '/optics' })).reply.headers.get('location'), '/optics');
  t.is(await signedInAs(browser.app), 'alice');

  // A password form posted anyway (a stale tab, with a valid CSRF token): the sign-in page and the sentence.
  const csrf = await browser.app.csrfFrom('/');
  const posted = await browser.app.postForm('/login', { _csrf: csrf, username: 'boss', password: PASSWORD });
  t.is(posted.status, 403);
  t.is(posted.$('[role=alert]').text().trim(), 'Password sign-in is turned off on this server: sign in with single sign-on.');
  t.is(posted.$('a#sso').length, 1);
  t.is(await signedInAs(browser.app), 'alice', 'nothing changed');
});

test('sign-out ends the local session and sends the browser to the provider’s logout', async (t) => {
  const r = await rig(t, { accounts: { 'sub-alice': alice } });
  await createUser(r.app.db, { username: 'boss', role: 'admin' });
  const browser = r.browser();
  await browser.signIn('sub-alice');
  const home = await browser.app.get('/');
  const csrf = home.$('header form[action="/logout"] input[name=_csrf]').val() as string;
  t.is(home.headers.get('content-security-policy')?.match(/form-action [^;]+/)?.[0], `form-action 'self' ${r.idp.issuer}`);
  const out = await browser.app.postForm('/logout', { _csrf: csrf });
  t.is(out.status, 303);
  const logout = new URL(out.headers.get('location') as string);
  t.is(logout.origin, r.idp.issuer);
  t.is(logout.pathname, '/session/end');
  t.regex(logout.searchParams.get('id_token_hint') ?? '', /^eyJ/);
  t.is(logout.searchParams.get('post_logout_redirect_uri'), `${r.app.url}/login`);
  t.is(await signedInAs(browser.app), null, 'the local session is gone');
  t.is((await r.app.db('sessions').whereNotNull('user_id')).length, 0);
  // The provider accepts the logout request (it asks to confirm, as oidc-provider does).
  const confirm = await browser.get(logout.href);
  t.is(confirm.status, 200);

  // Signed in with a password: sign-out stays local.
  const local = await signedInClient(r.app.url, 'boss');
  const localHome = await local.get('/');
  const localOut = await local.postForm('/logout', { _csrf: localHome.$('header input[name=_csrf]').val() as string });
  t.is(localOut.headers.get('location'), '/login');
});

test('a provider that is down: the sign-in page says so, password sign-in works, and it is tried again later', async (t) => {
  const r = await rig(t, { accounts: { 'sub-alice': alice }, providerDown: true });
  await createUser(r.app.db, { username: 'boss', role: 'admin' });
  const client = new Client(r.app.url);
  const reply = await client.get('/auth/oidc');
  t.is(reply.status, 503);
  t.regex(
    reply.$('[role=alert]').text().trim(),
    /^Single sign-on is unavailable right now: the identity provider at 127\.0\.0\.1:\d+ did not answer \(HTTP 503\)\. Try again in a minute\.$/,
  );
  t.is(reply.$('input[name=password]').length, 1, 'the password form is still there');
  t.is(await signedInAs(await signedInClient(r.app.url, 'boss')), 'boss');

  // The retry, with the client's own clock moved past RETRY_MS (the app's is real time).
  let now = Date.now();
  const oidc = new OidcClient(r.app.config.oidc as NonNullable<typeof r.app.config.oidc>, r.app.url, () => now);
  await t.throwsAsync(oidc.start('/'), { message: /did not answer \(HTTP 503\)/ });
  r.idp.down(false);
  await t.throwsAsync(oidc.start('/'), { message: /did not answer/ }, 'the failure is remembered for a while');
  now += RETRY_MS + 1;
  const { url } = await oidc.start('/');
  t.true(url.startsWith(`${r.idp.issuer}/auth?`));
});

test('start-up: an issuer that is no OpenID provider stops the app; one that does not answer is a warning', async (t) => {
  const notAnIdp = await startFakeProviders();
  t.teardown(() => notAnIdp.close());
  const settings = (issuer: string) =>
    loadConfig({ OIDC_ISSUER: issuer, OIDC_CLIENT_ID: 'x' }).oidc as NonNullable<ReturnType<typeof loadConfig>['oidc']>;
  const wrong = await probeIssuer(settings(notAnIdp.url));
  t.deepEqual(wrong, {
    ok: false,
    fatal: true,
    reason: `${notAnIdp.url}/.well-known/openid-configuration answered HTTP 404: is this the issuer URL?`,
  });
  const idp = await startIdp();
  t.teardown(() => idp.close());
  idp.register('http://127.0.0.1:1');
  t.deepEqual(await probeIssuer(settings(idp.issuer)), { ok: true });
  // A discovery document naming another issuer (a trailing slash too many or too few, a wrong realm).
  const impostor = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ issuer: `${idp.issuer}/realms/other`, authorization_endpoint: `${idp.issuer}/auth` }));
  });
  await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
  t.teardown(() => impostor.close());
  const impostorUrl = `http://127.0.0.1:${(impostor.address() as AddressInfo).port}`;
  t.deepEqual(await probeIssuer(settings(impostorUrl)), {
    ok: false,
    fatal: true,
    reason: `the provider names itself differently: its discovery document's "issuer" is not exactly ${impostorUrl} (check the trailing slash)`,
  });
  const gone = await probeIssuer(settings(`http://127.0.0.1:${await freePort()}`));
  t.deepEqual(gone, { ok: false, fatal: false, reason: 'ECONNREFUSED' });
  // One that accepts the connection and never answers: a warning saying so in words.
  const silent = createServer(() => {});
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    silent.closeAllConnections();
    silent.close();
  });
  const silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  t.deepEqual(await probeIssuer(settings(silentUrl), 1), { ok: false, fatal: false, reason: 'timed out' });
});

test('OIDC variables are checked at start with one line naming the variable', (t) => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ OIDC_ISSUER: 'https://sso.example.com' }, /^Invalid OIDC_CLIENT_ID: required when OIDC_ISSUER is set$/],
    [{ OIDC_CLIENT_ID: 'x' }, /^Invalid OIDC_ISSUER: required when OIDC_CLIENT_ID is set$/],
    [{ OIDC_ISSUER: 'http://sso.example.com', OIDC_CLIENT_ID: 'x' }, /^Invalid OIDC_ISSUER: must be an https:\/\/ address/],
    [{ OIDC_ISSUER: 'not a url', OIDC_CLIENT_ID: 'x' }, /^Invalid OIDC_ISSUER: must be the issuer URL/],
    [
      { OIDC_ISSUER: 'https://sso.example.com', OIDC_CLIENT_ID: 'x', OIDC_SCOPES: 'email profile' },
      /^Invalid OIDC_SCOPES: must include openid$/,
    ],
    [{ PASSWORD_LOGIN: 'false' }, /^Invalid PASSWORD_LOGIN: false needs OIDC_ISSUER/],
    [{ PASSWORD_LOGIN: 'perhaps' }, /^Invalid PASSWORD_LOGIN:/],
    [
      { OIDC_ISSUER: 'https://sso.example.com', OIDC_CLIENT_ID: 'x', OIDC_GROUPS_CLAIM: 'two words' },
      /^Invalid OIDC_GROUPS_CLAIM:/,
    ],
  ];
  for (const [env, expected] of cases) {
    const err = t.throws(() => loadConfig(env), { instanceOf: ConfigError });
    t.regex(err?.message ?? '', expected, JSON.stringify(env));
  }
  const config = loadConfig({
    OIDC_ISSUER: 'https://login.microsoftonline.com/tenant-id/v2.0',
    OIDC_CLIENT_ID: 'client',
    OIDC_CLIENT_SECRET: 'secret',
    OIDC_SCOPES: 'openid, email profile openid',
    OIDC_ADMIN_GROUPS: 'cable-admins, 8f5c0a6e-0000-4000-8000-000000000000',
  });
  t.deepEqual(config.oidc, {
    issuer: 'https://login.microsoftonline.com/tenant-id/v2.0',
    clientId: 'client',
    clientSecret: 'secret',
    scopes: ['openid', 'email', 'profile'],
    adminGroups: ['cable-admins', '8f5c0a6e-0000-4000-8000-000000000000'],
    groupsClaim: 'groups',
    buttonLabel: 'Sign in with single sign-on',
  });
  t.true(config.passwordLogin);
  t.is(loadConfig({}).oidc, undefined);
});

test('without OIDC_ISSUER the single sign-on routes answer 404 with a sentence and the page has no button', async (t) => {
  const app = await startApp();
  t.teardown(() => app.close());
  const client = new Client(app.url);
  for (const path of ['/auth/oidc', '/auth/oidc/callback?code=x&state=y']) {
    const reply = await client.get(path);
    t.is(reply.status, 404);
    t.is(reply.$('[role=alert]').text().trim(), 'Single sign-on is not set up on this server.');
  }
  t.is((await client.get('/login')).$('a#sso').length, 0);
});

test('hostile query strings on the single sign-on routes: no 5xx, a page with a sentence, no row changed', async (t) => {
  const r = await rig(t, { accounts: { 'sub-alice': alice } });
  await fuzz(t, r.app.db, {
    name: 'GET /auth/oidc, /auth/oidc/callback',
    client: new Client(r.app.url),
    logs: r.app.logs,
    audience: 'html',
    numRuns: 150,
    // A fresh browser each time, half of them with a sign-in under way (so the callback's checks run).
    prepare: async (req) => {
      const browser = r.browser();
      if (req.path.startsWith('/auth/oidc/callback') && req.path.length % 2 === 0) await browser.app.get('/auth/oidc');
      return { ...req, client: browser.app };
    },
    requests: fc
      .tuple(
        fc.constantFrom('/auth/oidc', '/auth/oidc/callback'),
        queryString(['next', 'code', 'state', 'iss', 'error', 'error_description', 'session_state']),
      )
      .map(([path, query]) => ({ method: 'GET', path: path + query })),
  });
});
