import { randomUUID } from 'node:crypto';
import test from 'ava';
import fc from 'fast-check';
import { deleteExpiredIdempotencyKeys } from '../src/db/idempotency-keys.ts';
import type { PublicUserRow } from '../src/features/users/queries.ts';
import { KEY_TTL_MS, RUNNING_LEASE_MS } from '../src/http/idempotency.ts';
import { startApp, type TestApp } from './support/app.ts';
import { Client } from './support/client.ts';
import { createUser, signedInClient, tokenClient } from './support/factories.ts';
import { FUZZ_SEED, RUNS_FACTOR } from './support/fuzz.ts';

/**
 * Idempotency-Key (DESIGN.md §14, the IETF httpapi draft) over real HTTP on a real database: the
 * same key and request replay the first response, another request with the key is 422, a repeat
 * while the first runs is 409, and nothing is done twice.
 */

let app: TestApp;
let tech: PublicUserRow;
let approver: PublicUserRow;
let admin: PublicUserRow;
let api: Client;

test.before(async () => {
  app = await startApp();
  tech = await createUser(app.db, { username: 'idem_tech' });
  approver = await createUser(app.db, { username: 'idem_approver' });
  admin = await createUser(app.db, { username: 'idem_admin', role: 'admin' });
  api = await tokenClient(app.url, tech.username);
});
test.after.always(async () => {
  await app?.close();
});

const ticketBody = (location: string) => ({
  assigned_to_id: approver.id,
  location,
  items: [{ cable_type: 'Cat6', cable_length: '100ft', quantity: 2 }],
});
const ticketsAt = async (location: string) => Number((await app.db('tickets').where({ location }).count({ n: '*' }))[0]?.n);
const keyRows = async () => Number((await app.db('idempotency_keys').count({ n: '*' }))[0]?.n);
const withKey = (key: string) => ({ 'idempotency-key': key });

test('the same key and body replay the first response, Location and all, and create one ticket', async (t) => {
  const key = randomUUID();
  const first = await api.send('POST', '/api/tickets', ticketBody('Replay Hall'), withKey(key));
  t.is(first.status, 201, first.text);
  t.is(first.headers.get('idempotent-replayed'), null);
  const again = await api.send('POST', '/api/tickets', ticketBody('Replay Hall'), withKey(key));
  t.is(again.status, 201);
  t.is(again.headers.get('idempotent-replayed'), 'true');
  t.is(again.headers.get('location'), first.headers.get('location'));
  t.regex(again.headers.get('content-type') ?? '', /application\/json/);
  t.deepEqual(again.json, first.json);
  // The draft's own spelling (an RFC 8941 string) names the same key.
  const quoted = await api.send('POST', '/api/tickets', ticketBody('Replay Hall'), withKey(`"${key}"`));
  t.is(quoted.headers.get('idempotent-replayed'), 'true');
  t.is(quoted.json.ticket.id, first.json.ticket.id);
  t.is(await ticketsAt('Replay Hall'), 1);
});

test('the same key with another body is 422, and nothing is created', async (t) => {
  const key = randomUUID();
  t.is((await api.send('POST', '/api/tickets', ticketBody('Key Reuse A'), withKey(key))).status, 201);
  const other = await api.send('POST', '/api/tickets', ticketBody('Key Reuse B'), withKey(key));
  t.is(other.status, 422);
  t.regex(other.json.error, /already used for a different request/);
  t.is(await ticketsAt('Key Reuse B'), 0);
  // Another path is another request too.
  const elsewhere = await api.send(
    'POST',
    '/api/optics-requests',
    { selected_part: 'Other', other_part: 'X', quantity: 1, requester_name: 'I K' },
    withKey(key),
  );
  t.is(elsewhere.status, 422);
});

