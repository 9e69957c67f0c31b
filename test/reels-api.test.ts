import test from 'ava';
import { startApp, type TestApp } from './support/app.ts';
import { parseCsv } from './support/csv.ts';
import { buildCast, buildLocation, buildReel, defaultLocationId } from './support/factories.ts';
import { feetMm as mm } from './support/lengths.ts';
import { createTicket, driveTo } from './support/tickets.ts';

/**
 * Bulk cable where stock is listed and in the JSON ticket (DESIGN.md §13): the ledger page, its CSV,
 * the movements API and the on-hand CSV show bulk rows in their unit with the reel; the JSON ticket
 * lists the cuts per item and the offcuts to decide; POST /api/tickets/:id/offcuts/keep. Both databases.
 */

let app: TestApp;
let cast: Awaited<ReturnType<typeof castOf>>;
const castOf = (a: TestApp) => buildCast(a, { boss: { role: 'admin', browser: true }, tech: { browser: true }, keeper: {} });

test.before(async () => {
  app = await startApp();
  cast = await castOf(app);
});
test.after.always(() => app?.close());

let n = 0;
const typeName = (base: string) => `${base} ${++n}`;

/** A request filed by the technician to the keeper, fulfilled by the keeper (cut from reels, best fit). */
async function fulfilled(items: { cable_type: string; cable_length: string; quantity: number }[]) {
  const ticket = await createTicket(cast.tech.api, { assigned_to_id: cast.keeper.user.id, items });
  await driveTo(cast.keeper.api, ticket.id, 'in_progress');
  const res = await cast.keeper.api.send('PATCH', `/api/tickets/${ticket.id}`, { status: 'fulfilled' });
  if (res.status !== 200) throw new Error(`fulfil: ${res.status} ${res.text}`);
  return { id: ticket.id as number, answer: res.json };
}

