import test from 'ava';
import { startApp, type TestApp } from './support/app.ts';
import { buildCast, buildReel, defaultLocationId } from './support/factories.ts';
import { feetMm as mm } from './support/lengths.ts';
import { createTicket, driveTo } from './support/tickets.ts';

/**
 * Cut-to-length (DESIGN.md §13) through HTTP: approval reserves counted pieces first and the rest as
 * length of the bulk SKU; fulfilment follows it, one `cut` movement per piece on one reel (best fit,
 * or the reel the person chose), and the ticket page offers the offcuts it left. Both databases.
 */

let app: TestApp;
let cast: Awaited<ReturnType<typeof castOf>>;
const castOf = (a: TestApp) =>
  buildCast(a, { boss: { role: 'admin', browser: true }, tech: {}, keeper: { browser: true }, other: {} });

test.before(async () => {
  app = await startApp();
  cast = await castOf(app);
});
test.after.always(() => app?.close());

const reel = async (code: string) => app.db('reels').where({ code }).first();
const reservations = (ticketId: number) =>
  app
    .db('stock_reservations')
    .where({ ticket_id: ticketId })
    .orderBy(['source_line', 'kind'])
    .select('source_line', 'kind', 'sku_key', 'quantity', 'pieces', 'piece_mm', 'status');
const bulkStock = async (type: string, locationId: number) =>
  app
    .db('location_stock')
    .where({ location_id: locationId, sku_key: `${type.toLowerCase()}|` })
    .first()
    .then((r) => ({ on_hand: Number(r?.on_hand ?? 0), reserved: Number(r?.reserved ?? 0) }));

/** A request for `items` to the keeper, filed by the technician (approved when told). */
async function request(items: { cable_type: string; cable_length: string; quantity: number }[], to?: string) {
  const ticket = await createTicket(cast.tech.api, { assigned_to_id: cast.keeper.user.id, items });
  if (to) await driveTo(cast.keeper.api, ticket.id, to);
  const detail = await app.db('ticket_items').where({ ticket_id: ticket.id }).orderBy('position');
  return { id: ticket.id as number, itemIds: detail.map((i: { id: number }) => Number(i.id)) };
}

test.serial('approval reserves counted pieces first, the rest as length; fulfilment cuts best fit and consumes', async (t) => {
  const main = await defaultLocationId(app);
  const big = await buildReel(app, { cable_type: 'Cat6A', length: '1000 ft' });
  const small = await buildReel(app, { cable_type: 'Cat6A', length: '250 ft' });
  await cast.boss.api.send('POST', '/api/cable-receiving', {
    vendor: 'Anixter',
    items: [{ cable_type: 'Cat6A', cable_length: '100ft', quantity: 1 }],
  });
  const r = await request(
    [
      { cable_type: 'Cat6A', cable_length: '100ft', quantity: 3 },
      { cable_type: 'Cat6A', cable_length: '350 ft', quantity: 1 },
      { cable_type: 'Coax RG6', cable_length: '50ft', quantity: 2 },
    ],
    'in_progress',
  );
  t.like(await reservations(r.id), [
    { source_line: 0, kind: 'length', sku_key: 'cat6a|', pieces: 2, piece_mm: mm(100), quantity: 2 * mm(100), status: 'open' },
    { source_line: 0, kind: 'pieces', sku_key: 'cat6a|100ft', quantity: 1, pieces: null, piece_mm: null },
    { source_line: 1, kind: 'length', pieces: 1, piece_mm: mm(350), quantity: mm(350) },
    { source_line: 2, kind: 'pieces', sku_key: 'coax rg6|50ft', quantity: 2 },
  ]);
  t.deepEqual(await bulkStock('Cat6A', main), { on_hand: mm(1250), reserved: mm(550) });

  const res = await cast.keeper.api.send('PATCH', `/api/tickets/${r.id}`, { status: 'fulfilled' });
  t.is(res.status, 200, res.text);
  // Largest first: 350 ft only fits the 1000 ft reel; each 100 ft piece then goes on the 250 ft reel,
  // the least remaining that holds it (150 ft left after the first).
  const cuts = await app
    .db('inventory_movements')
    .where({ source_type: 'ticket_cut' })
    .whereIn('source_id', r.itemIds)
    .orderBy(['source_id', 'source_line'])
    .select('movement_type', 'source_id', 'source_line', 'quantity_delta', 'reel_id', 'location_id');
  t.deepEqual(
    cuts.map((c) => [Number(c.source_id), c.source_line, Number(c.quantity_delta), Number(c.reel_id), c.movement_type]),
    [
      [r.itemIds[0], 1, -mm(100), small.id, 'cut'],
      [r.itemIds[0], 2, -mm(100), small.id, 'cut'],
      [r.itemIds[1], 1, -mm(350), big.id, 'cut'],
    ],
  );
  t.is(Number((await reel(small.code)).remaining_mm), mm(250) - 2 * mm(100));
  t.is(Number((await reel(big.code)).remaining_mm), mm(1000) - mm(350));
  t.deepEqual(await bulkStock('Cat6A', main), { on_hand: mm(1250) - mm(550), reserved: 0 });
  const counted = await app
    .db('inventory_movements')
    .where({ source_type: 'ticket_fulfillment', source_id: r.id })
    .orderBy('source_line')
    .select('sku_key', 'quantity_delta');
  t.deepEqual(
    counted.map((c) => [c.sku_key, Number(c.quantity_delta)]),
    [
      ['cat6a|100ft', -1],
      ['coax rg6|50ft', -2],
    ],
  );
  t.true((await reservations(r.id)).every((x) => x.status === 'consumed'));

  // The ledger's key: a piece is cut once, whatever the application does.
  const error = await t.throwsAsync(
    app.db('inventory_movements').insert({
      movement_type: 'cut',
      source_type: 'ticket_cut',
      source_id: r.itemIds[0],
      source_line: 1,
      sku_key: 'cat6a|',
      cable_type: 'Cat6A',
      cable_length: '',
      quantity_delta: -1,
      location_id: main,
      reel_id: big.id,
      created_at: new Date().toISOString(),
    }),
    { any: true },
  );
  t.regex(String((error as { message?: string })?.message), /unique|UNIQUE/);
});

