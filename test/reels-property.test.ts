import test from 'ava';
import fc from 'fast-check';
import { applyMovements } from '../src/features/inventory/engine.ts';
import { reelTotals } from '../src/features/inventory/reel-queries.ts';
import { parseBulkReceipt } from '../src/features/inventory/reel-schema.ts';
import { bulkSku, countReel, moveReel, receiveBulk, scrapReel } from '../src/features/inventory/reels.ts';
import { toPrincipal } from '../src/features/users/presenter.ts';
import type { PublicUserRow } from '../src/features/users/queries.ts';
import { HttpError } from '../src/http/errors.ts';
import { startApp, type TestApp } from './support/app.ts';
import { buildLocation, createUser, defaultLocationId } from './support/factories.ts';
import { feetMm } from './support/lengths.ts';

/**
 * Reels are a cache of the ledger (DESIGN.md §13): after any sequence of bulk receipts, cuts (through
 * the engine, with the 'ticket_cut' source of the contract), moves, counts and scraps, every reel's
 * remaining_mm is the sum of its movements (its starting length, written by its receipt movement,
 * plus every later one) and never below zero; and location_stock's on hand of each bulk SKU at each
 * location is the sum of the remaining length of its reels there (inventory_stock the sum over
 * locations). Refusals (409 too short, scrapped, nothing to move; 400 same place) are part of the game.
 */

let app: TestApp;
let boss: PublicUserRow;
const places: number[] = [];
const TYPES = ['Cat6', 'OM4'];

test.before(async () => {
  app = await startApp();
  boss = await createUser(app.db, { role: 'admin' });
  places.push(await defaultLocationId(app));
  places.push((await buildLocation(app, 'Prop van', 'van')).id);
  places.push((await buildLocation(app, 'Prop site', 'site')).id);
});
test.after.always(async () => {
  await app?.close();
});

const feet = fc.integer({ min: 1, max: 1500 });
const reelRef = fc.nat(40);
const operation = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant('receipt' as const),
      type: fc.nat(TYPES.length - 1),
      at: fc.nat(2),
      lengths: fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 1, maxLength: 3 }),
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({ kind: fc.constant('cut' as const), reel: reelRef, ft: feet, pieces: fc.integer({ min: 1, max: 3 }) }),
    weight: 4,
  },
  fc.record({ kind: fc.constant('move' as const), reel: reelRef, to: fc.nat(2) }),
  fc.record({ kind: fc.constant('count' as const), reel: reelRef, ft: fc.integer({ min: 0, max: 1200 }) }),
  fc.record({ kind: fc.constant('scrap' as const), reel: reelRef }),
);

let cutSource = 1_000_000;

/** Runs one operation; a 4xx refusal is fine, anything else fails the property. */
async function run(op: Record<string, unknown> & { kind: string }, reels: string[]) {
  const actor = toPrincipal(boss);
  const code = (n: unknown) => (reels.length ? reels[Number(n) % reels.length] : undefined);
  try {
    switch (op.kind) {
      case 'receipt': {
        const input = parseBulkReceipt({
          vendor: 'Prop',
          location_id: places[Number(op.at)],
          lines: [{ cable_type: TYPES[Number(op.type)], reels: (op.lengths as number[]).map((l) => ({ length: `${l} ft` })) }],
        });
        reels.push(...(await receiveBulk(app.db, actor, input)).codes);
        return;
      }
      case 'cut': {
        const c = code(op.reel);
        if (!c) return;
        const reel = await app
          .db('reels as r')
          .join('bulk_skus as b', 'b.sku_key', 'r.sku_key')
          .where('r.code', c)
          .first('r.*', 'b.cable_type');
        const item = ++cutSource;
        const piece = feetMm(Number(op.ft));
        await app.db.transaction((trx) =>
          applyMovements(
            trx,
            { movement_type: 'cut', source_type: 'ticket_cut', source_id: item, actor_user_id: boss.id, notes: null },
            Array.from({ length: Number(op.pieces) }, (_, n) => ({
              source_line: n + 1,
              location_id: Number(reel.location_id),
              cable_type: reel.cable_type,
              cable_length: '',
              quantity_delta: -piece,
              reel_id: Number(reel.id),
            })),
            { enforce: true, purpose: 'cut' },
          ),
        );
        return;
      }
      case 'move': {
        const c = code(op.reel);
        if (c) await moveReel(app.db, actor, c, { to_location_id: places[Number(op.to)] as number });
        return;
      }
      case 'count': {
        const c = code(op.reel);
        if (c) await countReel(app.db, actor, c, { remaining: `${op.ft} ft`, reason: 'Counted' });
        return;
      }
      case 'scrap': {
        const c = code(op.reel);
        if (c) await scrapReel(app.db, actor, c, { reason: 'Scrapped' });
        return;
      }
    }
  } catch (err) {
    if (err instanceof HttpError && err.status >= 400 && err.status < 500) return;
    throw err;
  }
}

