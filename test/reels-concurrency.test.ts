import test from 'ava';
import { startApp, type TestApp } from './support/app.ts';
import { buildCast, buildReel } from './support/factories.ts';
import { feetMm as mm } from './support/lengths.ts';
import { createTicket, driveTo } from './support/tickets.ts';

/**
 * Two fulfilments cutting from the last long reel at the same moment (DESIGN.md §13): one gets it,
 * the other gets another reel or a 409 naming the SKU; no reel ever goes below zero, and the loser
 * leaves nothing half-written (its ticket, reservation and the ledger are as before). On PostgreSQL
 * the two really run at once (the reels are locked FOR UPDATE SKIP LOCKED while planning); on SQLite
 * they queue, and the same answers hold.
 */

const ROUNDS = 6;

let app: TestApp;
let cast: Awaited<ReturnType<typeof castOf>>;
const castOf = (a: TestApp) => buildCast(a, { tech: {}, keeper: {} });

test.before(async () => {
  app = await startApp();
  cast = await castOf(app);
});
test.after.always(() => app?.close());

async function inProgress(type: string, length: string) {
  const ticket = await createTicket(cast.tech.api, {
    assigned_to_id: cast.keeper.user.id,
    items: [{ cable_type: type, cable_length: length, quantity: 1 }],
  });
  await driveTo(cast.keeper.api, ticket.id, 'in_progress');
  return ticket.id as number;
}

/** Every reel of the type: remaining = starting + its movements, never negative; stock = sum of reels. */
async function ledgerHolds(t: import('ava').ExecutionContext, type: string) {
  const key = `${type.toLowerCase()}|`;
  const reels = await app.db('reels').where({ sku_key: key });
  for (const r of reels) {
    const moved = await app.db('inventory_movements').where({ reel_id: r.id }).sum({ n: 'quantity_delta' }).first();
    t.true(Number(r.remaining_mm) >= 0, `${r.code} is not negative`);
    t.is(Number(r.remaining_mm), Number(moved?.n ?? 0), `${r.code}: remaining is the sum of its movements`);
  }
  const stock = await app.db('location_stock').where({ sku_key: key }).first();
  t.is(
    Number(stock.on_hand),
    reels.reduce((s, r) => s + Number(r.remaining_mm), 0),
  );
}

const fulfil = (id: number, cuts?: unknown) =>
  cast.keeper.api.send('PATCH', `/api/tickets/${id}`, { status: 'fulfilled', ...(cuts ? { cuts } : {}) });

test.serial('the last long reel: one fulfilment cuts it, the other is a 409 naming the SKU, nothing half-written', async (t) => {
  for (let round = 0; round < ROUNDS; round++) {
    const type = `Cat6 race ${round}`;
    const last = await buildReel(app, { cable_type: type, length: '400 ft' });
    await buildReel(app, { cable_type: type, length: '100 ft' });
    const [x, y] = [await inProgress(type, '350 ft'), await inProgress(type, '350 ft')] as [number, number];
    const answers = await Promise.all([fulfil(x), fulfil(y)]);
    const statuses = answers.map((a) => a.status).sort();
    t.deepEqual(statuses, [200, 409], `round ${round}: ${answers.map((a) => a.text).join(' | ')}`);
    const lost = answers.find((a) => a.status === 409);
    t.regex(String(lost?.json.error), new RegExp(`No reel of ${type} at Main warehouse holds 350 ft`));
    const loser = answers[0]?.status === 409 ? x : y;
    t.is((await app.db('tickets').where({ id: loser }).first()).status, 'in_progress');
    t.like(await app.db('stock_reservations').where({ ticket_id: loser }).first(), { status: 'open', kind: 'length' });
    t.is(await app.db('inventory_movements').where({ source_type: 'ticket_fulfillment', source_id: loser }).first(), undefined);
    t.is(Number((await app.db('reels').where({ id: last.id }).first()).remaining_mm), mm(50));
    await ledgerHolds(t, type);
  }
});

test.serial('two long reels: both fulfilments succeed at once, each on its own reel', async (t) => {
  for (let round = 0; round < ROUNDS; round++) {
    const type = `Cat6 pair ${round}`;
    const a = await buildReel(app, { cable_type: type, length: '380 ft' });
    const b = await buildReel(app, { cable_type: type, length: '400 ft' });
    const [x, y] = [await inProgress(type, '350 ft'), await inProgress(type, '350 ft')] as [number, number];
    const answers = await Promise.all([fulfil(x), fulfil(y)]);
    t.deepEqual(
      answers.map((r) => r.status),
      [200, 200],
      answers.map((r) => r.text).join(' | '),
    );
    const left = (await app.db('reels').whereIn('id', [a.id, b.id]).orderBy('id')).map((r) => Number(r.remaining_mm));
    t.deepEqual(left, [mm(380) - mm(350), mm(400) - mm(350)]);
    await ledgerHolds(t, type);
  }
});

test.serial('both choose the same reel: one cuts it, the other is told the reel is too short now', async (t) => {
  for (let round = 0; round < ROUNDS; round++) {
    const type = `Cat6 chosen ${round}`;
    const only = await buildReel(app, { cable_type: type, length: '400 ft' });
    await buildReel(app, { cable_type: type, length: '1000 ft' });
    const ids = [await inProgress(type, '350 ft'), await inProgress(type, '350 ft')];
    const items = await app.db('ticket_items').whereIn('ticket_id', ids).orderBy('ticket_id');
    const answers = await Promise.all(
      ids.map((id, n) => fulfil(id, [{ item_id: Number(items[n].id), piece: 1, reel_code: only.code }])),
    );
    t.deepEqual(answers.map((a) => a.status).sort(), [200, 409]);
    t.regex(String(answers.find((a) => a.status === 409)?.json.error), new RegExp(`Reel ${only.code} has 50 ft left`));
    t.is(Number((await app.db('reels').where({ id: only.id }).first()).remaining_mm), mm(50));
    await ledgerHolds(t, type);
  }
});