test.serial(
  'approve with changes reserves the approved pieces; reject, delete and purge release; restore reserves again',
  async (t) => {
    const main = await defaultLocationId(app);
    await buildReel(app, { cable_type: 'OS2', length: '500 m' });
    const r = await request([{ cable_type: 'OS2', cable_length: '30m', quantity: 4 }]);
    const decided = await cast.keeper.api.send('POST', `/api/tickets/${r.id}/decision`, {
      decision: 'approve',
      items: [{ item_id: r.itemIds[0], approved_quantity: 3 }],
    });
    t.is(decided.status, 200, decided.text);
    t.like(await reservations(r.id), [{ kind: 'length', pieces: 3, piece_mm: 30_000, quantity: 90_000, status: 'open' }]);
    t.is((await bulkStock('OS2', main)).reserved, 90_000);

    t.is((await cast.tech.api.send('DELETE', `/api/tickets/${r.id}`)).status, 200);
    t.is((await bulkStock('OS2', main)).reserved, 0, 'deleting releases');
    t.is((await cast.tech.api.send('POST', `/api/tickets/${r.id}/restore`)).status, 200);
    t.is((await bulkStock('OS2', main)).reserved, 90_000, 'restoring reserves again');
    t.is((await cast.keeper.api.send('PATCH', `/api/tickets/${r.id}`, { status: 'closed' })).status, 200);
    t.is((await bulkStock('OS2', main)).reserved, 0, 'closing releases');

    const rejected = await request([{ cable_type: 'OS2', cable_length: '30 m', quantity: 1 }], 'approved');
    t.is((await bulkStock('OS2', main)).reserved, 30_000);
    await cast.tech.api.send('DELETE', `/api/tickets/${rejected.id}`);
    t.is((await cast.boss.api.send('DELETE', `/api/tickets/${rejected.id}/purge`)).status, 200);
    t.is((await bulkStock('OS2', main)).reserved, 0, 'purging leaves nothing held');
  },
);

test.serial('a counted-only cable type is reserved and consumed as before', async (t) => {
  await cast.boss.api.send('POST', '/api/cable-receiving', {
    vendor: 'Anixter',
    items: [{ cable_type: 'Cat5e', cable_length: '3ft', quantity: 10 }],
  });
  const r = await request([{ cable_type: 'Cat5e', cable_length: '3ft', quantity: 4 }], 'in_progress');
  t.like(await reservations(r.id), [{ kind: 'pieces', quantity: 4, pieces: null, sku_key: 'cat5e|3ft' }]);
  const page = await cast.keeper.browser.get(`/tickets/${r.id}`);
  t.is(page.$('a[href$="/fulfil"]').length, 0, 'no fulfilment page for counted lines');
  t.is((await cast.keeper.api.send('PATCH', `/api/tickets/${r.id}`, { status: 'fulfilled' })).status, 200);
  t.is(
    await app.db('inventory_movements').where({ source_type: 'ticket_cut' }).whereIn('source_id', r.itemIds).first(),
    undefined,
  );
});

