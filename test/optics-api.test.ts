import test from 'ava';
import type { PublicUserRow } from '../src/features/users/queries.ts';
import { startApp, type TestApp } from './support/app.ts';
import { Client, type Reply } from './support/client.ts';
import { buildCast, createUser, tokenClient } from './support/factories.ts';

/** The optics JSON API (issue #6, DESIGN.md §8): parts, submit, visibility, admin actions, races. */

const DEFAULT_PARTS = [
  'SFP-1G-SX',
  'SFP-1G-LX',
  'SFP-10G-SR',
  'SFP-10G-LR',
  'SFP-25G-SR',
  'QSFP-40G-SR4',
  'QSFP-100G-SR4',
  'QSFP-100G-LR4',
];

const REQUEST_KEYS = [
  'admin_note',
  'created_at',
  'decided_at',
  'decided_by',
  'id',
  'other_part',
  'part_number',
  'quantity',
  'requested_by',
  'requester_name',
  'selected_part',
  'status',
  'updated_at',
];

let app: TestApp;
let tech: Client;
let other: Client;
let admin: Client;
let admin2: Client;
let anonymous: Client;
let techUser: PublicUserRow;
let adminUser: PublicUserRow;

test.before(async () => {
  app = await startApp();
  const cast = await buildCast(app, { boss: { role: 'admin' }, chief: { role: 'admin' }, tech: {}, bystander: {} });
  ({ user: adminUser, api: admin } = cast.boss);
  ({ user: techUser, api: tech } = cast.tech);
  other = cast.bystander.api;
  admin2 = cast.chief.api;
  anonymous = new Client(app.url);
});
test.after.always(async () => {
  await app?.close();
});

const countRequests = async () => Number((await app.db('optics_requests').count({ n: '*' }).first())?.n);
const countEvents = async () => Number((await app.db('optics_request_events').count({ n: '*' }).first())?.n);

const GOOD = { selected_part: 'SFP-10G-SR', quantity: 4, requester_name: 'Maria G.' };

interface OpticsJson {
  id: number;
  status: string;
  other_part: string | null;
  quantity: number;
  requester_name: string;
  [field: string]: unknown;
}

async function submit(client: Client, body: Record<string, unknown> = {}): Promise<OpticsJson> {
  const res = await client.send('POST', '/api/optics-requests', { ...GOOD, ...body });
  if (res.status !== 201) throw new Error(`submit failed: ${res.status} ${res.text}`);
  return res.json.optics_request;
}

const act = (client: Client, id: number, action: string, admin_note?: string) =>
  client.send('PATCH', `/api/optics-requests/${id}/status`, admin_note === undefined ? { action } : { action, admin_note });

// ---- parts ----------------------------------------------------------------------------------------

test.serial('the parts list is the seeded defaults, ending with Other, for signed-in callers only', async (t) => {
  const res = await tech.send('GET', '/api/optics-parts');
  t.is(res.status, 200);
  t.deepEqual(res.json, [...DEFAULT_PARTS, 'Other']);
  t.is((await anonymous.send('GET', '/api/optics-parts')).status, 401);
});

