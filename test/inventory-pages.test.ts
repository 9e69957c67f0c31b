import { randomBytes } from 'node:crypto';
import test from 'ava';
import type { PublicUserRow } from '../src/features/users/queries.ts';
import { csvCell } from '../src/lib/csv.ts';
import { startApp, type TestApp } from './support/app.ts';
import type { Client, Reply } from './support/client.ts';
import { parseCsv } from './support/csv.ts';
import { inventoryCast, signedInClient } from './support/factories.ts';
import { createTicket, driveTo } from './support/tickets.ts';

/**
 * The inventory pages as a browser without JavaScript sees them (cheerio), the fragments htmx asks
 * for, the CSV exports, and the on-hand column on the ticket page. Set-up goes through the JSON API.
 */

let app: TestApp;
let stockUser: PublicUserRow;
let adminApi: Client;
let techApi: Client;
let stockApi: Client;
let adminPage: Client;
let techPage: Client;

test.before(async () => {
  app = await startApp();
  ({ stockkeeper: stockUser, bossApi: adminApi, techApi, stockApi } = await inventoryCast(app));
  [adminPage, techPage] = await Promise.all([signedInClient(app.url, 'boss'), signedInClient(app.url, 'tech')]);
});
test.after.always(async () => {
  await app?.close();
});

const sku = (prefix = 'Cat6') => `${prefix}-${randomBytes(3).toString('hex')}`;
const hx = { 'HX-Request': 'true' };

async function receive(items: { cable_type: string; cable_length: string; quantity: number }[], extra = {}) {
  const res = await adminApi.send('POST', '/api/cable-receiving', { vendor: 'Anixter', items, ...extra });
  if (res.status !== 201) throw new Error(`receive failed: ${res.status} ${res.text}`);
  return res.json.receipt;
}

async function adjust(cable_type: string, cable_length: string, quantity: number, reason = 'Count') {
  const res = await adminApi.send('POST', '/api/inventory/adjustments', { cable_type, cable_length, quantity, reason });
  if (res.status !== 201) throw new Error(`adjust failed: ${res.status} ${res.text}`);
  return res.json.movement;
}

const rowOf = (page: Reply, type: string) =>
  page.$('table.stock tbody tr').filter((_, tr) => page.$(tr).find('th').text().includes(type));

// ---- the on-hand page ---------------------------------------------------------------------------

test.serial('a user sees on-hand read-only: no thresholds to edit, no admin tabs; the admin pages are 403', async (t) => {
  const type = sku();
  await receive([{ cable_type: type, cable_length: '100ft', quantity: 4 }]);
  await adminApi.send('PATCH', '/api/inventory/stock/threshold', {
    cable_type: type,
    cable_length: '100ft',
    reorder_threshold: 9,
  });
  const page = await techPage.get('/inventory');
  t.is(page.status, 200);
  t.is(page.$('header nav a[href="/inventory"]').attr('aria-current'), 'page');
  const row = rowOf(page, type);
  t.is(row.length, 1);
  t.is(row.find('td.num strong').text(), '4');
  t.is(row.find('.flag-low').text(), 'Low');
  t.is(row.find('td').last().text().trim(), '9');
  t.is(page.$('form[action="/inventory/threshold"]').length, 0);
  t.is(page.$('nav.subnav').length, 0, 'no admin tabs');
  t.is(page.$('main a[href^="/inventory/on-hand.csv"]').length, 1);
  for (const path of ['/inventory/receiving', '/inventory/ledger', '/inventory/adjustments']) {
    const denied = await techPage.get(path);
    t.is(denied.status, 403, path);
    t.regex(denied.$('main').text(), /Only an admin/);
  }
  const post = await techPage.submit('/inventory', '/inventory/receiving', { vendor: 'x', 'items[0][cable_type]': 'a' });
  t.is(post.status, 403);
});