test.serial(
  'the API takes a chosen reel per cut; too short, unknown or misplaced choices are refused and nothing is written',
  async (t) => {
    const long = await buildReel(app, { cable_type: 'Cat6 Plenum', length: '1000 ft' });
    const short = await buildReel(app, { cable_type: 'Cat6 Plenum', length: '60 ft' });
    const mid = await buildReel(app, { cable_type: 'Cat6 Plenum', length: '300 ft' });
    const r = await request([{ cable_type: 'Cat6 Plenum', cable_length: '100ft', quantity: 2 }], 'in_progress');
    const before = await app.db('reels').whereIn('id', [long.id, short.id, mid.id]).orderBy('id').select('remaining_mm');

    const tooShort = await cast.keeper.api.send('PATCH', `/api/tickets/${r.id}`, {
      status: 'fulfilled',
      cuts: [{ item_id: r.itemIds[0], piece: 2, reel_code: short.code }],
    });
    t.is(tooShort.status, 409);
    t.is(
      tooShort.json.error,
      `Reel ${short.code} has 60 ft left; piece 2 of Cat6 Plenum 100ft needs 100 ft. Choose another reel.`,
    );
    const unknown = await cast.keeper.api.send('PATCH', `/api/tickets/${r.id}`, {
      status: 'fulfilled',
      cuts: [{ item_id: r.itemIds[0], piece: 1, reel_code: 'R-999999' }],
    });
    t.is(unknown.status, 400);
    t.regex(unknown.json.error, /^cuts\.0\.reel_code: R-999999 is not a reel of Cat6 Plenum at Main warehouse/);
    const badPiece = await cast.keeper.api.send('PATCH', `/api/tickets/${r.id}`, {
      status: 'fulfilled',
      cuts: [{ item_id: r.itemIds[0], piece: 3, reel_code: long.code }],
    });
    t.is(badPiece.status, 400);
    t.regex(badPiece.json.error, /cuts\.0\.piece: must be between 1 and 2/);
    const wrongMove = await cast.keeper.api.send('PATCH', `/api/tickets/${r.id}`, {
      status: 'closed',
      cuts: [{ item_id: r.itemIds[0], piece: 1, reel_code: long.code }],
    });
    t.is(wrongMove.status, 400);
    t.is((await app.db('tickets').where({ id: r.id }).first()).status, 'in_progress');
    t.deepEqual(await app.db('reels').whereIn('id', [long.id, short.id, mid.id]).orderBy('id').select('remaining_mm'), before);
    t.is(
      await app.db('inventory_movements').where({ source_type: 'ticket_cut' }).whereIn('source_id', r.itemIds).first(),
      undefined,
    );

    const ok = await cast.keeper.api.send('PATCH', `/api/tickets/${r.id}`, {
      status: 'fulfilled',
      cuts: [{ item_id: r.itemIds[0], piece: 1, reel_code: long.code.toLowerCase() }],
    });
    t.is(ok.status, 200, ok.text);
    t.is(Number((await reel(long.code)).remaining_mm), mm(900), 'the chosen reel');
    t.is(Number((await reel(mid.code)).remaining_mm), mm(200), 'best fit for the other piece');
    t.is(Number((await reel(short.code)).remaining_mm), mm(60));
  },
);

