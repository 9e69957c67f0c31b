import test from 'ava';
import type { Trx } from '../src/db/index.ts';
import { applyMovements, type MoveLine } from '../src/features/inventory/engine.ts';
import { findBulkSku, findReelByCode, reelMovements } from '../src/features/inventory/reel-queries.ts';
import { bulkSku } from '../src/features/inventory/reels.ts';
import { HttpError } from '../src/http/errors.ts';
import { startApp, type TestApp } from './support/app.ts';
import { buildLocation, buildReel, createUser, defaultLocationId } from './support/factories.ts';

/**
 * The engine with reels (DESIGN.md §13): a reel movement keeps the reel's remaining_mm beside the
 * ledger and location_stock in one transaction; a reel that would go below zero is a 409 naming it
 * and nothing is written; a move carries the reel to its new location.
 */

let app: TestApp;
test.before(async () => {
  app = await startApp();
});
test.after.always(async () => {
  await app?.close();
});

const cut = (reel: { id: number; location_id: number }, mm: number, piece = 1): MoveLine => ({
  source_line: piece,
  location_id: reel.location_id,
  cable_type: 'Cat6',
  cable_length: '',
  quantity_delta: -mm,
  reel_id: reel.id,
});

const cutSource = (ticketItemId: number) => ({
  movement_type: 'cut' as const,
  source_type: 'ticket_cut' as const,
  source_id: ticketItemId,
  actor_user_id: null,
  notes: null,
});

const apply = (source: ReturnType<typeof cutSource>, lines: MoveLine[]) =>
  app.db.transaction((trx: Trx) => applyMovements(trx, source, lines, { enforce: false, purpose: 'cut' }));

const reelNow = async (code: string) =>
  (await findReelByCode(app.db, code)) as NonNullable<Awaited<ReturnType<typeof findReelByCode>>>;
const stockAt = async (locationId: number, cableType = 'Cat6') =>
  Number(
    (
      await app
        .db('location_stock')
        .where({ location_id: locationId, sku_key: bulkSku(cableType).sku_key })
        .first()
    )?.on_hand ?? 0,
  );

test.serial(
  'a receipt makes the bulk SKU, the reel and its movement; a cut lowers the reel and the location alike',
  async (t) => {
    const main = await defaultLocationId(app);
    const before = await stockAt(main);
    const reel = await buildReel(app, { length: '1000 ft', lot: 'LOT-7' });
    t.regex(reel.code, /^R-\d{6}$/);
    t.is(reel.unit, 'ft');
    const bulk = await findBulkSku(app.db, 'cat6|');
    t.like(bulk, { sku_key: 'cat6|', cable_type: 'Cat6', unit: 'ft' });
    t.is((await reelNow(reel.code)).remaining_mm, 304_800);
    t.is(await stockAt(main), before + 304_800);

    await apply(cutSource(9001), [cut(reel, 30_480, 1), cut(reel, 30_480, 2)]);
    const after = await reelNow(reel.code);
    t.is(after.remaining_mm, 304_800 - 60_960);
    t.is(after.lot, 'LOT-7');
    t.is(await stockAt(main), before + 304_800 - 60_960);
    const moves = await app.db('inventory_movements').where({ reel_id: reel.id }).orderBy('id');
    t.deepEqual(
      moves.map((m) => [m.movement_type, m.source_type, Number(m.quantity_delta)]),
      [
        ['receipt', 'reel_receipt', 304_800],
        ['cut', 'ticket_cut', -30_480],
        ['cut', 'ticket_cut', -30_480],
      ],
    );
    const sum = moves.reduce((n, m) => n + Number(m.quantity_delta), 0);
    t.is(after.remaining_mm, sum, 'remaining = the sum of its movements');

    const again = await t.throwsAsync(() => apply(cutSource(9001), [cut(reel, 1000)]));
    t.is((again as HttpError).status, 409, 'a piece is cut once');
  },
);

