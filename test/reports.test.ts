import test from 'ava';
import { isPostgres } from '../src/db/index.ts';
import { percentile } from '../src/features/reports/service.ts';
import type { PublicUserRow } from '../src/features/users/queries.ts';
import { startApp, type TestApp } from './support/app.ts';
import type { Client } from './support/client.ts';
import {
  buildCast,
  buildConsumption,
  buildLocation,
  buildReceipt,
  buildRequest,
  buildTimedRequest,
  buildTransfer,
  defaultLocationId,
  signedInClient,
} from './support/factories.ts';

/**
 * The reports on small fixtures whose figures are worked out by hand below, on SQLite and PostgreSQL
 * (the two compute medians and percentiles differently: in JS and with percentile_cont). The app's
 * clock is fixed at Thursday 2027-01-14 12:00 UTC; the range is three UTC weeks across the new year.
 */

const NOW = new Date('2027-01-14T12:00:00.000Z');
const RANGE = 'from=2026-12-21&to=2027-01-10';

let app: TestApp;
let boss: Client;
let techApi: Client;
let techPage: Client;
let bossPage: Client;
let ann: PublicUserRow;
let bob: PublicUserRow;
let tech: PublicUserRow;

test.before(async () => {
  app = await startApp({}, { clock: () => NOW });
  const cast = await buildCast(app, { boss: { role: 'admin' }, tech: {}, ann: {}, bob: {}, other: {} });
  ({ user: ann } = cast.ann);
  ({ user: bob } = cast.bob);
  ({ user: tech } = cast.tech);
  boss = cast.boss.api;
  techApi = cast.tech.api;
  [bossPage, techPage] = await Promise.all([signedInClient(app.url, 'boss'), signedInClient(app.url, 'tech')]);
  const other = cast.other.user;
  const r = (spec: Omit<Parameters<typeof buildTimedRequest>[1], 'creator' | 'assignee'> & { creator?: PublicUserRow }) =>
    buildTimedRequest(app, { creator: other, assignee: ann, ...spec });
  // Week of Monday 2026-12-21: 1, 2, 3, 4 and 10 hours.
  await r({
    filed: '2026-12-21T08:00:00.000Z',
    decided: { at: '2026-12-21T09:00:00.000Z', by: ann },
    fulfilled: '2026-12-22T09:00:00.000Z',
  });
  await r({
    creator: tech,
    filed: '2026-12-22T10:00:00.000Z',
    decided: { at: '2026-12-22T12:00:00.000Z', by: ann },
    fulfilled: '2026-12-22T18:00:00.000Z',
  });
  await r({ filed: '2026-12-23T00:00:00.000Z', decided: { at: '2026-12-23T03:00:00.000Z', by: bob, to: 'rejected' } });
  await r({
    filed: '2026-12-24T00:00:00.000Z',
    decided: { at: '2026-12-24T04:00:00.000Z', by: bob },
    reminders: 2,
    items: [{ cable_type: 'Cat6A' }],
  });
  // Sunday 23:30 UTC is still the week of the 21st, whatever the time zone of whoever looks.
  await r({
    filed: '2026-12-27T23:30:00.000Z',
    decided: { at: '2026-12-28T09:30:00.000Z', by: bob },
    reminders: 1,
    escalations: 1,
  });
  // Week of 2026-12-28: 4 hours across the new year; one still pending with a reminder.
  await r({
    filed: '2026-12-31T22:00:00.000Z',
    decided: { at: '2027-01-01T02:00:00.000Z', by: ann },
    fulfilled: '2027-01-02T02:00:00.000Z',
  });
  await r({ creator: tech, filed: '2027-01-03T12:00:00.000Z', reminders: 1 });
  // Outside the range (a minute before, just after), and a deleted one inside: none count.
  await r({ filed: '2026-12-20T23:59:00.000Z', decided: { at: '2026-12-21T23:59:00.000Z', by: ann } });
  await r({ filed: '2027-01-11T00:00:00.000Z', decided: { at: '2027-01-12T00:00:00.000Z', by: ann } });
  const gone = await r({ filed: '2026-12-22T00:00:00.000Z', decided: { at: '2026-12-24T02:00:00.000Z', by: ann } });
  await app.db('tickets').where({ id: gone }).update({ status: 'deleted', status_before_delete: 'approved' });
  await app.db('ticket_events').insert({
    ticket_id: gone,
    event_type: 'deleted',
    from_status: 'approved',
    to_status: 'deleted',
    created_at: '2026-12-25T00:00:00.000Z',
  });
});
test.after.always(async () => {
  await app?.close();
});