test('a key that is empty, longer than 255 characters or not visible ASCII is 400', async (t) => {
  for (const [key, pattern] of [
    ['""', /must not be empty/],
    ['x'.repeat(256), /at most 255/],
    [`"${'y'.repeat(256)}"`, /at most 255/],
    ['"open', /does not close/],
    ['"a" junk', /nothing after it/],
  ] as const) {
    const res = await api.send('POST', '/api/tickets', ticketBody('Bad Keys'), withKey(key));
    t.is(res.status, 400, key);
    t.regex(res.json.error, pattern, key);
  }
  // Not a header a client can send through fetch: straight from the form field instead.
  const browser = await signedInClient(app.url, tech.username);
  const csrf = await browser.csrfFrom('/tickets/new');
  const form = {
    _csrf: csrf,
    assigned_to_id: approver.id,
    location: 'Bad Keys',
    'items[0][cable_type]': 'Cat6',
    'items[0][cable_length]': '1m',
    'items[0][quantity]': 1,
  };
  t.is((await browser.postForm('/tickets', { ...form, idempotency_key: '' })).status, 400);
  t.is((await browser.postForm('/tickets', { ...form, idempotency_key: 'clé' })).status, 400);
  const twoKeys = await browser.postForm('/tickets', { ...form, idempotency_key: 'one' }, withKey('two'));
  t.is(twoKeys.status, 400);
  t.regex(twoKeys.text, /name different keys/);
  // Exactly 255 is fine.
  t.is((await api.send('POST', '/api/tickets', ticketBody('Bad Keys'), withKey('z'.repeat(255)))).status, 201);
  t.is(await ticketsAt('Bad Keys'), 1);
});

test('two requests with one key at once: one runs, the other is 409 or the replay, and one ticket exists', async (t) => {
  for (let round = 0; round < 8; round++) {
    const key = randomUUID();
    const location = `Race Room ${round}`;
    const replies = await Promise.all([1, 2, 3].map(() => api.send('POST', '/api/tickets', ticketBody(location), withKey(key))));
    const statuses = replies.map((r) => `${r.status}${r.headers.get('idempotent-replayed') ? 'r' : ''}`).sort();
    t.log(statuses.join(' '));
    const fresh = replies.filter((r) => r.status === 201 && r.headers.get('idempotent-replayed') === null);
    t.is(fresh.length, 1, `round ${round}: ${statuses}`);
    for (const r of replies) {
      if (r.status === 409) {
        t.regex(r.json.error, /still being processed/);
        t.is(r.headers.get('retry-after'), '1');
      } else {
        t.is(r.status, 201, r.text);
        t.is(r.json.ticket.id, fresh[0]?.json.ticket.id);
      }
    }
    t.is(await ticketsAt(location), 1, `round ${round}`);
  }
});

test.serial('a repeat while the first is still running is 409; after the lease, the same request takes it over', async (t) => {
  const key = randomUUID();
  // The first request's claim, as a request still running holds it (written through the app's own route first).
  t.is((await api.send('POST', '/api/tickets', ticketBody('Lease Lane'), withKey(key))).status, 201);
  const row = await app.db('idempotency_keys').where({ key }).first();
  await app
    .db('idempotency_keys')
    .where({ id: row.id })
    .update({ response_status: null, response_headers: null, response_body: null, started_at: new Date().toISOString() });
  const busy = await api.send('POST', '/api/tickets', ticketBody('Lease Lane'), withKey(key));
  t.is(busy.status, 409);
  t.is(await ticketsAt('Lease Lane'), 1);
  // Its process stopped long ago: the retry runs (the case the README names).
  await app
    .db('idempotency_keys')
    .where({ id: row.id })
    .update({ started_at: new Date(Date.now() - RUNNING_LEASE_MS - 1000).toISOString() });
  const retaken = await api.send('POST', '/api/tickets', ticketBody('Lease Lane'), withKey(key));
  t.is(retaken.status, 201);
  t.is(retaken.headers.get('idempotent-replayed'), null);
  t.is(
    (await api.send('POST', '/api/tickets', ticketBody('Lease Lane'), withKey(key))).headers.get('idempotent-replayed'),
    'true',
  );
});

test('a refusal is not kept: the corrected request runs with the same key', async (t) => {
  const key = randomUUID();
  const refused = await api.send('POST', '/api/tickets', { ...ticketBody('Fixed Later'), assigned_to_id: 999_999 }, withKey(key));
  t.is(refused.status, 400, refused.text);
  t.is(await app.db('idempotency_keys').where({ key }).first(), undefined);
  const fixed = await api.send('POST', '/api/tickets', ticketBody('Fixed Later'), withKey(key));
  t.is(fixed.status, 201);
  t.is(await ticketsAt('Fixed Later'), 1);
});

