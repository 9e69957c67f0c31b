import test from 'ava';
import fc from 'fast-check';
import { startApp, type TestApp } from './support/app.ts';
import { Client } from './support/client.ts';
import { buildReel, createUser, PASSWORD, tokenClient } from './support/factories.ts';
import { api, FUZZ_SEED, fuzz, fuzzTally, pathSegment } from './support/fuzz.ts';
import { createTicket, driveTo } from './support/tickets.ts';

/**
 * Fuzzing the JSON API of accounts, users, tickets and review links (issue #9 §2): hostile bodies,
 * query strings and path parameters. No 5xx, always `{error, fields?}`, and a rejected request
 * changes no row. Tests run one after another: each compares table snapshots.
 */

let app: TestApp;
let admin: Client;
let anonymous: Client;
const ticketIds: string[] = [];
const tokens: string[] = [];
const userIds: string[] = [];
/** In-progress requests cut from bulk reels, their first item, and the reels there. */
const cutIds: string[] = [];
const cutItems: number[] = [];
const reelCodes: string[] = [];

test.before(async () => {
  // Review links are found in the outbox rows the tickets write; their URL uses APP_URL.
  app = await startApp({ APP_URL: 'https://tickets.example.test' });
  const boss = await createUser(app.db, { username: 'fuzz_admin', role: 'admin' });
  const tech = await createUser(app.db, { username: 'fuzz_tech' });
  const stock = await createUser(app.db, { username: 'fuzz_stock' });
  userIds.push(String(boss.id), String(tech.id), String(stock.id));
  admin = await tokenClient(app.url, boss.username);
  anonymous = new Client(app.url);
  const creator = await tokenClient(app.url, tech.username);
  for (const status of ['pending_approval', 'pending_approval', 'approved', 'in_progress', 'pending_approval']) {
    const ticket = await createTicket(creator, { assigned_to_id: stock.id });
    await driveTo(admin, ticket.id, status);
    ticketIds.push(String(ticket.id));
  }
  const rows = await app.db('notifications').where({ channel: 'email' }).select('body_text');
  for (const row of rows) {
    const match = /\/review\/([A-Za-z0-9_-]{43})/.exec(row.body_text);
    if (match?.[1]) tokens.push(match[1]);
  }
  const deleted = await createTicket(creator, { assigned_to_id: stock.id });
  await admin.send('DELETE', `/api/tickets/${deleted.id}`);
  ticketIds.push(String(deleted.id));
  for (const length of ['400 ft', '150 ft']) reelCodes.push((await buildReel(app, { cable_type: 'Fuzz bulk', length })).code);
  for (let n = 0; n < 3; n++) {
    const cut = await createTicket(creator, {
      assigned_to_id: stock.id,
      items: [{ cable_type: 'Fuzz bulk', cable_length: '100ft', quantity: 2 }],
    });
    await driveTo(admin, cut.id, 'in_progress');
    cutIds.push(String(cut.id));
    cutItems.push(Number((await app.db('ticket_items').where({ ticket_id: cut.id }).first()).id));
  }
});
test.after.always(async () => {
  await app?.close();
});

const id = () => pathSegment(ticketIds);
const ticketPath = (suffix = '') => id().map((i) => `/api/tickets/${i}${suffix}`);
const LIST_QUERY = ['filter', 'status', 'q', 'limit', 'cursor', 'include_deleted'];
const NEW_TICKET = {
  assigned_to_id: 3,
  priority: 'high',
  location: 'Building A',
  notes: 'by the door',
  items: [{ cable_type: 'Cat6', cable_length: '100ft', cable_gauge: '23AWG', quantity: 2 }],
};
const OLD_CLIENT_KEYS = ['cable_type', 'cable_length', 'cable_gauge', 'quantity', 'created_by_id', 'status'];

test.serial('POST /api/login', async (t) => {
  await fuzz(t, app.db, {
    name: 'POST /api/login',
    client: anonymous,
    audience: 'json',
    numRuns: 100,
    requests: api('POST', fc.constant('/api/login'), { body: { username: 'fuzz_tech', password: PASSWORD } }),
  });
});

test.serial('POST /api/register', async (t) => {
  await fuzz(t, app.db, {
    name: 'POST /api/register',
    client: anonymous,
    audience: 'json',
    numRuns: 100,
    requests: api('POST', fc.constant('/api/register'), {
      body: { username: 'fuzz_new', email: 'fuzz_new@example.test', phone: '+12025550199', password: PASSWORD, role: 'admin' },
    }),
  });
});