test.serial('percentile interpolates between ranks as percentile_cont does', (t) => {
  t.is(percentile([], 0.5), null);
  t.is(percentile([7], 0.9), 7);
  t.is(percentile([1, 2, 3, 4, 10], 0.5), 3);
  t.is(Number(percentile([1, 2, 3, 4, 10], 0.9)?.toFixed(6)), 7.6);
  t.is(percentile([1, 2, 3, 4, 4, 10], 0.5), 3.5);
});

test.serial('approval turnaround: median and p90 hours by UTC week and by approver, follow-ups counted', async (t) => {
  const res = await boss.get(`/api/reports/turnaround?${RANGE}`);
  t.is(res.status, 200, res.text);
  const r = res.json;
  t.deepEqual(r.filters, {
    from: '2026-12-21',
    to: '2027-01-10',
    cable_type: null,
    approver: null,
    location: 'all',
    timezone: 'UTC',
    scope: 'all',
  });
  t.deepEqual(r.weeks, [
    { week: '2026-12-21', requests: 5, decided: 5, count: 5, median_hours: 3, p90_hours: 7.6, reminders: 3, escalations: 1 },
    { week: '2026-12-28', requests: 2, decided: 1, count: 1, median_hours: 4, p90_hours: 4, reminders: 1, escalations: 0 },
    { week: '2027-01-04', requests: 0, decided: 0, count: 0, median_hours: null, p90_hours: null, reminders: 0, escalations: 0 },
  ]);
  t.deepEqual(r.overall, { requests: 7, decided: 6, count: 6, median_hours: 3.5, p90_hours: 7, reminders: 4, escalations: 1 });
  t.deepEqual(r.approvers, [
    {
      approver: { id: bob.id, username: 'bob' },
      decided: 3,
      count: 3,
      median_hours: 4,
      p90_hours: 8.8,
      reminders: 3,
      escalations: 1,
    },
    {
      approver: { id: ann.id, username: 'ann' },
      decided: 3,
      count: 3,
      median_hours: 2,
      p90_hours: 3.6,
      reminders: 0,
      escalations: 0,
    },
  ]);
});

test.serial('filters: approver, cable type (case and spaces ignored)', async (t) => {
  const byAnn = (await boss.get(`/api/reports/turnaround?${RANGE}&approver=${ann.id}`)).json;
  t.deepEqual(
    byAnn.weeks.map((w: { median_hours: number | null; p90_hours: number | null }) => [w.median_hours, w.p90_hours]),
    [
      [1.5, 1.9],
      [4, 4],
      [null, null],
    ],
  );
  const cat6a = (await boss.get(`/api/reports/turnaround?${RANGE}&cable_type=${encodeURIComponent(' CAT6a ')}`)).json;
  t.deepEqual(cat6a.overall, { requests: 1, decided: 1, count: 1, median_hours: 4, p90_hours: 4, reminders: 2, escalations: 0 });
});

test.serial('fulfilment lead time: approval to fulfilment by week filed', async (t) => {
  const r = (await boss.get(`/api/reports/lead-time?${RANGE}`)).json;
  t.deepEqual(r.weeks, [
    { week: '2026-12-21', count: 2, median_hours: 15, p90_hours: 22.2 },
    { week: '2026-12-28', count: 1, median_hours: 24, p90_hours: 24 },
    { week: '2027-01-04', count: 0, median_hours: null, p90_hours: null },
  ]);
  t.deepEqual(r.overall, { count: 3, median_hours: 24, p90_hours: 24 });
});

test.serial('requests per week by the status they are in now; deleted ones left out', async (t) => {
  const r = (await boss.get(`/api/reports/requests?${RANGE}`)).json;
  const zero = { pending_approval: 0, approved: 0, rejected: 0, in_progress: 0, fulfilled: 0, closed: 0 };
  t.deepEqual(r.weeks, [
    { week: '2026-12-21', total: 5, by_status: { ...zero, approved: 2, rejected: 1, fulfilled: 2 } },
    { week: '2026-12-28', total: 2, by_status: { ...zero, pending_approval: 1, fulfilled: 1 } },
    { week: '2027-01-04', total: 0, by_status: zero },
  ]);
});

