import test from 'ava';
import fc from 'fast-check';
import { startApp, type TestApp } from './support/app.ts';
import type { Client } from './support/client.ts';
import { buildCast, signedInClient } from './support/factories.ts';
import { api, FUZZ_SEED, type FuzzRequest, formPost, fuzz, fuzzTally, pageGet, pathSegment } from './support/fuzz.ts';

/**
 * Fuzzing reels of bulk cable (DESIGN.md §13), the JSON API and the forms: no 5xx, `{error, fields?}`
 * (or a page with a role=alert message), and a rejected request changes no row.
 */

let app: TestApp;
let admin: Client;
let browser: Client;
let csrf: string;
const codes: string[] = [];
const receiptIds: string[] = [];
const locationIds: string[] = [];

test.before(async () => {
  app = await startApp();
  const cast = await buildCast(app, { reel_admin: { role: 'admin' } });
  admin = cast.reel_admin.api;
  browser = await signedInClient(app.url, 'reel_admin');
  csrf = await browser.csrfFrom('/');
  locationIds.push(String((await admin.send('GET', '/api/locations')).json[0].id));
  locationIds.push(String((await admin.send('POST', '/api/locations', { name: 'Van R', kind: 'van' })).json.location.id));
  for (const type of ['Cat6', 'OM4']) {
    const res = await admin.send('POST', '/api/cable-receiving/bulk', {
      vendor: 'Acme',
      lines: [{ cable_type: type, reels: [{ length: '1000 ft', lot: 'L1' }, { length: '500 ft' }, { length: '20 ft' }] }],
    });
    receiptIds.push(String(res.json.receipt.id));
    codes.push(...res.json.reels.map((r: { code: string }) => r.code));
  }
});
test.after.always(async () => {
  await app?.close();
});

const codeSegment = pathSegment(codes).map((c) => c);

test.serial('POST /api/cable-receiving/bulk', async (t) => {
  await fuzz(t, app.db, {
    name: 'POST /api/cable-receiving/bulk',
    client: admin,
    audience: 'json',
    numRuns: 300,
    requests: fc.oneof(
      api('POST', fc.constant('/api/cable-receiving/bulk'), {
        body: { vendor: 'Acme', po_number: 'PO-2', lines: [{ cable_type: 'Cat6', unit: 'ft', reels: [{ length: '1000 ft' }] }] },
      }),
      // Hostile reel rows and lines inside an otherwise valid receipt.
      fc
        .array(fc.dictionary(fc.constantFrom('length', 'lot', 'x'), fc.anything()), { maxLength: 3 })
        .chain((reels) =>
          fc
            .record({ cable_type: fc.oneof(fc.constant('Cat6'), fc.anything()), unit: fc.anything() })
            .map((line) => ({ ...line, reels })),
        )
        .map(
          (line): FuzzRequest => ({
            method: 'POST',
            path: '/api/cable-receiving/bulk',
            body: JSON.stringify({ vendor: 'Acme', lines: [line] }),
            contentType: 'application/json',
          }),
        ),
    ),
  });
});

test.serial('GET /api/reels[/:code]', async (t) => {
  await fuzz(t, app.db, {
    name: 'GET /api/reels[/:code]',
    client: admin,
    audience: 'json',
    numRuns: 200,
    requests: fc.oneof(
      api('GET', fc.constant('/api/reels'), { query: ['location_id', 'sku', 'all', 'receipt_id', 'limit', 'cursor'] }),
      api(
        'GET',
        codeSegment.map((c) => `/api/reels/${c}`),
      ),
    ),
  });
});

test.serial('POST /api/reels/:code/move|count|scrap', async (t) => {
  await fuzz(t, app.db, {
    name: 'POST /api/reels/:code/move|count|scrap',
    client: admin,
    audience: 'json',
    numRuns: 300,
    requests: fc.oneof(
      api(
        'POST',
        codeSegment.map((c) => `/api/reels/${c}/move`),
        { body: { to_location_id: Number(locationIds[1]), notes: 'van' } },
      ),
      api(
        'POST',
        codeSegment.map((c) => `/api/reels/${c}/count`),
        { body: { remaining: '900 ft', reason: 'count' } },
      ),
      api(
        'POST',
        codeSegment.map((c) => `/api/reels/${c}/scrap`),
        { body: { reason: 'crushed' } },
      ),
    ),
  });
});

const form = (path: fc.Arbitrary<string>, valid: Record<string, string>, extraKeys: string[] = []) =>
  formPost(csrf, path, valid, { extraKeys });

const page = pageGet;

test.serial('forms and pages: bulk receiving, reels, labels', async (t) => {
  await fuzz(t, app.db, {
    name: 'POST /inventory/receiving/bulk, /r/:code/move|count|scrap; reel pages and labels',
    client: browser,
    logs: app.logs,
    audience: 'html',
    numRuns: 350,
    requests: fc.oneof(
      form(
        fc.constant('/inventory/receiving/bulk'),
        { vendor: 'Acme', cable_type: 'Cat6', unit: 'ft', 'reels[0][length]': '1000', 'reels[0][lot]': 'L2' },
        ['add_reel', 'remove_reel', 'po_number', 'location_id', 'reels[1][length]'],
      ),
      form(
        codeSegment.map((c) => `/r/${c}/move`),
        { to_location_id: locationIds[1] as string, notes: '' },
      ),
      form(
        codeSegment.map((c) => `/r/${c}/count`),
        { remaining: '400', reason: 'count' },
      ),
      form(
        codeSegment.map((c) => `/r/${c}/scrap`),
        { reason: 'crushed' },
      ),
      page(fc.constantFrom('/inventory/reels', '/inventory/receiving/bulk'), [
        'location_id',
        'sku',
        'all',
        'receipt_id',
        'cursor',
      ]),
      page(
        codeSegment.map((c) => `/r/${c}`),
        [],
      ),
      page(
        codeSegment.map((c) => `/inventory/reels/${c}/label`),
        ['format'],
      ),
      page(
        pathSegment(receiptIds).map((id) => `/inventory/receiving/${id}/labels`),
        ['format'],
      ),
    ),
  });
});

test.after('figures', (t) => {
  t.log(`${fuzzTally.cases} cases over ${fuzzTally.endpoints} endpoint groups (seed ${FUZZ_SEED})`);
});