test.serial('admins add and remove parts; the list and the submit rules follow', async (t) => {
  const added = await admin.send('POST', '/api/optics-parts', { part_number: '  SFP-10G-ZR ' });
  t.is(added.status, 201, added.text);
  t.deepEqual(added.json.parts, [...DEFAULT_PARTS, 'SFP-10G-ZR', 'Other']);
  t.deepEqual((await tech.send('GET', '/api/optics-parts')).json, [...DEFAULT_PARTS, 'SFP-10G-ZR', 'Other']);
  const request = await submit(tech, { selected_part: 'sfp-10g-zr' });
  t.like(request, { selected_part: 'SFP-10G-ZR', part_number: 'SFP-10G-ZR', other_part: null }, 'matched in the list spelling');

  const dup = await admin.send('POST', '/api/optics-parts', { part_number: 'sfp-10G-zr' });
  t.is(dup.status, 409);
  t.true('part_number' in dup.json.fields);
  // 'İ' is one character and two once lower-cased: 100 of them would not fit the list's 100-character key.
  for (const part_number of ['Other', 'other', '', '   ', 'x'.repeat(101), 'İ'.repeat(100)]) {
    const bad = await admin.send('POST', '/api/optics-parts', { part_number });
    t.is(bad.status, 400, part_number);
    t.true('part_number' in bad.json.fields);
  }
  t.is((await tech.send('POST', '/api/optics-parts', { part_number: 'SFP-X' })).status, 403);
  t.is((await tech.send('DELETE', '/api/optics-parts/SFP-10G-ZR')).status, 403);
  t.is((await anonymous.send('POST', '/api/optics-parts', { part_number: 'SFP-X' })).status, 401);

  const removed = await admin.send('DELETE', `/api/optics-parts/${encodeURIComponent('sfp-10g-zr')}`);
  t.is(removed.status, 200, removed.text);
  t.deepEqual(removed.json.parts, [...DEFAULT_PARTS, 'Other']);
  t.is((await admin.send('DELETE', '/api/optics-parts/SFP-10G-ZR')).status, 404);
  const refused = await tech.send('POST', '/api/optics-requests', { ...GOOD, selected_part: 'SFP-10G-ZR' });
  t.is(refused.status, 400, 'a removed part can no longer be chosen');
  const kept = await tech.send('GET', `/api/optics-requests/${request.id}`);
  t.is(kept.json.part_number, 'SFP-10G-ZR', 'requests already made keep their part');

  // A part number with a slash survives the URL.
  t.is((await admin.send('POST', '/api/optics-parts', { part_number: 'QSFP28/100G-CWDM4' })).status, 201);
  t.is((await admin.send('DELETE', `/api/optics-parts/${encodeURIComponent('QSFP28/100G-CWDM4')}`)).status, 200);
  t.deepEqual((await tech.send('GET', '/api/optics-parts')).json, [...DEFAULT_PARTS, 'Other']);
});

// ---- submit ---------------------------------------------------------------------------------------

