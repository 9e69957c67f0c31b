import test from 'ava';
import QRCode from 'qrcode';
import type { PublicUserRow } from '../src/features/users/queries.ts';
import { startApp, type TestApp } from './support/app.ts';
import type { Client } from './support/client.ts';
import { buildLocation, buildReel, inventoryCast, signedInClient } from './support/factories.ts';

/**
 * Reels of bulk cable over HTTP (DESIGN.md §13): receiving through the API and the page without
 * JavaScript, the list and the reel page, move / count / scrap with their refusals, labels with a
 * real QR code of APP_URL/r/:code, and who may do what (admins act; everyone signed in may look).
 */

let app: TestApp;
let admin: Client;
let boss: PublicUserRow;
let tech: Client;
let adminPage: Client;
let techPage: Client;
// Flash messages are read once per session: the tests that read them sign in on their own.

test.before(async () => {
  app = await startApp({ APP_URL: 'https://cable.example.test' });
  ({ boss, bossApi: admin, techApi: tech } = await inventoryCast(app));
  [adminPage, techPage] = await Promise.all([signedInClient(app.url, 'boss'), signedInClient(app.url, 'tech')]);
});
test.after.always(async () => {
  await app?.close();
});

let n = 0;
const typeName = (base = 'Cat6') => `${base}-${++n}`;

async function receiveBulk(body: Record<string, unknown>) {
  const res = await admin.send('POST', '/api/cable-receiving/bulk', { vendor: 'Anixter', ...body });
  if (res.status !== 201) throw new Error(`bulk receive failed: ${res.status} ${res.text}`);
  return res.json;
}

test('bulk receiving: one reel and one receipt movement per physical reel; the first receipt sets the unit', async (t) => {
  const type = typeName();
  const got = await receiveBulk({
    po_number: 'PO-9',
    lines: [{ cable_type: type, reels: [{ length: '1,000 ft', lot: 'LOT-1' }, { length: "500'" }, { length: '100 m' }] }],
  });
  t.is(got.message, 'Bulk cable received');
  t.is(got.reels.length, 3);
  t.true(got.reels.every((r: { code: string }) => /^R-\d{6}$/.test(r.code)));
  t.deepEqual(
    got.reels.map((r: { starting: string; remaining_mm: number; unit: string; lot: string | null }) => [
      r.starting,
      r.remaining_mm,
      r.unit,
      r.lot,
    ]),
    [
      ['1,000 ft', 304_800, 'ft', 'LOT-1'],
      ['500 ft', 152_400, 'ft', null],
      ['328.084 ft', 100_000, 'ft', null],
    ],
    'the unit of the first length is the SKU’s; 100 m is shown in ft without losing a millimetre',
  );
  t.is(got.reels[0].url, `https://cable.example.test/r/${got.reels[0].code}`);
  t.is(got.labels, `/inventory/receiving/${got.receipt.id}/labels`);

  const later = await receiveBulk({ lines: [{ cable_type: type.toUpperCase(), unit: 'm', reels: [{ length: '50' }] }] });
  t.is(later.reels[0].unit, 'ft', 'a later receipt keeps the unit the first set');
  t.is(later.reels[0].remaining_mm, 50_000, 'a bare number takes the line’s unit');

  const ours = (
    await Promise.all(
      got.reels.map(
        async (r: { id: number }) =>
          (
            await admin.get(`/api/inventory/movements?source_type=reel_receipt&source_id=${r.id}`)
          ).json,
      ),
    )
  ).flat();
  t.is(ours.length, 3, 'one receipt movement per reel');
  t.true(
    ours.every((m: { movement_type: string; cable_length: string }) => m.movement_type === 'receipt' && m.cable_length === ''),
  );

  const onHand = await admin.get('/api/inventory/on-hand');
  const row = onHand.json.find((r: { cable_type: string }) => r.cable_type === type);
  t.like(row, { unit: 'ft', on_hand: 304_800 + 152_400 + 100_000 + 50_000 });
  t.is(row.display.on_hand, '1,992.126 ft');

  // Counted receiving is unchanged beside it.
  const counted = await admin.send('POST', '/api/cable-receiving', {
    vendor: 'Anixter',
    items: [{ cable_type: type, cable_length: '10ft', quantity: 4 }],
  });
  t.is(counted.status, 201);
  const each = (await admin.get('/api/inventory/on-hand')).json.find(
    (r: { cable_type: string; cable_length: string }) => r.cable_type === type && r.cable_length === '10ft',
  );
  t.like(each, { unit: 'each', on_hand: 4, display: null });
});

