import test from 'ava';
import { startApp, type TestApp } from './support/app.ts';
import type { Client } from './support/client.ts';
import {
  buildCast,
  buildConsumption,
  buildLocation,
  buildReceipt,
  buildReel,
  buildReelMovements,
  defaultLocationId,
  signedInClient,
} from './support/factories.ts';
import { feetMm } from './support/lengths.ts';
import { createTicket, driveTo } from './support/tickets.ts';

/**
 * The inventory reports with bulk cable (DESIGN.md §13, §17), on both databases: cuts from reels are
 * consumption of the bulk SKU (millimetres, shown in the SKU's unit), scrap is not; counted pieces and
 * lengths are separate lines, charts and figures. The app's clock is fixed at 2027-01-14 12:00 UTC
 * (days of cover: 2026-10-17 .. 2027-01-14); the fixture's figures are worked out by hand below.
 */

const NOW = new Date('2027-01-14T12:00:00.000Z');
const RANGE = 'from=2026-11-01&to=2027-01-31';

let app: TestApp;
let boss: Client;
let bossPage: Client;
let cast: Awaited<ReturnType<typeof castOf>>;
const castOf = (a: TestApp) => buildCast(a, { boss: { role: 'admin' }, tech: {}, keeper: {} });
let vanId: number;

test.before(async () => {
  app = await startApp({}, { clock: () => NOW });
  cast = await castOf(app);
  boss = cast.boss.api;
  bossPage = await signedInClient(app.url, 'boss');
  const main = await defaultLocationId(app);
  vanId = (await buildLocation(app, 'Van 3', 'van')).id;
  // Counted: 20 pieces of Cat6 100ft; 3 used in November, 2 in December.
  await buildReceipt(app, { items: [{ cable_type: 'Cat6', cable_length: '100ft', quantity: 20 }] });
  await buildConsumption(app, [
    { at: '2026-11-10T10:00:00.000Z', cable_type: 'Cat6', quantity: 3, location_id: main },
    { at: '2026-12-05T10:00:00.000Z', cable_type: 'Cat6', quantity: 2, location_id: main },
  ]);
  // Bulk Cat6 in feet: 1000 ft at Main, 500 ft in the van; Fiber OS2 in metres: 305 m at Main.
  const cat6 = await buildReel(app, { cable_type: 'Cat6', length: '1000 ft' });
  const van = await buildReel(app, { cable_type: 'Cat6', length: '500 ft', location_id: vanId });
  const fiber = await buildReel(app, { cable_type: 'Fiber OS2', length: '305 m' });
  await buildReelMovements(app, [
    { at: '2026-11-20T09:00:00.000Z', reel: cat6, cable_type: 'Cat6', length: '100 ft' },
    { at: '2026-12-03T09:00:00.000Z', reel: cat6, cable_type: 'Cat6', length: '50 ft' },
    { at: '2026-12-03T09:30:00.000Z', reel: van, cable_type: 'Cat6', length: '20 ft' },
    { at: '2026-12-15T09:00:00.000Z', reel: fiber, cable_type: 'Fiber OS2', length: '12.5 m' },
    { at: '2027-01-05T09:00:00.000Z', reel: fiber, cable_type: 'Fiber OS2', length: '30 m' },
    { at: '2027-01-10T09:00:00.000Z', reel: cat6, cable_type: 'Cat6', length: '12.5 ft' },
    // Scrap is waste, not consumption: in no figure.
    { at: '2026-12-20T09:00:00.000Z', reel: van, cable_type: 'Cat6', length: '300 ft', type: 'scrap' },
  ]);
});
test.after.always(() => app?.close());

const line = (month: string, location: string, cable_type: string, unit: string, quantity: number, mm: number | null) => ({
  month,
  location,
  cable_type,
  unit,
  quantity,
  quantity_mm: mm,
});