test.serial('someone who is not an admin sees their own requests only, and no inventory figures', async (t) => {
  const r = (await techApi.get(`/api/reports/turnaround?${RANGE}`)).json;
  t.is(r.filters.scope, 'own');
  t.deepEqual(r.overall, { requests: 2, decided: 1, count: 1, median_hours: 2, p90_hours: 2, reminders: 1, escalations: 0 });
  for (const name of ['consumption', 'cover']) {
    const res = await techApi.get(`/api/reports/${name}`);
    t.is(res.status, 403, name);
    t.regex(res.json.error, /admin/);
    t.is((await techPage.get(`/reports/${name}.csv`)).status, 403);
  }
  const page = await techPage.get(`/reports?${RANGE}`);
  t.is(page.status, 200);
  t.deepEqual(
    page
      .$('section.report')
      .map((_, el) => page.$(el).attr('id'))
      .get(),
    ['turnaround', 'lead-time', 'requests'],
  );
  t.regex(page.$('main').text(), /your own requests/);
});

test.serial(
  'consumption per UTC month by cable type, across a year boundary; days of cover at the last 90 days’ rate',
  async (t) => {
    await buildReceipt(app, {
      items: [
        { cable_type: 'Cat6', cable_length: '100ft', quantity: 48 },
        { cable_type: 'Cat5e', cable_length: '100ft', quantity: 7 },
        { cable_type: 'Fiber', cable_length: '10m', quantity: 5 },
      ],
    });
    await buildConsumption(app, [
      { at: '2026-11-30T23:59:59.000Z', cable_type: 'Cat6', quantity: 5 },
      { at: '2026-12-01T00:00:00.000Z', cable_type: 'Cat6', quantity: 3 },
      { at: '2026-12-31T23:00:00.000Z', cable_type: 'cat6 ', quantity: 2 },
      { at: '2027-01-01T00:30:00.000Z', cable_type: 'Cat6', quantity: 4 },
      { at: '2027-01-02T08:00:00.000Z', cable_type: 'Cat5e', quantity: 7 },
      { at: '2027-01-12T08:00:00.000Z', cable_type: 'Cat6', quantity: 10 },
      // Before the 90-day window (2026-10-17 .. 2027-01-14) and the range: in neither.
      { at: '2026-10-16T23:59:59.000Z', cable_type: 'Cat6', quantity: 1000 },
    ]);
    const c = (await boss.get('/api/reports/consumption?from=2026-11-01&to=2027-01-10')).json;
    t.deepEqual(c.months, [
      { month: '2026-11', location: 'Main warehouse', cable_type: 'Cat6', quantity: 5, unit: 'each', quantity_mm: null },
      { month: '2026-12', location: 'Main warehouse', cable_type: 'Cat6', quantity: 5, unit: 'each', quantity_mm: null },
      { month: '2027-01', location: 'Main warehouse', cable_type: 'Cat5e', quantity: 7, unit: 'each', quantity_mm: null },
      { month: '2027-01', location: 'Main warehouse', cable_type: 'Cat6', quantity: 4, unit: 'each', quantity_mm: null },
    ]);
    const cover = (await boss.get('/api/reports/cover')).json;
    t.is(cover.window_days, 90);
    t.deepEqual(cover.skus, [
      {
        location: 'All stock',
        cable_type: 'Cat5e',
        cable_length: '100ft',
        unit: 'each',
        on_hand: 7,
        reserved: 0,
        available: 7,
        consumed: 7,
        per_day: 0.078,
        days_of_cover: 90,
      },
      {
        location: 'All stock',
        cable_type: 'Cat6',
        cable_length: '100ft',
        unit: 'each',
        on_hand: 48,
        reserved: 0,
        available: 48,
        consumed: 24,
        per_day: 0.267,
        days_of_cover: 180,
      },
      {
        location: 'All stock',
        cable_type: 'Fiber',
        cable_length: '10m',
        unit: 'each',
        on_hand: 5,
        reserved: 0,
        available: 5,
        consumed: 0,
        per_day: 0,
        days_of_cover: null,
      },
    ]);
    const csv = await bossPage.get('/reports/cover.csv');
    t.is(csv.status, 200);
    t.regex(String(csv.headers.get('content-type')), /text\/csv/);
    t.is(csv.text.split('\r\n')[1], 'All stock,Cat5e,100ft,each,7,0,7,7,0.078,90');
  },
);