test('a form without JavaScript carries a fresh key in a hidden field; a resubmission gets the first 303', async (t) => {
  const browser = await signedInClient(app.url, tech.username);
  const page = await browser.get('/tickets/new');
  const keys = page.$('form.ticket-form input[name=idempotency_key]');
  t.is(keys.length, 1);
  const key = String(keys.val());
  t.regex(key, /^[0-9a-f-]{36}$/);
  t.not(String((await browser.get('/tickets/new')).$('input[name=idempotency_key]').val()), key, 'each form gets its own');
  const fields = {
    _csrf: String(page.$('input[name=_csrf]').val()),
    idempotency_key: key,
    assigned_to_id: approver.id,
    location: 'Form Floor',
    'items[0][cable_type]': 'Cat6',
    'items[0][cable_length]': '100ft',
    'items[0][quantity]': 1,
  };
  const first = await browser.postForm('/tickets', fields);
  t.is(first.status, 303);
  t.regex(first.headers.get('location') ?? '', /^\/tickets\/\d+$/);
  // A second tap (or the browser resending after a dropped connection), with a newer CSRF token.
  const second = await browser.postForm('/tickets', { ...fields, _csrf: await browser.csrfFrom('/tickets/new') });
  t.is(second.status, 303);
  t.is(second.headers.get('location'), first.headers.get('location'));
  t.is(second.headers.get('idempotent-replayed'), 'true');
  t.is(second.headers.get('set-cookie'), null, 'no session cookie is replayed');
  t.is(await ticketsAt('Form Floor'), 1);
  // "Add another item" without JavaScript posts the form back: shown again, nothing kept.
  const grown = await browser.postForm('/tickets', { ...fields, idempotency_key: randomUUID(), add_item: '1' });
  t.is(grown.status, 200);
  t.is(grown.$('.item-row').length, 2);
  t.is(
    await app
      .db('idempotency_keys')
      .where({ caller: `user:${tech.id}` })
      .whereIn('key', [String(grown.$('input[name=idempotency_key]').val())])
      .first(),
    undefined,
  );
});

test('the forms that create or decide something render the key field', async (t) => {
  const browser = await signedInClient(app.url, approver.username);
  const boss = await signedInClient(app.url, admin.username);
  const ticket = await (await tokenClient(app.url, tech.username)).send('POST', '/api/tickets', ticketBody('Forms Field'));
  const id = ticket.json.ticket.id;
  // Waiting for approval: the decision form; approved: the buttons that move it on.
  const pending = await browser.get(`/tickets/${id}`);
  t.is(pending.$(`form[action="/tickets/${id}/decision"] input[name=idempotency_key]`).length, 1);
  await browser.submit(`/tickets/${id}`, `/tickets/${id}/decision`, { decision: 'approve' });
  const ticketPage = await browser.get(`/tickets/${id}`);
  const statusForms = ticketPage.$(`form[action="/tickets/${id}/status"]`);
  t.true(statusForms.length >= 2);
  statusForms.each((_, form) => t.is(ticketPage.$(form).find('input[name=idempotency_key]').length, 1));
  for (const [client, path, selector] of [
    [browser, '/', 'form.ticket-form'],
    [browser, '/optics', 'form.optics-form'],
    [boss, '/inventory/receiving', 'form.receipt-form'],
    [boss, '/inventory/adjustments', 'form.adjust-form'],
  ] as const) {
    const res = await client.get(path);
    t.is(res.$(`${selector} input[name=idempotency_key]`).length, 1, path);
  }
});