test.serial('POST /api/logout (anonymous)', async (t) => {
  await fuzz(t, app.db, {
    name: 'POST /api/logout',
    client: anonymous,
    audience: 'json',
    numRuns: 30,
    requests: api('POST', fc.constant('/api/logout'), { body: {} }),
  });
});

test.serial('GET /api/users and /api/users/:id', async (t) => {
  await fuzz(t, app.db, {
    name: 'GET /api/users[/:id]',
    client: admin,
    audience: 'json',
    numRuns: 150,
    requests: fc.oneof(
      api('GET', fc.constant('/api/users'), { query: ['limit', 'cursor'] }),
      api(
        'GET',
        pathSegment(userIds).map((i) => `/api/users/${i}`),
      ),
    ),
  });
});

test.serial('PATCH /api/users/:id/role', async (t) => {
  await fuzz(t, app.db, {
    name: 'PATCH /api/users/:id/role',
    client: admin,
    audience: 'json',
    numRuns: 150,
    requests: api(
      'PATCH',
      pathSegment([userIds[2] as string]).map((i) => `/api/users/${i}/role`),
      { body: { role: 'user' } },
    ),
  });
});

test.serial('GET /api/tickets and /api/dashboard/stats', async (t) => {
  await fuzz(t, app.db, {
    name: 'GET /api/tickets, /api/dashboard/stats',
    client: admin,
    audience: 'json',
    numRuns: 250,
    requests: fc.oneof(
      { arbitrary: api('GET', fc.constant('/api/tickets'), { query: LIST_QUERY }), weight: 4 },
      { arbitrary: api('GET', fc.constant('/api/dashboard/stats'), { query: LIST_QUERY }), weight: 1 },
    ),
  });
});

test.serial('POST /api/tickets', async (t) => {
  await fuzz(t, app.db, {
    name: 'POST /api/tickets',
    client: admin,
    audience: 'json',
    numRuns: 300,
    requests: api('POST', fc.constant('/api/tickets'), { body: NEW_TICKET, extraKeys: OLD_CLIENT_KEYS }),
  });
});

test.serial('GET /api/tickets/:id', async (t) => {
  await fuzz(t, app.db, {
    name: 'GET /api/tickets/:id',
    client: admin,
    audience: 'json',
    numRuns: 150,
    requests: api('GET', ticketPath(), { query: ['include_deleted'] }),
  });
});

test.serial('PATCH /api/tickets/:id (status changes and edits)', async (t) => {
  await fuzz(t, app.db, {
    name: 'PATCH /api/tickets/:id',
    client: admin,
    audience: 'json',
    numRuns: 300,
    requests: fc.oneof(
      api('PATCH', ticketPath(), { body: { status: 'approved', reason: 'ok' }, extraKeys: ['rejection_reason', 'note'] }),
      api('PATCH', ticketPath(), { body: { location: 'Moved', notes: 'n', priority: 'low' }, extraKeys: OLD_CLIENT_KEYS }),
      api('PATCH', ticketPath(), { body: { items: NEW_TICKET.items, assigned_to_id: 3 } }),
    ),
  });
});

test.serial('PATCH /api/tickets/:id to fulfilled with cuts from reels', async (t) => {
  await fuzz(t, app.db, {
    name: 'PATCH /api/tickets/:id {status: fulfilled, cuts}',
    client: admin,
    audience: 'json',
    numRuns: 200,
    requests: fc.oneof(
      api(
        'PATCH',
        pathSegment(cutIds).map((i) => `/api/tickets/${i}`),
        {
          body: {
            status: 'fulfilled',
            cuts: [{ item_id: cutItems[0], piece: 1, reel_code: reelCodes[1] }],
          },
          extraKeys: ['note'],
        },
      ),
      fc
        .tuple(
          fc.constantFrom(...cutIds),
          fc.constantFrom(...cutItems),
          fc.integer({ min: -1, max: 3 }),
          fc.oneof(fc.constantFrom(...reelCodes, 'R-000000', ''), fc.string({ maxLength: 25 })),
        )
        .map(([i, item, piece, code]) => ({
          method: 'PATCH',
          path: `/api/tickets/${i}`,
          body: JSON.stringify({ status: 'fulfilled', cuts: [{ item_id: item, piece, reel_code: code }] }),
          contentType: 'application/json',
        })),
    ),
  });
  // Whatever was sent, no reel went below zero and every reel is its movements.
  for (const reel of await app.db('reels').where({ sku_key: 'fuzz bulk|' })) {
    const moved = await app.db('inventory_movements').where({ reel_id: reel.id }).sum({ n: 'quantity_delta' }).first();
    t.true(Number(reel.remaining_mm) >= 0);
    t.is(Number(reel.remaining_mm), Number(moved?.n));
  }
});