test.serial(
  'without JavaScript: the fulfilment page proposes reels, refuses a short one on the form, then cuts; offcuts are offered',
  async (t) => {
    const a = await buildReel(app, { cable_type: 'Cat6 Outdoor', length: '105 ft' });
    const b = await buildReel(app, { cable_type: 'Cat6 Outdoor', length: '105 ft' });
    const r = await request([{ cable_type: 'Cat6 Outdoor', cable_length: '100 ft', quantity: 2 }], 'in_progress');
    const browser = cast.keeper.browser;

    const ticketPage = await browser.get(`/tickets/${r.id}`);
    t.is(ticketPage.$('.cut-from-reels').text(), '2 × 100 ft cut from reels (10 ft available on reels)');
    t.is(ticketPage.$('.flag-short').length, 0, 'no counted Cat6 Outdoor 100 ft, but the reels hold it: not short');
    t.is(ticketPage.$(`a.button[href="/tickets/${r.id}/fulfil"]`).text(), 'Mark fulfilled');
    const moved = await browser.submit(`/tickets/${r.id}`, `/tickets/${r.id}/status`, { status: 'fulfilled' });
    t.is(moved.status, 303);
    t.is(moved.headers.get('location'), `/tickets/${r.id}/fulfil`, 'the plain status button goes through the plan');

    const page = await browser.get(`/tickets/${r.id}/fulfil`);
    t.is(page.status, 200);
    const rows = page.$('li.cut');
    t.is(rows.length, 2);
    // Best fit: piece 1 on the first 105 ft reel (least that holds it, lower id), piece 2 on the other.
    t.deepEqual(
      rows.toArray().map((row) => page.$(row).find('option[selected]').val()),
      [a.code, b.code],
    );
    t.deepEqual(
      rows.toArray().map((row) => [page.$(row).find('.before').text(), page.$(row).find('.after').text()]),
      [
        ['105 ft', '5 ft'],
        ['105 ft', '5 ft'],
      ],
    );

    const short = await browser.submit(`/tickets/${r.id}/fulfil`, `/tickets/${r.id}/fulfil`, {
      'cuts[0][item_id]': r.itemIds[0] as number,
      'cuts[0][piece]': 1,
      'cuts[0][reel_code]': a.code,
      'cuts[1][item_id]': r.itemIds[0] as number,
      'cuts[1][piece]': 2,
      'cuts[1][reel_code]': a.code,
    });
    t.is(short.status, 409);
    t.regex(
      short.$('#cut-1-error').text(),
      new RegExp(`Reel ${a.code} has 5 ft left; piece 2 of Cat6 Outdoor 100 ft needs 100 ft`),
    );
    t.is(short.$('select#cut-1 option[selected]').val(), a.code, 'the choice is shown again');
    t.is((await app.db('tickets').where({ id: r.id }).first()).status, 'in_progress');

    const done = await browser.submit(`/tickets/${r.id}/fulfil`, `/tickets/${r.id}/fulfil`, {
      'cuts[0][item_id]': r.itemIds[0] as number,
      'cuts[0][piece]': 1,
      'cuts[0][reel_code]': a.code,
      'cuts[1][item_id]': r.itemIds[0] as number,
      'cuts[1][piece]': 2,
      'cuts[1][reel_code]': b.code,
    });
    t.is(done.status, 303);
    const after = await browser.get(`/tickets/${r.id}`);
    t.is(after.$('.cuts-made li').length, 2);
    t.deepEqual(
      after
        .$('.offcut')
        .toArray()
        .map((o) => after.$(o).attr('data-reel')),
      [a.code, b.code],
      'each 105 ft reel has 5 ft left, below the 10 ft offcut limit',
    );
    t.is(after.$('.offcut form.scrap').length, 0, 'scrapping is for admins: the keeper is pointed to one');
    const boss = await cast.boss.browser.get(`/tickets/${r.id}`);
    t.is(boss.$(`.offcut[data-reel="${b.code}"] form.scrap`).attr('action'), `/r/${b.code}/scrap`);

    const kept = await browser.submit(`/tickets/${r.id}`, `/tickets/${r.id}/offcuts/keep`, { reel_code: a.code });
    t.is(kept.status, 303);
    t.deepEqual(
      (await browser.get(`/tickets/${r.id}`)).$('.offcut').toArray().length,
      1,
      'keeping dismisses the prompt for that reel',
    );
    t.is(Number((await reel(a.code)).remaining_mm), mm(105) - mm(100), 'and the reel stays as it is');
    const scrapped = await cast.boss.browser.submit(`/tickets/${r.id}`, `/r/${b.code}/scrap`, {
      reason: 'Offcut too short to use',
    });
    t.is(scrapped.status, 303);
    const gone = await reel(b.code);
    t.is(gone.status, 'scrapped');
    t.is(Number(gone.remaining_mm), 0, 'bigint: a string on PostgreSQL');
    t.is((await browser.get(`/tickets/${r.id}`)).$('.offcut').length, 0, 'a scrapped reel is no longer offered');
    const stranger = await buildCast(app, { nosy: { browser: true } });
    const refused = await stranger.nosy.browser.submit(`/tickets/${r.id}`, `/tickets/${r.id}/offcuts/keep`, {
      reel_code: b.code,
    });
    t.is(refused.status, 303, 'a refusal is a flash on the ticket page');
    t.is(await app.db('reel_offcut_keeps').where({ ticket_id: r.id, reel_id: b.id }).first(), undefined);
  },
);

