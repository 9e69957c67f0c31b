import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import test from 'ava';
import twilio from 'twilio';
import { NotificationWorker } from '../src/features/notifications/worker.ts';
import { onPostgres, startApp, startReplica, type TestApp } from './support/app.ts';
import { Client, type Reply } from './support/client.ts';
import { createUser, PASSWORD, signedInClient, tokenClient } from './support/factories.ts';
import { error, RESEND_KEY, SENDGRID_KEY, startFakeProviders, TWILIO_SID, TWILIO_TOKEN } from './support/fake-providers.ts';
import { createTicket } from './support/tickets.ts';

/**
 * Auth hardening (issue #9 §4): an unknown user and a wrong password look the same (message, and
 * the same password-hash work); sign-in, registration, review-link decisions and SMS replies are rate
 * limited by client IP and by account; session cookies carry their flags; and no password, token,
 * review link, session id or provider key reaches the logs, whatever flow ran.
 */

/**
 * How many scrypt derivations `fn` caused, counted by wrapping node:crypto's scrypt (the app imports it
 * by name; syncBuiltinESMExports makes that name see the wrapper). Run in a serial test, so no other
 * test's sign-in is counted.
 */
async function scryptCalls(fn: () => Promise<unknown>): Promise<number> {
  const original = crypto.scrypt;
  let calls = 0;
  crypto.scrypt = ((...args: Parameters<typeof crypto.scrypt>) => {
    calls += 1;
    return original(...args);
  }) as typeof crypto.scrypt;
  syncBuiltinESMExports();
  try {
    await fn();
  } finally {
    crypto.scrypt = original;
    syncBuiltinESMExports();
  }
  return calls;
}

// ---- unknown user vs wrong password ---------------------------------------------------------------

test.serial('an unknown user and a wrong password get the same answer, and both cost one password hash', async (t) => {
  const app = await startApp();
  t.teardown(() => app.close());
  const user = await createUser(app.db, { username: 'known_person', email: 'known.person@example.test' });
  const api = new Client(app.url);

  const unknown = await api.send('POST', '/api/login', { username: 'nobody_at_all', password: 'wrong password 1' });
  const wrong = await api.send('POST', '/api/login', { username: user.username, password: 'wrong password 1' });
  const wrongByEmail = await api.send('POST', '/api/login', { username: 'KNOWN.person@example.test', password: 'nope nope' });
  t.is(unknown.status, 401);
  for (const res of [wrong, wrongByEmail]) {
    t.is(res.status, unknown.status);
    t.deepEqual(res.json, unknown.json);
    t.is(res.headers.get('content-type'), unknown.headers.get('content-type'));
    t.is(res.headers.get('www-authenticate'), unknown.headers.get('www-authenticate'));
  }

  // The form: the same page, apart from the username typed back into its field.
  const formAnswer = async (username: string) => {
    const res = await new Client(app.url).submit('/login', '/login', { username, password: 'wrong password 1' });
    return {
      status: res.status,
      alert: res.$('[role=alert]').text().trim(),
      main: res.$('main').text().replace(username, 'NAME'),
    };
  };
  const formUnknown = await formAnswer('nobody_at_all');
  const formWrong = await formAnswer(user.username);
  t.is(formUnknown.status, 401);
  t.deepEqual(formWrong, formUnknown);

  // Time: an unknown user is checked against a dummy hash, so both failures do the same slow work
  // (one scrypt each), which is what makes their timing alike; a malformed request does none. Counted,
  // not timed (speed belongs to the benchmark).
  const login = (body: object) => () => api.send('POST', '/api/login', body);
  t.is(await scryptCalls(login({ username: 'ghost', password: 'wrong pw' })), 1, 'unknown user');
  t.is(await scryptCalls(login({ username: user.username, password: 'wrong pw' })), 1, 'wrong password');
  t.is(await scryptCalls(login({ username: 'x' })), 0, 'malformed: refused before any hash');
});

// ---- rate limits by IP and by account --------------------------------------------------------------