test.serial('consumption: a month of the range without any is a line of 0, across a year boundary', async (t) => {
  // The ledger of the test above: Cat6 1000 on 2026-10-16, 5 in Nov, 3 + 2 in Dec, 4 + 10 in Jan; Cat5e 7 in Jan.
  const zero = (month: string, cable_type = 'All types') => ({
    month,
    location: 'All stock',
    cable_type,
    unit: 'each',
    quantity: 0,
    quantity_mm: null,
  });
  const main = (month: string, cable_type: string, quantity: number) => ({
    month,
    location: 'Main warehouse',
    cable_type,
    unit: 'each',
    quantity,
    quantity_mm: null,
  });
  const all = (await boss.get('/api/reports/consumption?from=2026-08-15&to=2027-02-10')).json;
  t.deepEqual(all.months, [
    zero('2026-08'),
    zero('2026-09'),
    main('2026-10', 'Cat6', 1000),
    main('2026-11', 'Cat6', 5),
    main('2026-12', 'Cat6', 5),
    main('2027-01', 'Cat5e', 7),
    main('2027-01', 'Cat6', 14),
    zero('2027-02'),
  ]);
  // One cable type: its empty months are named after it.
  const cat5e = (await boss.get('/api/reports/consumption?from=2026-11-20&to=2027-02-01&cable_type=cat5e')).json;
  t.deepEqual(cat5e.months, [
    zero('2026-11', 'Cat5e'),
    zero('2026-12', 'Cat5e'),
    main('2027-01', 'Cat5e', 7),
    zero('2027-02', 'Cat5e'),
  ]);
  // The CSV and the page's table have the same lines; the chart has every month along its axis.
  const csv = await bossPage.get('/reports/consumption.csv?from=2026-08-15&to=2027-02-10');
  t.deepEqual(csv.text.trim().split('\r\n').slice(1, 3), [
    '2026-08,All stock,All types,each,0,',
    '2026-09,All stock,All types,each,0,',
  ]);
  t.is(csv.text.trim().split('\r\n').at(-1), '2027-02,All stock,All types,each,0,');
  const page = await bossPage.get('/reports?from=2026-08-15&to=2027-02-10');
  t.deepEqual(
    page
      .$('#consumption tbody th')
      .map((_, el) => page.$(el).text())
      .get(),
    ['2026-08', '2026-09', '2026-10', '2026-11', '2026-12', '2027-01', '2027-01', '2027-02'],
  );
  const ticks = page.$('#consumption svg.chart text').text();
  for (const month of ['2026-08', '2026-09', '2026-10', '2026-11', '2026-12', '2027-01', '2027-02'])
    t.true(ticks.includes(month), month);
  t.deepEqual(
    page
      .$('#consumption .legend li')
      .map((_, el) => page.$(el).text())
      .get(),
    ['Cat6', 'Cat5e'],
    'an empty month is no series',
  );
  // Nothing consumed in the whole range: lines of 0, and no chart.
  const none = await bossPage.get('/reports?from=2025-01-01&to=2025-02-28');
  t.deepEqual(
    none
      .$('#consumption tbody td.num')
      .map((_, el) => none.$(el).text())
      .get(),
    ['0', '0'],
  );
  t.is(none.$('#consumption svg.chart').length, 0);
});

test.serial('a request fulfilled through the app is counted: the triggers see the services’ writes', async (t) => {
  await buildReceipt(app, { items: [{ cable_type: 'Coax', cable_length: '50ft', quantity: 20 }] });
  const { id } = await buildRequest(app, {
    status: 'fulfilled',
    items: [{ cable_type: 'Coax', cable_length: '50ft', quantity: 3 }],
  });
  const today = new Date().toISOString().slice(0, 10);
  const c = (await boss.get(`/api/reports/consumption?from=${today}&to=${today}&cable_type=coax`)).json;
  t.deepEqual(
    c.months.map((m: { cable_type: string; quantity: number }) => [m.cable_type, m.quantity]),
    [['Coax', 3]],
  );
  const row = await app.db('report_ticket_timings').where({ ticket_id: id }).first();
  t.is(row.status, 'fulfilled');
  t.truthy(row.decided_at && row.approved_at && row.fulfilled_at);
});

