import test from 'ava';
import { sha256 } from '../src/lib/crypto.ts';
import { startApp, type TestApp } from './support/app.ts';
import { Client } from './support/client.ts';
import { buildCast, buildRequest, personalTokenClient } from './support/factories.ts';
import { changedTables, snapshot } from './support/snapshot.ts';

/**
 * Personal API tokens (issue #23): named, read or write, expiring within a year, shown once and stored
 * hashed, revoked at once; a read token is refused every unsafe method; last use noted at most once a
 * minute; sign-in tokens unchanged.
 */

let app: TestApp;
test.before(async () => {
  app = await startApp();
});
test.after.always(async () => {
  await app?.close();
});

const tokenRow = (token: string) =>
  app
    .db('api_tokens')
    .where({ token_hash: sha256(token) })
    .first();
const DAY = 86_400_000;

test('a token is shown once, stored only as its hash, listed without it, and expires when asked', async (t) => {
  const { owner } = await buildCast(app, { owner: {} });
  const before = Date.now();
  const made = await owner.api.send('POST', '/api/tokens', { name: 'inventory sync', scope: 'read', expires_in_days: 30 });
  t.is(made.status, 201);
  const token = made.json.access_token as string;
  t.regex(token, /^ctp_[A-Za-z0-9_-]{43}$/);
  t.like(made.json.token, { name: 'inventory sync', scope: 'read', last_used_at: null });
  const expires = Date.parse(made.json.token.expires_at);
  t.true(expires >= before + 30 * DAY && expires <= Date.now() + 30 * DAY);

  const row = await tokenRow(token);
  t.like(row, { kind: 'personal', scope: 'read', name: 'inventory sync', user_id: owner.user.id, revoked_at: null });
  t.false(JSON.stringify(await app.db('api_tokens').select('*')).includes(token.slice(4)), 'never stored in plain text');

  const list = await owner.api.get('/api/tokens');
  t.is(list.status, 200);
  t.deepEqual(
    list.json.map((x: { id: number }) => x.id),
    [made.json.token.id],
  );
  t.false(list.text.includes(token), 'the list never shows the token');

  const defaulted = await owner.api.send('POST', '/api/tokens', { name: 'nightly', scope: 'write' });
  t.is(defaulted.status, 201);
  t.true(Math.abs(Date.parse(defaulted.json.token.expires_at) - (Date.now() + 90 * DAY)) < 60_000, 'ninety days unless told');
});

test('bad token requests are 400s naming the field; a year is the longest', async (t) => {
  const { asker } = await buildCast(app, { asker: {} });
  const cases: [unknown, string][] = [
    [{ scope: 'read' }, 'name'],
    [{ name: 'x', scope: 'admin' }, 'scope'],
    [{ name: 'x' }, 'scope'],
    [{ name: 'x', scope: 'read', expires_in_days: 366 }, 'expires_in_days'],
    [{ name: 'x', scope: 'read', expires_in_days: 0 }, 'expires_in_days'],
    [{ name: 'x', scope: 'read', expires_in_days: 1.5 }, 'expires_in_days'],
    [{ name: 'y'.repeat(101), scope: 'read' }, 'name'],
  ];
  for (const [body, field] of cases) {
    const res = await asker.api.send('POST', '/api/tokens', body);
    t.is(res.status, 400, JSON.stringify(body));
    t.truthy(res.json.fields?.[field], `${JSON.stringify(body)} names ${field}`);
  }
  const year = await asker.api.send('POST', '/api/tokens', { name: 'a year', scope: 'read', expires_in_days: 365 });
  t.is(year.status, 201);
  t.is(
    await app
      .db('api_tokens')
      .where({ user_id: asker.user.id, kind: 'personal' })
      .count({ n: '*' })
      .first()
      .then((r) => Number(r?.n)),
    1,
  );
});