test('status moves, review-link decisions and receiving replay; nothing happens twice', async (t) => {
  const creatorApi = await tokenClient(app.url, tech.username);
  const approverApi = await tokenClient(app.url, approver.username);
  const { ticket } = (await creatorApi.send('POST', '/api/tickets', ticketBody('Decide Once'))).json;
  const key = randomUUID();
  const approve = await approverApi.send('PATCH', `/api/tickets/${ticket.id}`, { status: 'approved' }, withKey(key));
  t.is(approve.status, 200, approve.text);
  const again = await approverApi.send('PATCH', `/api/tickets/${ticket.id}`, { status: 'approved' }, withKey(key));
  t.is(again.status, 200);
  t.is(again.headers.get('idempotent-replayed'), 'true');
  const events = await app.db('ticket_events').where({ ticket_id: ticket.id, event_type: 'status_changed' });
  t.is(events.length, 1);
  // The same user through a session: the same caller, so the same key is the same request.
  const session = await signedInClient(app.url, approver.username);
  const sameKey = await session.send(
    'PATCH',
    `/api/tickets/${ticket.id}`,
    { status: 'approved' },
    { ...withKey(key), 'x-csrf-token': await session.csrfFrom('/') },
  );
  t.is(sameKey.headers.get('idempotent-replayed'), 'true');

  // A review link, no session: its path is the caller.
  const created = await creatorApi.send('POST', '/api/tickets', ticketBody('Link Once'));
  const link = await app.db('tickets').where({ id: created.json.ticket.id }).first();
  t.truthy(link);
  const outbox = await app.db('notifications').where({ ticket_id: created.json.ticket.id, channel: 'email' }).first();
  const reviewPath = /\/tickets\/\d+\/review\/[A-Za-z0-9_-]+/.exec(outbox.body_text)?.[0];
  t.truthy(reviewPath);
  const anonymous = new Client(app.url);
  const linkKey = randomUUID();
  const decided = await anonymous.postForm(reviewPath as string, { decision: 'approve', idempotency_key: linkKey });
  t.is(decided.status, 200);
  const decidedAgain = await anonymous.postForm(reviewPath as string, { decision: 'approve', idempotency_key: linkKey });
  t.is(decidedAgain.status, 200);
  t.is(decidedAgain.headers.get('idempotent-replayed'), 'true');
  t.is(decidedAgain.headers.get('cache-control'), 'no-store', 'the review page keeps its headers');
  t.is(decidedAgain.text, decided.text);
  t.is(
    await app
      .db('idempotency_keys')
      .where({ key: linkKey })
      .first()
      .then((r) => r.caller.startsWith('link:')),
    true,
  );
  // The seed's JSON link route too.
  const other = await creatorApi.send('POST', '/api/tickets', ticketBody('Link Once JSON'));
  const otherMail = await app.db('notifications').where({ ticket_id: other.json.ticket.id, channel: 'email' }).first();
  const token = /\/review\/([A-Za-z0-9_-]+)/.exec(otherMail.body_text)?.[1];
  const jsonKey = randomUUID();
  const rejectPath = `/api/tickets/${other.json.ticket.id}/reject/${token}`;
  const rejected = await anonymous.send('POST', rejectPath, { reason: 'no stock' }, withKey(jsonKey));
  t.is(rejected.status, 200, rejected.text);
  const rejectedAgain = await anonymous.send('POST', rejectPath, { reason: 'no stock' }, withKey(jsonKey));
  t.is(rejectedAgain.headers.get('idempotent-replayed'), 'true');
  t.deepEqual(rejectedAgain.json, rejected.json);
  t.is((await anonymous.send('POST', rejectPath, { reason: 'other words' }, withKey(jsonKey))).status, 422);

  const bossApi = await tokenClient(app.url, admin.username);
  const receiveKey = randomUUID();
  const receipt = { vendor: 'Acme', items: [{ cable_type: 'Cat6 idem', cable_length: '100ft', quantity: 5 }] };
  const received = await bossApi.send('POST', '/api/cable-receiving', receipt, withKey(receiveKey));
  t.is(received.status, 201, received.text);
  t.is(
    (await bossApi.send('POST', '/api/cable-receiving', receipt, withKey(receiveKey))).headers.get('idempotent-replayed'),
    'true',
  );
  const movements = await app.db('inventory_movements').where({ cable_type: 'Cat6 idem' });
  t.is(movements.length, 1);
});

test('keys belong to their caller: two people may use the same key', async (t) => {
  const key = randomUUID();
  const other = await tokenClient(app.url, approver.username);
  const a = await api.send('POST', '/api/tickets', ticketBody('Shared Key'), withKey(key));
  const b = await other.send('POST', '/api/tickets', { ...ticketBody('Shared Key'), assigned_to_id: tech.id }, withKey(key));
  t.is(a.status, 201);
  t.is(b.status, 201);
  t.is(b.headers.get('idempotent-replayed'), null);
  t.not(a.json.ticket.id, b.json.ticket.id);
});

