import test from 'ava';
import type { PublicUserRow } from '../src/features/users/queries.ts';
import { startApp, type TestApp } from './support/app.ts';
import type { Client } from './support/client.ts';
import { inventoryCast } from './support/factories.ts';
import { createTicket } from './support/tickets.ts';

/**
 * Locations, transfers, reservations and reorder suggestions over the API (DESIGN.md §12), with
 * INVENTORY_ENFORCE_STOCK=true: every refusal is a 4xx with a sentence and writes nothing.
 */

let app: TestApp;
let admin: Client;
let tech: Client;
let stock: Client;
let techUser: PublicUserRow;
let stockUser: PublicUserRow;
let mainId: number;
let counter = 0;
const sku = (base = 'Loc') => `${base}-${Date.now().toString(36)}${(counter++).toString(36)}`;

test.before(async () => {
  app = await startApp({ INVENTORY_ENFORCE_STOCK: 'true' });
  ({ bossApi: admin, techApi: tech, stockApi: stock, tech: techUser, stockkeeper: stockUser } = await inventoryCast(app));
  mainId = (await admin.send('GET', '/api/locations')).json.find((l: { is_default: boolean }) => l.is_default).id;
});
test.after.always(async () => {
  await app?.close();
});

const count = async (table: string, where: Record<string, unknown> = {}) =>
  Number(((await app.db(table).where(where).count({ n: '*' })) as { n: number | string }[])[0]?.n);

const written = async () => ({
  locations: await count('locations'),
  movements: await count('inventory_movements'),
  transfers: await count('stock_transfers'),
  reservations: await count('stock_reservations'),
  rules: await count('reorder_rules'),
  suggestions: await count('reorder_suggestions'),
  stock: await app
    .db('location_stock')
    .orderBy(['location_id', 'sku_key'])
    .select('location_id', 'sku_key', 'on_hand', 'reserved'),
});

async function newLocation(spec: Record<string, unknown>) {
  const res = await admin.send('POST', '/api/locations', spec);
  if (res.status !== 201) throw new Error(`location: ${res.status} ${res.text}`);
  return res.json.location as { id: number; name: string };
}

async function receive(type: string, quantity: number, locationId?: number) {
  const res = await admin.send('POST', '/api/cable-receiving', {
    vendor: 'Acme',
    ...(locationId ? { location_id: locationId } : {}),
    items: [{ cable_type: type, cable_length: '1m', quantity }],
  });
  if (res.status !== 201) throw new Error(`receive: ${res.status} ${res.text}`);
}

async function at(locationId: number, type: string) {
  const rows = (await tech.send('GET', `/api/inventory/on-hand?include_zero=true&location_id=${locationId}`)).json as {
    cable_type: string;
    on_hand: number;
    reserved: number;
    available: number;
  }[];
  const row = rows.find((r) => r.cable_type === type);
  return row ? { on_hand: row.on_hand, reserved: row.reserved, available: row.available } : undefined;
}

test.serial('locations: admins create and change them; the default is Main warehouse; everyone may list them', async (t) => {
  const list = await tech.send('GET', '/api/locations');
  t.is(list.status, 200);
  t.like(list.json[0], { name: 'Main warehouse', kind: 'warehouse', is_default: true, active: true, holder: null });

  const name = sku('Van');
  const created = await admin.send('POST', '/api/locations', { name, kind: 'van', holder_user_id: techUser.id });
  t.is(created.status, 201);
  t.like(created.json.location, { name, kind: 'van', holder: { id: techUser.id, username: techUser.username }, active: true });
  t.is(created.headers.get('location'), `/api/locations/${created.json.location.id}`);

  const renamed = await admin.send('PATCH', `/api/locations/${created.json.location.id}`, { name: `${name} 2`, active: false });
  t.is(renamed.status, 200);
  t.like(renamed.json.location, { name: `${name} 2`, active: false });
  t.false((await tech.send('GET', '/api/locations')).json.some((l: { name: string }) => l.name === `${name} 2`));
  t.true(
    (await tech.send('GET', '/api/locations?include_inactive=true')).json.some((l: { name: string }) => l.name === `${name} 2`),
  );

  t.is((await tech.send('POST', '/api/locations', { name: sku(), kind: 'site' })).status, 403);
  t.is((await tech.send('PATCH', `/api/locations/${mainId}`, { name: 'Mine' })).status, 403);
});

