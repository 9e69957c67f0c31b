import test from 'ava';
import { isPostgres } from '../src/db/index.ts';
import { SHORT_SEARCH_WINDOW } from '../src/features/tickets/search.ts';
import type { PublicUserRow } from '../src/features/users/queries.ts';
import { startApp, type TestApp } from './support/app.ts';
import { Client } from './support/client.ts';
import { buildCast, createUser, signedInClient, tokenClient } from './support/factories.ts';
import { createTicket, driveTo, PATHS, withoutCuts } from './support/tickets.ts';

let app: TestApp;
let creator: Client;
let assignee: Client;
let other: Client;
let admin: Client;
let anonymous: Client;
let assigneeUser: PublicUserRow;
let creatorUser: PublicUserRow;

const STATUSES = Object.keys(PATHS);
const LEGAL: Record<string, string[]> = {
  pending_approval: ['approved', 'rejected'],
  approved: ['in_progress', 'closed'],
  rejected: ['closed'],
  in_progress: ['fulfilled', 'closed'],
  fulfilled: ['closed'],
  closed: [],
};

test.before(async () => {
  app = await startApp();
  const cast = await buildCast(app, { boss: { role: 'admin' }, tech: {}, stock: {}, bystander: {} });
  ({ user: creatorUser, api: creator } = cast.tech);
  ({ user: assigneeUser, api: assignee } = cast.stock);
  other = cast.bystander.api;
  admin = cast.boss.api;
  anonymous = new Client(app.url);
});
test.after.always(async () => {
  await app?.close();
});

const countTickets = async () => Number((await app.db('tickets').count({ n: '*' }).first())?.n);
const newTicket = (extra = {}) => createTicket(creator, { assigned_to_id: assigneeUser.id, ...extra });

