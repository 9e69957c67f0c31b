import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import test from 'ava';
import { ifNoneMatchHits } from '../src/http/etag.ts';
import { KeptResponses, MIN_KEPT_BYTES } from '../src/http/kept-responses.ts';
import { onPostgres, startApp, type TestApp } from './support/app.ts';
import type { Client, Reply } from './support/client.ts';
import { buildCast, createUser, tokenClient } from './support/factories.ts';
import { rawRequest } from './support/raw.ts';
import { createTicket, driveTo, withoutCuts } from './support/tickets.ts';

/**
 * Kept list answers (src/http/kept-responses.ts): on PostgreSQL the JSON list and the dashboard's list
 * fragment are kept with their page's version and sent again while the version holds; a client that
 * sends the ETag back gets a 304. Whatever is kept, every answer must equal a fresh one: each change a
 * list shows is made below and the list compared with each ticket's own GET. SQLite keeps nothing.
 */

let app: TestApp;
let ann: Client;
let bob: Client;
let admin: Client;
let browser: Client;
let annId: number;
let bobId: number;
/** Each versioned list statement the app ran (knex's 'query' event), to see what a kept answer costs. */
const listStatements: { sql: string; bindings: unknown[] }[] = [];

test.before(async () => {
  app = await startApp();
  const cast = await buildCast(app, { boss: { role: 'admin' }, ann: { browser: true }, bob: {} });
  ({ api: ann, browser } = cast.ann);
  annId = cast.ann.user.id;
  ({ api: bob } = cast.bob);
  bobId = cast.bob.user.id;
  admin = cast.boss.api;
  await browser.get('/'); // takes the welcome flash
  app.db.on('query', (query: { sql: string; bindings?: unknown[] }) => {
    if (query.sql.includes('list_version')) listStatements.push({ sql: query.sql, bindings: query.bindings ?? [] });
  });
});
test.after.always(async () => {
  await app?.close();
});

/** The list as each of its tickets' own GET shows them. */
async function expectedList(client: Client, list: { id: number }[]) {
  return Promise.all(
    list.map(async ({ id }) => {
      const json = (await client.send('GET', `/api/tickets/${id}?include_deleted=true`)).json;
      const { events: _events, offcuts, ...ticket } = json;
      if (offcuts.length) throw new Error(`ticket ${id} has offcuts`);
      return withoutCuts(ticket);
    }),
  );
}

/** GET `path` twice (the second may be kept): both equal, and equal to the tickets' own GETs. */
async function listTwice(t: import('ava').ExecutionContext, client: Client, path: string, what: string): Promise<Reply> {
  const first = await client.send('GET', path);
  const second = await client.send('GET', path);
  t.is(first.status, 200, what);
  t.is(second.status, 200, what);
  t.deepEqual(second.json, first.json, `${what}: the second answer`);
  t.is(second.headers.get('link'), first.headers.get('link'), `${what}: Link`);
  t.deepEqual(first.json, await expectedList(client, first.json), `${what}: as the tickets' own GETs`);
  return second;
}