test.serial('locations: bad input is a 4xx with a sentence, and nothing is written', async (t) => {
  const van = await newLocation({ name: sku('Van'), kind: 'van' });
  const before = await written();
  const cases: [string, string, Record<string, unknown>, number, RegExp][] = [
    ['POST', '/api/locations', { name: 'MAIN WAREHOUSE', kind: 'warehouse' }, 409, /another location already has that name/],
    ['POST', '/api/locations', { name: sku(), kind: 'truck' }, 400, /kind: must be one of warehouse, van, site/],
    ['POST', '/api/locations', { name: '', kind: 'site' }, 400, /name: is required/],
    ['POST', '/api/locations', { name: sku(), kind: 'van', holder_user_id: 999999 }, 400, /holder_user_id: no user with that id/],
    ['POST', '/api/locations', { name: sku(), kind: 'site', holder_user_id: techUser.id }, 400, /only a van has a holder/],
    ['PATCH', `/api/locations/${van.id}`, { holder_user_id: 999999 }, 400, /no user with that id/],
    ['PATCH', `/api/locations/${van.id}`, {}, 400, /change at least one/],
    ['PATCH', '/api/locations/999999', { name: sku() }, 404, /No location with that id/],
    ['PATCH', `/api/locations/${mainId}`, { active: false }, 409, /default location cannot be made inactive/],
  ];
  for (const [method, path, body, status, sentence] of cases) {
    const res = await admin.send(method, path, body);
    t.is(res.status, status, `${method} ${path} ${JSON.stringify(body)}`);
    t.regex(res.json.error, sentence);
  }
  t.deepEqual(await written(), before);
});