test.serial('sign-in, registration and sign-out are never keyed: each gives its own token', async (t) => {
  const before = await keyRows();
  const key = randomUUID();
  const login = () =>
    new Client(app.url).send('POST', '/api/login', { username: tech.username, password: 'correct horse battery' }, withKey(key));
  const [a, b] = [await login(), await login()];
  t.is(a.status, 200);
  t.is(b.status, 200);
  t.is(b.headers.get('idempotent-replayed'), null);
  t.not(a.json.access_token, b.json.access_token);
  t.is(await keyRows(), before);
});

test.serial('answers that show a secret once are never kept: a personal token, a webhook secret', async (t) => {
  const before = await keyRows();
  const boss = await tokenClient(app.url, admin.username);
  const key = randomUUID();
  const token = () => api.send('POST', '/api/tokens', { name: 'phone', scope: 'read', expires_in_days: 30 }, withKey(key));
  const [a, b] = [await token(), await token()];
  t.is(a.status, 201);
  t.is(b.status, 201);
  t.not(a.json.token, b.json.token, 'each answer is its own, never a kept one');
  const hook = await boss.send(
    'POST',
    '/api/webhooks',
    { url: 'https://hooks.example.test/cable', events: ['ticket.created'] },
    withKey(randomUUID()),
  );
  t.is(hook.status, 201);
  t.is(await keyRows(), before, 'no response holding a secret was stored');
});

test.serial('requests without a key are not keyed at all', async (t) => {
  const before = await keyRows();
  await api.send('POST', '/api/tickets', ticketBody('No Key'));
  await api.send('POST', '/api/tickets', ticketBody('No Key'));
  t.is(await ticketsAt('No Key'), 2);
  t.is(await keyRows(), before);
});

test.serial('keys expire after 24 hours: the clean-up deletes them, and an expired key is a new one', async (t) => {
  const key = randomUUID();
  t.is((await api.send('POST', '/api/tickets', ticketBody('Expiry Road'), withKey(key))).status, 201);
  const row = await app.db('idempotency_keys').where({ key }).first();
  const stored = Date.parse(row.expires_at) - Date.parse(row.started_at);
  t.is(stored, KEY_TTL_MS);
  await deleteExpiredIdempotencyKeys(app.db, new Date(Date.parse(row.expires_at) - 1));
  t.truthy(await app.db('idempotency_keys').where({ key }).first(), 'kept until its expiry');
  // Past its expiry (but not yet cleaned up), it no longer replays.
  await app
    .db('idempotency_keys')
    .where({ id: row.id })
    .update({ expires_at: new Date(Date.now() - 1000).toISOString() });
  const fresh = await api.send('POST', '/api/tickets', ticketBody('Expiry Road'), withKey(key));
  t.is(fresh.headers.get('idempotent-replayed'), null);
  t.is(await ticketsAt('Expiry Road'), 2);
  const renewed = await app.db('idempotency_keys').where({ key }).first();
  t.true((await deleteExpiredIdempotencyKeys(app.db, new Date(Date.parse(renewed.expires_at) + 1))) >= 1);
  t.is(await app.db('idempotency_keys').where({ key }).first(), undefined);
});

test('fuzzed Idempotency-Key headers are 400 or accepted, never a 500', async (t) => {
  let n = 0;
  await fc.assert(
    fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 300 }), async (raw) => {
      const header = raw.replace(/[\r\n\0]/g, '');
      let res: Awaited<ReturnType<Client['send']>>;
      try {
        res = await api.send('POST', '/api/tickets', ticketBody(`Fuzz ${n++ % 5}`), withKey(header));
      } catch {
        return; // a value fetch itself refuses to send (non-Latin-1)
      }
      if (![201, 400, 422].includes(res.status)) throw new Error(`${JSON.stringify(header)}: ${res.status} ${res.text}`);
      if (res.status !== 201 && typeof res.json?.error !== 'string') throw new Error(`no error sentence: ${res.text}`);
    }),
    { seed: FUZZ_SEED, numRuns: Math.ceil(60 * RUNS_FACTOR) },
  );
  t.pass();
});