test.serial('bulk receiving refuses bad lengths field by field, and stores nothing', async (t) => {
  const before = (await admin.get('/api/reels?all=true&limit=500')).json.length;
  const res = await admin.send('POST', '/api/cable-receiving/bulk', {
    vendor: 'Anixter',
    lines: [
      {
        cable_type: 'Cat6',
        reels: [{ length: '12 parsecs' }, { length: '-5m' }, { length: '0 ft' }, { length: '999999999 m' }, { length: '300' }],
      },
    ],
  });
  t.is(res.status, 400);
  t.deepEqual(res.json.fields, {
    'lines.0.reels.0.length': '"parsecs" is not a unit: use ft or m',
    'lines.0.reels.1.length': 'a length must be more than zero',
    'lines.0.reels.2.length': 'a length must be more than zero',
    'lines.0.reels.3.length': 'a length must be at most 100 km',
    'lines.0.reels.4.length': 'add a unit: "1000 ft" or "305 m"',
  });
  for (const [body, field] of [
    [{ vendor: 'A', lines: [] }, 'lines'],
    [{ vendor: 'A', lines: [{ cable_type: 'Cat6', reels: [] }] }, 'lines.0.reels'],
    [{ vendor: 'A', lines: [{ cable_type: 'Cat6', unit: 'yd', reels: [{ length: '1 ft' }] }] }, 'lines.0.unit'],
    [{ vendor: 'A', location_id: 999_999, lines: [{ cable_type: 'Cat6', reels: [{ length: '1 ft' }] }] }, 'location_id'],
  ] as const) {
    const bad = await admin.send('POST', '/api/cable-receiving/bulk', body);
    t.is(bad.status, 400, JSON.stringify(body));
    t.truthy(bad.json.fields[field], `${field}: ${bad.text}`);
  }
  t.is((await admin.get('/api/reels?all=true&limit=500')).json.length, before);
  t.is((await tech.send('POST', '/api/cable-receiving/bulk', { vendor: 'A', lines: [] })).status, 403);
});

test('the receiving page works without JavaScript: rows added, errors beside the field, reels made', async (t) => {
  // A session of its own: a flash is read once, and other tests' pages would take it.
  const adminPage = await signedInClient(app.url, 'boss');
  const page = await adminPage.get('/inventory/receiving/bulk');
  t.is(page.status, 200);
  t.is(page.$('input[name="reels[0][length]"]').length, 1);
  t.is(page.$('input[name="reels[1][length]"]').length, 1, 'two reel rows to start');
  const csrf = String(page.$('input[name=_csrf]').val());
  const added = await adminPage.postForm('/inventory/receiving/bulk', { _csrf: csrf, vendor: 'Anixter', add_reel: '1' });
  t.is(added.status, 200);
  t.is(added.$('input[name="reels[2][length]"]').length, 1, 'Add another reel posts back with one more row');

  const type = typeName('OM4');
  const wrong = await adminPage.postForm('/inventory/receiving/bulk', {
    _csrf: csrf,
    vendor: 'Anixter',
    cable_type: type,
    unit: 'm',
    'reels[0][length]': '305',
    'reels[1][length]': '12 parsecs',
  });
  t.is(wrong.status, 400);
  t.is(wrong.$('#b1-len-e').text(), '"parsecs" is not a unit: use ft or m');
  t.is(wrong.$('#b0-len').val(), '305', 'what was typed stays');

  const ok = await adminPage.postForm('/inventory/receiving/bulk', {
    _csrf: csrf,
    vendor: 'Anixter',
    cable_type: type,
    unit: 'm',
    'reels[0][length]': '305',
    'reels[0][lot]': 'L-77',
    'reels[1][length]': '152.5 m',
  });
  t.is(ok.status, 303);
  t.regex(ok.headers.get('location') ?? '', /^\/inventory\/reels\?receipt_id=\d+&all=true$/);
  const list = await adminPage.get(ok.headers.get('location') as string);
  t.regex(list.$('.flash').text(), /2 reels received \(R-\d{6}, R-\d{6}\)/);
  const rows = list.$('table.reels tbody tr');
  t.is(rows.length, 2);
  t.deepEqual(rows.map((_, tr) => list.$(tr).find('td.num').text().replace(/\s+/g, ' ').trim()).get(), [
    '305 m of 305 m',
    '152.5 m of 152.5 m',
  ]);
  t.truthy(list.$('a[href$="/labels"]').length, 'a link to print the receipt’s labels');
  const receiptId = /receipt_id=(\d+)/.exec(ok.headers.get('location') ?? '')?.[1];
  const receipts = await adminPage.get('/inventory/receiving');
  const entry = receipts.$(`a[href="/inventory/receiving/${receiptId}/labels"]`).closest('li');
  t.deepEqual(
    entry
      .find('.receipt-items a')
      .map((_, a) => receipts.$(a).text())
      .get().length,
    2,
    'the receipt list shows its reels and the label sheet',
  );
});