test.serial('every change a list shows makes a new answer, equal to a fresh one', async (t) => {
  // Deleted tickets included, so that a delete and a purge each change what the list shows.
  const path = '/api/tickets?limit=3&include_deleted=true';
  const make = (location: string) => createTicket(bob, { assigned_to_id: annId, location });
  const a = await make('Dock 1');
  await make('Dock 2');
  let before = await listTwice(t, ann, path, 'two tickets');
  const etags = new Set([before.headers.get('etag')]);
  const changed = async (what: string, change: () => Promise<unknown>, check: (list: Reply['json'], reply: Reply) => boolean) => {
    await change();
    const after = await listTwice(t, ann, path, what);
    t.true(check(after.json, after), `${what}: shown`);
    if (onPostgres) {
      t.false(etags.has(after.headers.get('etag')), `${what}: a new ETag`);
      etags.add(after.headers.get('etag'));
    }
    before = after;
  };
  const c = await make('Dock 3');
  await changed(
    'a new ticket',
    async () => {},
    (list) => list[0].id === c.id,
  );
  await changed(
    'a status change',
    () => driveTo(ann, c.id, 'approved'),
    (list) => list[0].status === 'approved',
  );
  await changed(
    'the items alone edited',
    () => bob.send('PATCH', `/api/tickets/${a.id}`, { items: [{ cable_type: 'OM4', cable_length: '2m', quantity: 9 }] }),
    (list) => list.find((x: { id: number }) => x.id === a.id)?.items[0].cable_type === 'OM4',
  );
  await changed(
    "the creator's username changed in the database (no page does it; an operator may)",
    () => app.db('users').where({ id: bobId }).update({ username: 'robert', username_key: 'robert' }),
    (list) => list.every((x: { created_by: { username: string } }) => x.created_by.username === 'robert'),
  );
  await changed(
    "the assignee's username changed in the database",
    () => app.db('users').where({ id: annId }).update({ username: 'anne', username_key: 'anne' }),
    (list) => list.every((x: { assigned_to: { username: string } }) => x.assigned_to.username === 'anne'),
  );
  await changed(
    'a ticket deleted',
    async () => t.is((await bob.send('DELETE', `/api/tickets/${c.id}`)).status, 200),
    (list) => list.find((x: { id: number }) => x.id === c.id)?.status === 'deleted',
  );
  await changed(
    'two more tickets: the page now has a next page',
    async () => {
      await make('Dock 4');
      await make('Dock 5');
    },
    (_list, reply) => /cursor=/.test(reply.headers.get('link') ?? ''),
  );
  await changed(
    'a ticket purged',
    async () => t.is((await admin.send('DELETE', `/api/tickets/${c.id}/purge`)).status, 200),
    (list) => !list.some((x: { id: number }) => x.id === c.id),
  );
  await app.db('users').where({ id: bobId }).update({ username: 'bob', username_key: 'bob' });
  await app.db('users').where({ id: annId }).update({ username: 'ann', username_key: 'ann' });
});

test.serial('the list fragment: kept on PostgreSQL, a change shows, If-None-Match gives 304, HEAD no body', async (t) => {
  const hx = { 'hx-request': 'true' };
  await createTicket(bob, { assigned_to_id: annId, location: 'Fragment 1' });
  await createTicket(bob, { assigned_to_id: annId, location: 'Fragment 2' });
  const first = await browser.get('/?limit=20', hx);
  const again = await browser.get('/?limit=20', hx);
  t.is(first.status, 200);
  t.false(first.text.includes('<html'));
  t.is(again.text, first.text);
  const etag = again.headers.get('etag');
  if (!onPostgres) {
    t.is(etag, null, 'SQLite: nothing kept, no ETag');
    return;
  }
  t.is(first.headers.get('etag'), etag);
  const notModified = await browser.get('/?limit=20', { ...hx, 'if-none-match': etag ?? '' });
  t.is(notModified.status, 304);
  t.is(notModified.text, '');
  const head = await browser.request('HEAD', '/?limit=20', { headers: hx });
  t.is(head.status, 200);
  t.is(head.text, '');
  t.is(head.headers.get('etag'), etag);
  const news = await createTicket(bob, { assigned_to_id: annId, location: 'Fragment news' });
  const after = await browser.get('/?limit=20', { ...hx, 'if-none-match': etag ?? '' });
  t.is(after.status, 200, 'a change: the new fragment, not a 304');
  t.is(after.$(`a[href="/tickets/${news.id}"]`).length, 1);
  t.not(after.headers.get('etag'), etag);
});

