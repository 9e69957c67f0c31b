import { randomBytes } from 'node:crypto';
import test from 'ava';
import type { PublicUserRow } from '../src/features/users/queries.ts';
import { onPostgres, startApp, type TestApp } from './support/app.ts';
import { Client, type Reply } from './support/client.ts';
import { createUser, inventoryCast } from './support/factories.ts';
import { createTicket, driveTo } from './support/tickets.ts';

/**
 * Inventory over the JSON API (DESIGN.md §7): receiving, the append-only ledger, SKU matching, the
 * stock table, consumption on fulfilment, adjustments, thresholds and low-stock alerts. Tests that
 * count rows run one after another; the others use SKUs of their own so they can run side by side.
 */

let app: TestApp;
let adminUser: PublicUserRow;
let secondAdmin: PublicUserRow;
let techUser: PublicUserRow;
let stockUser: PublicUserRow;
let admin: Client;
let tech: Client;
let stock: Client;
let anonymous: Client;

test.before(async () => {
  app = await startApp();
  ({
    boss: adminUser,
    tech: techUser,
    stockkeeper: stockUser,
    bossApi: admin,
    techApi: tech,
    stockApi: stock,
  } = await inventoryCast(app));
  secondAdmin = await createUser(app.db, { username: 'deputy', role: 'admin' });
  anonymous = new Client(app.url);
});
test.after.always(async () => {
  await app?.close();
});

/** A cable type no other test uses. */
const sku = (prefix = 'Cat6') => `${prefix}-${randomBytes(3).toString('hex')}`;

interface Line {
  cable_type: string;
  cable_length: string;
  quantity: number;
}

async function receive(items: Line[], extra: Record<string, unknown> = {}): Promise<Reply> {
  const res = await admin.send('POST', '/api/cable-receiving', { vendor: 'Anixter', po_number: 'PO-1', items, ...extra });
  if (res.status !== 201) throw new Error(`receive failed: ${res.status} ${res.text}`);
  return res;
}

async function onHand(includeZero = true): Promise<{ cable_type: string; cable_length: string; on_hand: number }[]> {
  const res = await tech.send('GET', `/api/inventory/on-hand${includeZero ? '?include_zero=true' : ''}`);
  if (res.status !== 200) throw new Error(`on-hand failed: ${res.status}`);
  return res.json;
}

/** One SKU's totals as the seed's three fields (reserved and available are checked where approvals reserve). */
const onHandOf = async (type: string) =>
  (await onHand())
    .filter((r) => r.cable_type.toLowerCase() === type.toLowerCase())
    .map(({ cable_type, cable_length, on_hand }) => ({ cable_type, cable_length, on_hand }));

const count = async (table: string, where: Record<string, unknown> = {}) =>
  Number(((await app.db(table).where(where).count({ n: '*' })) as { n: number | string }[])[0]?.n);

const tableCounts = async () => ({
  receipts: await count('cable_receipts'),
  items: await count('cable_receipt_items'),
  movements: await count('inventory_movements'),
  stock: await count('inventory_stock'),
  notifications: await count('notifications'),
});

/** A ticket for the stock keeper, driven to in_progress; returns its id. */
async function ticketInProgress(items: Line[]): Promise<number> {
  const ticket = await createTicket(tech, { assigned_to_id: stockUser.id, items });
  await driveTo(stock, ticket.id, 'in_progress');
  return ticket.id as number;
}

const fulfil = (id: number, by: Client = stock) => by.send('PATCH', `/api/tickets/${id}`, { status: 'fulfilled' });

// ---- who may do what ----------------------------------------------------------------------------

const ADMIN_ROUTES: [string, string, unknown?][] = [
  ['POST', '/api/cable-receiving', { vendor: 'x', items: [{ cable_type: 'a', cable_length: 'b', quantity: 1 }] }],
  ['GET', '/api/cable-receiving'],
  ['GET', '/api/cable-receiving/1'],
  ['GET', '/api/inventory/movements'],
  ['POST', '/api/inventory/adjustments', { cable_type: 'a', cable_length: 'b', quantity: 1, reason: 'count' }],
  ['PATCH', '/api/inventory/stock/threshold', { cable_type: 'a', cable_length: 'b', reorder_threshold: 1 }],
  ['GET', '/inventory/receiving'],
  ['GET', '/inventory/receiving/item-row?index=1'],
  ['GET', '/inventory/ledger'],
  ['GET', '/inventory/ledger.csv'],
  ['GET', '/inventory/adjustments'],
];