test.serial('a cut longer than the reel is a 409 naming the reel in its unit, and writes nothing', async (t) => {
  const reel = await buildReel(app, { length: '40 ft' });
  await apply(cutSource(9100), [cut(reel, 3048)]);
  const ledger = Number((await app.db('inventory_movements').count({ n: '*' }))[0]?.n);
  const stock = await stockAt(reel.location_id);
  const err = await t.throwsAsync(() => apply(cutSource(9101), [cut(reel, 30_480)]));
  t.true(err instanceof HttpError);
  t.is((err as HttpError).status, 409);
  t.is(err?.message, `Reel ${reel.code} has 30 ft left; this needs 100 ft.`);
  t.is((await reelNow(reel.code)).remaining_mm, 9144, 'the reel is unchanged');
  t.is(await stockAt(reel.location_id), stock, 'the location is unchanged');
  t.is(Number((await app.db('inventory_movements').count({ n: '*' }))[0]?.n), ledger, 'no movement stayed');
  // The database holds the line too, whatever the code does.
  await t.throwsAsync(() => app.db('reels').where({ id: reel.id }).update({ remaining_mm: -1 }), { any: true });
  await t.throwsAsync(() => app.db('reels').where({ id: reel.id }).update({ status: 'lost' }), { any: true });
});

test.serial('a move carries the reel to the new location; a scrapped reel gives nothing more', async (t) => {
  const admin = await createUser(app.db, { role: 'admin' });
  const van = await buildLocation(app, 'Reel van');
  const reel = await buildReel(app, { cable_type: 'OM4', length: '305 m', admin });
  const main = reel.location_id;
  await app.db.transaction((trx) =>
    applyMovements(
      trx,
      { movement_type: 'transfer_out', source_type: 'reel_move', source_id: null, actor_user_id: admin.id, notes: 'to the van' },
      [
        { ...cut(reel, 305_000, 0), cable_type: 'OM4', movement_type: 'transfer_out' },
        { ...cut(reel, -305_000, 1), cable_type: 'OM4', location_id: van.id, movement_type: 'transfer_in' },
      ],
      { enforce: true, purpose: 'move this reel' },
    ),
  );
  const moved = await reelNow(reel.code);
  t.is(moved.location_id, van.id);
  t.is(moved.location_name, 'Reel van');
  t.is(moved.remaining_mm, 305_000);
  t.is(moved.unit, 'm');
  t.is(await stockAt(van.id, 'OM4'), 305_000);
  t.is(await stockAt(main, 'OM4'), 0);

  await app.db('reels').where({ id: reel.id }).update({ status: 'scrapped' });
  const err = await t.throwsAsync(() =>
    app.db.transaction((trx) =>
      applyMovements(trx, cutSource(9200), [{ ...cut(reel, 1000), cable_type: 'OM4', location_id: van.id }], {
        enforce: false,
        purpose: 'cut',
      }),
    ),
  );
  t.is(err?.message, `Reel ${reel.code} is scrapped; nothing was changed.`);
  t.is((await reelNow(reel.code)).remaining_mm, 305_000);
});

test.serial("a reel's history past its limit is its latest movements, oldest first", async (t) => {
  const reel = await buildReel(app, { cable_type: 'History cat', length: '1000 ft' });
  for (const piece of [1, 2, 3]) await apply(cutSource(9100 + piece), [cut(reel, 1000 * piece, 1)]);
  const all = await reelMovements(app.db, reel.id);
  t.deepEqual(
    all.map((m) => [m.movement_type, m.quantity_delta]),
    [
      ['receipt', 304_800],
      ['cut', -1000],
      ['cut', -2000],
      ['cut', -3000],
    ],
  );
  t.deepEqual(
    (await reelMovements(app.db, reel.id, 2)).map((m) => m.quantity_delta),
    [-2000, -3000],
  );
});