test.serial(
  'per stock location: consumption where the pieces left from, days of cover from that location’s available and use',
  async (t) => {
    // Everything today (the services stamp real time; today is inside the 90 days before NOW).
    const today = new Date().toISOString().slice(0, 10);
    const month = today.slice(0, 7);
    const main = await defaultLocationId(app);
    const van = await buildLocation(app, 'Van 7', 'van');
    const patch = { cable_type: 'Patch', cable_length: '2m' };
    await buildReceipt(app, { items: [{ ...patch, quantity: 30 }] });
    // Main 30 -> 18, Van 12: a transfer is no consumption.
    await buildTransfer(app, { from: main, to: van.id, items: [{ ...patch, quantity: 12 }] });
    await buildRequest(app, { status: 'fulfilled', items: [{ ...patch, quantity: 5 }] });
    await buildRequest(app, { status: 'fulfilled', source_location_id: van.id, items: [{ ...patch, quantity: 4 }] });
    // Approved, not fulfilled: 3 reserved at the van, not consumed.
    await buildRequest(app, { status: 'approved', source_location_id: van.id, items: [{ ...patch, quantity: 3 }] });

    const consumption = async (location: string) =>
      (await boss.get(`/api/reports/consumption?from=${today}&to=${today}&cable_type=patch&location=${location}`)).json.months;
    t.deepEqual(await consumption('all'), [
      { month, location: 'Main warehouse', cable_type: 'Patch', quantity: 5, unit: 'each', quantity_mm: null },
      { month, location: 'Van 7', cable_type: 'Patch', quantity: 4, unit: 'each', quantity_mm: null },
    ]);
    t.deepEqual(await consumption(String(van.id)), [
      { month, location: 'Van 7', cable_type: 'Patch', quantity: 4, unit: 'each', quantity_mm: null },
    ]);
    t.deepEqual(await consumption(String(main)), [
      { month, location: 'Main warehouse', cable_type: 'Patch', quantity: 5, unit: 'each', quantity_mm: null },
    ]);

    const cover = async (location: string) =>
      (await boss.get(`/api/reports/cover?cable_type=patch&location=${location}`)).json.skus;
    const sku = { cable_type: 'Patch', cable_length: '2m', unit: 'each' };
    // Main: 30 - 12 - 5 = 13 on hand, 5 used in 90 days: 5/90 = 0.056 a day, 13 / (5/90) = 234 days.
    t.deepEqual(await cover(String(main)), [
      {
        location: 'Main warehouse',
        ...sku,
        on_hand: 13,
        reserved: 0,
        available: 13,
        consumed: 5,
        per_day: 0.056,
        days_of_cover: 234,
      },
    ]);
    // Van: 12 - 4 = 8 on hand, 3 reserved, 5 available; 4 used: 5 / (4/90) = 112.5 days.
    t.deepEqual(await cover(String(van.id)), [
      { location: 'Van 7', ...sku, on_hand: 8, reserved: 3, available: 5, consumed: 4, per_day: 0.044, days_of_cover: 112.5 },
    ]);
    // All stock: 21 on hand, 3 reserved, 18 available; 9 used: 0.1 a day, 180 days.
    t.deepEqual(await cover('all'), [
      { location: 'All stock', ...sku, on_hand: 21, reserved: 3, available: 18, consumed: 9, per_day: 0.1, days_of_cover: 180 },
    ]);

    // The page names the location in the charts' titles and the tables.
    const page = await bossPage.get(`/reports?from=${today}&to=${today}&cable_type=patch&location=${van.id}`);
    t.is(page.status, 200);
    t.is(page.$('#r-location option[selected]').text(), 'Van 7');
    t.is(page.$('#consumption svg.chart').attr('aria-label'), 'Cable consumed per month, by type: Van 7');
    t.is(
      page.$('#cover svg.chart').attr('aria-label'),
      'Days of cover at the last 90 days’ rate, Van 7: the first to run out on top',
    );
    t.is(page.$('#cover table caption').text(), 'Days of cover per SKU, Van 7');
    t.is(page.$('#cover tbody td').first().text(), '5', 'available, not on hand');
    t.regex(page.$('#consumption .summary').text(), /at Van 7 only/);
    t.regex(page.$('#cover .summary').text(), /^Van 7: available stock \(on hand less what approved requests reserved\)/);
    const csv = await bossPage.get(`/reports/consumption.csv?from=${today}&to=${today}&cable_type=patch&location=${van.id}`);
    t.is(csv.text.split('\r\n')[1], `${month},Van 7,Patch,each,4,`);
  },
);