test('the reel list filters by location and type; GET /api/reels/:code; everyone signed in may look', async (t) => {
  const van = await buildLocation(app, `Reel van ${++n}`, 'van');
  const type = typeName();
  const a = await buildReel(app, { cable_type: type, length: '1000 ft' });
  const b = await buildReel(app, { cable_type: type, length: '500 ft', location_id: van.id });
  await buildReel(app, { cable_type: typeName(), length: '10 m', location_id: van.id });

  const atVan = await tech.get(`/api/reels?location_id=${van.id}&sku=${encodeURIComponent(type.toLowerCase())}`);
  t.is(atVan.status, 200);
  t.deepEqual(
    atVan.json.map((r: { code: string }) => r.code),
    [b.code],
  );
  const everywhere = await tech.get(`/api/reels?sku=${type}`);
  t.deepEqual(
    everywhere.json.map((r: { code: string }) => r.code),
    [a.code, b.code],
  );
  const one = await tech.get(`/api/reels/${a.code.toLowerCase()}`);
  t.is(one.status, 200);
  t.is(one.json.code, a.code);
  t.is(one.json.movements, undefined, 'a technician sees the reel, not the ledger');
  const full = await admin.get(`/api/reels/${a.code}`);
  t.is(full.json.movements.length, 1);
  t.like(full.json.movements[0], { movement_type: 'receipt', quantity: '+1,000 ft', quantity_mm: 304_800 });

  t.is((await tech.get('/api/reels/R-999999')).status, 404);
  t.is((await tech.get('/api/reels/nonsense')).status, 400);
  t.is((await tech.get('/api/reels?location_id=abc')).status, 400);

  const page = await techPage.get(`/inventory/reels?location_id=${van.id}`);
  t.is(page.status, 200);
  t.is(page.$('table.reels tbody tr').length, 2);
  const reelPage = await techPage.get(`/r/${b.code}`);
  t.is(reelPage.status, 200);
  t.regex(reelPage.$('h1').text(), new RegExp(b.code));
  t.is(reelPage.$('form[action$="/move"]').length, 0, 'no actions for a technician');
  t.is(reelPage.$('table.reel-history').length, 0);
  t.is((await techPage.get(`/inventory/reels/${b.code}/label`)).status, 403);
});

test('move, count and scrap: each a movement with who and why; refusals name the problem', async (t) => {
  const van = await buildLocation(app, `Count van ${++n}`, 'van');
  const type = typeName();
  const reel = await buildReel(app, { cable_type: type, length: '1000 ft', admin: boss });

  const moved = await admin.send('POST', `/api/reels/${reel.code}/move`, { to_location_id: van.id, notes: 'job 12' });
  t.is(moved.status, 200);
  t.is(moved.json.reel.location.id, van.id);
  const same = await admin.send('POST', `/api/reels/${reel.code}/move`, { to_location_id: van.id });
  t.is(same.status, 400);
  t.regex(same.json.fields.to_location_id, /already at/);

  const counted = await admin.send('POST', `/api/reels/${reel.code}/count`, { remaining: '640', reason: 'Measured' });
  t.is(counted.status, 200);
  t.is(counted.json.reel.remaining, '640 ft');
  const badCount = await admin.send('POST', `/api/reels/${reel.code}/count`, { remaining: '12 parsecs', reason: 'x' });
  t.is(badCount.status, 400);
  t.is(badCount.json.fields.remaining, '"parsecs" is not a unit: use ft or m');
  t.is(
    (await admin.send('POST', `/api/reels/${reel.code}/count`, { remaining: '600 ft' })).status,
    400,
    'a count needs a reason',
  );

  const stock = (await admin.get(`/api/inventory/on-hand?location_id=${van.id}`)).json.find(
    (r: { cable_type: string }) => r.cable_type === type,
  );
  t.is(stock.on_hand, 195_072, 'the van holds what the reel holds');

  const scrapped = await admin.send('POST', `/api/reels/${reel.code}/scrap`, { reason: 'Crushed' });
  t.is(scrapped.status, 200);
  t.like(scrapped.json.reel, { status: 'scrapped', pickable: false, remaining_mm: 0 });
  const again = await admin.send('POST', `/api/reels/${reel.code}/scrap`, { reason: 'Crushed' });
  t.is(again.status, 409);
  t.is(again.json.error, `Reel ${reel.code} is scrapped; nothing was changed.`);
  t.false(
    (await admin.get(`/api/reels?sku=${type}`)).json.some((r: { code: string }) => r.code === reel.code),
    'not pickable',
  );
  t.true((await admin.get(`/api/reels?sku=${type}&all=true`)).json.some((r: { code: string }) => r.code === reel.code));

  const history = (await admin.get(`/api/reels/${reel.code}`)).json.movements;
  t.deepEqual(
    history.map((m: { movement_type: string; quantity: string; notes: string; actor: { username: string } }) => [
      m.movement_type,
      m.quantity,
      m.actor.username,
    ]),
    [
      ['receipt', '+1,000 ft', 'boss'],
      ['transfer_out', '-1,000 ft', 'boss'],
      ['transfer_in', '+1,000 ft', 'boss'],
      ['adjustment', '-360 ft', 'boss'],
      ['scrap', '-640 ft', 'boss'],
    ],
  );
  t.is(history[3].notes, 'Measured');
  t.is(history[4].notes, 'Crushed');
  for (const action of ['move', 'count', 'scrap']) {
    t.is((await tech.send('POST', `/api/reels/${reel.code}/${action}`, {})).status, 403, action);
  }
});