test.serial(
  'transfers: paired transfer_out and transfer_in in one transaction; self, unknown, inactive, zero and past available refused',
  async (t) => {
    const type = sku('Cat6');
    const van = await newLocation({ name: sku('Van'), kind: 'van', holder_user_id: techUser.id });
    const closed = await newLocation({ name: sku('Closed'), kind: 'site' });
    await admin.send('PATCH', `/api/locations/${closed.id}`, { active: false });
    await receive(type, 10);

    const item = (quantity: unknown) => [{ cable_type: type, cable_length: '1m', quantity }];
    const before = await written();
    const refusals: [Record<string, unknown>, number, RegExp][] = [
      [{ from_location_id: mainId, to_location_id: mainId, items: item(1) }, 400, /to_location_id: must differ/],
      [{ from_location_id: mainId, to_location_id: 999999, items: item(1) }, 400, /to_location_id: no location with that id/],
      [{ from_location_id: mainId, to_location_id: closed.id, items: item(1) }, 409, /is inactive/],
      [{ from_location_id: mainId, to_location_id: van.id, items: item(0) }, 400, /items.0.quantity: must be at least 1/],
      [{ from_location_id: mainId, to_location_id: van.id, items: item(-2) }, 400, /items.0.quantity: must be at least 1/],
      [{ from_location_id: mainId, to_location_id: van.id, items: [] }, 400, /items: add at least one item/],
      [
        { from_location_id: mainId, to_location_id: van.id, items: item(11) },
        409,
        new RegExp(`Not enough stock to transfer: ${type} 1m at Main warehouse \\(needs 11, 10 available\\)`),
      ],
    ];
    for (const [body, status, sentence] of refusals) {
      const res = await admin.send('POST', '/api/inventory/transfers', body);
      t.is(res.status, status, JSON.stringify(body));
      t.regex(res.json.error, sentence);
    }
    t.deepEqual(await written(), before, 'nothing written by a refusal');
    t.is(
      (await tech.send('POST', '/api/inventory/transfers', { from_location_id: mainId, to_location_id: van.id, items: item(1) }))
        .status,
      403,
    );

    const ok = await admin.send('POST', '/api/inventory/transfers', {
      from_location_id: mainId,
      to_location_id: van.id,
      items: item(4),
      notes: 'Monday run',
    });
    t.is(ok.status, 201);
    t.like(ok.json.transfer, { from_location: { id: mainId }, to_location: { id: van.id }, notes: 'Monday run' });
    t.deepEqual(ok.json.transfer.items, [{ cable_type: type, cable_length: '1m', quantity: 4 }]);
    const moves = await app
      .db('inventory_movements')
      .where({ source_type: 'stock_transfer', source_id: ok.json.transfer.id })
      .orderBy('source_line');
    t.deepEqual(
      moves.map((m) => [m.movement_type, Number(m.location_id), Number(m.quantity_delta)]),
      [
        ['transfer_out', mainId, -4],
        ['transfer_in', van.id, 4],
      ],
    );
    t.deepEqual(await at(mainId, type), { on_hand: 6, reserved: 0, available: 6 });
    t.deepEqual(await at(van.id, type), { on_hand: 4, reserved: 0, available: 4 });
    const total = (await tech.send('GET', '/api/inventory/on-hand')).json.find(
      (r: { cable_type: string }) => r.cable_type === type,
    );
    t.like(total, { on_hand: 10, reserved: 0, available: 10 }, 'a transfer leaves the totals as they were');
  },
);

test.serial(
  'a request from a van: approval reserves there, reject releases, restore reserves again, fulfilment consumes from the van',
  async (t) => {
    const type = sku('OM4');
    const van = await newLocation({ name: sku('Van'), kind: 'van', holder_user_id: techUser.id });
    await receive(type, 5, van.id);
    const items = [{ cable_type: type, cable_length: '1m', quantity: 3 }];

    // Unknown or inactive source: 400 naming the field, nothing written.
    const before = await count('tickets');
    const unknown = await tech.send('POST', '/api/tickets', {
      assigned_to_id: stockUser.id,
      location: 'A',
      items,
      source_location_id: 999999,
    });
    t.is(unknown.status, 400);
    t.regex(unknown.json.error, /source_location_id: no location with that id/);
    t.is(await count('tickets'), before);

    const ticket = await createTicket(tech, { assigned_to_id: stockUser.id, items, ...{ source_location_id: van.id } } as never);
    t.is(ticket.source_location_id, van.id);
    t.is((await stock.send('PATCH', `/api/tickets/${ticket.id}`, { status: 'approved' })).status, 200);
    t.deepEqual(await at(van.id, type), { on_hand: 5, reserved: 3, available: 2 });
    t.is(await count('stock_reservations', { ticket_id: ticket.id, status: 'open' }), 1);

    // Deleting releases; restoring reserves again.
    t.is((await tech.send('DELETE', `/api/tickets/${ticket.id}`)).status, 200);
    t.deepEqual(await at(van.id, type), { on_hand: 5, reserved: 0, available: 5 });
    t.is((await tech.send('POST', `/api/tickets/${ticket.id}/restore`)).status, 200);
    t.deepEqual(await at(van.id, type), { on_hand: 5, reserved: 3, available: 2 });

    t.is((await stock.send('PATCH', `/api/tickets/${ticket.id}`, { status: 'in_progress' })).status, 200);
    t.is((await stock.send('PATCH', `/api/tickets/${ticket.id}`, { status: 'fulfilled' })).status, 200);
    t.deepEqual(await at(van.id, type), { on_hand: 2, reserved: 0, available: 2 }, 'consumed from the van and released together');
    const consumed = await app.db('inventory_movements').where({ source_type: 'ticket_fulfillment', source_id: ticket.id });
    t.deepEqual(
      consumed.map((m) => [Number(m.location_id), Number(m.quantity_delta)]),
      [[van.id, -3]],
    );
    t.is(await count('stock_reservations', { ticket_id: ticket.id, status: 'consumed' }), 1);
  },
);

