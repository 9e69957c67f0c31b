import test from 'ava';
import fc from 'fast-check';
import { startApp, type TestApp } from './support/app.ts';
import type { Client } from './support/client.ts';
import { buildCast, signedInClient } from './support/factories.ts';
import { api, FUZZ_SEED, type FuzzRequest, formPost, fuzz, fuzzTally, pageGet, pathSegment } from './support/fuzz.ts';

/**
 * Fuzzing locations, transfers and reorder rules (DESIGN.md §12), the JSON API and the forms, with
 * INVENTORY_ENFORCE_STOCK on: no 5xx, `{error, fields?}` (or a page with a role=alert message), and a
 * rejected request changes no row.
 */

let app: TestApp;
let admin: Client;
let browser: Client;
let csrf: string;
const locationIds: string[] = [];
const suggestionIds: string[] = [];

test.before(async () => {
  app = await startApp({ INVENTORY_ENFORCE_STOCK: 'true' });
  const cast = await buildCast(app, { loc_admin: { role: 'admin' }, loc_tech: {} });
  admin = cast.loc_admin.api;
  browser = await signedInClient(app.url, 'loc_admin');
  csrf = await browser.csrfFrom('/');
  const main = (await admin.send('GET', '/api/locations')).json[0].id;
  locationIds.push(String(main));
  for (const [name, kind, holder] of [
    ['Van 1', 'van', cast.loc_tech.user.id],
    ['Site 9', 'site', null],
  ] as const) {
    const res = await admin.send('POST', '/api/locations', { name, kind, holder_user_id: holder });
    locationIds.push(String(res.json.location.id));
  }
  await admin.send('POST', '/api/cable-receiving', {
    vendor: 'Acme',
    items: [{ cable_type: 'Cat6', cable_length: '100ft', quantity: 500 }],
  });
  await admin.send('POST', '/api/inventory/reorder-rules', {
    location_id: Number(locationIds[1]),
    cable_type: 'Cat6',
    cable_length: '100ft',
    min_quantity: 2,
    max_quantity: 4,
  });
  for (const s of (await admin.send('GET', '/api/inventory/reorder-suggestions')).json) suggestionIds.push(String(s.id));
});
test.after.always(async () => {
  await app?.close();
});

const ITEM = { cable_type: 'Cat6', cable_length: '100ft', quantity: 1 };

test.serial('GET|POST /api/locations, PATCH /api/locations/:id', async (t) => {
  await fuzz(t, app.db, {
    name: 'GET|POST /api/locations, PATCH /api/locations/:id',
    client: admin,
    audience: 'json',
    numRuns: 250,
    requests: fc.oneof(
      api('GET', fc.constant('/api/locations'), { query: ['include_inactive'] }),
      api('POST', fc.constant('/api/locations'), { body: { name: 'Van 7', kind: 'van', holder_user_id: null, active: true } }),
      api(
        'PATCH',
        pathSegment(locationIds).map((id) => `/api/locations/${id}`),
        { body: { name: 'Site 10', kind: 'site', holder_user_id: null, active: true } },
      ),
    ),
  });
});

test.serial('POST /api/inventory/transfers, GET /api/inventory/on-hand?location_id', async (t) => {
  await fuzz(t, app.db, {
    name: 'POST /api/inventory/transfers, on-hand by location',
    client: admin,
    audience: 'json',
    numRuns: 300,
    requests: fc.oneof(
      api('POST', fc.constant('/api/inventory/transfers'), {
        body: { from_location_id: Number(locationIds[0]), to_location_id: Number(locationIds[1]), notes: 'run', items: [ITEM] },
      }),
      fc
        .array(fc.dictionary(fc.constantFrom('cable_type', 'cable_length', 'quantity', 'x'), fc.anything()), { maxLength: 3 })
        .map(
          (items): FuzzRequest => ({
            method: 'POST',
            path: '/api/inventory/transfers',
            body: JSON.stringify({ from_location_id: Number(locationIds[0]), to_location_id: Number(locationIds[2]), items }),
            contentType: 'application/json',
          }),
        ),
      api('GET', fc.constant('/api/inventory/on-hand'), { query: ['include_zero', 'location_id'] }),
    ),
  });
});

test.serial('reorder rules and suggestions', async (t) => {
  await fuzz(t, app.db, {
    name: 'GET|POST /api/inventory/reorder-rules, suggestions',
    client: admin,
    audience: 'json',
    numRuns: 250,
    requests: fc.oneof(
      api('GET', fc.constantFrom('/api/inventory/reorder-rules', '/api/inventory/reorder-suggestions'), {
        query: ['location_id'],
      }),
      api('POST', fc.constant('/api/inventory/reorder-rules'), {
        body: {
          location_id: Number(locationIds[2]),
          cable_type: 'Cat6',
          cable_length: '100ft',
          min_quantity: 1,
          max_quantity: 3,
          pack_multiple: 2,
        },
      }),
      api(
        'POST',
        pathSegment(suggestionIds).map((id) => `/api/inventory/reorder-suggestions/${id}/transfer`),
      ),
    ),
  });
});

const form = (path: fc.Arbitrary<string>, valid: Record<string, string>, extraKeys: string[] = []) =>
  formPost(csrf, path, valid, { extraKeys });

const page = pageGet;

test.serial('forms and pages: locations, transfers, reorder', async (t) => {
  await fuzz(t, app.db, {
    name: 'POST /locations[/:id], /inventory/transfers, /inventory/reorder[/:id/transfer]; their pages',
    client: browser,
    logs: app.logs,
    audience: 'html',
    numRuns: 350,
    requests: fc.oneof(
      form(fc.constant('/locations'), { name: 'Site 11', kind: 'site', holder_user_id: '' }),
      form(
        pathSegment(locationIds).map((id) => `/locations/${id}`),
        { name: 'Van 1', kind: 'van', holder_user_id: '', active: 'on' },
      ),
      form(
        fc.constant('/inventory/transfers'),
        {
          from_location_id: locationIds[0] as string,
          to_location_id: locationIds[1] as string,
          'items[0][cable_type]': 'Cat6',
          'items[0][cable_length]': '100ft',
          'items[0][quantity]': '1',
        },
        ['add_item', 'remove_item', 'notes'],
      ),
      form(fc.constant('/inventory/reorder'), {
        location_id: locationIds[2] as string,
        cable_type: 'Cat6',
        cable_length: '100ft',
        min_quantity: '1',
        max_quantity: '3',
        pack_multiple: '',
      }),
      form(
        pathSegment(suggestionIds).map((id) => `/inventory/reorder/${id}/transfer`),
        {},
      ),
      page(fc.constantFrom('/locations', '/inventory/transfers', '/inventory/reorder'), []),
      page(
        pathSegment(locationIds).map((id) => `/locations/${id}`),
        [],
      ),
      page(fc.constantFrom('/inventory', '/inventory/on-hand.csv'), ['include_zero', 'location_id']),
    ),
  });
});

test.after('figures', (t) => {
  t.log(`${fuzzTally.cases} cases over ${fuzzTally.endpoints} endpoint groups (seed ${FUZZ_SEED})`);
});