test('the reel page’s forms work without JavaScript and show refusals beside the field', async (t) => {
  const adminPage = await signedInClient(app.url, 'boss');
  const reel = await buildReel(app, { cable_type: typeName(), length: '100 ft' });
  const page = await adminPage.get(`/r/${reel.code}`);
  t.is(page.status, 200);
  t.is(page.$('form[action$="/count"]').length, 1);
  const csrf = String(page.$('input[name=_csrf]').val());
  const bad = await adminPage.postForm(`/r/${reel.code}/count`, { _csrf: csrf, remaining: '-5m', reason: 'x' });
  t.is(bad.status, 400);
  t.is(bad.$('#f-remaining-error').text(), 'a length must be more than zero');
  const ok = await adminPage.postForm(`/r/${reel.code}/count`, { _csrf: csrf, remaining: '5 ft', reason: 'Short end' });
  t.is(ok.status, 303);
  const after = await adminPage.get(`/r/${reel.code}`);
  t.regex(after.$('.flash').text(), /counted: 5 ft left/);
  t.regex(after.$('.alert.warn').text(), /offcut/, 'below REEL_OFFCUT_MIN: keep or scrap');
  t.is(after.$('table.reel-history tbody tr').length, 2);
  const scrap = await adminPage.postForm(`/r/${reel.code}/scrap`, { _csrf: csrf, reason: 'Offcut' });
  t.is(scrap.status, 303);
  const twice = await adminPage.postForm(`/r/${reel.code}/scrap`, { _csrf: csrf, reason: 'Offcut' });
  t.is(twice.status, 303, 'a refused action goes back to the reel with the sentence');
  t.regex((await adminPage.get(`/r/${reel.code}`)).$('.flash').text(), /is scrapped/);
});

test('labels: one reel, a receipt’s sheet, three formats; the SVG is the QR code of APP_URL/r/:code', async (t) => {
  const got = await receiveBulk({
    lines: [{ cable_type: typeName(), reels: [{ length: '1000 ft', lot: 'L-1' }, { length: '500 ft' }] }],
  });
  const [first] = got.reels;
  const label = await adminPage.get(`/inventory/reels/${first.code}/label`);
  t.is(label.status, 200);
  const url = `https://cable.example.test/r/${first.code}`;
  const svg = label.$('.label .qr').html()?.trim() ?? '';
  const expected = await QRCode.toString(url, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  // cheerio writes <path ...></path> where qrcode wrote <path .../>: the same element.
  const same = (x: string) => x.trim().replace(/\/>/g, '></path>').replace(/\s+/g, '');
  t.is(same(svg), same(expected), 'the QR code of the reel’s address, as qrcode draws it');
  t.regex(svg, /^<svg[^>]*viewBox="0 0 \d+ \d+"/);
  t.is(label.$('.label .code').text(), first.code);
  t.is(label.$('.label .len').text(), '1,000 ft');
  t.is(label.$('.label .url').text(), url);
  t.true(label.$('.labels').hasClass('labels-a4'));
  t.true((await adminPage.get(`/inventory/reels/${first.code}/label?format=roll`)).$('.labels').hasClass('labels-roll'));
  t.true((await adminPage.get(`/inventory/reels/${first.code}/label?format=letter`)).$('.labels').hasClass('labels-letter'));

  const sheet = await adminPage.get(`${got.labels}?format=letter`);
  t.is(sheet.status, 200);
  t.deepEqual(
    sheet
      .$('.label .code')
      .map((_, e) => sheet.$(e).text())
      .get(),
    got.reels.map((r: { code: string }) => r.code),
  );
  t.is(sheet.$('.label .qr svg').length, 2);
  t.is((await adminPage.get('/inventory/receiving/999999/labels')).status, 404);
  t.is((await adminPage.get('/inventory/reels/R-999999/label')).status, 404);
});