test.serial('consumption per month: counted pieces and lengths cut from reels, in their units, never summed', async (t) => {
  const res = await boss.get(`/api/reports/consumption?${RANGE}`);
  t.is(res.status, 200, res.text);
  // Per month, location (Main before the van), type, pieces before lengths.
  t.deepEqual(res.json.months, [
    line('2026-11', 'Main warehouse', 'Cat6', 'each', 3, null),
    line('2026-11', 'Main warehouse', 'Cat6', 'ft', 100, 30_480),
    line('2026-12', 'Main warehouse', 'Cat6', 'each', 2, null),
    line('2026-12', 'Main warehouse', 'Cat6', 'ft', 50, 15_240),
    line('2026-12', 'Main warehouse', 'Fiber OS2', 'm', 12.5, 12_500),
    line('2026-12', 'Van 3', 'Cat6', 'ft', 20, 6_096),
    // 12.5 ft = 3,810 mm.
    line('2027-01', 'Main warehouse', 'Cat6', 'ft', 12.5, 3_810),
    line('2027-01', 'Main warehouse', 'Fiber OS2', 'm', 30, 30_000),
  ]);
  // One bulk type: its empty months are lines of 0 in its unit.
  const fiber = (await boss.get('/api/reports/consumption?from=2026-10-01&to=2027-01-31&cable_type=fiber%20os2')).json;
  t.deepEqual(fiber.months, [
    line('2026-10', 'All stock', 'Fiber OS2', 'm', 0, 0),
    line('2026-11', 'All stock', 'Fiber OS2', 'm', 0, 0),
    line('2026-12', 'Main warehouse', 'Fiber OS2', 'm', 12.5, 12_500),
    line('2027-01', 'Main warehouse', 'Fiber OS2', 'm', 30, 30_000),
  ]);
  // The van only.
  t.deepEqual((await boss.get(`/api/reports/consumption?from=2026-12-01&to=2026-12-31&location=${vanId}`)).json.months, [
    line('2026-12', 'Van 3', 'Cat6', 'ft', 20, 6_096),
  ]);

  const csv = (await bossPage.get(`/reports/consumption.csv?${RANGE}`)).text.trim().split('\r\n');
  t.is(csv[0], 'month_utc,location,cable_type,unit,quantity,quantity_mm');
  t.deepEqual(csv.slice(1, 3), ['2026-11,Main warehouse,Cat6,each,3,', '2026-11,Main warehouse,Cat6,ft,100,30480']);
  t.is(csv.at(-2), '2027-01,Main warehouse,Cat6,ft,12.5,3810');
});

test.serial('the page: bulk lines named apart with their lengths, one chart for pieces and one per unit', async (t) => {
  const page = await bossPage.get(`/reports?${RANGE}`);
  t.is(page.status, 200);
  const rows = page
    .$('#consumption tbody tr')
    .map((_, tr) =>
      page
        .$(tr)
        .children()
        .map((__, cell) => page.$(cell).text())
        .get()
        .join(' | '),
    )
    .get();
  t.deepEqual(rows, [
    '2026-11 | Main warehouse | Cat6 | 3',
    '2026-11 | Main warehouse | Cat6, on reels | 100 ft',
    '2026-12 | Main warehouse | Cat6 | 2',
    '2026-12 | Main warehouse | Cat6, on reels | 50 ft',
    '2026-12 | Main warehouse | Fiber OS2, on reels | 12.5 m',
    '2026-12 | Van 3 | Cat6, on reels | 20 ft',
    '2027-01 | Main warehouse | Cat6, on reels | 12.5 ft',
    '2027-01 | Main warehouse | Fiber OS2, on reels | 30 m',
  ]);
  t.deepEqual(
    page
      .$('#consumption svg.chart')
      .map((_, el) => page.$(el).attr('aria-label'))
      .get(),
    [
      'Cable consumed per month, by type: all locations',
      'Bulk cable cut from reels per month (ft), by type: all locations',
      'Bulk cable cut from reels per month (m), by type: all locations',
    ],
  );
  // Each chart's axis says what it counts; each legend its own types.
  const charts = page.$('#consumption figure').toArray();
  const texts = charts.map((f) => page.$(f).find('svg text').text());
  t.true(texts[0]?.includes('Pieces'));
  t.true(texts[1]?.includes('Feet'));
  t.true(texts[2]?.includes('Metres'));
  t.deepEqual(
    charts.map((f) =>
      page
        .$(f)
        .find('.legend li')
        .map((_, li) => page.$(li).text())
        .get(),
    ),
    [['Cat6'], ['Cat6, on reels'], ['Fiber OS2, on reels']],
  );
  t.regex(page.$('#consumption .summary').text(), /nor is scrapped cable/);
  // The cover table: bulk in its unit.
  const bulk = page
    .$('#cover tbody tr')
    .filter((_, tr) => page.$(tr).find('th').text() === 'Cat6, on reels')
    .children()
    .map((_, cell) => page.$(cell).text())
    .get();
  t.deepEqual(bulk, ['Cat6, on reels', '1,500 ft', '182.5 ft', '2.028 ft', '739.7']);
});