/** An app that trusts one proxy hop (X-Forwarded-For) and allows 3 tries a minute. */
async function limitedApp(env: Record<string, string> = {}): Promise<TestApp> {
  return startApp({
    TRUST_PROXY: 'true',
    RATE_LIMIT_AUTH_PER_MINUTE: '3',
    RATE_LIMIT_LINK_PER_MINUTE: '3',
    APP_URL: 'https://tickets.example.test',
    TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
    ...env,
  });
}
const from = (ip: string) => ({ 'X-Forwarded-For': ip });
const login = (app: TestApp, username: string, password: string, ip: string) =>
  new Client(app.url).send('POST', '/api/login', { username, password }, from(ip));

test('sign-in is limited per client IP: a fourth try from one address is 429, other addresses go on', async (t) => {
  const app = await limitedApp();
  t.teardown(() => app.close());
  const users = await Promise.all([1, 2, 3, 4].map(() => createUser(app.db)));
  for (const u of users.slice(0, 3)) t.is((await login(app, u.username, 'wrong password', '198.51.100.7')).status, 401);
  const blocked = await login(app, users[3]?.username ?? '', PASSWORD, '198.51.100.7');
  t.is(blocked.status, 429);
  t.regex(blocked.json.error, /^Too many attempts\. Try again in \d+ seconds\.$/);
  t.is((await login(app, users[3]?.username ?? '', PASSWORD, '198.51.100.8')).status, 200);
  // The form shares the allowance.
  const form = await new Client(app.url).request('POST', '/login', {
    body: new URLSearchParams({ username: users[0]?.username ?? '', password: PASSWORD }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...from('198.51.100.7') },
  });
  t.true([403, 429].includes(form.status), 'no CSRF token or rate limited: either way, not signed in');
});

test('sign-in is limited per account, whatever address and whichever name (username or email) is used', async (t) => {
  const app = await limitedApp();
  t.teardown(() => app.close());
  const user = await createUser(app.db, { username: 'target_user', email: 'target.user@example.test' });
  t.is((await login(app, 'target_user', 'guess 1', '203.0.113.1')).status, 401);
  t.is((await login(app, 'TARGET_USER', 'guess 2', '203.0.113.2')).status, 401);
  t.is((await login(app, 'target.user@example.test', 'guess 3', '203.0.113.3')).status, 401);
  const blocked = await login(app, 'Target.User@Example.test', PASSWORD, '203.0.113.4');
  t.is(blocked.status, 429, 'the email is the same account as the username');
  t.is((await login(app, ' target_user ', PASSWORD, '203.0.113.5')).status, 429);
  // Another account is not affected.
  const other = await createUser(app.db);
  t.is((await login(app, other.username, PASSWORD, '203.0.113.6')).status, 200);
  t.truthy(user);
});

if (onPostgres) {
  test('PostgreSQL: two web processes share the allowance, so replicas do not multiply it', async (t) => {
    const app = await limitedApp();
    const replica = await startReplica(app);
    t.teardown(async () => {
      await replica.close();
      await app.close();
    });
    const user = await createUser(app.db);
    const at = (url: string, password: string) =>
      new Client(url).send('POST', '/api/login', { username: user.username, password }, from('198.51.100.20'));
    t.is((await at(app.url, 'guess 1')).status, 401);
    t.is((await at(replica.url, 'guess 2')).status, 401);
    t.is((await at(app.url, 'guess 3')).status, 401);
    t.is((await at(replica.url, PASSWORD)).status, 429, 'the fourth try is refused, whichever process gets it');
    t.is((await at(app.url, PASSWORD)).status, 429);
  });
}

test('a spoofed X-Forwarded-For does not buy more tries: the address the proxy saw counts', async (t) => {
  const app = await limitedApp();
  t.teardown(() => app.close());
  const users = await Promise.all([1, 2, 3, 4].map(() => createUser(app.db)));
  // The client sends its own X-Forwarded-For; the (one, trusted) proxy appends the address it saw.
  for (const [i, u] of users.slice(0, 3).entries()) {
    t.is((await login(app, u.username, 'wrong password', `10.9.9.${i}, 192.0.2.44`)).status, 401);
  }
  t.is((await login(app, users[3]?.username ?? '', PASSWORD, '10.9.9.99, 192.0.2.44')).status, 429);
});