test('submitting returns 201 with exactly the documented fields', async (t) => {
  const res = await tech.send('POST', '/api/optics-requests', {
    selected_part: 'QSFP-100G-SR4',
    other_part: 'ignored because a listed part was chosen',
    quantity: '12',
    requester_name: '  Maria G. ',
    status: 'approved',
    requested_by_id: adminUser.id,
  });
  t.is(res.status, 201, res.text);
  t.is(res.json.message, 'Optics request submitted');
  const r = res.json.optics_request;
  t.deepEqual(Object.keys(r).sort(), REQUEST_KEYS);
  t.is(res.headers.get('location'), `/api/optics-requests/${r.id}`);
  t.like(r, {
    part_number: 'QSFP-100G-SR4',
    selected_part: 'QSFP-100G-SR4',
    other_part: null,
    quantity: 12,
    requester_name: 'Maria G.',
    status: 'pending',
    admin_note: null,
    decided_by: null,
    decided_at: null,
  });
  t.deepEqual(r.requested_by, { id: techUser.id, username: 'tech' }, 'the caller is the requester, whatever the body says');
  t.regex(r.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  t.is(r.updated_at, r.created_at);
  const events = await app.db('optics_request_events').where({ optics_request_id: r.id });
  t.is(events.length, 1);
  t.like(events[0], { action: 'submitted', actor_user_id: techUser.id, from_status: null, to_status: 'pending' });
});

test('an Other part: part_number is the typed part', async (t) => {
  const r = await submit(tech, { selected_part: 'other', other_part: '  Finisar FTLX1471D3BCL ' });
  t.like(r, { selected_part: 'Other', other_part: 'Finisar FTLX1471D3BCL', part_number: 'Finisar FTLX1471D3BCL' });
});

test('the limits themselves are accepted', async (t) => {
  const r = await submit(tech, {
    selected_part: 'Other',
    other_part: 'p'.repeat(255),
    quantity: 10000,
    requester_name: 'n'.repeat(50),
  });
  t.is(r.other_part, 'p'.repeat(255));
  t.is(r.quantity, 10000);
  t.is(r.requester_name.length, 50);
  const ignored = await submit(tech, { other_part: 'x'.repeat(300) });
  t.is(ignored.other_part, null, 'other_part is not even checked unless Other is chosen');
});

const BAD_SUBMITS: [string, Record<string, unknown>, string][] = [
  ['selected_part missing', { selected_part: undefined }, 'selected_part'],
  ['selected_part blank', { selected_part: '  ' }, 'selected_part'],
  ['selected_part not on the list', { selected_part: 'SFP-9000G' }, 'selected_part'],
  ['selected_part not text', { selected_part: 7 }, 'selected_part'],
  ['selected_part a list', { selected_part: ['SFP-10G-SR'] }, 'selected_part'],
  ['Other without other_part', { selected_part: 'Other' }, 'other_part'],
  ['Other with blank other_part', { selected_part: 'Other', other_part: '   ' }, 'other_part'],
  ['Other with null other_part', { selected_part: 'Other', other_part: null }, 'other_part'],
  ['other_part too long', { selected_part: 'Other', other_part: 'x'.repeat(256) }, 'other_part'],
  ['other_part not text', { selected_part: 'Other', other_part: { part: 'x' } }, 'other_part'],
  ['quantity missing', { quantity: undefined }, 'quantity'],
  ['quantity zero', { quantity: 0 }, 'quantity'],
  ['quantity negative', { quantity: -3 }, 'quantity'],
  ['quantity fractional', { quantity: 1.5 }, 'quantity'],
  ['quantity text', { quantity: 'four' }, 'quantity'],
  ['quantity in exponent form', { quantity: '1e3' }, 'quantity'],
  ['quantity over the bound', { quantity: 10001 }, 'quantity'],
  ['quantity huge', { quantity: 1e15 }, 'quantity'],
  ['requester_name missing', { requester_name: undefined }, 'requester_name'],
  ['requester_name blank', { requester_name: ' ' }, 'requester_name'],
  ['requester_name too long', { requester_name: 'n'.repeat(51) }, 'requester_name'],
  ['requester_name not text', { requester_name: 42 }, 'requester_name'],
];

for (const [name, patch, field] of BAD_SUBMITS) {
  test.serial(`submit: ${name} is a 400 naming ${field}, and nothing is stored`, async (t) => {
    const [requests, events, alerts] = [
      await countRequests(),
      await countEvents(),
      await app.db('notifications').count({ n: '*' }),
    ];
    const res = await tech.send('POST', '/api/optics-requests', { ...GOOD, ...patch });
    t.is(res.status, 400, res.text);
    t.true(field in res.json.fields, `fields: ${JSON.stringify(res.json.fields)}`);
    t.true(res.json.error.includes(field), res.json.error);
    t.is(await countRequests(), requests);
    t.is(await countEvents(), events);
    t.deepEqual(await app.db('notifications').count({ n: '*' }), alerts);
  });
}

test.serial('submit: every bad field is named at once; a list or broken JSON is a 400', async (t) => {
  const before = await countRequests();
  const res = await tech.send('POST', '/api/optics-requests', { selected_part: 'Other', quantity: 0 });
  t.is(res.status, 400);
  t.deepEqual(Object.keys(res.json.fields).sort(), ['other_part', 'quantity', 'requester_name']);
  t.is((await tech.send('POST', '/api/optics-requests', [GOOD])).status, 400);
  const raw = await tech.request('POST', '/api/optics-requests', {
    body: '{"selected_part":',
    headers: { 'content-type': 'application/json' },
  });
  t.is(raw.status, 400);
  t.is(await countRequests(), before);
});

test('every optics endpoint needs a signed-in caller', async (t) => {
  for (const [method, path] of [
    ['GET', '/api/optics-parts'],
    ['POST', '/api/optics-parts'],
    ['DELETE', '/api/optics-parts/SFP-10G-SR'],
    ['GET', '/api/optics-requests'],
    ['POST', '/api/optics-requests'],
    ['GET', '/api/optics-requests/1'],
    ['PATCH', '/api/optics-requests/1/status'],
  ] as const) {
    const res = await anonymous.send(method, path, method === 'GET' ? undefined : GOOD);
    t.is(res.status, 401, `${method} ${path}`);
    t.is(typeof res.json.error, 'string');
  }
});

// ---- who sees what --------------------------------------------------------------------------------

test.serial('users see their own requests, admins everyone’s; another user’s request is a 404', async (t) => {
  const mine = await submit(tech, { requester_name: 'Tech T.' });
  const theirs = await submit(other, { requester_name: 'By S.' });

  const techList: Reply = await tech.send('GET', '/api/optics-requests?limit=200');
  t.is(techList.status, 200);
  t.true(techList.json.length > 0);
  t.true(techList.json.every((r: { requested_by: { username: string } }) => r.requested_by.username === 'tech'));
  t.true(techList.json.some((r: { id: number }) => r.id === mine.id));
  t.false(techList.json.some((r: { id: number }) => r.id === theirs.id));

  const otherList = await other.send('GET', '/api/optics-requests?limit=200');
  t.deepEqual(
    otherList.json.map((r: { id: number }) => r.id),
    [theirs.id],
  );

  const all = await admin.send('GET', '/api/optics-requests?limit=200');
  const ids = all.json.map((r: { id: number }) => r.id);
  t.true(ids.includes(mine.id) && ids.includes(theirs.id));
  t.is(all.json.length, await countRequests());
  for (const r of all.json) t.deepEqual(Object.keys(r).sort(), REQUEST_KEYS);

  const hidden = await other.send('GET', `/api/optics-requests/${mine.id}`);
  t.is(hidden.status, 404);
  t.false(hidden.text.includes('Tech T.'));
  t.is((await tech.send('GET', '/api/optics-requests/999999')).status, 404);
  t.is((await tech.send('GET', '/api/optics-requests/abc')).status, 400);
  const flag = await tech.send('GET', '/api/optics-requests?include_archived=yes');
  t.is(flag.status, 400);
  t.regex(flag.json.fields.include_archived, /true or false/);

  const own = await tech.send('GET', `/api/optics-requests/${mine.id}`);
  t.is(own.status, 200);
  t.like(own.json, { id: mine.id, requester_name: 'Tech T.' });
  t.like(own.json.events[0], { action: 'submitted', actor: { username: 'tech' }, to_status: 'pending' });
  t.is((await admin.send('GET', `/api/optics-requests/${theirs.id}`)).status, 200);
});

test.serial('lists filter by status, hide archived unless asked, and page newest first', async (t) => {
  await createUser(app.db, { username: 'lister' });
  const client = await tokenClient(app.url, 'lister');
  const made: OpticsJson[] = [];
  for (let i = 0; i < 5; i++) made.push(await submit(client, { quantity: i + 1 }));
  const [a, b, c] = made as [OpticsJson, OpticsJson, OpticsJson];
  t.is((await act(admin, a.id, 'approve')).status, 200);
  t.is((await act(admin, b.id, 'deny')).status, 200);
  t.is((await act(admin, c.id, 'archive')).status, 200);
  const ids = async (query: string) =>
    ((await client.send('GET', `/api/optics-requests${query}`)).json as { id: number }[]).map((r) => r.id);
  const byIdDesc = (list: { id: number }[]) => list.map((r) => r.id).sort((x, y) => y - x);

  const open = await ids('?limit=200');
  t.false(open.includes(c.id), 'archived is hidden by default');
  t.deepEqual(
    open,
    [...open].sort((x, y) => y - x),
    'newest first',
  );
  t.true((await ids('?include_archived=true&limit=200')).includes(c.id));
  t.deepEqual(await ids('?status=archived'), [c.id]);
  t.deepEqual(await ids('?status=approved'), [a.id]);
  t.deepEqual(await ids('?status=denied'), [b.id]);
  t.deepEqual(await ids('?status=pending'), byIdDesc(made.slice(3)));

  for (const bad of [
    '?status=done',
    '?status=Pending',
    '?limit=0',
    '?limit=201',
    '?cursor=abc',
    '?status=pending&status=denied',
  ]) {
    const res = await client.send('GET', `/api/optics-requests${bad}`);
    t.is(res.status, 400, bad);
    t.is(typeof res.json.error, 'string');
  }

  // Keyset pagination: follow the Link header to the end.
  const seen: number[] = [];
  let next: string | undefined = '/api/optics-requests?include_archived=true&limit=2';
  let pages = 0;
  while (next) {
    const res = await client.send('GET', next);
    t.is(res.status, 200);
    t.true(res.json.length <= 2);
    seen.push(...res.json.map((r: { id: number }) => r.id));
    const link = res.headers.get('link');
    next = link ? /^<([^>]+)>; rel="next"$/.exec(link)?.[1] : undefined;
    if (link) t.regex(link, /cursor=\d+/);
    pages++;
  }
  t.is(pages, 3);
  t.deepEqual(seen, byIdDesc(made));
});

// ---- admin actions --------------------------------------------------------------------------------

test('only admins approve, deny or archive (403), and nothing changes for the refused', async (t) => {
  const r = await submit(tech);
  for (const client of [tech, other]) {
    for (const action of ['approve', 'deny', 'archive']) {
      const res = await act(client, r.id, action);
      t.is(res.status, 403, `${action}`);
      t.is(typeof res.json.error, 'string');
    }
  }
  t.is((await act(other, 999999, 'approve')).status, 403, 'a non-admin learns nothing about ids');
  const now = await tech.send('GET', `/api/optics-requests/${r.id}`);
  t.is(now.json.status, 'pending');
  t.is(now.json.events.length, 1);
});

test('approve: pending -> approved, with who, when and the note; the audit row says the same', async (t) => {
  const r = await submit(tech);
  const res = await act(admin, r.id, 'approve', '  Ordered from the usual vendor ');
  t.is(res.status, 200, res.text);
  t.is(res.json.message, 'Optics request approved');
  const after = res.json.optics_request;
  t.deepEqual(Object.keys(after).sort(), REQUEST_KEYS);
  t.like(after, {
    status: 'approved',
    admin_note: 'Ordered from the usual vendor',
    decided_by: { id: adminUser.id, username: 'boss' },
  });
  t.regex(after.decided_at, /^\d{4}-\d\d-\d\dT/);
  t.is(after.updated_at, after.decided_at);
  const events = (await tech.send('GET', `/api/optics-requests/${r.id}`)).json.events;
  t.is(events.length, 2);
  t.like(events[1], {
    action: 'approve',
    actor: { id: adminUser.id, username: 'boss' },
    from_status: 'pending',
    to_status: 'approved',
    note: 'Ordered from the usual vendor',
  });
  t.is(events[1].created_at, after.decided_at);
});

test('deny: pending -> denied; the note is optional', async (t) => {
  const r = await submit(tech);
  const res = await act(admin2, r.id, 'deny');
  t.is(res.status, 200);
  t.like(res.json.optics_request, { status: 'denied', admin_note: null, decided_by: { username: 'chief' } });
});

test('archive works from pending, approved and denied; it keeps the decision and replaces the note only when given', async (t) => {
  const pending = await submit(tech);
  const archived = await act(admin, pending.id, 'archive', 'Duplicate of another request');
  t.is(archived.status, 200);
  t.like(archived.json.optics_request, { status: 'archived', admin_note: 'Duplicate of another request', decided_by: null });

  const approved = await submit(tech);
  await act(admin, approved.id, 'approve', 'ok');
  const res = await act(admin2, approved.id, 'archive');
  t.like(res.json.optics_request, { status: 'archived', admin_note: 'ok', decided_by: { username: 'boss' } });
  const events = (await admin.send('GET', `/api/optics-requests/${approved.id}`)).json.events;
  t.like(events[2], {
    action: 'archive',
    actor: { username: 'chief' },
    from_status: 'approved',
    to_status: 'archived',
    note: null,
  });

  const denied = await submit(tech);
  await act(admin, denied.id, 'deny');
  t.is((await act(admin, denied.id, 'archive', 'done')).status, 200);
});

const ILLEGAL: [string, string[], string][] = [
  ['approve an approved request', ['approve'], 'approve'],
  ['deny an approved request', ['approve'], 'deny'],
  ['approve a denied request', ['deny'], 'approve'],
  ['deny a denied request', ['deny'], 'deny'],
  ['approve an archived request', ['archive'], 'approve'],
  ['deny an archived request', ['archive'], 'deny'],
  ['archive an archived request', ['archive'], 'archive'],
  ['approve a decided then archived request', ['approve', 'archive'], 'approve'],
];

for (const [name, path, action] of ILLEGAL) {
  test(`409: ${name}`, async (t) => {
    const r = await submit(tech);
    for (const step of path) t.is((await act(admin, r.id, step)).status, 200);
    const before = (await admin.send('GET', `/api/optics-requests/${r.id}`)).json;
    const res = await act(admin, r.id, action, 'should not be stored');
    t.is(res.status, 409, res.text);
    t.is(typeof res.json.error, 'string');
    const after = (await admin.send('GET', `/api/optics-requests/${r.id}`)).json;
    t.deepEqual(after, before, 'nothing changed, nothing audited');
  });
}

test('bad action bodies are 400; a missing request is 404', async (t) => {
  const r = await submit(tech);
  for (const body of [
    {},
    { action: 'approved' },
    { action: 'APPROVE' },
    { action: 7 },
    { action: 'approve', admin_note: 'x'.repeat(501) },
  ]) {
    const res = await admin.send('PATCH', `/api/optics-requests/${r.id}/status`, body);
    t.is(res.status, 400, JSON.stringify(body));
    t.true(Object.keys(res.json.fields).some((f) => f === 'action' || f === 'admin_note'));
  }
  t.is((await act(admin, 999999, 'approve')).status, 404);
  t.is((await admin.send('GET', `/api/optics-requests/${r.id}`)).json.status, 'pending');
  const longest = await act(admin, r.id, 'approve', 'n'.repeat(500));
  t.is(longest.status, 200);
});

test.serial('admins acting at once: exactly one wins, the rest get 409, one change is audited and mailed', async (t) => {
  for (const [first, second] of [
    ['approve', 'deny'],
    ['approve', 'approve'],
    ['deny', 'deny'],
    ['archive', 'archive'],
  ] as const) {
    const r = await submit(tech);
    const replies = await Promise.all([
      act(admin, r.id, first, 'from boss'),
      act(admin2, r.id, second, 'from chief'),
      act(admin, r.id, second, 'again from boss'),
      act(admin2, r.id, first, 'again from chief'),
    ]);
    const statuses = replies.map((x) => x.status).sort();
    t.deepEqual(statuses, [200, 409, 409, 409], `${first}/${second}`);
    const events = await app.db('optics_request_events').where({ optics_request_id: r.id }).orderBy('id');
    const winner = replies.find((x) => x.status === 200)?.json.optics_request;
    t.is(events.length, 2, 'the submission and exactly one change');
    t.like(events[1], { from_status: 'pending', to_status: winner.status, note: winner.admin_note });
    const mails = await app
      .db('notifications')
      .where({ optics_request_id: r.id })
      .whereIn('notification_type', ['optics_request_approved', 'optics_request_denied']);
    t.is(mails.length, first === 'archive' ? 0 : 1);
  }
});

test.serial('approve against deny, many times over: one 200 and one 409 each time', async (t) => {
  for (let round = 0; round < 8; round++) {
    const r = await submit(tech);
    const [a, b] = await Promise.all([act(admin, r.id, 'approve'), act(admin2, r.id, 'deny')]);
    t.deepEqual([a.status, b.status].sort(), [200, 409], `round ${round}`);
    const loser = a.status === 409 ? a : b;
    t.regex(loser.json.error, /already|first/);
    const final = (await admin.send('GET', `/api/optics-requests/${r.id}`)).json;
    t.is(final.status, a.status === 200 ? 'approved' : 'denied');
    t.is(final.events.length, 2);
  }
});