test.serial('the admin sees flags, thresholds as forms, and can set one without JavaScript', async (t) => {
  const short = sku('Short');
  const low = sku('Low');
  await receive([
    { cable_type: short, cable_length: '1m', quantity: 1 },
    { cable_type: low, cable_length: '1m', quantity: 3 },
  ]);
  await adjust(short, '1m', -4, 'Miscount');
  const page = await adminPage.get('/inventory');
  t.is(page.$('nav.subnav a').length, 8, 'on hand, reels, receiving, ledger, adjust, transfers, reorder, locations');
  t.is(rowOf(page, short).find('.flag-short').text(), 'Shortfall');
  t.is(rowOf(page, short).find('td.num strong').text(), '-3');
  t.is(rowOf(page, low).find('.flag-low').length, 0);

  const form = rowOf(page, low).find('form.threshold');
  t.is(form.attr('method'), 'post');
  t.is(form.find('input[name=cable_type]').val(), low);
  const label = form.find('label');
  t.is(form.find(`#${label.attr('for')}`).attr('name'), 'reorder_threshold', 'the input has a label');
  const set = await adminPage.submit('/inventory', '/inventory/threshold', {
    cable_type: low,
    cable_length: '1m',
    reorder_threshold: '3',
  });
  t.is(set.status, 303);
  t.is(set.headers.get('location'), '/inventory');
  const after = await adminPage.get('/inventory');
  t.regex(after.$('.flash.success').text(), /set to 3/);
  t.is(rowOf(after, low).find('.flag-low').text(), 'Low');
  t.is(rowOf(after, low).find('input[name=reorder_threshold]').val(), '3');

  const bad = await adminPage.submit('/inventory', '/inventory/threshold', {
    cable_type: low,
    cable_length: '1m',
    reorder_threshold: '-2',
  });
  t.is(bad.status, 400);
  t.is(bad.$('.alert.error').length, 1);
  t.is(rowOf(bad, low).find('.field-error').text(), 'must be at least 0');
  t.is(rowOf(bad, low).find('input[name=reorder_threshold]').attr('aria-invalid'), 'true');
  t.is(rowOf(bad, low).find('input[name=reorder_threshold]').val(), '-2');
});

test.serial('empty SKUs are hidden unless asked for', async (t) => {
  const type = sku('Zero');
  await receive([{ cable_type: type, cable_length: '1m', quantity: 2 }]);
  await adjust(type, '1m', -2);
  t.is(rowOf(await adminPage.get('/inventory'), type).length, 0);
  t.is(rowOf(await adminPage.get('/inventory?include_zero=true'), type).length, 1);
  t.is((await adminPage.get('/inventory?include_zero=perhaps')).status, 400);
});

// ---- receiving --------------------------------------------------------------------------------