test.serial('POST /api/tickets/:id/offcuts/keep', async (t) => {
  const kept = await app.db('reel_offcut_keeps').count({ n: '*' }).first();
  await fuzz(t, app.db, {
    name: 'POST /api/tickets/:id/offcuts/keep',
    client: admin,
    audience: 'json',
    numRuns: 200,
    requests: fc.oneof(
      api(
        'POST',
        pathSegment([...cutIds, ...ticketIds]).map((i) => `/api/tickets/${i}/offcuts/keep`),
        { body: { reel_code: reelCodes[1] as string }, extraKeys: ['reason'] },
      ),
      fc
        .tuple(
          fc.constantFrom(...cutIds, ...ticketIds),
          fc.oneof(fc.constantFrom(...reelCodes, 'r-000001', 'R-000000', ''), fc.string({ maxLength: 25 })),
        )
        .map(([i, code]) => ({
          method: 'POST',
          path: `/api/tickets/${i}/offcuts/keep`,
          body: JSON.stringify({ reel_code: code }),
          contentType: 'application/json',
        })),
    ),
  });
  // A keep is a decision per request and reel: whatever was sent, at most one per pair, only reels the request cut.
  const rows = await app.db('reel_offcut_keeps').select('ticket_id', 'reel_id');
  t.true(rows.length > Number(kept?.n ?? 0), 'some keep went through');
  t.is(new Set(rows.map((r) => `${r.ticket_id}:${r.reel_id}`)).size, rows.length);
  for (const row of rows) {
    const items = app.db('ticket_items').where({ ticket_id: row.ticket_id }).select('id');
    const cut = await app
      .db('inventory_movements')
      .where({ source_type: 'ticket_cut', reel_id: row.reel_id })
      .whereIn('source_id', items)
      .first();
    t.truthy(cut, `request ${row.ticket_id} cut reel ${row.reel_id}`);
  }
});

test.serial('DELETE /api/tickets/:id, restore and purge', async (t) => {
  await fuzz(t, app.db, {
    name: 'DELETE /api/tickets/:id, POST …/restore, DELETE …/purge',
    client: admin,
    audience: 'json',
    numRuns: 200,
    requests: fc.oneof(
      api('DELETE', ticketPath(), { body: {} }),
      api('POST', ticketPath('/restore'), { body: {} }),
      api('DELETE', ticketPath('/purge'), { body: {} }),
    ),
  });
});

test.serial('the JSON review links (approve / reject by token)', async (t) => {
  const linkPath = (verb: string) =>
    fc
      .tuple(id(), fc.oneof({ arbitrary: fc.constantFrom(...tokens), weight: 1 }, { arbitrary: pathSegment(), weight: 3 }))
      .map(([i, token]) => `/api/tickets/${i}/${verb}/${token}`);
  await fuzz(t, app.db, {
    name: 'GET|POST /api/tickets/:id/approve|reject/:token',
    client: anonymous,
    audience: 'json',
    numRuns: 300,
    requests: fc.oneof(
      api('GET', linkPath('approve'), { query: ['reason'] }),
      api('POST', linkPath('approve'), { query: ['reason'], body: { reason: 'ok' } }),
      api('GET', linkPath('reject'), { query: ['reason'] }),
      api('POST', linkPath('reject'), { query: ['reason'], body: { reason: 'no', rejection_reason: 'no' } }),
    ),
  });
});

test.serial('unknown API paths and methods', async (t) => {
  await fuzz(t, app.db, {
    name: 'unknown /api paths',
    client: admin,
    audience: 'json',
    numRuns: 100,
    requests: fc
      .record({
        method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'),
        path: fc.array(pathSegment(['tickets', 'users', 'api', 'review', 'approve']), { minLength: 1, maxLength: 4 }),
      })
      .map(({ method, path }) => ({ method, path: `/api/${path.join('/')}`, body: method === 'GET' ? undefined : '{}' }))
      .map((r) => ({ ...r, contentType: r.body ? 'application/json' : undefined })),
  });
});

test.after('figures', (t) => {
  t.log(`${fuzzTally.cases} cases over ${fuzzTally.endpoints} endpoint groups (seed ${FUZZ_SEED})`);
});