// Serial: the snapshot must see this test's requests alone.
test.serial('a read token reads, and is refused every unsafe method with 403 before anything runs', async (t) => {
  const { reader, approver } = await buildCast(app, { reader: {}, approver: {} });
  const { client: read } = await personalTokenClient(reader.api, 'read');
  const ticket = await buildRequest(app, { creator: reader.user, assignee: approver.user });
  t.is((await read.get('/api/tickets')).status, 200);
  t.is((await read.get(`/api/tickets/${ticket.id}`)).status, 200);
  const attempts: [string, string, unknown][] = [
    [
      'POST',
      '/api/tickets',
      { assigned_to_id: approver.user.id, location: 'B', items: [{ cable_type: 'Cat6', cable_length: '5m' }] },
    ],
    ['PATCH', `/api/tickets/${ticket.id}`, { location: 'Elsewhere' }],
    ['DELETE', `/api/tickets/${ticket.id}`, undefined],
    ['POST', '/api/optics-requests', { selected_part: 'SFP-10G-SR', quantity: 1, requester_name: 'R R' }],
    ['POST', '/api/logout', undefined],
    ['PUT', '/api/tickets', {}],
  ];
  for (const [method, path, body] of attempts) {
    const before = await snapshot(app.db);
    const res = await read.send(method, path, body);
    t.is(res.status, 403, `${method} ${path}`);
    t.regex(res.json.error, /read scope/);
    t.deepEqual(changedTables(before, await snapshot(app.db)), [], `${method} ${path} changed nothing`);
  }
});

test('a write token does what its owner may; the owner’s role still decides', async (t) => {
  const { writer, approver2: approver } = await buildCast(app, { writer: {}, approver2: {} });
  const { client: write } = await personalTokenClient(writer.api, 'write');
  const made = await write.send('POST', '/api/tickets', {
    assigned_to_id: approver.user.id,
    location: 'Dock 4',
    items: [{ cable_type: 'Cat6', cable_length: '10m', quantity: 1 }],
  });
  t.is(made.status, 201);
  t.is(made.json.ticket.created_by.id, writer.user.id);
  t.is((await write.get('/api/inventory/movements')).status, 403, 'not an admin: its token is not either');
});

test('revocation is immediate; only the owner can revoke; a personal token cannot make or revoke tokens', async (t) => {
  const { keeper, stranger } = await buildCast(app, { keeper: {}, stranger: {} });
  const a = await personalTokenClient(keeper.api, 'write', { name: 'a' });
  const b = await personalTokenClient(keeper.api, 'read', { name: 'b' });
  t.is((await a.client.get('/api/users')).status, 200);

  t.is((await stranger.api.send('DELETE', `/api/tokens/${a.id}`)).status, 404, 'someone else’s token is not found');
  t.is((await a.client.send('POST', '/api/tokens', { name: 'child', scope: 'write' })).status, 403);
  t.is((await a.client.send('DELETE', `/api/tokens/${b.id}`)).status, 403);
  t.is((await a.client.get('/api/tokens')).status, 200, 'it may list them');

  const revoked = await keeper.api.send('DELETE', `/api/tokens/${a.id}`);
  t.is(revoked.status, 200);
  const after = await a.client.get('/api/users');
  t.is(after.status, 401);
  t.regex(after.json.error, /revoked/);
  t.is((await keeper.api.send('DELETE', `/api/tokens/${a.id}`)).status, 404, 'gone from the working tokens');
  t.deepEqual(
    (await keeper.api.get('/api/tokens')).json.map((x: { name: string }) => x.name),
    ['b'],
  );
  t.is((await b.client.get('/api/users')).status, 200, 'the other token still works');
});

test('an expired personal token is refused', async (t) => {
  const { late } = await buildCast(app, { late: {} });
  const { client, token } = await personalTokenClient(late.api, 'read', { expires_in_days: 1 });
  t.is((await client.get('/api/users')).status, 200);
  await app
    .db('api_tokens')
    .where({ token_hash: sha256(token) })
    .update({ expires_at: new Date(Date.now() - 1000).toISOString() });
  t.is((await client.get('/api/users')).status, 401);
  t.deepEqual((await late.api.get('/api/tokens')).json, [], 'no longer listed');
});