test.serial('days of cover: bulk on hand, use and rate in the unit, days as for pieces', async (t) => {
  const cover = (await boss.get('/api/reports/cover')).json;
  t.deepEqual(cover.skus, [
    // 20 on hand, 5 used in 90 days: 20 / (5/90) = 360 days.
    {
      location: 'All stock',
      cable_type: 'Cat6',
      cable_length: '100ft',
      unit: 'each',
      on_hand: 20,
      reserved: 0,
      available: 20,
      consumed: 5,
      per_day: 0.056,
      days_of_cover: 360,
    },
    // 305 m, 42.5 m cut: 0.472 m a day, 305 * 90 / 42.5 = 645.9 days.
    {
      location: 'All stock',
      cable_type: 'Fiber OS2',
      cable_length: '',
      unit: 'm',
      on_hand: 305,
      reserved: 0,
      available: 305,
      consumed: 42.5,
      per_day: 0.472,
      days_of_cover: 645.9,
    },
    // 1500 ft on reels (the scrap row is the fixture's: stock untouched), 182.5 ft cut (100 + 50 + 20
    // + 12.5): 2.028 ft a day, 1500 * 90 / 182.5 = 739.7 days.
    {
      location: 'All stock',
      cable_type: 'Cat6',
      cable_length: '',
      unit: 'ft',
      on_hand: 1500,
      reserved: 0,
      available: 1500,
      consumed: 182.5,
      per_day: 2.028,
      days_of_cover: 739.7,
    },
  ]);
  // The van: 500 ft, 20 ft cut: 500 * 90 / 20 = 2250 days.
  t.like((await boss.get(`/api/reports/cover?location=${vanId}`)).json.skus, [
    { location: 'Van 3', cable_type: 'Cat6', unit: 'ft', on_hand: 500, consumed: 20, per_day: 0.222, days_of_cover: 2250 },
  ]);
  const csv = (await bossPage.get('/reports/cover.csv')).text.trim().split('\r\n');
  t.is(csv[0], 'location,cable_type,cable_length,unit,on_hand,reserved,available,consumed_last_90_days,per_day,days_of_cover');
  t.is(csv.at(-1), 'All stock,Cat6,,ft,1500,0,1500,182.5,2.028,739.7');
});

test.serial('a fulfilment that cuts from reels is consumption; a scrapped reel is not', async (t) => {
  // The services stamp real time: today's figures, of a type of its own.
  const today = new Date().toISOString().slice(0, 10);
  await buildReel(app, { cable_type: 'Cat6A', length: '1000 ft' });
  const offcut = await buildReel(app, { cable_type: 'Cat6A', length: '40 ft' });
  const ticket = await createTicket(cast.tech.api, {
    assigned_to_id: cast.keeper.user.id,
    items: [{ cable_type: 'Cat6A', cable_length: '100ft', quantity: 2 }],
  });
  await driveTo(cast.keeper.api, ticket.id, 'in_progress');
  const done = await cast.keeper.api.send('PATCH', `/api/tickets/${ticket.id}`, { status: 'fulfilled' });
  t.is(done.status, 200, done.text);
  t.is((await app.db('inventory_movements').where({ movement_type: 'cut', cable_type: 'Cat6A' })).length, 2, 'two pieces cut');
  const scrapped = await boss.send('POST', `/api/reels/${offcut.code}/scrap`, { reason: 'Kinked' });
  t.is(scrapped.status, 200, scrapped.text);
  const months = (await boss.get(`/api/reports/consumption?from=${today}&to=${today}&cable_type=cat6a`)).json.months;
  t.deepEqual(months, [line(today.slice(0, 7), 'Main warehouse', 'Cat6A', 'ft', 200, feetMm(200))]);
});

test.serial('the migration counts cuts already in the ledger, and goes back down to consumption only', async (t) => {
  const migration = await import('../migrations/20261208500000_count_cuts_in_report_daily_consumption.ts');
  const rows = async () =>
    (await app.db('report_daily_consumption').select()).map((r) => ({
      day: String(r.day instanceof Date ? r.day.toISOString().slice(0, 10) : r.day),
      location_id: Number(r.location_id),
      sku_key: r.sku_key,
      quantity: Number(r.quantity),
    }));
  const sort = (list: Awaited<ReturnType<typeof rows>>) =>
    [...list].sort((a, b) => `${a.day}${a.location_id}${a.sku_key}`.localeCompare(`${b.day}${b.location_id}${b.sku_key}`));
  const before = sort(await rows());
  t.true(
    before.some((r) => r.sku_key === 'cat6|'),
    'cuts are counted',
  );
  await migration.down(app.db);
  const down = sort(await rows());
  t.deepEqual(
    down,
    before.filter((r) => !r.sku_key.endsWith('|')),
    'down: consumption of counted pieces only',
  );
  const main = await defaultLocationId(app);
  await buildReelMovements(app, [
    {
      at: '2026-12-24T09:00:00.000Z',
      reel: { id: (await app.db('reels').first()).id, location_id: main },
      cable_type: 'Cat6',
      length: '10 ft',
    },
  ]);
  t.deepEqual(sort(await rows()), down, 'down: the trigger counts no cut');
  await migration.up(app.db);
  const after = sort(await rows());
  t.deepEqual(
    after.filter((r) => !(r.day === '2026-12-24' && r.sku_key === 'cat6|')),
    before,
    'up: the cuts back from the ledger',
  );
  t.deepEqual(
    after.find((r) => r.day === '2026-12-24'),
    { day: '2026-12-24', location_id: main, sku_key: 'cat6|', quantity: 3048 },
    'up: the cut made while down is counted from the ledger',
  );
  await buildReelMovements(app, [
    {
      at: '2026-12-24T10:00:00.000Z',
      reel: { id: (await app.db('reels').first()).id, location_id: main },
      cable_type: 'Cat6',
      length: '1 m',
    },
  ]);
  t.is((await rows()).find((r) => r.day === '2026-12-24')?.quantity, 3048 + 1000, 'up: the trigger counts cuts again');
});