test('registration is limited per client IP', async (t) => {
  const app = await limitedApp();
  t.teardown(() => app.close());
  const account = (i: number) => ({ username: `reg_limit_${i}`, email: `reg_limit_${i}@example.test`, password: PASSWORD });
  for (let i = 0; i < 3; i += 1) {
    t.is((await new Client(app.url).send('POST', '/api/register', account(i), from('198.51.100.20'))).status, 201);
  }
  const blocked = await new Client(app.url).send('POST', '/api/register', account(3), from('198.51.100.20'));
  t.is(blocked.status, 429);
  t.is(await app.db('users').where({ username_key: 'reg_limit_3' }).first(), undefined);
  t.is((await new Client(app.url).send('POST', '/api/register', account(4), from('198.51.100.21'))).status, 201);
});

test('review-link decisions (page and JSON) are limited per client IP', async (t) => {
  const app = await limitedApp();
  t.teardown(() => app.close());
  await createUser(app.db, { username: 'link_tech' });
  const stock = await createUser(app.db, { username: 'link_stock' });
  const creator = await tokenClient(app.url, 'link_tech');
  const tickets = await Promise.all([1, 2, 3, 4, 5].map(() => createTicket(creator, { assigned_to_id: stock.id })));
  const wrong = 'B'.repeat(43);
  const ip = '198.51.100.30';
  const page = (id: number) =>
    new Client(app.url).request('POST', `/tickets/${id}/review/${wrong}`, {
      body: 'decision=approve',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...from(ip) },
    });
  t.is((await page(tickets[0]?.id ?? 0)).status, 403);
  t.is((await new Client(app.url).send('POST', `/api/tickets/${tickets[1]?.id}/approve/${wrong}`, {}, from(ip))).status, 403);
  t.is((await new Client(app.url).get(`/api/tickets/${tickets[2]?.id}/reject/${wrong}`, from(ip))).status, 403);
  const blockedPage = await page(tickets[3]?.id ?? 0);
  t.is(blockedPage.status, 429);
  t.regex(blockedPage.$('[role=alert]').text(), /Too many attempts/);
  t.is((await new Client(app.url).send('POST', `/api/tickets/${tickets[3]?.id}/approve/${wrong}`, {}, from(ip))).status, 429);
  // The review page itself (a GET, which decides nothing) stays readable; other addresses go on.
  t.is(
    (await new Client(app.url).send('POST', `/api/tickets/${tickets[4]?.id}/approve/${wrong}`, {}, from('198.51.100.31'))).status,
    403,
  );
  const statuses = await app
    .db('tickets')
    .whereIn(
      'id',
      tickets.map((x) => x.id),
    )
    .pluck('status');
  t.deepEqual([...new Set(statuses)], ['pending_approval']);
});

test('SMS replies are limited per client IP and per sending number', async (t) => {
  const app = await limitedApp();
  t.teardown(() => app.close());
  const url = 'https://tickets.example.test/api/twilio/sms';
  const text = (fromNumber: string, body: string, ip: string) => {
    const fields = { From: fromNumber, To: '+15005550006', Body: body };
    return new Client(app.url).postForm('/api/twilio/sms', fields, {
      'X-Twilio-Signature': twilio.getExpectedTwilioSignature(TWILIO_TOKEN, url, fields),
      ...from(ip),
    });
  };
  // Per IP: three numbers from one address, then a fourth is refused.
  for (const n of ['+12025550111', '+12025550112', '+12025550113']) t.is((await text(n, 'hello', '198.51.100.40')).status, 200);
  t.is((await text('+12025550114', 'hello', '198.51.100.40')).status, 429);
  // Per number: one number from three addresses, then a fourth address is refused for that number.
  for (const ip of ['198.51.100.41', '198.51.100.42', '198.51.100.43'])
    t.is((await text('+12025550199', 'YES 1', ip)).status, 200);
  t.is((await text('+12025550199', 'YES 1', '198.51.100.44')).status, 429);
  t.is((await text('+1 (202) 555-0199', 'YES 1', '198.51.100.45')).status, 429, 'the same number, written differently');
  t.is((await text('+12025550198', 'YES 1', '198.51.100.46')).status, 200);
});