test('last use is noted at most once a minute; sign-in tokens keep working as before, unnoted', async (t) => {
  const { busy } = await buildCast(app, { busy: {} });
  const { client, token } = await personalTokenClient(busy.api, 'read');
  t.is((await tokenRow(token)).last_used_at, null);
  await client.get('/api/users');
  const first = (await tokenRow(token)).last_used_at;
  t.truthy(first);
  for (let i = 0; i < 5; i++) await client.get('/api/users');
  t.deepEqual((await tokenRow(token)).last_used_at, first, 'no second write within the minute');
  const earlier = new Date(Date.now() - 61_000).toISOString();
  await app
    .db('api_tokens')
    .where({ token_hash: sha256(token) })
    .update({ last_used_at: earlier });
  await client.get('/api/users');
  const later = (await tokenRow(token)).last_used_at;
  t.true(new Date(later).getTime() > new Date(earlier).getTime() + 60_000, 'noted again a minute later');
  t.true(new Date((await busy.api.get('/api/tokens')).json[0].last_used_at).getTime() >= Date.now() - 5_000);

  const signIn = await app.db('api_tokens').where({ user_id: busy.user.id, kind: 'sign_in' }).first();
  t.like(signIn, { scope: 'write', last_used_at: null, name: null });
  t.is(
    (await busy.api.send('POST', '/api/optics-requests', { selected_part: 'SFP-10G-SR', quantity: 1, requester_name: 'B B' }))
      .status,
    201,
  );
});

test('at most 50 working personal tokens per account', async (t) => {
  const { hoarder } = await buildCast(app, { hoarder: {} });
  const now = new Date().toISOString();
  const later = new Date(Date.now() + DAY).toISOString();
  await app.db('api_tokens').insert(
    Array.from({ length: 50 }, (_, i) => ({
      user_id: hoarder.user.id,
      token_hash: sha256(`hoard-${i}-${hoarder.user.id}`),
      kind: 'personal',
      name: `t${i}`,
      scope: 'read',
      expires_at: later,
      created_at: now,
    })),
  );
  const refused = await hoarder.api.send('POST', '/api/tokens', { name: 'one more', scope: 'read' });
  t.is(refused.status, 409);
  t.regex(refused.json.error, /50 personal tokens/);
});

test('the settings page makes a token, shows it once, lists it and revokes it', async (t) => {
  const { pat } = await buildCast(app, { pat: { browser: true } });
  const page = await pat.browser.get('/settings/tokens');
  t.is(page.status, 200);
  t.is(page.$('#token-list').length, 0);
  t.is(page.$('p.empty').text(), 'You have no personal tokens.');

  const bad = await pat.browser.submit('/settings/tokens', '/settings/tokens', { name: '', scope: 'read', expires_in_days: 30 });
  t.is(bad.status, 400);
  t.is(bad.$('#f-name-error').text(), 'is required');

  const made = await pat.browser.submit('/settings/tokens', '/settings/tokens', {
    name: 'laptop script',
    scope: 'write',
    expires_in_days: 7,
  });
  t.is(made.status, 200);
  const token = String(made.$('#new-token').val());
  t.regex(token, /^ctp_/);
  t.is(made.$('.new-token [role=status], .new-token').attr('role'), 'status');
  t.is((await new Client(app.url).withToken(token).get('/api/tokens')).status, 200, 'the token shown works');

  const again = await pat.browser.get('/settings/tokens');
  t.is(again.$('#new-token').length, 0, 'never shown again');
  t.false(again.text.includes(token));
  const row = again.$('#token-list li.token');
  t.is(row.length, 1);
  t.regex(row.text(), /laptop script/);
  t.regex(row.text(), /write/);
  t.regex(row.text(), /never used|last used/);

  const id = (await tokenRow(token)).id;
  const revoked = await pat.browser.submit('/settings/tokens', `/settings/tokens/${id}/revoke`, {});
  t.is(revoked.status, 303);
  t.is(revoked.headers.get('location'), '/settings/tokens');
  const flash = await pat.browser.get('/settings/tokens');
  t.regex(flash.$('.flash.success').text(), /revoked/);
  t.is((await new Client(app.url).withToken(token).get('/api/tokens')).status, 401);

  const twice = await pat.browser.submit('/settings/tokens', `/settings/tokens/${id}/revoke`, {});
  t.is(twice.status, 303);
  t.regex((await pat.browser.get('/settings/tokens')).$('.flash.error').text(), /no working personal token/);
});