test.serial('bad filters are 400s with a sentence, nothing run', async (t) => {
  for (const [query, field] of [
    ['from=2027-02-30', 'from'],
    ['from=yesterday', 'from'],
    ['from=2027-01-10&to=2027-01-01', 'from'],
    ['from=2020-01-01&to=2027-01-01', 'from'],
    ['approver=abc', 'approver'],
    ['location=7', 'location'],
    ['location=999999', 'location'],
    ['location=../x', 'location'],
  ] as const) {
    const res = await boss.get(`/api/reports/turnaround?${query}`);
    t.is(res.status, 400, query);
    t.truthy(res.json.fields?.[field], `${query}: ${res.text}`);
    if (/^location=\d+$/.test(query)) t.is(res.json.error, 'There is no such stock location.');
  }
  // A location that exists is answered.
  const main = await defaultLocationId(app);
  t.is((await boss.get(`/api/reports/consumption?location=${main}`)).status, 200);
  t.is((await boss.get(`/api/reports/cover?location=${main}`)).status, 200);
});

test.serial('a bad filter on the page: the form again with what was typed and a sentence beside the field', async (t) => {
  for (const [query, field, id, sentence] of [
    ['from=2027-01-10&to=2027-01-01&cable_type=Cat6', 'from', 'r-from', /From must not be after "to"/],
    ['from=yesterday&to=2027-01-01', 'from', 'r-from', /From must be a date as YYYY-MM-DD/],
    ['from=2027-02-30', 'from', 'r-from', /From is not a real date/],
    ['from=2020-01-01&to=2027-01-01', 'from', 'r-from', /From must be at most 1098 days before "to"/],
    ['location=999999&cable_type=Cat6', 'location', 'r-location', /Location is not a known location/],
    ['approver=abc', 'approver', 'r-approver', /Approver must be a whole number/],
  ] as const) {
    const page = await bossPage.get(`/reports?${query}`);
    t.is(page.status, 400, query);
    const $ = page.$;
    t.is($('form.report-filters').attr('method'), 'get', `${query}: the form is there`);
    const input = $(`#${id}`);
    t.is(input.attr('aria-invalid'), 'true', query);
    t.is(input.attr('aria-describedby'), `${id}-error`, query);
    t.regex($(`#${id}-error`).text(), sentence, query);
    t.true(input.closest('.field').hasClass('invalid'), query);
    t.is($('.field.invalid').length, 1, `${query}: only the wrong field is marked`);
    // What was typed is put back, valid or not.
    const typed = new URLSearchParams(query);
    for (const [name, value] of typed) {
      const el = $(`form.report-filters [name="${name}"]`);
      t.is(el.is('select') ? el.find('option[selected]').attr('value') : el.attr('value'), value, `${query}: ${name}`);
    }
    t.regex($('.alert.error').text(), /check the fields marked below/);
    t.is($('section.report').length, 0, `${query}: no figures`);
    t.is($('script').length, 0);
    // The JSON of the same filters is the usual 400 naming the same field.
    const api = await boss.get(`/api/reports/turnaround?${query}`);
    t.is(api.status, 400, query);
    t.truthy(api.json.fields?.[field], `${query}: ${api.text}`);
  }
  // Someone who is not an admin has no location field: the sentence is at the top.
  const own = await techPage.get('/reports?location=999999');
  t.is(own.status, 400);
  t.is(own.$('#r-location').length, 0);
  t.is(own.$('.alert.error').text().trim(), 'There is no such stock location.');
  // JSON clients keep their 400 body, from the page's address too.
  const json = await boss.get('/api/reports/turnaround?from=2027-01-10&to=2027-01-01');
  t.is(json.status, 400);
  t.truthy(json.json.fields.from);
  // The form sent again, corrected, answers with the figures.
  const fixed = await bossPage.get(`/reports?${RANGE}`);
  t.is(fixed.status, 200);
  t.is(fixed.$('.field.invalid').length, 0);
});