test.serial('the approver may change the source before deciding; rejection releases nothing it did not hold', async (t) => {
  const type = sku('Coax');
  const site = await newLocation({ name: sku('Site'), kind: 'site' });
  await receive(type, 4, site.id);
  const ticket = await createTicket(tech, {
    assigned_to_id: stockUser.id,
    items: [{ cable_type: type, cable_length: '1m', quantity: 4 }],
  });
  t.is(ticket.source_location_id, mainId);
  const short = await stock.send('POST', `/api/tickets/${ticket.id}/decision`, { decision: 'approve' });
  t.is(short.status, 409);
  t.regex(short.json.error, new RegExp(`${type} 1m at Main warehouse \\(needs 4, 0 available\\)`));
  const moved = await stock.send('POST', `/api/tickets/${ticket.id}/decision`, {
    decision: 'approve',
    source_location_id: site.id,
  });
  t.is(moved.status, 200);
  t.is(moved.json.ticket.source_location_id, site.id);
  t.deepEqual(await at(site.id, type), { on_hand: 4, reserved: 4, available: 0 });
  const bad = await stock.send('POST', `/api/tickets/${ticket.id}/decision`, { decision: 'reject', source_location_id: 'x' });
  t.is(bad.status, 400);
});

test.serial(
  'two approvals racing for the last pieces: one wins, the other is a 409 naming SKU and location; available never negative',
  async (t) => {
    const type = sku('Last');
    await receive(type, 3);
    const a = await createTicket(tech, {
      assigned_to_id: stockUser.id,
      items: [{ cable_type: type, cable_length: '1m', quantity: 2 }],
    });
    const b = await createTicket(tech, {
      assigned_to_id: stockUser.id,
      items: [{ cable_type: type, cable_length: '1m', quantity: 2 }],
    });
    const replies = await Promise.all([
      stock.send('PATCH', `/api/tickets/${a.id}`, { status: 'approved' }),
      stock.send('PATCH', `/api/tickets/${b.id}`, { status: 'approved' }),
    ]);
    t.deepEqual(replies.map((r) => r.status).sort(), [200, 409]);
    const lost = replies.find((r) => r.status === 409);
    t.regex(lost?.json.error, new RegExp(`${type} 1m at Main warehouse \\(needs 2, 1 available\\)`));
    t.deepEqual(await at(mainId, type), { on_hand: 3, reserved: 2, available: 1 });
  },
);

