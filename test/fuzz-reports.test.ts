import test from 'ava';
import fc from 'fast-check';
import { startApp, type TestApp } from './support/app.ts';
import type { Client } from './support/client.ts';
import { buildCast, buildConsumption, buildLocation, buildReceipt, buildTimedRequest } from './support/factories.ts';
import { api, encode, FUZZ_SEED, fuzz, fuzzTally, hostileString } from './support/fuzz.ts';

/**
 * Fuzzing the reports (issue #25): their filters in the query string, as JSON, CSV and the page. Same
 * properties as the other fuzz files: no 5xx, `{error, fields?}` (or an error page) for what is
 * refused, and no row changed.
 */

let app: TestApp;
let admin: Client;
let user: Client;
let adminPage: Client;

const REPORTS = ['turnaround', 'lead-time', 'requests', 'consumption', 'cover'];
const FILTERS = ['from', 'to', 'cable_type', 'approver', 'location'];

test.before(async () => {
  app = await startApp();
  const cast = await buildCast(app, { rep_admin: { role: 'admin', browser: true }, rep_user: {}, rep_approver: {} });
  admin = cast.rep_admin.api;
  user = cast.rep_user.api;
  adminPage = cast.rep_admin.browser;
  const creator = cast.rep_user.user;
  const assignee = cast.rep_approver.user;
  await buildTimedRequest(app, {
    creator,
    assignee,
    filed: '2026-11-02T08:00:00.000Z',
    decided: { at: '2026-11-02T10:00:00.000Z' },
    fulfilled: '2026-11-03T10:00:00.000Z',
  });
  await buildTimedRequest(app, { creator, assignee, filed: '2026-11-10T08:00:00.000Z', reminders: 2 });
  await buildReceipt(app, { items: [{ cable_type: 'Cat6', cable_length: '100ft', quantity: 30 }] });
  // Main warehouse is location 1, this van 2: the fuzzed location ids hit real ones, 0 and unknown ones.
  const van = await buildLocation(app, 'Fuzz van', 'van');
  await buildConsumption(app, [
    { at: '2026-11-03T10:00:00.000Z', cable_type: 'Cat6', quantity: 4 },
    { at: '2026-11-04T10:00:00.000Z', cable_type: 'Cat6', quantity: 2, location_id: van.id },
  ]);
});
test.after.always(async () => {
  await app?.close();
});

/** Real-looking values for the filters beside hostile ones. */
const filterValue = fc.oneof(
  fc.constantFrom(
    '2026-11-01',
    '2026-12-31',
    '2026-02-29',
    '2024-02-29',
    '0000-00-00',
    '9999-12-31',
    'all',
    '1',
    '2',
    '999999',
    '0',
    '-1',
    'Cat6',
    '',
  ),
  hostileString,
);
const filterQuery = fc
  .array(fc.tuple(fc.constantFrom(...FILTERS, 'x'), filterValue), { maxLength: 5 })
  .map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${k}=${encode(v.slice(0, 300))}`).join('&')}` : ''));

test.serial('GET /api/reports/:name', async (t) => {
  for (const [client, name] of [
    [admin, 'admin'],
    [user, 'user'],
  ] as const) {
    await fuzz(t, app.db, {
      name: `GET /api/reports/:name as ${name}`,
      client,
      audience: 'json',
      numRuns: 150,
      requests: fc.oneof(
        fc
          .tuple(fc.constantFrom(...REPORTS), filterQuery)
          .map(([report, query]) => ({ method: 'GET', path: `/api/reports/${report}${query}` })),
        api('GET', fc.constantFrom(...REPORTS.map((r) => `/api/reports/${r}`)), { query: FILTERS }),
      ),
    });
  }
});

test.serial('GET /reports and /reports/:name.csv', async (t) => {
  await fuzz(t, app.db, {
    name: 'GET /reports, /reports/:name.csv',
    client: adminPage,
    audience: 'html',
    numRuns: 120,
    requests: fc
      .tuple(fc.constantFrom('/reports', ...REPORTS.map((r) => `/reports/${r}.csv`)), filterQuery)
      .map(([path, query]) => ({ method: 'GET', path: `${path}${query}` })),
  });
});

test.serial('GET /tickets.csv with the dashboard filters', async (t) => {
  await fuzz(t, app.db, {
    name: 'GET /tickets.csv',
    client: adminPage,
    audience: 'html',
    numRuns: 100,
    requests: api('GET', fc.constant('/tickets.csv'), { query: ['filter', 'status', 'q', 'include_deleted', 'limit', 'cursor'] }),
  });
});

test.after('figures', (t) => {
  t.log(`${fuzzTally.cases} cases over ${fuzzTally.endpoints} endpoint groups (seed ${FUZZ_SEED})`);
});