test.serial('every admin route is 403 for a signed-in user and 401 for nobody, and writes nothing', async (t) => {
  const before = await tableCounts();
  for (const [method, path, body] of ADMIN_ROUTES) {
    const asUser = await tech.send(method, path, body);
    t.is(asUser.status, 403, `${method} ${path} as a user`);
    t.regex(asUser.json?.error ?? '', /admin/i, `${method} ${path} says why`);
    const asNobody = await anonymous.send(method, path, body);
    t.is(asNobody.status, 401, `${method} ${path} signed out`);
  }
  t.deepEqual(await tableCounts(), before);
});

test('everyone signed in may read on-hand; nobody signed out may', async (t) => {
  t.is((await tech.send('GET', '/api/inventory/on-hand')).status, 200);
  t.is((await anonymous.send('GET', '/api/inventory/on-hand')).status, 401);
  t.is((await tech.get('/inventory/on-hand.csv')).status, 200);
  // A browser that is signed out is sent to the sign-in page.
  t.is((await anonymous.get('/inventory/on-hand.csv')).status, 303);
  t.is((await anonymous.get('/inventory/on-hand.csv', { accept: 'application/json' })).status, 401);
});

// ---- receiving ----------------------------------------------------------------------------------

test.serial('a receipt: 201 with the documented shape, one receipt movement per item, exact on-hand rows', async (t) => {
  const a = sku();
  const b = sku('OM4');
  const before = await tableCounts();
  const res = await admin.send('POST', '/api/cable-receiving', {
    vendor: 'Graybar',
    po_number: 'PO-7731',
    notes: 'Pallet 2 of 3',
    received_by_id: techUser.id,
    items: [
      { cable_type: a, cable_length: '100ft', quantity: 12 },
      { cable_type: b, cable_length: '10m', quantity: '3' },
    ],
  });
  t.is(res.status, 201);
  t.is(res.json.message, 'Cable received');
  const receipt = res.json.receipt;
  t.deepEqual(Object.keys(receipt).sort(), [
    'created_at',
    'id',
    'items',
    'notes',
    'po_number',
    'received_by',
    'updated_at',
    'vendor',
  ]);
  t.is(res.headers.get('location'), `/api/cable-receiving/${receipt.id}`);
  t.like(receipt, { vendor: 'Graybar', po_number: 'PO-7731', notes: 'Pallet 2 of 3' });
  t.deepEqual(receipt.received_by, { id: adminUser.id, username: 'boss' }, 'the receiver is the caller, never the body');
  t.deepEqual(receipt.items, [
    { cable_type: a, cable_length: '100ft', quantity: 12 },
    { cable_type: b, cable_length: '10m', quantity: 3 },
  ]);
  t.regex(receipt.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  t.is(receipt.updated_at, receipt.created_at);

  const after = await tableCounts();
  t.deepEqual(
    { ...after, notifications: before.notifications },
    {
      ...before,
      receipts: before.receipts + 1,
      items: before.items + 2,
      movements: before.movements + 2,
      stock: before.stock + 2,
    },
  );
  t.is(after.notifications, before.notifications, 'a receipt alerts nobody');

  const moves = await admin.send('GET', `/api/inventory/movements?source_type=cable_receiving&source_id=${receipt.id}`);
  t.is(moves.status, 200);
  t.deepEqual(
    moves.json.map((m: Record<string, unknown>) => [m.movement_type, m.cable_type, m.cable_length, m.quantity_delta]).sort(),
    [
      ['receipt', a, '100ft', 12],
      ['receipt', b, '10m', 3],
    ].sort(),
  );
  t.like(moves.json[0], { source_type: 'cable_receiving', source_id: receipt.id, actor: { id: adminUser.id, username: 'boss' } });

  t.deepEqual(await onHandOf(a), [{ cable_type: a, cable_length: '100ft', on_hand: 12 }]);
  t.deepEqual(await onHandOf(b), [{ cable_type: b, cable_length: '10m', on_hand: 3 }]);

  const one = await admin.send('GET', `/api/cable-receiving/${receipt.id}`);
  t.deepEqual(one.json, receipt);
  t.is((await admin.send('GET', '/api/cable-receiving/999999')).status, 404);
});

test('SKUs match case- and whitespace-insensitively; the display keeps the first spelling', async (t) => {
  const base = sku('Cat6 Plenum');
  await receive([{ cable_type: base, cable_length: '100ft', quantity: 5 }]);
  await receive([
    { cable_type: `  ${base.toLowerCase()} `, cable_length: '100FT', quantity: 2 },
    { cable_type: base.toUpperCase().replace(' ', '   '), cable_length: ' 100ft', quantity: 1 },
  ]);
  t.deepEqual(await onHandOf(base), [{ cable_type: base, cable_length: '100ft', on_hand: 8 }]);
  // A different length is a different SKU.
  await receive([{ cable_type: base, cable_length: '50ft', quantity: 1 }]);
  t.is((await onHandOf(base)).length, 2);
});

test('GET /api/cable-receiving lists receipts newest first, with a keyset cursor in a Link header', async (t) => {
  const type = sku();
  const ids: number[] = [];
  for (let i = 0; i < 3; i++) ids.push((await receive([{ cable_type: type, cable_length: '1m', quantity: 1 }])).json.receipt.id);
  const all = await admin.send('GET', '/api/cable-receiving?limit=200');
  t.is(all.status, 200);
  const listed: number[] = all.json.map((r: { id: number }) => r.id);
  t.deepEqual(
    listed,
    [...listed].sort((x, y) => y - x),
  );
  t.true(ids.every((id) => listed.includes(id)));
  t.true(all.json.every((r: { items: unknown[]; received_by: unknown }) => r.items.length > 0 && r.received_by));

  const first = await admin.send('GET', '/api/cable-receiving?limit=2');
  t.is(first.json.length, 2);
  const next = first.headers.get('link')?.match(/^<([^>]+)>; rel="next"$/)?.[1];
  t.truthy(next);
  const second = await admin.send('GET', next as string);
  t.true(second.json.every((r: { id: number }) => r.id < first.json[1].id));
  t.is((await admin.send('GET', '/api/cable-receiving?limit=0')).status, 400);
});

const GOOD_ITEM = { cable_type: 'Cat6', cable_length: '100ft', quantity: 1 };
const BAD_RECEIPTS: [string, Record<string, unknown>, string][] = [
  ['items missing', { items: undefined }, 'items'],
  ['items empty', { items: [] }, 'items'],
  ['items not a list', { items: 'Cat6' }, 'items'],
  ['too many items', { items: Array.from({ length: 101 }, () => GOOD_ITEM) }, 'items'],
  ['quantity 0', { items: [{ ...GOOD_ITEM, quantity: 0 }] }, 'items.0.quantity'],
  ['quantity -1', { items: [{ ...GOOD_ITEM, quantity: -1 }] }, 'items.0.quantity'],
  ['quantity "abc"', { items: [{ ...GOOD_ITEM, quantity: 'abc' }] }, 'items.0.quantity'],
  ['quantity 1.5', { items: [{ ...GOOD_ITEM, quantity: 1.5 }] }, 'items.0.quantity'],
  ['quantity "1e3"', { items: [{ ...GOOD_ITEM, quantity: '1e3' }] }, 'items.0.quantity'],
  ['quantity huge', { items: [{ ...GOOD_ITEM, quantity: 1e12 }] }, 'items.0.quantity'],
  ['quantity past MAX_SAFE_INTEGER', { items: [{ ...GOOD_ITEM, quantity: '99999999999999999999' }] }, 'items.0.quantity'],
  ['quantity missing', { items: [{ cable_type: 'Cat6', cable_length: '1m' }] }, 'items.0.quantity'],
  ['second item without length', { items: [GOOD_ITEM, { cable_type: 'Cat6', quantity: 2 }] }, 'items.1.cable_length'],
  ['cable type blank', { items: [{ ...GOOD_ITEM, cable_type: '   ' }] }, 'items.0.cable_type'],
  ['cable type too long', { items: [{ ...GOOD_ITEM, cable_type: 'x'.repeat(101) }] }, 'items.0.cable_type'],
  ['cable length too long', { items: [{ ...GOOD_ITEM, cable_length: 'x'.repeat(51) }] }, 'items.0.cable_length'],
  ['vendor missing', { vendor: undefined }, 'vendor'],
  ['vendor blank', { vendor: '  ' }, 'vendor'],
  ['vendor not text', { vendor: 42 }, 'vendor'],
  ['vendor too long', { vendor: 'v'.repeat(201) }, 'vendor'],
  ['PO number too long', { po_number: 'p'.repeat(101) }, 'po_number'],
  ['notes too long', { notes: 'n'.repeat(2001) }, 'notes'],
];

for (const [name, patch, field] of BAD_RECEIPTS) {
  test.serial(`receiving: ${name} is a 400 naming ${field}, and nothing is written`, async (t) => {
    const before = await tableCounts();
    const res = await admin.send('POST', '/api/cable-receiving', { vendor: 'Anixter', items: [GOOD_ITEM], ...patch });
    t.is(res.status, 400);
    t.truthy(res.json.fields?.[field], `fields: ${JSON.stringify(res.json.fields)}`);
    t.true(res.json.error.includes(field), res.json.error);
    t.deepEqual(await tableCounts(), before);
  });
}

test.serial('receiving: a body that is not JSON, or not an object, is a 400 and writes nothing', async (t) => {
  const before = await tableCounts();
  const bad = await admin.request('POST', '/api/cable-receiving', {
    body: '{"vendor":',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
  });
  t.is(bad.status, 400);
  t.is((await admin.send('POST', '/api/cable-receiving', [GOOD_ITEM])).status, 400);
  t.deepEqual(await tableCounts(), before);
});

// ---- on-hand ------------------------------------------------------------------------------------

test.serial(
  'on-hand: exactly cable_type, cable_length, unit, on_hand, reserved, available, display; zero rows only with include_zero=true',
  async (t) => {
    const type = sku();
    await receive([{ cable_type: type, cable_length: '3m', quantity: 4 }]);
    await admin.send('POST', '/api/inventory/adjustments', {
      cable_type: type,
      cable_length: '3m',
      quantity: -4,
      reason: 'Lost',
    });
    const res = await tech.send('GET', '/api/inventory/on-hand');
    t.is(res.status, 200);
    t.true(Array.isArray(res.json));
    t.true(res.json.length > 0);
    for (const row of res.json) {
      t.deepEqual(Object.keys(row).sort(), ['available', 'cable_length', 'cable_type', 'display', 'on_hand', 'reserved', 'unit']);
      t.is(typeof row.on_hand, 'number');
      t.not(row.on_hand, 0);
    }
    t.false(
      res.json.some((r: { cable_type: string }) => r.cable_type === type),
      'a SKU at zero is left out',
    );
    const withZero = await tech.send('GET', '/api/inventory/on-hand?include_zero=true');
    t.deepEqual(
      withZero.json.filter((r: { cable_type: string }) => r.cable_type === type),
      [{ cable_type: type, cable_length: '3m', on_hand: 0, reserved: 0, available: 0, unit: 'each', display: null }],
    );
    t.is(withZero.json.length, await count('inventory_stock'));
    for (const bad of ['yes', 'maybe', '2']) {
      const r = await tech.send('GET', `/api/inventory/on-hand?include_zero=${bad}`);
      t.is(r.status, 400, bad);
      t.truthy(r.json.fields.include_zero);
    }
  },
);

// ---- the ledger API -----------------------------------------------------------------------------

test.serial('movements: filters, newest first, a keyset cursor in the Link header, bad values 400', async (t) => {
  const type = sku();
  const receipt = (await receive([{ cable_type: type, cable_length: '1m', quantity: 5 }])).json.receipt;
  for (let i = 1; i <= 4; i++) {
    const r = await admin.send('POST', '/api/inventory/adjustments', {
      cable_type: type,
      cable_length: '1m',
      quantity: i % 2 ? -1 : 2,
      reason: `count ${i}`,
    });
    t.is(r.status, 201);
  }

  const all = await admin.send('GET', '/api/inventory/movements');
  t.is(all.status, 200);
  const ids = all.json.map((m: { id: number }) => m.id);
  t.deepEqual(
    ids,
    [...ids].sort((a: number, b: number) => b - a),
    'newest first',
  );
  t.deepEqual(Object.keys(all.json[0]).sort(), [
    'actor',
    'actor_user_id',
    'cable_length',
    'cable_type',
    'created_at',
    'id',
    'location_id',
    'movement_type',
    'notes',
    'quantity_delta',
    'reel_code',
    'source_id',
    'source_type',
    'unit',
  ]);

  const adjustments = await admin.send('GET', '/api/inventory/movements?movement_type=adjustment&limit=1000');
  t.true(adjustments.json.every((m: { movement_type: string }) => m.movement_type === 'adjustment'));
  const mine = adjustments.json.filter((m: { cable_type: string }) => m.cable_type === type);
  t.deepEqual(
    mine.map((m: { quantity_delta: number; notes: string; source_type: string; source_id: null }) => [
      m.quantity_delta,
      m.notes,
      m.source_type,
      m.source_id,
    ]),
    [
      [2, 'count 4', 'manual_adjustment', null],
      [-1, 'count 3', 'manual_adjustment', null],
      [2, 'count 2', 'manual_adjustment', null],
      [-1, 'count 1', 'manual_adjustment', null],
    ],
  );
  const bySource = await admin.send('GET', `/api/inventory/movements?source_type=cable_receiving&source_id=${receipt.id}`);
  t.is(bySource.json.length, 1);
  t.is(bySource.json[0].quantity_delta, 5);

  // Keyset pages of 2 walk the whole filtered ledger without gaps or repeats.
  const seen: number[] = [];
  let next: string | undefined = '/api/inventory/movements?movement_type=adjustment&limit=2';
  while (next) {
    const page = await admin.send('GET', next);
    t.is(page.status, 200);
    t.true(page.json.length <= 2);
    seen.push(...page.json.map((m: { id: number }) => m.id));
    next = page.headers.get('link')?.match(/^<([^>]+)>; rel="next"$/)?.[1];
    if (next) t.regex(next, /movement_type=adjustment/);
  }
  t.deepEqual(
    seen,
    adjustments.json.map((m: { id: number }) => m.id),
  );

  const defaultLimit = await admin.send('GET', '/api/inventory/movements');
  t.true(defaultLimit.json.length <= 200);

  for (const bad of [
    'movement_type=gift',
    'source_type=ticket',
    'source_id=-1',
    'source_id=abc',
    'limit=0',
    'limit=1001',
    'limit=abc',
    'limit=1.5',
    'cursor=0',
  ]) {
    const res = await admin.send('GET', `/api/inventory/movements?${bad}`);
    t.is(res.status, 400, bad);
    t.truthy(res.json.fields?.[bad.split('=')[0] as string], bad);
  }
  t.is((await admin.send('GET', '/api/inventory/movements?limit=1000')).status, 200);
  t.is((await admin.send('GET', '/api/inventory/movements?limit=1')).json.length, 1);
});

// ---- adjustments and thresholds -----------------------------------------------------------------

test.serial('adjustments: signed non-zero quantity and a reason; each bad field is a 400 with nothing written', async (t) => {
  const type = sku();
  const res = await admin.send('POST', '/api/inventory/adjustments', {
    cable_type: type,
    cable_length: '2m',
    quantity: -3,
    reason: 'Water damage',
  });
  t.is(res.status, 201);
  t.is(res.json.message, 'Stock adjusted');
  t.like(res.json.movement, {
    movement_type: 'adjustment',
    source_type: 'manual_adjustment',
    source_id: null,
    quantity_delta: -3,
    notes: 'Water damage',
    actor: { id: adminUser.id, username: 'boss' },
  });
  t.deepEqual(res.json.on_hand, {
    cable_type: type,
    cable_length: '2m',
    on_hand: -3,
    reserved: 0,
    available: -3,
    unit: 'each',
    display: null,
  });

  const good = { cable_type: type, cable_length: '2m', quantity: 1, reason: 'Count' };
  const bad: [Record<string, unknown>, string][] = [
    [{ quantity: 0 }, 'quantity'],
    [{ quantity: 1.5 }, 'quantity'],
    [{ quantity: 'abc' }, 'quantity'],
    [{ quantity: 1e12 }, 'quantity'],
    [{ quantity: -1e12 }, 'quantity'],
    [{ quantity: undefined }, 'quantity'],
    [{ reason: undefined }, 'reason'],
    [{ reason: '   ' }, 'reason'],
    [{ reason: 'r'.repeat(501) }, 'reason'],
    [{ cable_type: undefined }, 'cable_type'],
    [{ cable_length: 'l'.repeat(51) }, 'cable_length'],
  ];
  const before = await tableCounts();
  for (const [patch, field] of bad) {
    const r = await admin.send('POST', '/api/inventory/adjustments', { ...good, ...patch });
    t.is(r.status, 400, JSON.stringify(patch));
    t.truthy(r.json.fields?.[field], JSON.stringify(patch));
  }
  t.deepEqual(await tableCounts(), before);
  t.deepEqual(await onHandOf(type), [{ cable_type: type, cable_length: '2m', on_hand: -3 }]);
});

test('thresholds: admins set and clear them; bad values are 400', async (t) => {
  const type = sku();
  const set = await admin.send('PATCH', '/api/inventory/stock/threshold', {
    cable_type: type,
    cable_length: '5m',
    reorder_threshold: 10,
  });
  t.is(set.status, 200);
  t.like(set.json.stock, { cable_type: type, cable_length: '5m', on_hand: 0, reorder_threshold: 10, low_stock: true });
  const again = await admin.send('PATCH', '/api/inventory/stock/threshold', {
    cable_type: type.toUpperCase(),
    cable_length: '5M',
    reorder_threshold: 2,
  });
  t.like(again.json.stock, { cable_type: type, reorder_threshold: 2 }, 'the same SKU, first spelling kept');
  const cleared = await admin.send('PATCH', '/api/inventory/stock/threshold', {
    cable_type: type,
    cable_length: '5m',
    reorder_threshold: null,
  });
  t.like(cleared.json.stock, { reorder_threshold: null, low_stock: false });
  for (const value of [-1, 1.5, 'abc', undefined]) {
    const r = await admin.send('PATCH', '/api/inventory/stock/threshold', {
      cable_type: type,
      cable_length: '5m',
      reorder_threshold: value,
    });
    t.is(r.status, 400, String(value));
    t.truthy(r.json.fields.reorder_threshold);
  }
});

// ---- consumption on fulfilment ------------------------------------------------------------------

test.serial('fulfilment writes one consumption per item in the same change; closing later takes nothing more', async (t) => {
  const a = sku();
  const b = sku('OS2');
  await receive([
    { cable_type: a, cable_length: '100ft', quantity: 10 },
    { cable_type: b, cable_length: '5m', quantity: 1 },
  ]);
  const id = await ticketInProgress([
    { cable_type: a.toLowerCase(), cable_length: '100FT', quantity: 3 },
    { cable_type: b, cable_length: '5m', quantity: 4 },
    { cable_type: a, cable_length: '100ft', quantity: 2 },
  ]);
  t.is(await count('inventory_movements', { source_type: 'ticket_fulfillment', source_id: id }), 0, 'nothing before');
  const res = await fulfil(id);
  t.is(res.status, 200);
  t.is(res.json.ticket.status, 'fulfilled');

  const moves = await admin.send('GET', `/api/inventory/movements?source_type=ticket_fulfillment&source_id=${id}`);
  t.is(moves.json.length, 3, 'one per item, even two items of one SKU');
  t.true(moves.json.every((m: { movement_type: string }) => m.movement_type === 'consumption'));
  t.deepEqual(moves.json.map((m: { quantity_delta: number }) => m.quantity_delta).sort(), [-2, -3, -4]);
  t.true(moves.json.every((m: { actor: { id: number } }) => m.actor.id === stockUser.id));
  t.deepEqual(await onHandOf(a), [{ cable_type: a, cable_length: '100ft', on_hand: 5 }]);
  t.deepEqual(await onHandOf(b), [{ cable_type: b, cable_length: '5m', on_hand: -3 }], 'allowed short by default');

  t.is((await stock.send('PATCH', `/api/tickets/${id}`, { status: 'closed' })).status, 200);
  t.is(await count('inventory_movements', { source_type: 'ticket_fulfillment', source_id: id }), 3);
  t.deepEqual(await onHandOf(a), [{ cable_type: a, cable_length: '100ft', on_hand: 5 }]);
  // Closing without fulfilling takes nothing.
  const skipped = await ticketInProgress([{ cable_type: a, cable_length: '100ft', quantity: 1 }]);
  t.is((await stock.send('PATCH', `/api/tickets/${skipped}`, { status: 'closed' })).status, 200);
  t.is(await count('inventory_movements', { source_id: skipped, source_type: 'ticket_fulfillment' }), 0);
});

test.serial('parallel fulfils of one ticket: one wins, one set of consumption rows', async (t) => {
  const type = sku();
  await receive([{ cable_type: type, cable_length: '1m', quantity: 100 }]);
  for (let round = 0; round < 3; round++) {
    const id = await ticketInProgress([
      { cable_type: type, cable_length: '1m', quantity: 2 },
      { cable_type: type, cable_length: '1m', quantity: 1 },
    ]);
    const clients = [stock, admin, stock, admin, stock, admin];
    const replies = await Promise.all(clients.map((c) => fulfil(id, c)));
    const statuses = replies.map((r) => r.status).sort();
    t.deepEqual(statuses, [200, 409, 409, 409, 409, 409], `round ${round}`);
    t.is(await count('inventory_movements', { source_type: 'ticket_fulfillment', source_id: id }), 2);
  }
  t.deepEqual(await onHandOf(type), [{ cable_type: type, cable_length: '1m', on_hand: 100 - 3 * 3 }]);
});

test.serial('the database refuses a second consumption set for one ticket (unique key on the ledger)', async (t) => {
  const type = sku();
  const id = await ticketInProgress([{ cable_type: type, cable_length: '1m', quantity: 1 }]);
  t.is((await fulfil(id)).status, 200);
  const [row] = await app.db('inventory_movements').where({ source_type: 'ticket_fulfillment', source_id: id });
  const { id: _id, ...copy } = row;
  await t.throwsAsync(() => app.db('inventory_movements').insert(copy), { any: true });
  t.is(await count('inventory_movements', { source_type: 'ticket_fulfillment', source_id: id }), 1);
});

/** The error a database call fails with (undefined if it succeeds). */
async function failure(call: () => PromiseLike<unknown>): Promise<Error | undefined> {
  try {
    await call();
  } catch (err) {
    return err as Error;
  }
  return undefined;
}

test.serial('the ledger is append-only: UPDATE and DELETE on inventory_movements raise', async (t) => {
  const type = sku();
  await receive([{ cable_type: type, cable_length: '1m', quantity: 7 }]);
  const row = await app.db('inventory_movements').where({ cable_type: type }).first();
  const update = await failure(() => app.db('inventory_movements').where({ id: row.id }).update({ quantity_delta: 700 }));
  t.regex(String(update?.message), /append-only/);
  const remove = await failure(() => app.db('inventory_movements').where({ id: row.id }).delete());
  t.regex(String(remove?.message), /append-only/);
  if (onPostgres) {
    const truncate = await failure(() => app.db.raw('TRUNCATE inventory_movements'));
    t.regex(String(truncate?.message), /append-only/);
  }
  const still = await app.db('inventory_movements').where({ id: row.id }).first();
  t.is(Number(still.quantity_delta), 7);
});

// ---- low stock ----------------------------------------------------------------------------------

test.serial('low stock: one email to each admin when a SKU falls to its threshold, at most once in 24 hours', async (t) => {
  const type = sku('Cat6A');
  const lowRows = () => app.db('notifications').where({ notification_type: 'low_stock' }).orderBy('id');
  const before = (await lowRows()).length;
  await receive([{ cable_type: type, cable_length: '305m', quantity: 10 }]);
  await admin.send('PATCH', '/api/inventory/stock/threshold', { cable_type: type, cable_length: '305m', reorder_threshold: 5 });

  // 10 -> 6: above the threshold, no alert.
  await admin.send('POST', '/api/inventory/adjustments', {
    cable_type: type,
    cable_length: '305m',
    quantity: -4,
    reason: 'Count',
  });
  t.is((await lowRows()).length, before);

  // A fulfilment takes it to 5: at the threshold, one alert to each admin, in the outbox.
  const id = await ticketInProgress([{ cable_type: type, cable_length: '305m', quantity: 1 }]);
  t.is((await fulfil(id)).status, 200);
  const rows = (await lowRows()).slice(before);
  t.is(rows.length, 2);
  t.deepEqual(rows.map((r) => r.recipient_user_id).sort(), [adminUser.id, secondAdmin.id].sort());
  for (const r of rows) {
    t.is(r.channel, 'email');
    t.is(r.status, 'queued');
    t.true(r.subject.includes(`${type} 305m`), r.subject);
    t.true(r.body_text.includes('5 on hand (reorder at 5)'), r.body_text);
    t.regex(r.body_html, /href="https?:\/\/[^"]+\/inventory"/);
    t.true(r.body_html.includes(`${type} 305m`));
  }

  // Lower again within 24 hours: no second alert.
  await admin.send('POST', '/api/inventory/adjustments', {
    cable_type: type,
    cable_length: '305m',
    quantity: -2,
    reason: 'Damage',
  });
  const id2 = await ticketInProgress([{ cable_type: type, cable_length: '305m', quantity: 1 }]);
  t.is((await fulfil(id2)).status, 200);
  t.is((await lowRows()).length, before + 2);

  // A receipt never alerts, even below the threshold.
  await receive([{ cable_type: type, cable_length: '305m', quantity: 1 }]);
  t.is((await lowRows()).length, before + 2);

  // 25 hours later (the stock row's last alert moved back), the next fall alerts again.
  const stockKey = (await app.db('inventory_stock').where({ cable_type: type }).first()).sku_key;
  await app
    .db('inventory_stock')
    .where({ sku_key: stockKey })
    .update({ last_alert_at: new Date(Date.now() - 25 * 3_600_000).toISOString() });
  await admin.send('POST', '/api/inventory/adjustments', {
    cable_type: type,
    cable_length: '305m',
    quantity: -1,
    reason: 'Count',
  });
  t.is((await lowRows()).length, before + 4);
});

test.serial('parallel falls below the threshold still send one alert', async (t) => {
  const type = sku();
  const lowRows = async () => count('notifications', { notification_type: 'low_stock' });
  await receive([{ cable_type: type, cable_length: '1m', quantity: 20 }]);
  await admin.send('PATCH', '/api/inventory/stock/threshold', { cable_type: type, cable_length: '1m', reorder_threshold: 15 });
  const before = await lowRows();
  const replies = await Promise.all(
    Array.from({ length: 8 }, () =>
      admin.send('POST', '/api/inventory/adjustments', { cable_type: type, cable_length: '1m', quantity: -1, reason: 'Count' }),
    ),
  );
  t.true(replies.every((r) => r.status === 201));
  t.deepEqual(await onHandOf(type), [{ cable_type: type, cable_length: '1m', on_hand: 12 }]);
  t.is((await lowRows()) - before, 2, 'one alert (one row per admin)');
});