test.serial(
  'the receiving form works without JavaScript: add and remove rows, errors beside fields, then a receipt',
  async (t) => {
    const type = sku('Form');
    const page = await adminPage.get('/inventory/receiving');
    t.is(page.status, 200);
    const form = page.$('form.receipt-form');
    t.is(form.attr('action'), '/inventory/receiving');
    t.is(form.find('fieldset.item-row').length, 1);
    for (const name of ['vendor', 'po_number', 'notes', 'items[0][cable_type]', 'items[0][cable_length]', 'items[0][quantity]']) {
      const field = form.find(`[name="${name}"]`);
      t.is(field.length, 1, name);
      t.is(form.find(`label[for="${field.attr('id')}"]`).length, 1, `${name} has a label`);
    }
    const csrf = form.find('input[name=_csrf]').val() as string;

    // "Add another item" posts the form back with one more row, keeping what was typed.
    const typed = {
      _csrf: csrf,
      vendor: 'Graybar',
      'items[0][cable_type]': type,
      'items[0][cable_length]': '1m',
      'items[0][quantity]': '5',
    };
    const added = await adminPage.postForm('/inventory/receiving', { ...typed, add_item: '1' });
    t.is(added.status, 200);
    t.is(added.$('fieldset.item-row').length, 2);
    t.is(added.$('input[name="vendor"]').val(), 'Graybar');
    t.is(added.$('input[name="items[0][cable_type]"]').val(), type);
    t.is(added.$('input[name="items[1][cable_type]"]').val(), '');
    const removed = await adminPage.postForm('/inventory/receiving', {
      ...typed,
      'items[1][cable_type]': 'other',
      remove_item: '0',
    });
    t.is(removed.$('fieldset.item-row').length, 1);
    t.is(removed.$('input[name="items[0][cable_type]"]').val(), 'other');

    // Errors: the form comes back with each sentence beside its field and the values kept.
    const before = Number((await app.db('cable_receipts').count({ n: '*' }))[0]?.n);
    const bad = await adminPage.postForm('/inventory/receiving', {
      _csrf: csrf,
      vendor: '',
      'items[0][cable_type]': type,
      'items[0][cable_length]': '1m',
      'items[0][quantity]': '0',
    });
    t.is(bad.status, 400);
    t.is(bad.$('.alert.error').length, 1);
    t.is(bad.$('#f-vendor').attr('aria-invalid'), 'true');
    t.is(bad.$('#f-vendor-error').text(), 'is required');
    t.is(bad.$('#r0-qty-e').text(), 'must be at least 1');
    t.is(bad.$('input[name="items[0][quantity]"]').val(), '0');
    t.is(Number((await app.db('cable_receipts').count({ n: '*' }))[0]?.n), before);

    // A row left blank is ignored; a good submit redirects (303) and the receipt is in the history.
    const ok = await adminPage.postForm('/inventory/receiving', {
      ...typed,
      po_number: 'PO-55',
      notes: 'Left at the dock',
      'items[1][cable_type]': '',
      'items[1][cable_length]': '',
      'items[1][quantity]': '',
    });
    t.is(ok.status, 303);
    t.is(ok.headers.get('location'), '/inventory/receiving');
    const history = await adminPage.get('/inventory/receiving');
    t.regex(history.$('.flash.success').text(), /Receipt #\d+ from Graybar recorded: 1 line, 5 units/);
    const first = history.$('ul.receipts > li').first();
    t.regex(first.text(), /Graybar/);
    t.regex(first.text(), /PO PO-55/);
    t.regex(first.find('.receipt-items').text(), new RegExp(`${type} 1m × 5`));
    t.is(first.find('.note').text(), 'Left at the dock');
    const onHand = (await techApi.send('GET', '/api/inventory/on-hand')).json;
    t.deepEqual(
      onHand.filter((r: { cable_type: string }) => r.cable_type === type),
      [{ cable_type: type, cable_length: '1m', on_hand: 5, reserved: 0, available: 5, unit: 'each', display: null }],
    );
  },
);

test.serial('htmx: "Add another item" gets one row and a new button; "Remove" gets nothing', async (t) => {
  const row = await adminPage.get('/inventory/receiving/item-row?index=3', hx);
  t.is(row.status, 200);
  t.false(row.text.includes('<html'));
  t.is(row.$('fieldset#receipt-item-3 input[name="items[3][quantity]"]').length, 1);
  const button = row.$('#add-receipt-item');
  t.is(button.attr('hx-swap-oob'), 'true');
  t.is(button.attr('hx-get'), '/inventory/receiving/item-row?index=4');
  const page = await adminPage.get('/inventory/receiving');
  t.is(page.$('#add-receipt-item').attr('hx-get'), '/inventory/receiving/item-row?index=1');
  t.is(page.$('#add-receipt-item').attr('hx-target'), '#receipt-items');
  t.is(page.$('fieldset.item-row button[name=remove_item]').attr('hx-swap'), 'delete');
  const gone = await adminPage.get('/inventory/receiving/item-row?remove=1', hx);
  t.is(gone.status, 200);
  t.is(gone.text, '');
});

test.serial('vendor, PO, notes and cable names are escaped everywhere they are shown', async (t) => {
  const evil = '<script>alert(1)</script>';
  const type = `${sku()}<img src=x onerror=alert(1)>`;
  await receive([{ cable_type: type, cable_length: '1m', quantity: 1 }], {
    vendor: `Acme ${evil}`,
    po_number: evil,
    notes: evil,
  });
  for (const path of ['/inventory/receiving', '/inventory/ledger', '/inventory', '/inventory/adjustments']) {
    const page = await adminPage.get(path);
    t.is(page.$('main script').length, 0, path);
    t.is(page.$('main img').length, 0, path);
  }
  const receipts = await adminPage.get('/inventory/receiving');
  t.true(receipts.text.includes('Acme &lt;script&gt;alert(1)&lt;/script&gt;'));
  const mine = receipts.$('ul.receipts > li').filter((_, li) => receipts.$(li).text().includes('Acme'));
  t.is(mine.find('.note').text(), evil);
  t.is(mine.find('.line1 .muted').text(), `PO ${evil}`);
});

// ---- the ledger page ----------------------------------------------------------------------------

test.serial('the ledger: filters kept in the form, keyset pages, and an htmx fragment', async (t) => {
  const type = sku('Ledger');
  const receipt = await receive([{ cable_type: type, cable_length: '1m', quantity: 9 }]);
  for (let i = 0; i < 3; i++) await adjust(type, '1m', -1, `count ${i}`);
  const page = await adminPage.get('/inventory/ledger?movement_type=adjustment&limit=2');
  t.is(page.status, 200);
  t.is(page.$('#l-type').val(), 'adjustment');
  const rows = page.$('ol.ledger > li');
  t.is(rows.length, 2);
  t.regex(rows.first().find('.delta').text(), /^-1$/);
  t.is(rows.first().find('.badge').text(), 'adjustment');
  const older = page.$('#ledger a').filter((_, a) => page.$(a).text() === 'Older movements');
  const href = older.attr('href') as string;
  t.regex(href, /^\/inventory\/ledger\?movement_type=adjustment&limit=2&cursor=\d+$/);
  t.is(older.attr('hx-get'), href);
  const next = await adminPage.get(href, hx);
  t.false(next.text.includes('<html'), 'htmx gets the fragment');
  t.is(next.$('ol.ledger > li').length, 2);
  t.true(next.$('a').filter((_, a) => next.$(a).text() === 'Newest').length === 1);

  const bySource = await adminPage.get(`/inventory/ledger?source_type=cable_receiving&source_id=${receipt.id}`);
  t.is(bySource.$('#l-source').val(), 'cable_receiving');
  t.is(bySource.$('#l-id').val(), String(receipt.id));
  t.is(bySource.$('ol.ledger > li').length, 1);
  t.regex(bySource.$('ol.ledger > li').text(), new RegExp(`Receipt #${receipt.id}`));
  t.regex(bySource.$('ol.ledger > li .delta').text(), /^\+9$/);
  t.is(
    bySource.$('a[href^="/inventory/ledger.csv"]').attr('href'),
    `/inventory/ledger.csv?source_type=cable_receiving&source_id=${receipt.id}`,
  );

  const bad = await adminPage.get('/inventory/ledger?movement_type=theft');
  t.is(bad.status, 400);
  t.regex(bad.$('main').text(), /movement_type/);
});

test.serial('a fulfilment shows in the ledger linked to its request', async (t) => {
  const type = sku();
  const ticket = await createTicket(techApi, {
    assigned_to_id: stockUser.id,
    items: [{ cable_type: type, cable_length: '1m', quantity: 2 }],
  });
  await driveTo(stockApi, ticket.id, 'fulfilled');
  const page = await adminPage.get(`/inventory/ledger?source_type=ticket_fulfillment&source_id=${ticket.id}`);
  const row = page.$('ol.ledger > li');
  t.is(row.length, 1);
  t.is(row.find(`a[href="/tickets/${ticket.id}"]`).text(), `Request #${ticket.id}`);
  t.is(row.find('.badge').text(), 'consumption');
  t.regex(row.text(), /by stockkeeper/);
});

// ---- CSV ----------------------------------------------------------------------------------------

test.serial(
  'the ledger CSV: an attachment, the filter applied, commas, quotes and newlines quoted, formulas defused',
  async (t) => {
    const type = sku('Csv, "quoted"');
    await receive([{ cable_type: type, cable_length: '1m', quantity: 10 }]);
    const tricky = 'He said "cut it", then\nleft; total, 3';
    await adjust(type, '1m', -3, tricky);
    await adjust(type, '1m', 2, '=HYPERLINK("http://evil.test","x")');
    await adjust(type, '1m', 1, '@SUM(A1:A2)');
    const res = await adminPage.get('/inventory/ledger.csv?source_type=manual_adjustment');
    t.is(res.status, 200);
    t.regex(res.headers.get('content-type') ?? '', /^text\/csv; charset=utf-8/);
    t.regex(res.headers.get('content-disposition') ?? '', /^attachment; filename="stock-ledger-\d{4}-\d\d-\d\d\.csv"$/);
    t.true(res.text.endsWith('\r\n'));
    const rows = parseCsv(res.text);
    t.deepEqual(rows[0], [
      'id',
      'created_at',
      'movement_type',
      'source_type',
      'source_id',
      'cable_type',
      'cable_length',
      'quantity_delta',
      'actor',
      'notes',
      'location',
      'unit',
      'reel_code',
    ]);
    const body = rows.slice(1);
    t.true(
      body.every(
        (r) => r.length === 13 && r[3] === 'manual_adjustment' && r[10] === 'Main warehouse' && r[11] === 'each' && r[12] === '',
      ),
      'the filter applies; every row has 13 cells: the location, then the unit and (no) reel',
    );
    const mine = body.filter((r) => r[5] === type);
    t.deepEqual(
      mine.map((r) => [r[7], r[9]]),
      [
        ['1', "'@SUM(A1:A2)"],
        ['2', `'=HYPERLINK("http://evil.test","x")`],
        ['-3', tricky],
      ],
      'newest first; a negative number stays a number; text starting with = or @ gets a leading quote',
    );
    t.true(res.text.includes(`"He said ""cut it"", then\nleft; total, 3"`));
    t.is((await adminPage.get('/inventory/ledger.csv?limit=5000')).status, 400);
  },
);

test.serial('the ledger CSV streams every matching row, past one batch', async (t) => {
  const type = sku('Bulk');
  await receive(Array.from({ length: 100 }, (_, i) => ({ cable_type: type, cable_length: `${i}m`, quantity: 1 })));
  for (let i = 0; i < 11; i++) {
    await receive(Array.from({ length: 100 }, (_, j) => ({ cable_type: type, cable_length: `${j}m`, quantity: 1 })));
  }
  const res = await adminPage.get('/inventory/ledger.csv?movement_type=receipt');
  const rows = parseCsv(res.text).slice(1);
  t.is(rows.filter((r) => r[5] === type).length, 1200);
  const ids = rows.map((r) => Number(r[0]));
  t.deepEqual(
    ids,
    [...ids].sort((a, b) => b - a),
  );
  t.is(new Set(ids).size, ids.length, 'no row twice across batches');
});

test.serial('the on-hand CSV: what the page shows, quoted and defused', async (t) => {
  const plain = sku();
  const comma = `${sku()}, plenum`;
  const formula = `-${sku()}`;
  await receive([
    { cable_type: plain, cable_length: '1m', quantity: 3 },
    { cable_type: comma, cable_length: '2"', quantity: 4 },
    { cable_type: formula, cable_length: '+3m', quantity: 5 },
  ]);
  const res = await techPage.get('/inventory/on-hand.csv');
  t.is(res.status, 200);
  t.regex(res.headers.get('content-disposition') ?? '', /^attachment; filename="on-hand-\d{4}-\d\d-\d\d\.csv"$/);
  const rows = parseCsv(res.text);
  t.deepEqual(rows[0], ['cable_type', 'cable_length', 'on_hand', 'reorder_threshold', 'reserved', 'available', 'unit']);
  const find = (type: string) => rows.find((r) => r[0] === type);
  t.deepEqual(find(plain), [plain, '1m', '3', '', '0', '3', 'each']);
  t.deepEqual(find(comma), [comma, '2"', '4', '', '0', '4', 'each']);
  t.deepEqual(find(`'${formula}`), [`'${formula}`, "'+3m", '5', '', '0', '5', 'each']);
});

test.serial('csvCell: quoting and the formula guard, cell by cell', (t) => {
  t.is(csvCell('plain'), 'plain');
  t.is(csvCell('a,b'), '"a,b"');
  t.is(csvCell('say "hi"'), '"say ""hi"""');
  t.is(csvCell('two\nlines'), '"two\nlines"');
  t.is(csvCell('cr\rhere'), '"cr\rhere"');
  t.is(csvCell('=1+1'), "'=1+1");
  t.is(csvCell('+1'), "'+1");
  t.is(csvCell('-1'), "'-1");
  t.is(csvCell('@x'), "'@x");
  t.is(csvCell('\tx'), "'\tx");
  t.is(csvCell('=a,"b"'), `"'=a,""b"""`);
  t.is(csvCell(-5), '-5');
  t.is(csvCell(0), '0');
  t.is(csvCell(null), '');
  t.is(csvCell(undefined), '');
});

// ---- adjustments page ---------------------------------------------------------------------------

test.serial('the adjustment form: take out with the direction switch, errors beside fields, recent list', async (t) => {
  const type = sku('Adj');
  await receive([{ cable_type: type, cable_length: '1m', quantity: 10 }]);
  const page = await adminPage.get('/inventory/adjustments');
  t.is(page.status, 200);
  t.is(page.$('input[name=direction][value=in]').attr('checked'), 'checked');
  const bad = await adminPage.submit('/inventory/adjustments', '/inventory/adjustments', {
    cable_type: type,
    cable_length: '1m',
    direction: 'out',
    quantity: '0',
    reason: '',
  });
  t.is(bad.status, 400);
  t.is(bad.$('#f-quantity-error').text(), 'must not be zero');
  t.is(bad.$('#f-reason-e').text(), 'is required');
  t.is(bad.$('input[name=direction][value=out]').attr('checked'), 'checked', 'the choice is kept');
  t.is(bad.$('input[name=cable_type]').val(), type);

  const ok = await adminPage.submit('/inventory/adjustments', '/inventory/adjustments', {
    cable_type: type,
    cable_length: '1m',
    direction: 'out',
    quantity: '4',
    reason: 'Crushed by a forklift',
  });
  t.is(ok.status, 303);
  const after = await adminPage.get('/inventory/adjustments');
  t.regex(after.$('.flash.success').text(), /by -4; 6 now on hand/);
  t.regex(after.$('ul.receipts > li').first().text(), new RegExp(`-4 ${type} 1m`));
  t.is(after.$('ul.receipts > li').first().find('.note').text(), 'Crushed by a forklift');
  // A minus sign works too, with either direction.
  await adminPage.submit('/inventory/adjustments', '/inventory/adjustments', {
    cable_type: type,
    cable_length: '1m',
    direction: 'in',
    quantity: '-1',
    reason: 'Recount',
  });
  const onHand = (await techApi.send('GET', '/api/inventory/on-hand')).json;
  t.deepEqual(
    onHand.filter((r: { cable_type: string }) => r.cable_type === type),
    [{ cable_type: type, cable_length: '1m', on_hand: 5, reserved: 0, available: 5, unit: 'each', display: null }],
  );
});

// ---- the ticket page ----------------------------------------------------------------------------

test.serial('the ticket page shows the on-hand of each item and flags a shortfall while the request is open', async (t) => {
  const enough = sku('Enough');
  const short = sku('Short');
  await receive([
    { cable_type: enough, cable_length: '1m', quantity: 10 },
    { cable_type: short, cable_length: '1m', quantity: 3 },
  ]);
  const ticket = await createTicket(techApi, {
    assigned_to_id: stockUser.id,
    items: [
      { cable_type: enough, cable_length: '1m', quantity: 4 },
      { cable_type: short.toLowerCase(), cable_length: '1M', quantity: 2 },
      { cable_type: short, cable_length: '1m', quantity: 2 },
      { cable_type: sku('Never'), cable_length: '1m', quantity: 1 },
    ],
  });
  const page = await techPage.get(`/tickets/${ticket.id}`);
  t.deepEqual(
    page
      .$('#ticket table.items thead th')
      .map((_, th) => page.$(th).text())
      .get()
      .slice(-3),
    ['On hand', 'Reserved', 'Available'],
  );
  t.is(page.$('#ticket .source-location').text(), 'Main warehouse');
  const cells = page
    .$('#ticket table.items tbody td.on-hand')
    .map((_, td) => page.$(td).text().trim())
    .get();
  t.deepEqual(cells, ['10', '3 short', '3 short', '0 short'], 'two lines of one SKU need 4 of the 3 on hand');

  // The htmx fragment after an action carries the column too.
  const stockPage = await signedInClient(app.url, 'stockkeeper');
  const csrf = await stockPage.csrfFrom(`/tickets/${ticket.id}`);
  const approved = await stockPage.postForm(
    `/tickets/${ticket.id}/status`,
    { _csrf: csrf, status: 'approved' },
    { ...hx, 'X-CSRF-Token': csrf },
  );
  t.is(approved.status, 200);
  t.is(approved.$('#ticket table.items tbody td.on-hand').length, 4);
  // Approval reserved each line at the source: reserved and available show it.
  const column = (cls: string) =>
    approved
      .$(`#ticket table.items tbody td.${cls}`)
      .map((_, td) => approved.$(td).text().trim())
      .get();
  t.deepEqual(column('reserved'), ['4', '4', '4', '1']);
  t.deepEqual(column('available'), ['6', '-1', '-1', '-1']);

  // Once fulfilled, the stock has gone out: the column shows what is left, with no shortfall flag.
  t.is((await stockApi.send('PATCH', `/api/tickets/${ticket.id}`, { status: 'in_progress' })).status, 200);
  t.is((await stockApi.send('PATCH', `/api/tickets/${ticket.id}`, { status: 'fulfilled' })).status, 200);
  const done = await techPage.get(`/tickets/${ticket.id}`);
  const left = done
    .$('#ticket table.items tbody td.on-hand')
    .map((_, td) => done.$(td).text().trim())
    .get();
  t.deepEqual(left, ['6', '-1', '-1', '-1']);
});