test('creating a ticket with items returns the documented JSON shape, without any token', async (t) => {
  const res = await creator.send('POST', '/api/tickets', {
    assigned_to_id: assigneeUser.id,
    priority: 'high',
    location: 'Building B',
    notes: 'Rack 4',
    created_by_id: assigneeUser.id,
    favourite_colour: 'blue',
    items: [
      { cable_type: 'Cat6', cable_length: '100ft', cable_gauge: '23AWG', quantity: 3 },
      { cable_type: 'OM4 fibre', cable_length: '10m', quantity: '2' },
    ],
  });
  t.is(res.status, 201);
  t.is(res.headers.get('location'), `/api/tickets/${res.json.ticket.id}`);
  const ticket = res.json.ticket;
  t.deepEqual(Object.keys(ticket).sort(), [
    'assigned_to',
    'assigned_to_id',
    'cable_gauge',
    'cable_length',
    'cable_type',
    'created_at',
    'created_by',
    'created_by_id',
    'deleted_at',
    'deleted_by_id',
    'id',
    'items',
    'location',
    'notes',
    'priority',
    'quantity',
    'rejection_reason',
    'source_location_id',
    'status',
    'updated_at',
  ]);
  t.is(ticket.status, 'pending_approval');
  t.is(ticket.priority, 'high');
  t.deepEqual(ticket.created_by, { id: creatorUser.id, username: 'tech' }, 'created_by_id in the body is ignored');
  t.deepEqual(ticket.assigned_to, { id: assigneeUser.id, username: 'stock' });
  // Each item has its id (for approving with changes) and, until a decision, no approved quantity.
  const [first, second] = ticket.items.map((i: { id: number }) => i.id);
  t.true(Number.isInteger(first) && Number.isInteger(second) && first !== second);
  t.deepEqual(ticket.items, [
    {
      id: first,
      cable_type: 'Cat6',
      cable_length: '100ft',
      cable_gauge: '23AWG',
      quantity: 3,
      approved_quantity: null,
      approval_note: null,
    },
    {
      id: second,
      cable_type: 'OM4 fibre',
      cable_length: '10m',
      cable_gauge: null,
      quantity: 2,
      approved_quantity: null,
      approval_note: null,
    },
  ]);
  t.is(ticket.cable_type, 'Cat6');
  t.is(ticket.quantity, 3);
  t.regex(ticket.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  t.false(res.text.includes('token'));
  const one = await creator.send('GET', `/api/tickets/${ticket.id}`);
  t.is(one.status, 200);
  t.false(one.text.includes('token'));
  t.is(one.json.events.length, 1);
  t.like(one.json.events[0], { type: 'created', actor: { id: creatorUser.id, username: 'tech' }, to_status: 'pending_approval' });
});

test('the legacy single-item fields still create a ticket, quantity defaulting to 1', async (t) => {
  const res = await creator.send('POST', '/api/tickets', {
    assigned_to_id: assigneeUser.id,
    cable_type: 'Cat5e',
    cable_length: '50ft',
    cable_gauge: '24AWG',
    location: 'Warehouse',
  });
  t.is(res.status, 201);
  t.like(res.json.ticket, { cable_type: 'Cat5e', cable_length: '50ft', cable_gauge: '24AWG', quantity: 1, priority: 'medium' });
  t.is(res.json.ticket.items.length, 1);
});

const BAD_CREATES: [string, Record<string, unknown>, string][] = [
  ['location missing', { location: undefined }, 'location'],
  ['location blank', { location: '   ' }, 'location'],
  ['location too long', { location: 'x'.repeat(201) }, 'location'],
  ['notes too long', { notes: 'x'.repeat(2001) }, 'notes'],
  ['notes not text', { notes: { a: 1 } }, 'notes'],
  ['assignee missing', { assigned_to_id: undefined }, 'assigned_to_id'],
  ['assignee not a number', { assigned_to_id: 'abc' }, 'assigned_to_id'],
  ['assignee unknown', { assigned_to_id: 999999 }, 'assigned_to_id'],
  ['priority unknown', { priority: 'whenever' }, 'priority'],
  ['items empty', { items: [] }, 'items'],
  ['items not a list', { items: 'Cat6' }, 'items'],
  ['too many items', { items: Array.from({ length: 51 }, () => ({ cable_type: 'a', cable_length: 'b' })) }, 'items'],
  ['quantity zero', { items: [{ cable_type: 'Cat6', cable_length: '1m', quantity: 0 }] }, 'items.0.quantity'],
  ['quantity negative', { items: [{ cable_type: 'Cat6', cable_length: '1m', quantity: -1 }] }, 'items.0.quantity'],
  ['quantity fractional', { items: [{ cable_type: 'Cat6', cable_length: '1m', quantity: 1.5 }] }, 'items.0.quantity'],
  ['quantity text', { items: [{ cable_type: 'Cat6', cable_length: '1m', quantity: 'abc' }] }, 'items.0.quantity'],
  ['quantity huge', { items: [{ cable_type: 'Cat6', cable_length: '1m', quantity: 1e12 }] }, 'items.0.quantity'],
  ['cable type too long', { items: [{ cable_type: 'x'.repeat(101), cable_length: '1m' }] }, 'items.0.cable_type'],
  [
    'second item without length',
    { items: [{ cable_type: 'a', cable_length: 'b' }, { cable_type: 'c' }] },
    'items.1.cable_length',
  ],
  ['legacy without cable type', { items: undefined, cable_length: '5m' }, 'cable_type'],
];

for (const [name, patch, field] of BAD_CREATES) {
  test.serial(`create: ${name} is a 400 naming ${field}, and nothing is stored`, async (t) => {
    const before = await countTickets();
    const body = {
      assigned_to_id: assigneeUser.id,
      location: 'Somewhere',
      items: [{ cable_type: 'Cat6', cable_length: '1m', quantity: 1 }],
      ...patch,
    };
    const res = await creator.send('POST', '/api/tickets', body);
    t.is(res.status, 400);
    t.true(field in res.json.fields, `fields: ${JSON.stringify(res.json.fields)}`);
    t.true(res.json.error.includes(field), res.json.error);
    t.is(await countTickets(), before);
  });
}

test('create: a body that is a list, or not JSON, is a 400', async (t) => {
  t.is((await creator.send('POST', '/api/tickets', [1, 2])).status, 400);
  const raw = await creator.request('POST', '/api/tickets', {
    body: '{"location":',
    headers: { 'content-type': 'application/json' },
  });
  t.is(raw.status, 400);
  t.deepEqual(Object.keys(raw.json), ['error']);
});

test('reading and writing tickets needs a signed-in caller', async (t) => {
  const ticket = await newTicket();
  for (const [method, path] of [
    ['GET', '/api/tickets'],
    ['GET', '/api/tickets?status=bogus&limit=0'],
    ['POST', '/api/tickets'],
    ['GET', `/api/tickets/${ticket.id}`],
    ['PATCH', `/api/tickets/${ticket.id}`],
    ['DELETE', `/api/tickets/${ticket.id}`],
    ['POST', `/api/tickets/${ticket.id}/restore`],
    ['DELETE', `/api/tickets/${ticket.id}/purge`],
    ['GET', '/api/dashboard/stats'],
  ] as const) {
    const res = await anonymous.send(method, path, method === 'GET' ? undefined : {});
    t.is(res.status, 401, `${method} ${path}`);
    t.is(typeof res.json.error, 'string');
  }
});

test('GET of a missing ticket is 404, of a bad id 400', async (t) => {
  t.is((await creator.send('GET', '/api/tickets/999999')).status, 404);
  const bad = await creator.send('GET', '/api/tickets/abc');
  t.is(bad.status, 400);
  t.true('id' in bad.json.fields);
});

for (const from of STATUSES) {
  for (const to of STATUSES) {
    const legal = LEGAL[from]?.includes(to) ?? false;
    test(`transition ${from} -> ${to} is ${legal ? 'allowed' : 'refused with 409'}`, async (t) => {
      const ticket = await newTicket();
      await driveTo(admin, ticket.id, from);
      const res = await admin.send('PATCH', `/api/tickets/${ticket.id}`, { status: to });
      t.is(res.status, legal ? 200 : 409, res.text);
      const now = await admin.send('GET', `/api/tickets/${ticket.id}`);
      t.is(now.json.status, legal ? to : from);
      if (!legal) t.regex(res.json.error, /cannot move/);
    });
  }
}

test('an unknown status is 400, not 409', async (t) => {
  const ticket = await newTicket();
  const res = await assignee.send('PATCH', `/api/tickets/${ticket.id}`, { status: 'teleported' });
  t.is(res.status, 400);
  t.true('status' in res.json.fields);
  t.is((await assignee.send('PATCH', `/api/tickets/${ticket.id}`, { status: 'deleted' })).status, 400);
  t.is((await assignee.send('PATCH', `/api/tickets/${ticket.id}`, {})).status, 400);
  t.is((await assignee.send('PATCH', `/api/tickets/${ticket.id}`, { status: 'approved', location: 'x' })).status, 400);
});

test('approve and the work states: assignee and admin only', async (t) => {
  const ticket = await newTicket();
  t.is((await creator.send('PATCH', `/api/tickets/${ticket.id}`, { status: 'approved' })).status, 403);
  t.is((await other.send('PATCH', `/api/tickets/${ticket.id}`, { status: 'approved' })).status, 403);
  t.is((await assignee.send('PATCH', `/api/tickets/${ticket.id}`, { status: 'approved' })).status, 200);
  t.is((await creator.send('PATCH', `/api/tickets/${ticket.id}`, { status: 'in_progress' })).status, 403);
  t.is((await admin.send('PATCH', `/api/tickets/${ticket.id}`, { status: 'in_progress' })).status, 200);
  t.is((await other.send('PATCH', `/api/tickets/${ticket.id}`, { status: 'fulfilled' })).status, 403);
  t.is((await assignee.send('PATCH', `/api/tickets/${ticket.id}`, { status: 'fulfilled' })).status, 200);
  const events = (await creator.send('GET', `/api/tickets/${ticket.id}`)).json.events;
  t.deepEqual(
    events.map((e: { type: string; to_status: string; actor: { username: string } }) => [e.type, e.to_status, e.actor.username]),
    [
      ['created', 'pending_approval', 'tech'],
      ['status_changed', 'approved', 'stock'],
      ['status_changed', 'in_progress', 'boss'],
      ['status_changed', 'fulfilled', 'stock'],
    ],
  );
});

test('a rejection keeps its reason', async (t) => {
  const ticket = await newTicket();
  const res = await assignee.send('PATCH', `/api/tickets/${ticket.id}`, { status: 'rejected', rejection_reason: 'Out of stock' });
  t.is(res.status, 200);
  t.is(res.json.ticket.rejection_reason, 'Out of stock');
  const events = (await creator.send('GET', `/api/tickets/${ticket.id}`)).json.events;
  t.is(events.at(-1).note, 'Out of stock');
});

test('edits: the creator or an admin, only while pending', async (t) => {
  const ticket = await newTicket();
  const edit = { location: 'Building C', items: [{ cable_type: 'Cat6A', cable_length: '30ft', quantity: 4 }] };
  t.is((await assignee.send('PATCH', `/api/tickets/${ticket.id}`, edit)).status, 403);
  t.is((await other.send('PATCH', `/api/tickets/${ticket.id}`, edit)).status, 403);
  const ok = await creator.send('PATCH', `/api/tickets/${ticket.id}`, edit);
  t.is(ok.status, 200);
  t.like(ok.json.ticket, { location: 'Building C', cable_type: 'Cat6A', quantity: 4 });
  t.is(ok.json.ticket.items.length, 1);
  const byAdmin = await admin.send('PATCH', `/api/tickets/${ticket.id}`, { priority: 'urgent', notes: 'asap' });
  t.is(byAdmin.status, 200);
  t.like(byAdmin.json.ticket, { priority: 'urgent', notes: 'asap', location: 'Building C' });
  const badEdit = await creator.send('PATCH', `/api/tickets/${ticket.id}`, { location: '', items: [] });
  t.is(badEdit.status, 400);
  t.true('location' in badEdit.json.fields && 'items' in badEdit.json.fields);
  const unknownAssignee = await creator.send('PATCH', `/api/tickets/${ticket.id}`, { assigned_to_id: 999999 });
  t.is(unknownAssignee.status, 400);
  const events = (await creator.send('GET', `/api/tickets/${ticket.id}`)).json.events;
  t.deepEqual(
    events.map((e: { type: string }) => e.type),
    ['created', 'edited', 'edited'],
  );
  await assignee.send('PATCH', `/api/tickets/${ticket.id}`, { status: 'approved' });
  const late = await creator.send('PATCH', `/api/tickets/${ticket.id}`, { location: 'Too late' });
  t.is(late.status, 409);
  t.is((await creator.send('GET', `/api/tickets/${ticket.id}`)).json.location, 'Building C');
});

test('soft delete, restore to the status it had, and purge follow the 403/404/409/410 rules', async (t) => {
  const ticket = await newTicket();
  await driveTo(assignee, ticket.id, 'in_progress');
  t.is((await assignee.send('DELETE', `/api/tickets/${ticket.id}`)).status, 403);
  t.is((await other.send('DELETE', `/api/tickets/${ticket.id}`)).status, 403);
  t.is((await creator.send('DELETE', `/api/tickets/${ticket.id}/purge`)).status, 403);
  t.is((await admin.send('DELETE', `/api/tickets/${ticket.id}/purge`)).status, 409, 'purge needs a soft delete first');
  t.is((await creator.send('POST', `/api/tickets/${ticket.id}/restore`)).status, 409, 'not deleted');

  t.is((await creator.send('DELETE', `/api/tickets/${ticket.id}`)).status, 200);
  t.is((await creator.send('DELETE', `/api/tickets/${ticket.id}`)).status, 410);
  t.is((await creator.send('GET', `/api/tickets/${ticket.id}`)).status, 410);
  const withDeleted = await creator.send('GET', `/api/tickets/${ticket.id}?include_deleted=true`);
  t.is(withDeleted.status, 200);
  t.is(withDeleted.json.status, 'deleted');
  t.truthy(withDeleted.json.deleted_at);
  t.is(withDeleted.json.deleted_by_id, creatorUser.id);
  t.is((await assignee.send('PATCH', `/api/tickets/${ticket.id}`, { status: 'fulfilled' })).status, 410);
  t.is((await creator.send('PATCH', `/api/tickets/${ticket.id}`, { location: 'x' })).status, 410);

  const list = await creator.send('GET', '/api/tickets?limit=200');
  t.false(list.json.some((x: { id: number }) => x.id === ticket.id));
  const listAll = await creator.send('GET', '/api/tickets?limit=200&include_deleted=true');
  t.true(listAll.json.some((x: { id: number }) => x.id === ticket.id));

  t.is((await other.send('POST', `/api/tickets/${ticket.id}/restore`)).status, 403);
  const restored = await creator.send('POST', `/api/tickets/${ticket.id}/restore`);
  t.is(restored.status, 200);
  t.is(restored.json.ticket.status, 'in_progress');
  t.is(restored.json.ticket.deleted_at, null);

  await admin.send('DELETE', `/api/tickets/${ticket.id}`);
  t.is((await admin.send('DELETE', `/api/tickets/${ticket.id}/purge`)).status, 200);
  t.is((await admin.send('GET', `/api/tickets/${ticket.id}?include_deleted=true`)).status, 404);
  t.is((await admin.send('DELETE', `/api/tickets/${ticket.id}/purge`)).status, 404);
  t.is(Number((await app.db('ticket_events').where({ ticket_id: ticket.id }).count({ n: '*' }).first())?.n), 0);
  t.is(Number((await app.db('ticket_items').where({ ticket_id: ticket.id }).count({ n: '*' }).first())?.n), 0);
  const events = withDeleted.json.events.map((e: { type: string }) => e.type);
  t.deepEqual(events.slice(-1), ['deleted']);
});

test('stats count each status, leave deleted tickets out of the total and count them as archived', async (t) => {
  const fresh = await startApp();
  try {
    await createUser(fresh.db, { username: 'a1', role: 'admin' });
    const u = await createUser(fresh.db, { username: 'u1' });
    const c = await tokenClient(fresh.url, 'a1');
    const ids: number[] = [];
    for (let i = 0; i < 6; i++) ids.push((await createTicket(c, { assigned_to_id: u.id })).id);
    await driveTo(c, ids[0] as number, 'approved');
    await driveTo(c, ids[1] as number, 'fulfilled');
    await driveTo(c, ids[2] as number, 'rejected');
    await c.send('DELETE', `/api/tickets/${ids[3]}`);
    await c.send('DELETE', `/api/tickets/${ids[4]}`);
    await c.send('POST', `/api/tickets/${ids[4]}/restore`);
    const stats = await c.send('GET', '/api/dashboard/stats');
    t.deepEqual(stats.json, {
      total_tickets: 5,
      pending_approval: 2,
      approved: 1,
      rejected: 1,
      in_progress: 0,
      fulfilled: 1,
      closed: 0,
      archived: 1,
    });
  } finally {
    await fresh.close();
  }
});

test('a search without three letters or digits in a row looks through the newest 10,000 requests', async (t) => {
  const fresh = await startApp();
  try {
    const a = await createUser(fresh.db, { username: 'amy' });
    await createUser(fresh.db, { username: 'ben' });
    const ben = await tokenClient(fresh.url, 'ben');
    const old = await createTicket(ben, { assigned_to_id: a.id, location: 'B2 loading dock' });
    // The next request is numbered as if 10,000 more had been made in between.
    if (isPostgres(fresh.db)) {
      await fresh.db.raw("select setval(pg_get_serial_sequence('tickets', 'id'), ?)", [old.id + SHORT_SEARCH_WINDOW]);
    } else {
      await fresh
        .db('sqlite_sequence')
        .where({ name: 'tickets' })
        .update({ seq: old.id + SHORT_SEARCH_WINDOW });
    }
    const recent = await createTicket(ben, { assigned_to_id: a.id, location: 'B2 riser' });
    t.is(recent.id, old.id + SHORT_SEARCH_WINDOW + 1);
    const ids = async (q: string) =>
      (await ben.send('GET', `/api/tickets?q=${encodeURIComponent(q)}`)).json.map((x: { id: number }) => x.id);
    t.deepEqual(await ids('b2'), [recent.id], 'two characters: the newest 10,000 only');
    t.deepEqual(await ids('B2 '), [recent.id], 'trimmed first');
    t.deepEqual(await ids('b2 loading'), [old.id], 'with a longer word: every request');
    t.deepEqual(await ids('b2 r'), [recent.id]);
    t.deepEqual(await ids('dock'), [old.id]);

    const browser = await signedInClient(fresh.url, 'ben');
    const { $: short } = await browser.get('/?q=b2');
    t.regex(short('#ticket-list .hint').text(), /latest 10,000 requests only/);
    t.deepEqual(
      short('#ticket-list .ticket-link strong')
        .map((_, el) => short(el).text())
        .get(),
      [`#${recent.id}`],
    );
    const { $: long } = await browser.get('/?q=dock');
    t.is(long('#ticket-list .hint').length, 0, 'no note when the search can use every request');
  } finally {
    await fresh.close();
  }
});

test('a search of several words finds exactly the requests holding the whole phrase', async (t) => {
  const fresh = await startApp();
  try {
    const a = await createUser(fresh.db, { username: 'amy' });
    await createUser(fresh.db, { username: 'ben' });
    const ben = await tokenClient(fresh.url, 'ben');
    const make = (location: string, notes?: string) => createTicket(ben, { assigned_to_id: a.id, location, notes });
    const exact = await make('North tower floor 7 room 123');
    const longer = await make('Annex floor 7 room 1234', 'by the lift');
    await make('Annex floor 17 room 123'); // "7 room 123" with another floor
    const prefix = await make('Floor 7 room 12'); // every word but "123"
    await make('Room 123 floor 7'); // the words, in another order
    const across = await make('Depot room 88', 'floor 7 room 123 is next door'); // in the notes
    const ids = async (q: string, extra = '') =>
      (await ben.send('GET', `/api/tickets?q=${encodeURIComponent(q)}${extra}`)).json.map((x: { id: number }) => x.id);
    t.deepEqual(await ids('floor 7 room 123'), [across.id, longer.id, exact.id]);
    t.deepEqual(await ids('FLOOR 7 ROOM 123 '), [across.id, longer.id, exact.id], 'case and trailing space');
    t.deepEqual(await ids('room 1234 by the lift'), [longer.id], 'location and notes are one text');
    t.deepEqual(await ids('7 room 123', '&filter=assigned'), [], 'ben is not the assignee');
    t.deepEqual(await ids('floor 7 room 123', '&filter=mine'), [across.id, longer.id, exact.id]);
    t.deepEqual(await ids('tower floor 7 room 123'), [exact.id]);
    t.deepEqual(await ids('floor 7 room 12'), [across.id, prefix.id, longer.id, exact.id], 'a word may end inside a longer one');
  } finally {
    await fresh.close();
  }
});

test('lists filter by creator, assignee, status and search, newest first', async (t) => {
  const fresh = await startApp();
  try {
    // amy is an admin: only an admin may be their own approver (t3 is self-assigned).
    const a = await createUser(fresh.db, { username: 'amy', role: 'admin' });
    const b = await createUser(fresh.db, { username: 'ben' });
    const [amy, ben] = await Promise.all([tokenClient(fresh.url, 'amy'), tokenClient(fresh.url, 'ben')]);
    const t1 = await createTicket(amy, { assigned_to_id: b.id, location: 'North tower', notes: 'needs 50% by friday' });
    const t2 = await createTicket(ben, {
      assigned_to_id: a.id,
      location: 'South yard',
      items: [{ cable_type: 'Coax RG6', cable_length: '20m' }],
    });
    const t3 = await createTicket(amy, { assigned_to_id: a.id, location: 'East wing' });
    await ben.send('PATCH', `/api/tickets/${t1.id}`, { status: 'approved' });
    const ids = async (client: Client, q: string) =>
      (await client.send('GET', `/api/tickets${q}`)).json.map((x: { id: number }) => x.id);
    t.deepEqual(await ids(amy, ''), [t3.id, t2.id, t1.id]);
    t.deepEqual(await ids(amy, '?filter=mine'), [t3.id, t1.id]);
    t.deepEqual(await ids(amy, '?filter=assigned'), [t3.id, t2.id]);
    t.deepEqual(await ids(ben, '?filter=mine'), [t2.id]);
    t.deepEqual(await ids(amy, '?status=approved'), [t1.id]);
    t.deepEqual(await ids(amy, '?status=pending_approval&filter=mine'), [t3.id]);
    t.deepEqual(await ids(amy, '?q=TOWER'), [t1.id], 'location, case-insensitive');
    t.deepEqual(await ids(amy, '?q=rg6'), [t2.id], 'cable type');
    t.deepEqual(await ids(amy, '?q=50%25'), [t1.id], 'a % is a character, not a wildcard');
    t.deepEqual(await ids(amy, '?q=5_%25'), [], 'an _ is a character too');
    // A person's filter and a search together (on PostgreSQL, planSearch may read the person's tickets).
    t.deepEqual(await ids(amy, '?filter=mine&q=east'), [t3.id]);
    t.deepEqual(await ids(amy, '?filter=mine&q=yard'), [], "ben's request is not amy's");
    t.deepEqual(await ids(amy, '?filter=assigned&q=yard'), [t2.id]);
    t.deepEqual(await ids(ben, '?filter=assigned&q=tower'), [t1.id]);
    t.deepEqual(await ids(ben, '?filter=assigned&q=east'), []);
    t.is((await amy.send('DELETE', `/api/tickets/${t3.id}`)).status, 200);
    t.deepEqual(await ids(amy, '?filter=mine&q=east'), [], 'a deleted request is not listed');
    t.deepEqual(await ids(amy, '?filter=mine&q=east&include_deleted=true'), [t3.id], 'unless asked for');
    t.deepEqual(await ids(amy, '?filter=assigned&q=east&include_deleted=true'), [t3.id]);
    t.is((await amy.send('GET', '/api/tickets?filter=everyone')).status, 400);
    t.is((await amy.send('GET', '/api/tickets?status=lost')).status, 400);
    t.is((await amy.send('GET', '/api/tickets?limit=0')).status, 400);
    t.is((await amy.send('GET', '/api/tickets?limit=abc')).status, 400);
    t.is((await amy.send('GET', '/api/tickets?cursor=-4')).status, 400);
    t.is((await amy.send('GET', '/api/tickets?include_deleted=yes')).status, 400, 'a flag is true or false, not a silent no');
  } finally {
    await fresh.close();
  }
});

test('the answer to a create is the ticket as its own GET shows it', async (t) => {
  for (const spec of [
    { assigned_to_id: assigneeUser.id, location: 'Plain', items: [{ cable_type: 'Cat6', cable_length: '100ft', quantity: 1 }] },
    {
      assigned_to_id: assigneeUser.id,
      location: 'Rack "B" \\ row 3 — ø',
      notes: 'Line one\nline <two>',
      priority: 'urgent',
      items: [
        { cable_type: 'Coax RG6', cable_length: '50m', cable_gauge: '', quantity: 7 },
        { cable_type: 'Cat6 "plenum"', cable_length: '3 m', cable_gauge: '23 AWG', quantity: 2 },
        { cable_type: 'OM4 🔌', cable_length: '10\' 6"', quantity: 1 },
      ],
    },
  ]) {
    const created = await creator.send('POST', '/api/tickets', spec);
    t.is(created.status, 201, created.text);
    // One ticket's own fields (its timeline, cuts from reels, offcuts) are not in the create's answer.
    const { events, offcuts, ...shown } = (await creator.send('GET', `/api/tickets/${created.json.ticket.id}`)).json;
    t.is(events.length, 1);
    t.deepEqual(offcuts, []);
    t.deepEqual(created.json.ticket, withoutCuts(shown));
  }
});

test('a list shows each ticket as its own GET does: items in order, awkward characters intact', async (t) => {
  const fresh = await startApp();
  try {
    const a = await createUser(fresh.db, { username: 'ann' });
    await createUser(fresh.db, { username: 'bob' });
    const [ann, bob] = await Promise.all([tokenClient(fresh.url, 'ann'), tokenClient(fresh.url, 'bob')]);
    const awkward = [
      { cable_type: 'Cat6 "plenum" \\ shielded', cable_length: '3 m', cable_gauge: '23 AWG', quantity: 2 },
      { cable_type: 'Fibre ø 2mm — LC/LC 🔌', cable_length: '10\' 6"', quantity: 1 },
      { cable_type: 'Coax RG6', cable_length: '50m', cable_gauge: '', quantity: 7 },
    ];
    const first = await createTicket(bob, { assigned_to_id: a.id, location: 'Rack "A" \\ row 2', items: awkward });
    const single = await createTicket(bob, { assigned_to_id: a.id, location: 'Lab' });
    // An edit rewrites the items: the list must follow the new order.
    const edited = await createTicket(bob, { assigned_to_id: a.id, location: 'Dock', items: awkward });
    const reordered = [awkward[2], awkward[0]];
    t.is((await bob.send('PATCH', `/api/tickets/${edited.id}`, { items: reordered })).status, 200);
    // Positions against the ids' order (an edit inserts in position order): a list sorts by position.
    await fresh.db('ticket_items').where({ ticket_id: first.id }).increment('position', 10);
    await fresh
      .db('ticket_items')
      .where({ ticket_id: first.id })
      .update({ position: fresh.db.raw('12 - position') });
    // A list leaves out what only one ticket carries: its timeline, cuts from reels and offcuts.
    const detail = async (id: number) => {
      const { events: _events, offcuts: _offcuts, ...ticket } = (await ann.send('GET', `/api/tickets/${id}`)).json;
      return withoutCuts(ticket);
    };
    const expected = await Promise.all([edited.id, single.id, first.id].map(detail));
    const types = (ticket: { items: { cable_type: string }[] }) => ticket.items.map((i) => i.cable_type);
    t.deepEqual(types(expected[0]), ['Coax RG6', 'Cat6 "plenum" \\ shielded']);
    t.deepEqual(types(expected[2]), awkward.map((i) => i.cable_type).reverse());
    t.deepEqual((await ann.send('GET', '/api/tickets')).json, expected, 'the prepared list');
    t.deepEqual((await ann.send('GET', '/api/tickets?limit=2')).json, expected.slice(0, 2), 'a page of another size');
    t.deepEqual((await ann.send('GET', `/api/tickets?cursor=${single.id}`)).json, expected.slice(2), 'an older page');
    t.deepEqual((await ann.send('GET', '/api/tickets?q=plenum')).json, [expected[0], expected[2]], 'a search');
  } finally {
    await fresh.close();
  }
});

test('keyset pagination follows the Link header and stays stable when new tickets arrive', async (t) => {
  const fresh = await startApp();
  try {
    const u = await createUser(fresh.db, { username: 'pager', role: 'admin' });
    const c = await tokenClient(fresh.url, 'pager');
    const created: number[] = [];
    for (let i = 0; i < 12; i++) created.push((await createTicket(c, { assigned_to_id: u.id, location: `Spot ${i}` })).id);
    const seen: number[] = [];
    let next: string | undefined = '/api/tickets?limit=5';
    let pages = 0;
    while (next) {
      const res = await c.send('GET', next);
      t.is(res.status, 200);
      seen.push(...res.json.map((x: { id: number }) => x.id));
      pages++;
      if (pages === 1) {
        // New requests arrive between page 1 and page 2: they must not shift or repeat rows.
        for (let i = 0; i < 3; i++) await createTicket(c, { assigned_to_id: u.id, location: 'Late' });
      }
      const link = res.headers.get('link');
      next = link ? /<([^>]+)>; rel="next"/.exec(link)?.[1] : undefined;
    }
    t.is(pages, 3);
    t.deepEqual(seen, [...created].reverse());
  } finally {
    await fresh.close();
  }
});

test('a request needs a second person: no self-assignment, and a creator cannot approve their own', async (t) => {
  const mine = await creator.send('POST', '/api/tickets', {
    assigned_to_id: creatorUser.id,
    location: 'Here',
    cable_type: 'Cat6',
    cable_length: '1m',
  });
  t.is(mine.status, 400);
  t.is(mine.json.fields.assigned_to_id, 'choose someone else to approve your request');
  const ticket = await newTicket();
  const reassign = await creator.send('PATCH', `/api/tickets/${ticket.id}`, { assigned_to_id: creatorUser.id });
  t.is(reassign.status, 400);
  // Even if an admin makes the creator the assignee, the creator still cannot decide.
  await app.db('tickets').where({ id: ticket.id }).update({ assigned_to_id: creatorUser.id });
  t.is((await creator.send('PATCH', `/api/tickets/${ticket.id}`, { status: 'approved' })).status, 403);
  const page = await creator.send('GET', `/api/tickets/${ticket.id}`);
  t.is(page.json.status, 'pending_approval');
  t.is((await admin.send('PATCH', `/api/tickets/${ticket.id}`, { status: 'approved' })).status, 200);
});

test('one-line fields refuse control characters; notes keep their line breaks', async (t) => {
  const base = { assigned_to_id: assigneeUser.id, cable_length: '1m' };
  for (const bad of ['Cat6\u0000', 'Cat\n6', 'Cat\u00076']) {
    const res = await creator.send('POST', '/api/tickets', { ...base, cable_type: bad, location: 'Here' });
    t.is(res.status, 400, JSON.stringify(bad));
    t.true('cable_type' in res.json.fields);
  }
  const nul = await creator.send('POST', '/api/tickets', { ...base, cable_type: 'Cat6', location: 'Here', notes: 'a\u0000b' });
  t.is(nul.status, 400);
  const ok = await creator.send('POST', '/api/tickets', {
    ...base,
    cable_type: 'Cat6',
    location: 'Here',
    notes: 'line 1\nline 2',
  });
  t.is(ok.status, 201);
  t.is(ok.json.ticket.notes, 'line 1\nline 2');
});