test.serial('the database refuses a reservation whose kind and numbers disagree, on both databases', async (t) => {
  const main = await defaultLocationId(app);
  const row = { ticket_id: 999_999, source_line: 0, location_id: main, status: 'closed', created_at: new Date().toISOString() };
  const bulk = { sku_key: 'x|', cable_type: 'X', cable_length: '' };
  const refused = async (extra: Record<string, unknown>, why: string) => {
    const error = await t.throwsAsync(app.db('stock_reservations').insert({ ...row, ...extra }), { any: true }, why);
    t.regex(String((error as { message?: string })?.message), /stock_reservations_kind_shape/, why);
  };
  await refused({ ...bulk, kind: 'length', quantity: 30_480, pieces: 1, piece_mm: null }, 'length without a piece length');
  await refused({ ...bulk, kind: 'length', quantity: 30_000, pieces: 2, piece_mm: 30_480 }, 'quantity is not pieces x length');
  await refused({ ...bulk, kind: 'length', quantity: 0, pieces: 0, piece_mm: 30_480 }, 'no pieces');
  await refused({ ...bulk, kind: 'pieces', quantity: 2, pieces: 2, piece_mm: 30_480 }, 'counted pieces carry no length');
  await refused({ ...bulk, kind: 'inches', quantity: 2 }, 'an unknown kind');
  await app.db('stock_reservations').insert({ ...row, ...bulk, kind: 'length', quantity: 60_960, pieces: 2, piece_mm: 30_480 });
  const opened = await app
    .db('stock_reservations')
    .insert({ ...row, status: 'open', ...bulk, kind: 'length', quantity: 30_480, pieces: 1, piece_mm: 30_480 })
    .returning('id');
  // One open reservation per line and kind: a second open length row for the line is refused.
  await t.throwsAsync(
    app
      .db('stock_reservations')
      .insert({ ...row, status: 'open', ...bulk, kind: 'length', quantity: 30_480, pieces: 1, piece_mm: 30_480 }),
    { any: true },
  );
  await app
    .db('stock_reservations')
    .where({ id: (opened[0] as { id: number }).id })
    .update({ status: 'released' });
});

test.serial('a fulfilled request cut from reels, deleted and restored, cuts nothing twice', async (t) => {
  const only = await buildReel(app, { cable_type: 'Cat6 Riser', length: '300 ft' });
  const r = await request([{ cable_type: 'Cat6 Riser', cable_length: '100 ft', quantity: 1 }], 'fulfilled');
  t.is(Number((await reel(only.code)).remaining_mm), mm(200));
  const ledger = async () => Number((await app.db('inventory_movements').count({ n: '*' }).first())?.n);
  const before = await ledger();
  t.is((await cast.tech.api.send('DELETE', `/api/tickets/${r.id}`)).status, 200);
  const restored = await cast.tech.api.send('POST', `/api/tickets/${r.id}/restore`);
  t.is(restored.status, 409);
  t.is(restored.json.error, 'This stock movement was already recorded; nothing was changed.');
  t.is(await ledger(), before);
  t.is(Number((await reel(only.code)).remaining_mm), mm(200));
});

test.serial('a line longer in all than a stored amount holds is reserved as counted pieces (no overflow, no 500)', async (t) => {
  await buildReel(app, { cable_type: 'Cat8 huge', length: '1000 ft' });
  // 100,000 x 1000 ft is 30,480 km: more millimetres than one stored amount holds.
  const { id } = await request([{ cable_type: 'Cat8 huge', cable_length: '1000 ft', quantity: 100_000 }], 'approved');
  const held = await app.db('stock_reservations').where({ ticket_id: id }).select('kind', 'quantity', 'cable_length');
  t.deepEqual(
    held.map((r: { kind: string; quantity: number; cable_length: string }) => [r.kind, Number(r.quantity), r.cable_length]),
    [['pieces', 100_000, '1000 ft']],
  );
});
