import { readdirSync } from 'node:fs';
import test from 'ava';
import { type Db, migrateLatest, migrationConfig } from '../src/db/index.ts';
import { freshDatabase } from './support/app.ts';

/**
 * The locations migrations on a database that already holds stock, movements and requests: everything
 * moves to "Main warehouse", approved requests reserve, the old threshold becomes a rule, the ledger is
 * still append-only; down gives the old shape back with the same rows.
 */

// The locations migrations and every one after them (reports, merged later, build on locations).
const LOCATION_MIGRATIONS = readdirSync(new URL('../migrations/', import.meta.url)).filter(
  (f) => f.endsWith('.ts') && f >= '20261208100000',
).length;
const n = async (db: Db, table: string, where: Record<string, unknown> = {}) =>
  Number(((await db(table).where(where).count({ n: '*' })) as { n: number | string }[])[0]?.n);

async function seedOldShape(db: Db) {
  const now = new Date().toISOString();
  const user = (name: string) => ({
    username: name,
    username_key: name,
    email: `${name}@example.test`,
    email_key: `${name}@example.test`,
    password_hash: 'scrypt$x',
    role: 'user',
    created_at: now,
    updated_at: now,
  });
  const [a, b] = (
    await db('users')
      .insert([user('ann'), user('bob')])
      .returning('id')
  ).map((r: { id: number }) => Number(r.id));
  const ticket = (status: string) => ({
    created_by_id: a,
    assigned_to_id: b,
    status,
    priority: 'medium',
    location: 'Room 1',
    created_at: now,
    updated_at: now,
  });
  const ids = (
    await db('tickets')
      .insert([ticket('approved'), ticket('pending_approval'), ticket('fulfilled')])
      .returning('id')
  ).map((r: { id: number }) => Number(r.id));
  await db('ticket_items').insert([
    { ticket_id: ids[0], position: 0, cable_type: 'Cat6', cable_length: '100ft', quantity: 4, approved_quantity: 3 },
    { ticket_id: ids[1], position: 0, cable_type: 'Cat6', cable_length: '100ft', quantity: 2 },
    { ticket_id: ids[2], position: 0, cable_type: 'Cat6', cable_length: '100ft', quantity: 1, approved_quantity: 1 },
  ]);
  const sku = { sku_key: 'cat6|100ft', cable_type: 'Cat6', cable_length: '100ft' };
  await db('inventory_movements').insert([
    {
      movement_type: 'receipt',
      source_type: 'cable_receiving',
      source_id: 1,
      source_line: 0,
      ...sku,
      quantity_delta: 10,
      created_at: now,
    },
    {
      movement_type: 'consumption',
      source_type: 'ticket_fulfillment',
      source_id: ids[2],
      source_line: 0,
      ...sku,
      quantity_delta: -1,
      created_at: now,
    },
  ]);
  await db('inventory_stock').insert({ ...sku, on_hand: 9, reorder_threshold: 5, created_at: now, updated_at: now });
  return ids;
}

test('locations migrations move existing stock to Main warehouse, reserve approved requests, and go back down', async (t) => {
  const database = await freshDatabase();
  t.teardown(() => database.drop());
  const { db } = database;
  await migrateLatest(db);
  for (let i = 0; i < LOCATION_MIGRATIONS; i++) await db.migrate.down(migrationConfig());
  t.false(await db.schema.hasTable('locations'), 'rolled back to before locations');
  const [approved] = await seedOldShape(db);

  const applied = await migrateLatest(db);
  t.is(applied.length, LOCATION_MIGRATIONS);
  const main = await db('locations').where({ is_default: true }).first();
  t.is(main.name, 'Main warehouse');
  t.is(main.kind, 'warehouse');
  t.is(await n(db, 'locations'), 1);
  t.is(await n(db, 'inventory_movements', { location_id: main.id }), 2, 'every movement is at Main warehouse');
  const stock = await db('location_stock').where({ location_id: main.id, sku_key: 'cat6|100ft' }).first();
  t.is(Number(stock.on_hand), 9);
  t.is(Number(stock.reserved), 3, 'the approved request holds what it was granted');
  t.is(Number((await db('inventory_stock').first()).reserved), 3);
  const reservations = await db('stock_reservations').where({ status: 'open' });
  t.deepEqual(
    reservations.map((r) => [Number(r.ticket_id), Number(r.quantity), Number(r.location_id)]),
    [[approved, 3, main.id]],
  );
  t.is(await n(db, 'tickets', { source_location_id: main.id }), 3);
  const consumed = await db('report_daily_consumption').select('location_id', 'quantity');
  t.true(consumed.length > 0, 'the old consumption is in the reports');
  t.true(
    consumed.every((r) => Number(r.location_id) === Number(main.id)),
    'the reports count it at Main warehouse',
  );
  const rule = await db('reorder_rules').first();
  t.is(Number(rule.location_id), Number(main.id));
  t.is(Number(rule.min_quantity), 5);
  t.is(Number(rule.max_quantity), 10);

  // Still append-only, still unique by name whatever the case, still one default.
  await t.throwsAsync(() => db('inventory_movements').update({ notes: 'rewritten' }), { any: true });
  await t.throwsAsync(() => db('inventory_movements').delete(), { any: true });
  const now = new Date().toISOString();
  await t.throwsAsync(
    () =>
      db('locations').insert({
        name: 'MAIN WAREHOUSE',
        kind: 'warehouse',
        active: true,
        is_default: false,
        created_at: now,
        updated_at: now,
      }),
    { any: true },
  );
  await t.throwsAsync(
    () =>
      db('locations').insert({
        name: 'Second',
        kind: 'warehouse',
        active: true,
        is_default: true,
        created_at: now,
        updated_at: now,
      }),
    { any: true },
  );

  for (let i = 0; i < LOCATION_MIGRATIONS; i++) await db.migrate.down(migrationConfig());
  t.false(await db.schema.hasTable('locations'));
  t.false(await db.schema.hasColumn('inventory_movements', 'location_id'));
  t.false(await db.schema.hasColumn('tickets', 'source_location_id'));
  t.is(await n(db, 'inventory_movements'), 2, 'the ledger keeps its rows');
  t.is(Number((await db('inventory_stock').first()).on_hand), 9);
  await t.throwsAsync(() => db('inventory_movements').update({ notes: 'rewritten' }), { any: true });

  t.is((await migrateLatest(db)).length, LOCATION_MIGRATIONS, 'and up again');
  t.is(Number((await db('location_stock').first()).reserved), 3);
});