test.serial('the page: UTC said, a chart per report with its table, CSV and JSON links, no script', async (t) => {
  const page = await bossPage.get(`/reports?${RANGE}`);
  t.is(page.status, 200);
  const $ = page.$;
  t.regex($('main').text(), /UTC/);
  t.is($('section.report').length, 5);
  t.is($('script').length, 0, 'no script at all on the reports page');
  const charts = $('svg.chart');
  t.true(charts.length >= 4);
  t.is($('svg.chart style').length, 0, 'no inline style (CSP)');
  charts.each((_, el) => {
    t.is($(el).attr('role'), 'img');
    t.truthy($(el).attr('aria-label'));
  });
  t.is($('#turnaround table caption').first().text(), 'Turnaround per week filed');
  t.is($('#turnaround tbody tr').first().find('td').eq(2).text(), '3.0');
  t.is($('#turnaround a[download]').attr('href'), `/reports/turnaround.csv?${RANGE}`);
  t.is($('nav[aria-label=Main] a[href="/reports"]').attr('aria-current'), 'page');
  // The share link pins the dates the page settled on.
  t.is($('a[href^="/reports?from="]').attr('href'), `/reports?${RANGE}`);
  const csv = await bossPage.get(`/reports/turnaround.csv?${RANGE}`);
  t.is(csv.text.split('\r\n')[0], 'group,week_utc,approver,requests,decided,median_hours,p90_hours,reminders,escalations');
  t.is(csv.text.split('\r\n')[1], 'week,2026-12-21,,5,5,3,7.6,3,1');
});

test.serial('CSV cells that a spreadsheet would run are text', async (t) => {
  await buildConsumption(app, [{ at: '2027-01-05T00:00:00.000Z', cable_type: '=HYPERLINK("x")', quantity: 1 }]);
  const csv = await bossPage.get('/reports/consumption.csv?from=2027-01-05&to=2027-01-05');
  t.true(csv.text.includes(`'=HYPERLINK(""x"")`), csv.text);
});

test.serial('the fill migration gives the rows the triggers keep (tickets filed before the migration)', async (t) => {
  const before = await app.db('report_ticket_timings').select().orderBy('ticket_id');
  await app.db('report_ticket_timings').delete();
  const fill = await import('../migrations/20261208200100_fill_report_ticket_timings.ts');
  await fill.up(app.db);
  const after = await app.db('report_ticket_timings').select().orderBy('ticket_id');
  const plain = (rows: Record<string, unknown>[]) =>
    rows.map((r) =>
      Object.fromEntries(
        Object.entries(r).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v === null ? null : String(v)]),
      ),
    );
  t.true(before.length > 10);
  t.deepEqual(plain(after), plain(before));
});

test.serial('the location migration refills report_daily_consumption as its triggers keep it, and goes back down', async (t) => {
  const migration = await import('../migrations/20261208200400_add_location_to_report_daily_consumption.ts');
  const rows = async () =>
    (await app.db('report_daily_consumption').select()).map((r) =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v instanceof Date ? v.toISOString().slice(0, 10) : String(v)])),
    );
  const order = (rows: Record<string, string>[]) => rows.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  const before = order(await rows());
  t.true(new Set(before.map((r) => r.location_id)).size >= 2, 'rows at two locations');
  await migration.down(app.db);
  t.false(await app.db.schema.hasColumn('report_daily_consumption', 'location_id'), 'down: keyed by day and SKU again');
  // Down's rows are the locations summed.
  const summed = new Map<string, number>();
  for (const r of before) summed.set(`${r.day}|${r.sku_key}`, (summed.get(`${r.day}|${r.sku_key}`) ?? 0) + Number(r.quantity));
  t.deepEqual(new Map((await rows()).map((r) => [`${r.day}|${r.sku_key}`, Number(r.quantity)])), summed);
  await migration.up(app.db);
  t.deepEqual(order(await rows()), before);
  // The trigger is back and keyed by location: one more consumption at the van's day adds to its row.
  const van = await app
    .db('report_daily_consumption')
    .whereNot('location_id', await defaultLocationId(app))
    .first();
  await buildConsumption(app, [
    {
      at: `${String(van.day instanceof Date ? van.day.toISOString().slice(0, 10) : van.day)}T12:00:00.000Z`,
      cable_type: van.cable_type,
      cable_length: van.cable_length,
      quantity: 2,
      location_id: Number(van.location_id),
    },
  ]);
  const again = await app
    .db('report_daily_consumption')
    .where({ location_id: van.location_id, sku_key: van.sku_key, day: van.day })
    .first();
  t.is(Number(again.quantity), Number(van.quantity) + 2);
});