test.serial(
  'PostgreSQL: an unchanged page is sent kept (the database sends one row), and 304 to a client that has it',
  async (t) => {
    if (!onPostgres) {
      const res = await ann.send('GET', '/api/tickets');
      t.is(res.headers.get('etag'), null, 'SQLite: lists are not versioned, so no ETag');
      return;
    }
    await createTicket(bob, { assigned_to_id: annId, location: 'Kept 1' });
    await createTicket(bob, { assigned_to_id: annId, location: 'Kept 2' });
    const ticket = await createTicket(bob, { assigned_to_id: annId, location: 'Kept 3' });
    listStatements.length = 0;
    const fresh = await ann.send('GET', '/api/tickets');
    const kept = await ann.send('GET', '/api/tickets');
    t.is(kept.text, fresh.text);
    // The second request named the version it keeps; for that, the database answers one row: the version.
    const [first, second] = listStatements;
    const versionIn = (bindings: unknown[]) => bindings.find((b) => typeof b === 'string' && /^[0-9a-f]{32}$/.test(b));
    t.is(versionIn(first?.bindings ?? []), undefined, 'the first request had nothing kept');
    const version = versionIn(second?.bindings ?? []);
    t.truthy(version, 'the second named the version it keeps');
    const rowsOf = async (statement: { sql: string; bindings: unknown[] } | undefined) =>
      (
        (await app.db.raw((statement?.sql ?? '').replace(/\$\d+/g, '?'), (statement?.bindings ?? []) as never[])) as {
          rows: Record<string, unknown>[];
        }
      ).rows;
    const page = await rowsOf(first);
    t.true(page.length > 1, 'without a version the statement reads the page');
    t.true(page.every((row) => row.list_version === version));
    const versionOnly = await rowsOf(second);
    t.is(versionOnly.length, 1);
    t.is(versionOnly[0]?.list_version, version);
    t.true(
      Object.entries(versionOnly[0] ?? {}).every(([k, v]) => k === 'list_version' || v === null),
      'and no ticket',
    );
    const etag = kept.headers.get('etag') ?? '';
    t.regex(etag, /^W\/"[\w-]+"$/);
    t.is(kept.headers.get('cache-control'), 'private, no-cache');
    t.regex(kept.headers.get('vary') ?? '', /Accept-Encoding/);
    t.regex(kept.headers.get('vary') ?? '', /HX-Request/);

    const notModified = await ann.send('GET', '/api/tickets', undefined, { 'if-none-match': etag });
    // fetch() adds `Cache-Control: no-cache` to a request with If-None-Match; a raw client does not.
    const raw = await rawRequest(app.url, '/api/tickets', {
      headers: { authorization: `Bearer ${ann.token}`, 'if-none-match': `"x", ${etag}` },
    });
    t.is(raw.status, 304);
    t.is(raw.body.length, 0);
    t.is(notModified.status, 304);
    t.is(notModified.text, '');
    t.is(notModified.headers.get('etag'), etag);
    // Signing in still happens first: a revoked token gets no list, kept or not.
    const gone = await tokenClient(app.url, 'ann');
    t.is((await gone.send('POST', '/api/logout')).status, 200);
    t.is((await gone.send('GET', '/api/tickets', undefined, { 'if-none-match': etag })).status, 401);

    await driveTo(ann, ticket.id, 'rejected');
    const changed = await ann.send('GET', '/api/tickets', undefined, { 'if-none-match': etag });
    t.is(changed.status, 200, 'a change: the new list, not a 304');
    t.is(changed.json[0].status, 'rejected');
    t.not(changed.headers.get('etag'), etag);
  },
);

test.serial('a kept answer is the same in every coding, and for other viewers only where the list is the same', async (t) => {
  const annCookie = browser.cookieHeader();
  const mine = await createTicket(ann, { assigned_to_id: bobId, location: 'Ann made this' });
  const codings = async (path: string, headers: Record<string, string>) => {
    const bodies: string[] = [];
    for (const coding of ['br', 'gzip', 'identity', 'br']) {
      const res = await rawRequest(app.url, path, { headers: { ...headers, 'accept-encoding': coding } });
      t.is(res.status, 200, `${path} ${coding}`);
      const encoding = res.headers['content-encoding'];
      bodies.push(
        (encoding === 'br' ? brotliDecompressSync(res.body) : encoding === 'gzip' ? gunzipSync(res.body) : res.body).toString(),
      );
      if (coding !== 'identity') t.is(encoding, coding, `${path}: sent ${coding}`);
    }
    t.true(
      bodies.every((b) => b === bodies[0]),
      `${path}: one body in every coding`,
    );
    return bodies[0] ?? '';
  };
  const json = await codings('/api/tickets?limit=20', { authorization: `Bearer ${ann.token}` });
  t.deepEqual(JSON.parse(json), (await ann.send('GET', '/api/tickets?limit=20')).json);
  const fragment = await codings('/?limit=20', { cookie: annCookie, 'hx-request': 'true' });
  t.true(fragment.includes('Ann made this') && !fragment.includes('<html'), 'the fragment, not the page');
  // The full page is never kept: it carries the form's CSRF token and the counters.
  const page = await browser.get('/?limit=20');
  t.true(page.text.includes('<html'));
  t.is(page.headers.get('etag'), null);

  // "Created by me" is each viewer's own list: Bob's is not Ann's.
  const annMine = await ann.send('GET', '/api/tickets?filter=mine');
  const bobMine = await bob.send('GET', '/api/tickets?filter=mine');
  t.true(annMine.json.some((x: { id: number }) => x.id === mine.id));
  t.false(bobMine.json.some((x: { id: number }) => x.id === mine.id));
  t.true(bobMine.json.every((x: { created_by_id: number }) => x.created_by_id === bobId));
  t.deepEqual((await ann.send('GET', '/api/tickets?filter=mine')).json, annMine.json);
  // "All" is the same for everyone signed in.
  t.deepEqual((await bob.send('GET', '/api/tickets?limit=20')).json, JSON.parse(json));
});