async function checkInvariants(): Promise<string | undefined> {
  const reels = await app.db('reels').select('id', 'code', 'starting_mm', 'remaining_mm', 'status');
  const sums = new Map(
    (
      (await app
        .db('inventory_movements')
        .whereNotNull('reel_id')
        .groupBy('reel_id')
        .select('reel_id', app.db.raw('sum(quantity_delta) as total'))) as { reel_id: number; total: number | string }[]
    ).map((r) => [Number(r.reel_id), Number(r.total)]),
  );
  const receipts = new Map(
    (
      (await app.db('inventory_movements').where({ source_type: 'reel_receipt' }).select('reel_id', 'quantity_delta')) as {
        reel_id: number;
        quantity_delta: number;
      }[]
    ).map((r) => [Number(r.reel_id), Number(r.quantity_delta)]),
  );
  for (const r of reels) {
    const remaining = Number(r.remaining_mm);
    if (remaining < 0) return `${r.code} is below zero: ${remaining}`;
    if (remaining !== sums.get(Number(r.id)))
      return `${r.code}: remaining ${remaining}, movements sum to ${sums.get(Number(r.id))}`;
    if (receipts.get(Number(r.id)) !== Number(r.starting_mm)) return `${r.code}: its receipt is not its starting length`;
    if (r.status === 'scrapped' && remaining !== 0) return `${r.code} is scrapped with ${remaining} left`;
  }
  const byPlace = new Map((await reelTotals(app.db)).map((t) => [`${t.location_id}|${t.sku_key}`, t.remaining_mm]));
  const keys = TYPES.map((t) => bulkSku(t).sku_key);
  const stock = await app.db('location_stock').whereIn('sku_key', keys);
  for (const s of stock) {
    const want = byPlace.get(`${Number(s.location_id)}|${s.sku_key}`) ?? 0;
    if (Number(s.on_hand) !== want) return `location ${s.location_id} ${s.sku_key}: on hand ${s.on_hand}, reels hold ${want}`;
  }
  for (const [key, mm] of byPlace) {
    if (mm !== 0 && !stock.some((s) => `${Number(s.location_id)}|${s.sku_key}` === key))
      return `${key}: reels hold ${mm}, no stock row`;
  }
  for (const key of keys) {
    const total = await app.db('inventory_stock').where({ sku_key: key }).first();
    const sum = [...byPlace].filter(([k]) => k.endsWith(`|${key}`)).reduce((n, [, mm]) => n + mm, 0);
    if (Number(total?.on_hand ?? 0) !== sum) return `${key}: total on hand ${total?.on_hand}, reels hold ${sum}`;
  }
  return undefined;
}

test.serial('any sequence of receipts, cuts, moves, counts and scraps keeps reels and stock equal to the ledger', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 25 }), async (ops) => {
      const reels: string[] = [];
      for (const op of ops) await run(op as Record<string, unknown> & { kind: string }, reels);
      const broken = await checkInvariants();
      if (broken) throw new Error(broken);
    }),
    {
      numRuns: 25,
      // One run always receives, cuts, moves, counts and scraps, whatever the random runs do.
      examples: [
        [
          [
            { kind: 'receipt', type: 0, at: 0, lengths: [1000, 500] },
            { kind: 'cut', reel: 0, ft: 100, pieces: 2 },
            { kind: 'move', reel: 1, to: 1 },
            { kind: 'count', reel: 0, ft: 790 },
            { kind: 'scrap', reel: 1 },
          ],
        ],
      ],
    },
  );
  const cuts = Number((await app.db('inventory_movements').where({ movement_type: 'cut' }).count({ n: '*' }))[0]?.n);
  const scraps = Number((await app.db('inventory_movements').where({ movement_type: 'scrap' }).count({ n: '*' }))[0]?.n);
  t.true(cuts > 0 && scraps > 0, `the runs cut (${cuts}) and scrapped (${scraps})`);
});

test.serial('two cuts racing for the last length of one reel: one wins, the other is a 409 naming the reel', async (t) => {
  const input = parseBulkReceipt({ vendor: 'Race', lines: [{ cable_type: 'Cat6', reels: [{ length: '150 ft' }] }] });
  const [code] = (await receiveBulk(app.db, toPrincipal(boss), input)).codes;
  const reel = await app.db('reels').where({ code }).first();
  const cut = (item: number) =>
    app.db.transaction((trx) =>
      applyMovements(
        trx,
        { movement_type: 'cut', source_type: 'ticket_cut', source_id: item, actor_user_id: boss.id, notes: null },
        [
          {
            source_line: 1,
            location_id: Number(reel.location_id),
            cable_type: 'Cat6',
            cable_length: '',
            quantity_delta: -30_480,
            reel_id: Number(reel.id),
          },
        ],
        { enforce: false, purpose: 'cut' },
      ),
    );
  const results = await Promise.allSettled([cut(++cutSource), cut(++cutSource)]);
  t.is(results.filter((r) => r.status === 'fulfilled').length, 1);
  const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
  t.is((lost.reason as HttpError).status, 409);
  t.is((lost.reason as HttpError).message, `Reel ${code} has 50 ft left; this needs 100 ft.`);
  t.is(
    Number((await app.db('reels').where({ code }).first()).remaining_mm),
    15_240,
    'never below zero: 150 ft less one 100 ft cut',
  );
  t.is(await checkInvariants(), undefined);
});