test.serial('each row holds its hours and its cable types, kept by the triggers as items change', async (t) => {
  // The first fixture: filed 08:00, decided 09:00, fulfilled the next day at 09:00.
  const first = await app.db('report_ticket_timings').orderBy('ticket_id').first();
  // SQLite computes them from julian days: exact to a few microseconds, as the reports show two decimals.
  t.is(Number(Number(first.decision_hours).toFixed(6)), 1);
  t.is(Number(Number(first.lead_hours).toFixed(6)), 24);
  const pending = await app.db('report_ticket_timings').whereNull('decided_at').first();
  t.is(pending.decision_hours, null);
  t.is(pending.lead_hours, null);

  const S = '\u001f';
  const { id } = await buildRequest(app, {
    creator: tech,
    items: [
      { cable_type: 'Cat6', cable_length: '1m', quantity: 1 },
      { cable_type: ' CAT5e ', cable_length: '2m', quantity: 1 },
      { cable_type: 'cat6', cable_length: '3m', quantity: 1 },
    ],
  });
  const keys = async () => (await app.db('report_ticket_timings').where({ ticket_id: id }).first()).type_keys;
  t.is(await keys(), `${S}cat5e${S}cat6${S}`, 'one key per type, whatever its case and spaces');
  // An edit through the API replaces the items: the keys follow, and so does the filter.
  const edit = await techApi.send('PATCH', `/api/tickets/${id}`, {
    items: [{ cable_type: 'Fiber OM4', cable_length: '10m', quantity: 1 }],
  });
  t.is(edit.status, 200, edit.text);
  t.is(await keys(), `${S}fiber om4${S}`);
  const today = new Date().toISOString().slice(0, 10);
  const requests = async (type: string) =>
    (await boss.get(`/api/reports/turnaround?from=${today}&to=${today}&cable_type=${encodeURIComponent(type)}`)).json.overall
      .requests;
  t.is(await requests('fiber om4'), 1);
  t.is(await requests('cat6'), 0);
  // One type is not found inside another.
  t.is(await requests('om4'), 0);
  // Hand-typed SQL is kept too: an item's type changed, an item added, every item removed.
  const [item] = await app.db('ticket_items').where({ ticket_id: id });
  await app.db('ticket_items').where({ id: item.id }).update({ cable_type: 'Coax' });
  t.is(await keys(), `${S}coax${S}`);
  await app.db('ticket_items').insert({ ticket_id: id, position: 5, cable_type: 'HDMI', cable_length: '1m', quantity: 1 });
  t.is(await keys(), `${S}coax${S}hdmi${S}`);
  await app.db('ticket_items').where({ ticket_id: id }).delete();
  t.is(await keys(), null);
});

test.serial('the hours and cable-type migrations fill existing rows and go back down', async (t) => {
  const hours = await import('../migrations/20261208300000_add_hours_to_report_ticket_timings.ts');
  const types = await import('../migrations/20261208300100_add_type_keys_to_report_ticket_timings.ts');
  const covering = await import('../migrations/20261208300200_cover_report_ticket_timings_range.ts');
  const indexes = async () =>
    isPostgres(app.db)
      ? (
          await app.db.raw<{ rows: { indexname: string }[] }>(
            "select indexname from pg_indexes where schemaname = current_schema() and tablename = 'report_ticket_timings' order by indexname",
          )
        ).rows.map((r) => r.indexname)
      : [];
  const indexesBefore = await indexes();
  if (isPostgres(app.db)) t.true(indexesBefore.includes('report_ticket_timings_requested_covering'));
  const rows = async () =>
    (await app.db('report_ticket_timings').select().orderBy('ticket_id')).map((r) =>
      Object.fromEntries(
        Object.entries(r).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v === null ? null : String(v)]),
      ),
    );
  const before = await rows();
  t.true(before.length >= 10);
  t.true(
    before.some((r) => r.type_keys !== null && r.decision_hours !== null),
    'rows with keys and hours',
  );
  await covering.down(app.db);
  await types.down(app.db);
  await hours.down(app.db);
  for (const column of ['decision_hours', 'lead_hours', 'type_keys']) {
    t.false(await app.db.schema.hasColumn('report_ticket_timings', column), column);
  }
  // Without the triggers, items are written as before.
  const { id } = await buildRequest(app, { items: [{ cable_type: 'Cat6', cable_length: '1m', quantity: 1 }] });
  await hours.up(app.db);
  await types.up(app.db);
  await covering.up(app.db);
  t.deepEqual(await indexes(), indexesBefore);
  const after = await rows();
  t.deepEqual(
    after.filter((r) => Number(r.ticket_id) !== id),
    before,
    'the same hours and keys as the triggers kept',
  );
  t.is(after.find((r) => Number(r.ticket_id) === id)?.type_keys, '\u001fcat6\u001f', 'a request filed while down is filled');
});