test('in development nothing is kept (templates are read again at each render)', async (t) => {
  const dev = await startApp({ NODE_ENV: 'development' });
  try {
    await createUser(dev.db, { username: 'dev_maker' });
    const viewerId = (await createUser(dev.db, { username: 'dev_viewer' })).id;
    const viewer = await tokenClient(dev.url, 'dev_viewer');
    await createTicket(await tokenClient(dev.url, 'dev_maker'), { assigned_to_id: viewerId, location: 'Dev' });
    const first = await viewer.send('GET', '/api/tickets');
    const second = await viewer.send('GET', '/api/tickets');
    t.is(first.json.length, 1);
    t.deepEqual(second.json, first.json);
    t.is(second.headers.get('etag'), null);
  } finally {
    await dev.close();
  }
});

test('If-None-Match: a list of tags, weak or strong, or *', (t) => {
  t.true(ifNoneMatchHits('W/"abc"', 'W/"abc"'));
  t.true(ifNoneMatchHits('"abc"', 'W/"abc"'));
  t.true(ifNoneMatchHits('"x", W/"abc" , "y"', 'W/"abc"'));
  t.true(ifNoneMatchHits('*', 'W/"abc"'));
  t.false(ifNoneMatchHits('W/"abd"', 'W/"abc"'));
  t.false(ifNoneMatchHits('', 'W/"abc"'));
  t.false(ifNoneMatchHits(undefined, 'W/"abc"'));
});

test('kept responses stay within their bytes, overhead included, least recently used out first; small bodies are not kept', (t) => {
  const kept = new KeptResponses(20_000);
  const entry = (size: number) => ({
    version: 'v',
    etag: 'e',
    type: 'text/plain',
    body: Buffer.alloc(size),
    headers: {},
    encoded: new Map(),
  });
  // A 2,000-byte body under a one-letter key costs 1,024 + 2 + 3 x 2,000 = 7,026.
  kept.set('a', entry(2_000));
  kept.set('b', entry(2_000));
  t.truthy(kept.get('a')); // a is now the most recently used
  kept.set('c', entry(2_000)); // 21,078 > 20,000: b goes
  t.truthy(kept.get('a'));
  t.is(kept.get('b'), undefined);
  t.truthy(kept.get('c'));
  kept.set('small', entry(MIN_KEPT_BYTES - 1));
  t.is(kept.get('small'), undefined, 'too small to be worth keeping');
  kept.set('big', entry(7_000)); // 22,026: more than the whole budget, not kept, nothing evicted for it
  t.is(kept.get('big'), undefined);
  t.is(kept.size, 2);
  kept.set('a', entry(1_500)); // replacing an entry frees its bytes
  kept.set('d', entry(1_500));
  t.is(kept.size, 3);
  // Many entries of the smallest kept size: the per-entry cost bounds how many.
  const many = new KeptResponses(100_000);
  for (let i = 0; i < 1_000; i++) many.set(`key-${i}`, entry(MIN_KEPT_BYTES));
  t.is(many.size, Math.floor(100_000 / (1_024 + 2 * 'key-999'.length + 3 * MIN_KEPT_BYTES)));
});
