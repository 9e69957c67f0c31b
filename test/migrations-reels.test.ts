import { readdirSync } from 'node:fs';
import test from 'ava';
import { type Db, migrateLatest, migrationConfig } from '../src/db/index.ts';
import { freshDatabase } from './support/app.ts';

/**
 * The reels migrations (DESIGN.md §13) on a database that already holds stock and movements: up adds
 * bulk_skus, reels and inventory_movements.reel_id without touching a row; their checks, keys and the
 * ledger's append-only triggers hold on both databases; down gives the old shape back with the rows
 * the ledger had, reel movements included, and up works again.
 */

// The reels migrations and every one after them.
const REEL_MIGRATIONS = readdirSync(new URL('../migrations/', import.meta.url)).filter(
  (f) => f.endsWith('.ts') && f >= '20261208400000',
).length;

const count = async (db: Db, table: string) => Number(((await db(table).count({ n: '*' })) as { n: number | string }[])[0]?.n);
const now = () => new Date().toISOString();

async function someStock(db: Db) {
  const [user] = await db('users')
    .insert({
      username: 'ann',
      username_key: 'ann',
      email: 'ann@example.test',
      email_key: 'ann@example.test',
      password_hash: 'scrypt$x',
      role: 'admin',
      created_at: now(),
      updated_at: now(),
    })
    .returning('id');
  const main = await db('locations').where({ is_default: true }).first();
  await db('inventory_movements').insert({
    movement_type: 'receipt',
    source_type: 'cable_receiving',
    source_id: 1,
    source_line: 0,
    location_id: main.id,
    actor_user_id: Number((user as { id: number }).id),
    sku_key: 'cat6|100ft',
    cable_type: 'Cat6',
    cable_length: '100ft',
    quantity_delta: 10,
    created_at: now(),
  });
  return { main: Number(main.id) };
}

test('reels migrations: up on a stocked database, the guarantees hold, down and up again', async (t) => {
  const database = await freshDatabase();
  t.teardown(() => database.drop());
  const { db } = database;
  await migrateLatest(db);
  for (let i = 0; i < REEL_MIGRATIONS; i++) await db.migrate.down(migrationConfig());
  t.false(await db.schema.hasTable('reels'), 'rolled back to before reels');
  const { main } = await someStock(db);

  t.is((await migrateLatest(db)).length, REEL_MIGRATIONS);
  t.is(await count(db, 'inventory_movements'), 1, 'the ledger keeps its rows');
  t.is((await db('inventory_movements').first()).reel_id, null);

  await db('bulk_skus').insert({ sku_key: 'cat6|', cable_type: 'Cat6', unit: 'ft', created_at: now() });
  await t.throwsAsync(() => db('bulk_skus').insert({ sku_key: 'om4|', cable_type: 'OM4', unit: 'yd', created_at: now() }), {
    any: true,
  });
  const reel = (code: string, extra: Record<string, unknown> = {}) => ({
    code,
    sku_key: 'cat6|',
    location_id: main,
    starting_mm: 304_800,
    remaining_mm: 304_800,
    status: 'active',
    created_at: now(),
    updated_at: now(),
    ...extra,
  });
  const [row] = await db('reels').insert(reel('R-000001')).returning('id');
  const reelId = Number((row as { id: number }).id);
  for (const bad of [
    reel('R-000001'),
    reel('R-000002', { starting_mm: 0 }),
    reel('R-000003', { remaining_mm: -1 }),
    reel('R-000004', { status: 'lost' }),
    reel('R-000005', { sku_key: 'nope|' }),
    reel('R-000006', { location_id: 999_999 }),
  ]) {
    await t.throwsAsync(() => db('reels').insert(bad), { any: true }, `refused: ${JSON.stringify(bad).slice(0, 80)}`);
  }
  t.is(await count(db, 'reels'), 1);

  const movement = {
    movement_type: 'receipt',
    source_type: 'reel_receipt',
    source_id: reelId,
    source_line: 0,
    location_id: main,
    sku_key: 'cat6|',
    cable_type: 'Cat6',
    cable_length: '',
    quantity_delta: 304_800,
    created_at: now(),
  };
  await db('inventory_movements').insert({ ...movement, reel_id: reelId });
  await t.throwsAsync(() => db('inventory_movements').insert({ ...movement, source_id: 777, reel_id: 999_999 }), { any: true });
  await t.throwsAsync(() => db('inventory_movements').update({ notes: 'rewritten' }), { any: true }, 'still append-only');
  await t.throwsAsync(() => db('inventory_movements').delete(), { any: true });

  for (let i = 0; i < REEL_MIGRATIONS; i++) await db.migrate.down(migrationConfig());
  t.false(await db.schema.hasTable('reels'));
  t.false(await db.schema.hasTable('bulk_skus'));
  t.false(await db.schema.hasColumn('inventory_movements', 'reel_id'));
  t.is(await count(db, 'inventory_movements'), 2, 'the ledger keeps every row, the reel receipt too');
  await t.throwsAsync(() => db('inventory_movements').update({ notes: 'rewritten' }), { any: true }, 'and stays append-only');

  t.is((await migrateLatest(db)).length, REEL_MIGRATIONS, 'and up again');
  t.true(await db.schema.hasColumn('inventory_movements', 'reel_id'));
});