test.serial(
  'reorder: one open suggestion per pair, sized to max in packs, admins told once, one click transfers, closes by itself',
  async (t) => {
    const type = sku('Reel');
    const van = await newLocation({ name: sku('Van'), kind: 'van', holder_user_id: techUser.id });
    await receive(type, 100);
    const emails = () => count('notifications', { notification_type: 'reorder_suggested' });
    const mails = await emails();

    const bad = await admin.send('POST', '/api/inventory/reorder-rules', {
      location_id: van.id,
      cable_type: type,
      cable_length: '1m',
      min_quantity: 10,
      max_quantity: 5,
    });
    t.is(bad.status, 400);
    t.regex(bad.json.error, /max_quantity: must be at least the minimum/);

    const rule = await admin.send('POST', '/api/inventory/reorder-rules', {
      location_id: van.id,
      cable_type: type,
      cable_length: '1m',
      min_quantity: 5,
      max_quantity: 22,
      pack_multiple: 10,
    });
    t.is(rule.status, 200);
    t.like(rule.json.rule, { location: { id: van.id }, min_quantity: 5, max_quantity: 22, pack_multiple: 10 });
    const open = async () =>
      (await admin.send('GET', `/api/inventory/reorder-suggestions?location_id=${van.id}`)).json.filter(
        (s: { status: string }) => s.status === 'open',
      );
    const [first, ...more] = await open();
    t.is(more.length, 0, 'exactly one open suggestion');
    t.like(
      first,
      { kind: 'transfer', from_location: { id: mainId }, location: { id: van.id }, quantity: 30 },
      '22 rounded up to packs of 10',
    );
    t.is(await emails(), mails + 1, 'one admin, one email');

    // Saving the rule again while it is open opens nothing more.
    await admin.send('POST', '/api/inventory/reorder-rules', {
      location_id: van.id,
      cable_type: type,
      cable_length: '1m',
      min_quantity: 5,
      max_quantity: 22,
      pack_multiple: 10,
    });
    t.is((await open()).length, 1);
    t.is(await emails(), mails + 1);

    const done = await admin.send('POST', `/api/inventory/reorder-suggestions/${first.id}/transfer`);
    t.is(done.status, 201);
    t.deepEqual(done.json.transfer.items, [{ cable_type: type, cable_length: '1m', quantity: 30 }]);
    t.deepEqual(await at(van.id, type), { on_hand: 30, reserved: 0, available: 30 });
    t.is((await open()).length, 0);
    t.is((await admin.send('POST', `/api/inventory/reorder-suggestions/${first.id}/transfer`)).status, 409, 'one click only');

    // Falls below min again: a new suggestion; stock back above min closes it by itself.
    await admin.send('POST', '/api/inventory/adjustments', {
      location_id: van.id,
      cable_type: type,
      cable_length: '1m',
      quantity: -27,
      reason: 'Used',
    });
    t.is((await open()).length, 1);
    await receive(type, 10, van.id);
    t.is((await open()).length, 0, 'closed by itself');
    t.is(await count('reorder_suggestions', { location_id: van.id, status: 'closed' }), 1);
  },
);

test.serial(
  'on-hand per location: 404 for an unknown location, 400 for a bad id; the page filters and the CSV names the location',
  async (t) => {
    t.is((await tech.send('GET', '/api/inventory/on-hand?location_id=999999')).status, 404);
    t.is((await tech.send('GET', '/api/inventory/on-hand?location_id=abc')).status, 400);
    const rows = (await tech.send('GET', `/api/inventory/on-hand?location_id=${mainId}`)).json;
    t.true(rows.length > 0);
    for (const r of rows) t.is(r.available, r.on_hand - r.reserved);
  },
);

test.serial('a suggestion opening emits reorder.suggested to subscribers, once', async (t) => {
  const sub = await admin.send('POST', '/api/webhooks', {
    url: 'https://hooks.example.test/reorder',
    events: ['reorder.suggested'],
  });
  t.is(sub.status, 201, sub.text);
  const type = sku('Hook');
  const site = await newLocation({ name: sku('Site'), kind: 'site' });
  const rule = { location_id: site.id, cable_type: type, cable_length: '1m', min_quantity: 3, max_quantity: 9 };
  await admin.send('POST', '/api/inventory/reorder-rules', rule);
  await admin.send('POST', '/api/inventory/reorder-rules', rule);
  const events = await app.db('webhook_events').where({ event_type: 'reorder.suggested' });
  const mine = events.map((e) => JSON.parse(e.payload)).filter((p) => p.data.cable_type === type);
  t.is(mine.length, 1);
  t.like(mine[0].data, {
    kind: 'transfer',
    location: { id: site.id },
    from_location: { id: mainId, name: 'Main warehouse' },
    quantity: 9,
    on_hand: 0,
    reserved: 0,
    min_quantity: 3,
    max_quantity: 9,
  });
});