// ---- session cookies ---------------------------------------------------------------------------------

const cookieLines = (res: Reply) => res.headers.getSetCookie();

test('every cookie the app sets is httpOnly and SameSite=Lax; in production also Secure', async (t) => {
  for (const production of [false, true]) {
    const app = await startApp(production ? { NODE_ENV: 'production', TRUST_PROXY: 'true' } : {});
    const user = await createUser(app.db);
    const headers: Record<string, string> = production ? { 'X-Forwarded-Proto': 'https' } : {};
    const lines: string[] = [];
    const visitor = new Client(app.url);
    const page = await visitor.get('/login', headers);
    lines.push(...cookieLines(page));
    const token = page.$('input[name=_csrf]').val() as string;
    const signIn = await visitor.request('POST', '/login', {
      body: new URLSearchParams({ _csrf: token, username: user.username, password: PASSWORD }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    });
    t.is(signIn.status, 303);
    lines.push(...cookieLines(signIn));
    const registered = new Client(app.url);
    const regPage = await registered.get('/register', headers);
    lines.push(...cookieLines(regPage));
    t.true(lines.length >= 2, 'sessions were started');
    for (const line of lines) {
      const attrs = line.split(';').map((a) => a.trim().toLowerCase());
      t.true(attrs.includes('httponly'), line);
      t.true(attrs.includes('samesite=lax'), line);
      t.is(attrs.includes('secure'), production, line);
      t.true(attrs.includes('path=/'), line);
    }
    await app.close();
  }
});

// ---- secrets never reach the logs --------------------------------------------------------------------

test('no password, token, review link, session id, CSRF token or provider key reaches the logs, whatever ran', async (t) => {
  const fake = await startFakeProviders();
  const metricsToken = 'metrics-token-abcdef0123456789';
  const app = await startApp({
    APP_URL: 'https://tickets.example.test',
    LOG_LEVEL: 'trace',
    METRICS_TOKEN: metricsToken,
    ...fake.env(),
  });
  t.teardown(async () => {
    await app.close();
    await fake.close();
  });
  const secrets: string[] = [PASSWORD, RESEND_KEY, SENDGRID_KEY, TWILIO_TOKEN, metricsToken];
  const assigneePhone = '+12025550142';
  await createUser(app.db, { username: 'log_admin', role: 'admin' });
  const stock = await createUser(app.db, { username: 'log_stock', phone: assigneePhone, email: 'log.stock@example.test' });

  // Accounts: API and form registration, sign-ins that fail and succeed, tokens, sign-out.
  const apiPassword = 'api-Secret-Pass-771';
  const reg = await new Client(app.url).send('POST', '/api/register', {
    username: 'log_tech',
    email: 'log_tech@example.test',
    password: apiPassword,
  });
  t.is(reg.status, 201);
  secrets.push(apiPassword, reg.json.access_token);
  const creator = await tokenClient(app.url, 'log_tech', apiPassword);
  secrets.push(creator.token as string);
  const browser = await signedInClient(app.url, 'log_admin');
  secrets.push(...browser.cookies.values(), await browser.csrfFrom('/'));
  const wrongPassword = 'Wrong-Guess-Pass-553';
  t.is((await new Client(app.url).send('POST', '/api/login', { username: 'log_tech', password: wrongPassword })).status, 401);
  t.is((await new Client(app.url).submit('/login', '/login', { username: 'log_tech', password: wrongPassword })).status, 401);
  secrets.push(wrongPassword);
  // Malformed bodies carrying a password: a parse error, a forbidden key (once a 500 that logged the body).
  const rawPassword = 'Raw-Body-Pass-9912';
  for (const body of [`{"username":"log_tech","password":"${rawPassword}"`, `{"password":"${rawPassword}","__proto__":{}}`]) {
    const res = await new Client(app.url).request('POST', '/api/login', {
      body,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
    });
    t.is(res.status, 400);
    t.is(typeof res.json.error, 'string');
  }
  secrets.push(rawPassword);
  // A token in a query string and in a path.
  t.is((await creator.send('GET', `/api/users?access_token=${creator.token}`)).status, 200);
  t.is((await new Client(app.url).get(`/api/tickets/1/approve/${creator.token}`)).status, 404);

  // Tickets with review links, decided by page, by JSON link and by SMS; delivery by the worker.
  const tickets = await Promise.all([1, 2, 3].map(() => createTicket(creator, { assigned_to_id: stock.id })));
  fake.respond('twilio', error(500, 'upstream trouble'), 1);
  const worker = new NotificationWorker({ db: app.db, logger: app.logger, settings: app.config.notifications });
  await worker.runOnce();
  const links = (await app.db('notifications').where({ channel: 'email' }).pluck('body_text'))
    .map((text: string) => /https?:\/\/\S+\/review\/([A-Za-z0-9_-]{43})/.exec(text))
    .filter((m): m is RegExpExecArray => Boolean(m));
  t.true(links.length >= 3, 'review links were sent');
  for (const m of links) secrets.push(m[1] as string, m[0]);
  const [first, second, third] = links;
  const pathOf = (m: RegExpExecArray | undefined) => new URL(m?.[0] ?? 'http://x/').pathname;
  t.is((await new Client(app.url).get(pathOf(first))).status, 200);
  t.is((await new Client(app.url).postForm(pathOf(first), { decision: 'approve' })).status, 200);
  t.is(
    (
      await new Client(app.url).send(
        'POST',
        pathOf(second).replace('/tickets/', '/api/tickets/').replace('/review/', '/reject/'),
        { reason: 'no' },
      )
    ).status,
    200,
  );
  const sms = { From: assigneePhone, To: '+15005550006', Body: `YES ${tickets[2]?.id}` };
  const signature = twilio.getExpectedTwilioSignature(TWILIO_TOKEN, 'https://tickets.example.test/api/twilio/sms', sms);
  secrets.push(signature);
  t.is((await new Client(app.url).postForm('/api/twilio/sms', sms, { 'X-Twilio-Signature': signature })).status, 200);
  t.is((await new Client(app.url).postForm('/api/twilio/sms', sms, { 'X-Twilio-Signature': 'forged' })).status, 403);
  // The status messages go out too; then the metrics scrape, with and without its token.
  await worker.runOnce();
  t.is((await new Client(app.url).get('/metrics', { authorization: `Bearer ${metricsToken}` })).status, 200);
  t.is((await new Client(app.url).get('/metrics', { authorization: 'Bearer not-the-metrics-token' })).status, 401);
  t.true(fake.of('twilio').length >= 1 && fake.of('resend').length >= 1, 'messages were delivered through the fakes');
  t.is((await creator.send('POST', '/api/logout')).status, 200);
  t.is((await browser.submit('/', '/logout', {})).status, 303);
  void third;

  const all = app.logs.join('');
  t.true(all.includes('"msg":"notification batch"'), 'the worker logged its batches');
  t.true(all.includes('"msg":"SMS reply"'));
  for (const secret of new Set(secrets)) {
    t.true(secret.length >= 8);
    t.false(all.includes(secret), `a secret (${secret.slice(0, 6)}…) reached the logs`);
  }
  // Personal data the worker handles: addresses and numbers are not logged either.
  t.false(all.includes(assigneePhone));
  t.false(all.includes('log.stock@example.test'));
  t.false(all.includes(TWILIO_SID), 'the Twilio account SID stays out too');
});
