import test from 'ava';
import type { PublicUserRow } from '../src/features/users/queries.ts';
import { startApp, type TestApp } from './support/app.ts';
import type { Client } from './support/client.ts';
import { inventoryCast, signedInClient } from './support/factories.ts';
import { createTicket, driveTo } from './support/tickets.ts';

/**
 * INVENTORY_ENFORCE_STOCK=true: approval reserves at the request's source (DESIGN.md §12), so a
 * request past what is available is refused when it is approved: a 409 naming each short SKU and the
 * location, and nothing changes (status, audit, ledger, stock, reservations, notifications). What was
 * reserved is then fulfilled without a second check.
 */

let app: TestApp;
let stockUser: PublicUserRow;
let admin: Client;
let tech: Client;
let stock: Client;

test.before(async () => {
  app = await startApp({ INVENTORY_ENFORCE_STOCK: 'true' });
  ({ stockkeeper: stockUser, bossApi: admin, techApi: tech, stockApi: stock } = await inventoryCast(app));
});
test.after.always(async () => {
  await app?.close();
});

const count = async (table: string, where: Record<string, unknown> = {}) =>
  Number(((await app.db(table).where(where).count({ n: '*' })) as { n: number | string }[])[0]?.n);

async function snapshot(id: number) {
  return {
    ticket: (await app.db('tickets').where({ id }).first()).status,
    events: await count('ticket_events', { ticket_id: id }),
    movements: await count('inventory_movements'),
    stock: await app.db('inventory_stock').orderBy('sku_key').select('sku_key', 'on_hand', 'reserved', 'last_alert_at'),
    located: await app
      .db('location_stock')
      .orderBy(['location_id', 'sku_key'])
      .select('location_id', 'sku_key', 'on_hand', 'reserved'),
    reservations: await count('stock_reservations'),
    notifications: await count('notifications'),
    counts: await app.db('ticket_counts').orderBy('status'),
  };
}

test.serial('a short approval is a 409 naming each short SKU and the location, and nothing changes', async (t) => {
  await admin.send('POST', '/api/cable-receiving', {
    vendor: 'Anixter',
    items: [
      { cable_type: 'Cat6', cable_length: '100ft', quantity: 3 },
      { cable_type: 'OM4', cable_length: '10m', quantity: 50 },
    ],
  });
  await admin.send('PATCH', '/api/inventory/stock/threshold', { cable_type: 'OM4', cable_length: '10m', reorder_threshold: 45 });
  const ticket = await createTicket(tech, {
    assigned_to_id: stockUser.id,
    items: [
      { cable_type: 'cat6', cable_length: '100ft', quantity: 5 },
      { cable_type: 'OM4', cable_length: '10m', quantity: 10 },
      { cable_type: 'Coax RG6', cable_length: '50ft', quantity: 1 },
    ],
  });
  const before = await snapshot(ticket.id);

  const res = await stock.send('PATCH', `/api/tickets/${ticket.id}`, { status: 'approved' });
  t.is(res.status, 409);
  t.regex(res.json.error, /Not enough stock to approve this request/);
  t.regex(res.json.error, /cat6 100ft at Main warehouse \(needs 5, 3 available\)/);
  t.regex(res.json.error, /Coax RG6 50ft at Main warehouse \(needs 1, 0 available\)/);
  t.notRegex(res.json.error, /OM4/, 'a SKU with enough stock is not named');

  const after = await snapshot(ticket.id);
  t.deepEqual(after, before);
  t.is(after.ticket, 'pending_approval');
  t.is(after.reservations, 0);
  t.is(await count('notifications', { notification_type: 'ticket_approved' }), 0);
  t.is(await count('inventory_stock', { cable_type: 'Coax RG6' }), 0, 'no stock row appears for an unknown SKU');

  // Once the stock is there, the same move succeeds and takes it.
  await admin.send('POST', '/api/cable-receiving', {
    vendor: 'Anixter',
    items: [
      { cable_type: 'CAT6', cable_length: '100ft', quantity: 2 },
      { cable_type: 'coax rg6', cable_length: '50FT', quantity: 1 },
    ],
  });
  await driveTo(stock, ticket.id, 'in_progress');
  const held = (await tech.send('GET', '/api/inventory/on-hand')).json;
  t.deepEqual(
    held.find((r: { cable_type: string }) => r.cable_type === 'Cat6'),
    { cable_type: 'Cat6', cable_length: '100ft', on_hand: 5, reserved: 5, available: 0, unit: 'each', display: null },
    'approval reserved what it granted',
  );
  const ok = await stock.send('PATCH', `/api/tickets/${ticket.id}`, { status: 'fulfilled' });
  t.is(ok.status, 200);
  const onHand = (await tech.send('GET', '/api/inventory/on-hand?include_zero=true')).json;
  t.deepEqual(onHand, [
    { cable_type: 'Cat6', cable_length: '100ft', on_hand: 0, reserved: 0, available: 0, unit: 'each', display: null },
    { cable_type: 'coax rg6', cable_length: '50FT', on_hand: 0, reserved: 0, available: 0, unit: 'each', display: null },
    { cable_type: 'OM4', cable_length: '10m', on_hand: 40, reserved: 0, available: 40, unit: 'each', display: null },
  ]);
  t.is(await count('notifications', { notification_type: 'low_stock' }), 1, 'OM4 fell below 45: one admin, one email');
});

test.serial('the ticket page shows the refusal to a browser without JavaScript and to htmx', async (t) => {
  const ticket = await createTicket(tech, {
    assigned_to_id: stockUser.id,
    items: [{ cable_type: 'Cat5e', cable_length: '1m', quantity: 2 }],
  });
  const browser = await signedInClient(app.url, 'stockkeeper');
  const page = await browser.get(`/tickets/${ticket.id}`);
  t.is(page.$('#ticket table.items td.on-hand').first().text().trim(), '0 short');
  t.is(page.$('#ticket table.items td.available').first().text().trim(), '0');
  const csrf = page.$('input[name=_csrf]').first().val() as string;

  const plain = await browser.postForm(`/tickets/${ticket.id}/decision`, { _csrf: csrf, decision: 'approve' });
  t.is(plain.status, 303);
  const back = await browser.get(plain.headers.get('location') as string);
  t.regex(
    back.$('.flash.error').text(),
    /Not enough stock to approve this request: Cat5e 1m at Main warehouse \(needs 2, 0 available\)/,
  );

  const hx = await browser.postForm(
    `/tickets/${ticket.id}/decision`,
    { _csrf: csrf, decision: 'approve' },
    { 'HX-Request': 'true', 'X-CSRF-Token': csrf },
  );
  t.is(hx.status, 409);
  t.regex(hx.text, /Cat5e 1m/);
  t.is((await app.db('tickets').where({ id: ticket.id }).first()).status, 'pending_approval');
});