test.serial('the ledger page shows bulk movements in their unit, "on reels", with the reel linked', async (t) => {
  const type = typeName('Cat6 ledger');
  const reel = await buildReel(app, { cable_type: type, length: '1000 ft' });
  await fulfilled([{ cable_type: type, cable_length: '100ft', quantity: 1 }]);
  const page = await cast.boss.browser?.get('/inventory/ledger');
  t.is(page?.status, 200);
  const lines = page?.$('li.move').filter((_, el) => page.$(el).find('.sku').text().startsWith(type));
  t.is(lines?.length, 2, 'the receipt and the cut');
  const [cut, received] = [lines?.eq(0), lines?.eq(1)];
  t.is(cut?.find('.delta').text(), '-100 ft');
  t.is(cut?.find('.sku').text(), `${type} on reels`);
  t.is(cut?.find(`.move-meta a[href="/r/${reel.code}"]`).text(), `Reel ${reel.code}`);
  t.regex(cut?.find('.move-meta').text() ?? '', /Cut for request item #\d+/);
  t.is(received?.find('.delta').text(), '+1,000 ft');
  t.is(received?.find(`a[href="/r/${reel.code}"]`).length, 1);
  t.regex(received?.find('.move-meta').text() ?? '', /Reel received/);
  // A counted movement is unchanged: a whole number, its length, no reel.
  await cast.boss.api.send('POST', '/api/cable-receiving', {
    vendor: 'Anixter',
    items: [{ cable_type: type, cable_length: '50ft', quantity: 4 }],
  });
  const after = await cast.boss.browser?.get('/inventory/ledger');
  const counted = after?.$('li.move').first();
  t.is(counted?.find('.delta').text(), '+4');
  t.is(counted?.find('.sku').text(), `${type} 50ft`);
  t.is(counted?.find('a[href^="/r/"]').length, 0);
});

test.serial('the movements API: unit and reel_code, quantity_delta in mm for bulk, each/null for counted', async (t) => {
  const type = typeName('Coax bulk');
  const reel = await buildReel(app, { cable_type: type, length: '305 m' });
  await fulfilled([{ cable_type: type, cable_length: '30.5 m', quantity: 2 }]);
  await cast.boss.api.send('POST', '/api/cable-receiving', {
    vendor: 'Anixter',
    items: [{ cable_type: type, cable_length: '10m', quantity: 3 }],
  });
  const res = await cast.boss.api.get('/api/inventory/movements?limit=200');
  t.is(res.status, 200);
  const mine = res.json.filter((m: { cable_type: string }) => m.cable_type === type);
  t.like(mine, [
    { movement_type: 'receipt', cable_length: '10m', quantity_delta: 3, unit: 'each', reel_code: null },
    {
      movement_type: 'cut',
      source_type: 'ticket_cut',
      cable_length: '',
      quantity_delta: -30_500,
      unit: 'm',
      reel_code: reel.code,
    },
    { movement_type: 'cut', quantity_delta: -30_500, unit: 'm', reel_code: reel.code },
    { movement_type: 'receipt', source_type: 'reel_receipt', quantity_delta: 305_000, unit: 'm', reel_code: reel.code },
  ]);
  t.is(mine.length, 4);
});

test.serial('the ledger CSV: bulk quantities as numbers in ft or m, "on reels", the unit and the reel', async (t) => {
  const feet = typeName('Cat6A csv');
  const metres = typeName('Fibre csv');
  const ftReel = await buildReel(app, { cable_type: feet, length: '1000 ft' });
  const mReel = await buildReel(app, { cable_type: metres, length: '100 m' });
  await fulfilled([
    { cable_type: feet, cable_length: '12.5 ft', quantity: 1 },
    { cable_type: metres, cable_length: '2.25 m', quantity: 1 },
  ]);
  const res = await cast.boss.browser?.get('/inventory/ledger.csv?movement_type=cut');
  t.is(res?.status, 200);
  const rows = parseCsv(res?.text ?? '');
  const header = rows[0] ?? [];
  t.deepEqual(header.slice(-2), ['unit', 'reel_code']);
  const col = (name: string) => header.indexOf(name);
  const of = (type: string) =>
    rows
      .filter((r) => r[col('cable_type')] === type)
      .map((r) => [r[col('cable_length')], r[col('quantity_delta')], r[col('unit')], r[col('reel_code')]]);
  t.deepEqual(of(feet), [['on reels', '-12.5', 'ft', ftReel.code]]);
  t.deepEqual(of(metres), [['on reels', '-2.25', 'm', mReel.code]]);
  t.true(
    rows.slice(1).every((r) => r.length === header.length && r[col('movement_type')] === 'cut'),
    'the filter applies; every row has every column',
  );
});

test.serial(
  'the on-hand CSV: bulk figures as numbers in the unit, "on reels", a unit column (totals and one location)',
  async (t) => {
    const type = typeName('Cat5e onhand');
    const van = await buildLocation(app, typeName('Van onhand'), 'van');
    await buildReel(app, { cable_type: type, length: '500 ft' });
    await buildReel(app, { cable_type: type, length: '250 ft', location_id: van.id });
    await cast.boss.api.send('POST', '/api/cable-receiving', {
      vendor: 'Anixter',
      items: [{ cable_type: type, cable_length: '25ft', quantity: 7 }],
    });
    // Approval reserves 2 x 100 ft at the default warehouse.
    const ticket = await createTicket(cast.tech.api, {
      assigned_to_id: cast.keeper.user.id,
      items: [{ cable_type: type, cable_length: '100ft', quantity: 2 }],
    });
    await driveTo(cast.keeper.api, ticket.id, 'approved');

    const totals = parseCsv((await cast.tech.browser?.get('/inventory/on-hand.csv'))?.text ?? '');
    t.deepEqual(totals[0], ['cable_type', 'cable_length', 'on_hand', 'reorder_threshold', 'reserved', 'available', 'unit']);
    t.deepEqual(
      totals.filter((r) => r[0] === type),
      [
        [type, 'on reels', '750', '', '200', '550', 'ft'],
        [type, '25ft', '7', '', '0', '7', 'each'],
      ],
    );
    const main = await defaultLocationId(app);
    const at = parseCsv((await cast.tech.browser?.get(`/inventory/on-hand.csv?location_id=${main}`))?.text ?? '');
    t.deepEqual(at[0], ['location', 'cable_type', 'cable_length', 'on_hand', 'reserved', 'available', 'unit']);
    t.deepEqual(
      at.filter((r) => r[1] === type).map((r) => r.slice(1)),
      [
        [type, 'on reels', '500', '200', '300', 'ft'],
        [type, '25ft', '7', '0', '7', 'each'],
      ],
    );
    const inVan = parseCsv((await cast.tech.browser?.get(`/inventory/on-hand.csv?location_id=${van.id}`))?.text ?? '');
    t.deepEqual(
      inVan.filter((r) => r[1] === type).map((r) => r.slice(1)),
      [[type, 'on reels', '250', '0', '250', 'ft']],
    );
  },
);

test.serial('the JSON ticket lists the cuts per item; the fulfilling PATCH answers with them', async (t) => {
  const type = typeName('Cat6 json');
  const big = await buildReel(app, { cable_type: type, length: '1000 ft' });
  const counted = typeName('Patch json');
  await cast.boss.api.send('POST', '/api/cable-receiving', {
    vendor: 'Anixter',
    items: [{ cable_type: counted, cable_length: '3ft', quantity: 5 }],
  });
  const { id, answer } = await fulfilled([
    { cable_type: type, cable_length: '100ft', quantity: 2 },
    { cable_type: counted, cable_length: '3ft', quantity: 1 },
    { cable_type: type, cable_length: '12.5 ft', quantity: 1 },
  ]);
  const expected = [
    [
      { reel_code: big.code, piece: 1, length: '100 ft', mm: mm(100) },
      { reel_code: big.code, piece: 2, length: '100 ft', mm: mm(100) },
    ],
    [],
    [{ reel_code: big.code, piece: 1, length: '12.5 ft', mm: mm(12.5) }],
  ];
  t.deepEqual(
    answer.ticket.items.map((i: { cuts: unknown }) => i.cuts),
    expected,
  );
  t.deepEqual(answer.ticket.offcuts, [], '1000 ft less 212.5 ft is no offcut');
  for (const viewer of [cast.tech.api, cast.keeper.api, cast.boss.api]) {
    const res = await viewer.get(`/api/tickets/${id}`);
    t.is(res.status, 200);
    t.deepEqual(
      res.json.items.map((i: { cuts: unknown }) => i.cuts),
      expected,
    );
  }
  // Before fulfilment nothing was cut: every item lists none.
  const pending = await createTicket(cast.tech.api, {
    assigned_to_id: cast.keeper.user.id,
    items: [{ cable_type: type, cable_length: '10ft', quantity: 1 }],
  });
  const res = await cast.tech.api.get(`/api/tickets/${pending.id}`);
  t.deepEqual(
    res.json.items.map((i: { cuts: unknown }) => i.cuts),
    [[]],
  );
  t.deepEqual(res.json.offcuts, []);
  // The list stays as it was: no cuts per item there.
  const list = await cast.tech.api.get('/api/tickets?limit=5');
  t.false(list.json.some((tk: { items: object[] }) => tk.items.some((i) => 'cuts' in i)));
});

test.serial('offcuts: listed for the assignee and admins only; POST /api/tickets/:id/offcuts/keep stops the offer', async (t) => {
  const type = typeName('Cat6 offcut');
  const reel = await buildReel(app, { cable_type: type, length: '100 ft' });
  const { id, answer } = await fulfilled([{ cable_type: type, cable_length: '95ft', quantity: 1 }]);
  const offer = [{ reel_code: reel.code, remaining: '5 ft', remaining_mm: mm(100) - mm(95) }];
  t.deepEqual(answer.ticket.offcuts, offer, 'the fulfilling answer offers the offcut');
  t.deepEqual((await cast.keeper.api.get(`/api/tickets/${id}`)).json.offcuts, offer);
  t.deepEqual((await cast.boss.api.get(`/api/tickets/${id}`)).json.offcuts, offer);
  t.deepEqual((await cast.tech.api.get(`/api/tickets/${id}`)).json.offcuts, [], 'the requester does not decide');

  // The requester may not keep it; a reel this request did not cut is a 400 naming the field.
  const denied = await cast.tech.api.send('POST', `/api/tickets/${id}/offcuts/keep`, { reel_code: reel.code });
  t.is(denied.status, 403);
  t.regex(denied.json.error, /assignee or an admin/);
  const other = await buildReel(app, { cable_type: type, length: '50 ft' });
  const unknown = await cast.keeper.api.send('POST', `/api/tickets/${id}/offcuts/keep`, { reel_code: other.code });
  t.is(unknown.status, 400);
  t.truthy(unknown.json.fields?.reel_code);
  const empty = await cast.keeper.api.send('POST', `/api/tickets/${id}/offcuts/keep`, {});
  t.is(empty.status, 400);
  t.is(
    await app
      .db('reel_offcut_keeps')
      .where({ ticket_id: id })
      .count({ n: '*' })
      .first()
      .then((r) => Number(r?.n)),
    0,
  );

  // The assignee keeps it (the code in any case), with an Idempotency-Key: a resend replays the answer.
  const key = { 'Idempotency-Key': `keep-${id}` };
  const kept = await cast.keeper.api.send('POST', `/api/tickets/${id}/offcuts/keep`, { reel_code: reel.code.toLowerCase() }, key);
  t.is(kept.status, 200, kept.text);
  t.is(kept.json.message, `Reel ${reel.code} kept as an offcut.`);
  t.deepEqual(kept.json.ticket.offcuts, []);
  t.deepEqual(
    kept.json.ticket.items[0].cuts.map((c: { reel_code: string }) => c.reel_code),
    [reel.code],
  );
  const again = await cast.keeper.api.send(
    'POST',
    `/api/tickets/${id}/offcuts/keep`,
    { reel_code: reel.code.toLowerCase() },
    key,
  );
  t.is(again.status, 200);
  t.is(again.headers.get('idempotent-replayed'), 'true');
  t.deepEqual(again.json, kept.json);
  t.deepEqual((await cast.boss.api.get(`/api/tickets/${id}`)).json.offcuts, []);
  // Kept, never scrapped: the reel is still active with its 5 ft, and the page no longer asks.
  t.like(await app.db('reels').where({ code: reel.code }).first(), { status: 'active' });
  t.is(
    await app
      .db('reel_offcut_keeps')
      .where({ ticket_id: id })
      .count({ n: '*' })
      .first()
      .then((r) => Number(r?.n)),
    1,
  );

  // A deleted request: 410, nothing kept.
  const second = await fulfilled([{ cable_type: type, cable_length: '45ft', quantity: 1 }]);
  t.is(second.answer.ticket.offcuts.length, 1);
  t.is((await cast.boss.api.send('DELETE', `/api/tickets/${second.id}`)).status, 200);
  const gone = await cast.boss.api.send('POST', `/api/tickets/${second.id}/offcuts/keep`, {
    reel_code: second.answer.ticket.offcuts[0].reel_code,
  });
  t.is(gone.status, 410);
  t.is(
    await app
      .db('reel_offcut_keeps')
      .where({ ticket_id: second.id })
      .count({ n: '*' })
      .first()
      .then((r) => Number(r?.n)),
    0,
  );
});
