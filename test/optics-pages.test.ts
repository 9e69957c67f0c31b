import test from 'ava';
import * as cheerio from 'cheerio';
import type { PublicUserRow } from '../src/features/users/queries.ts';
import { startApp, type TestApp } from './support/app.ts';
import { Client, type Reply } from './support/client.ts';
import { buildCast, createUser, signedInClient } from './support/factories.ts';

/**
 * The /optics pages as a browser without JavaScript sees them (cheerio), and the fragments htmx asks
 * for with `HX-Request: true`. Set-up goes through the JSON API.
 */

let app: TestApp;
let techApi: Client;
let adminApi: Client;
let techUser: PublicUserRow;

test.before(async () => {
  app = await startApp();
  const cast = await buildCast(app, { boss: { role: 'admin' }, tech: {}, bystander: {} });
  ({ user: techUser, api: techApi } = cast.tech);
  adminApi = cast.boss.api;
});
test.after.always(async () => {
  await app?.close();
});

const isFragment = (reply: Reply) => !/<html|<body|<!doctype/i.test(reply.text);
const countRequests = async () => Number((await app.db('optics_requests').count({ n: '*' }).first())?.n);
const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

async function submitApi(client: Client, body: Record<string, unknown> = {}) {
  const res = await client.send('POST', '/api/optics-requests', {
    selected_part: 'SFP-10G-LR',
    quantity: 3,
    requester_name: 'Tess T.',
    ...body,
  });
  if (res.status !== 201) throw new Error(`${res.status} ${res.text}`);
  return res.json.optics_request as { id: number };
}

/** The admin buttons on a request's row, by their value. */
const buttonsOf = (page: Reply, id: number) =>
  page
    .$(`#optics-request-${id} form.optics-actions button[name=action]`)
    .map((_, b) => page.$(b).attr('value'))
    .get();

// ---- the form -----------------------------------------------------------------------------------

test('signed-out visitors are sent to sign in, and brought back', async (t) => {
  const res = await new Client(app.url).get('/optics');
  t.is(res.status, 303);
  t.is(res.headers.get('location'), '/login?next=%2Foptics');
  t.is((await new Client(app.url).get('/optics/1')).status, 303);
  t.is((await new Client(app.url).get('/optics/parts')).status, 303);
});

test('the form offers the parts and Other; without JavaScript the Other field is always there', async (t) => {
  const browser = await signedInClient(app.url, 'bystander');
  const page = await browser.get('/optics');
  t.is(page.status, 200);
  t.is(page.$('header nav a[href="/optics"]').attr('aria-current'), 'page', 'Optics in the nav, current');
  const form = page.$('form.optics-form');
  t.is(form.attr('method'), 'post');
  t.is(form.attr('action'), '/optics');
  t.is(typeof form.find('input[name=_csrf]').val(), 'string');
  const options = form
    .find('select[name=selected_part] option')
    .map((_, o) => page.$(o).attr('value'))
    .get();
  t.deepEqual(options, [
    '',
    'SFP-1G-SX',
    'SFP-1G-LX',
    'SFP-10G-SR',
    'SFP-10G-LR',
    'SFP-25G-SR',
    'QSFP-40G-SR4',
    'QSFP-100G-SR4',
    'QSFP-100G-LR4',
    'Other',
  ]);
  // htmx asks for the field when the select changes; no inline script or hx-on anywhere.
  const select = form.find('select[name=selected_part]');
  t.is(select.attr('hx-get'), '/optics/other-part-field');
  t.is(select.attr('hx-target'), '#other-part');
  t.is(page.$('script:not([src])').length, 0);
  t.is(
    page.$('*').filter((_, el) => Object.keys((el as { attribs?: object }).attribs ?? {}).some((a) => a.startsWith('hx-on')))
      .length,
    0,
  );

  // Scripting on (as cheerio parses), the field waits in <noscript>; scripting off, it is simply there.
  t.is(form.find('#other-part > input[name=other_part], #other-part .field input[name=other_part]').length, 0);
  const noscript = form.find('#other-part noscript');
  t.is(noscript.length, 1);
  const noJs = cheerio.load(page.text, { scriptingEnabled: false } as cheerio.CheerioOptions);
  const field = noJs('form.optics-form #other-part input[name=other_part]');
  t.is(field.length, 1, 'a browser without JavaScript shows the Other field');
  t.is(field.attr('maxlength'), '255');
  t.is(noJs(`label[for="${field.attr('id')}"]`).text(), 'Other part number');

  const name = form.find('input[name=requester_name]');
  t.is(name.attr('maxlength'), '50');
  t.regex(page.$(`#${name.attr('aria-describedby')}`).text(), /First name \+ last initial/);
  t.is(name.val(), '', 'nothing to prefill before a first request');
  t.is(form.find('input[name=quantity]').attr('inputmode'), 'numeric');
});

test('the Other field fragment: the field for Other, nothing otherwise', async (t) => {
  const browser = await signedInClient(app.url, 'bystander');
  const other = await browser.get('/optics/other-part-field?selected_part=Other', { 'HX-Request': 'true' });
  t.is(other.status, 200);
  t.true(isFragment(other));
  t.is(other.$('input[name=other_part]').length, 1);
  t.is(other.$('noscript').length, 0);
  t.true((other.headers.get('vary') ?? '').toLowerCase().includes('hx-request'));
  for (const value of ['SFP-10G-SR', '', 'nonsense']) {
    const none = await browser.get(`/optics/other-part-field?selected_part=${encodeURIComponent(value)}`, {
      'HX-Request': 'true',
    });
    t.is(none.status, 200);
    t.is(squash(none.text), '', value);
  }
  t.is((await new Client(app.url).get('/optics/other-part-field?selected_part=Other', { 'HX-Request': 'true' })).status, 401);
});

test('a form post stores the request and comes back with 303; the next form is prefilled with the name', async (t) => {
  await createUser(app.db, { username: 'poster' });
  const browser = await signedInClient(app.url, 'poster');
  const res = await browser.submit('/optics', '/optics', {
    selected_part: 'Other',
    other_part: 'Mellanox MMA1B00-C100D',
    quantity: '2',
    requester_name: 'Pat P.',
  });
  t.is(res.status, 303);
  t.is(res.headers.get('location'), '/optics');
  const page = await browser.get('/optics');
  t.regex(page.$('.flash').text(), /Optics request #\d+ sent/);
  const rows = page.$('ul.optics-list > li.optics-row');
  t.is(rows.length, 1, 'a user sees only their own');
  t.regex(squash(rows.text()), /Mellanox MMA1B00-C100D × 2 Pending Pat P\. \(poster\)/);
  t.regex(squash(rows.text()), /typed in, not on the list/);
  t.is(rows.find('.badge').attr('class'), 'badge status-pending_approval');
  t.is(rows.find('form.optics-actions').length, 0, 'no admin buttons for a user');
  t.is(page.$('input[name=requester_name]').val(), 'Pat P.', 'the name typed last time');
  t.is(page.$('a[href="/optics/parts"]').length, 0);
});

test.serial('a bad form post comes back as the form, with each message beside its field, and stores nothing', async (t) => {
  const browser = await signedInClient(app.url, 'bystander');
  const before = await countRequests();
  const res = await browser.submit('/optics', '/optics', {
    selected_part: 'Other',
    other_part: '',
    quantity: '0',
    requester_name: 'x'.repeat(51),
  });
  t.is(res.status, 400);
  t.is(await countRequests(), before);
  t.is(res.$('form.optics-form select[name=selected_part] option[selected]').attr('value'), 'Other', 'the choice is kept');
  // Other was chosen, so the field is shown outright (not only in <noscript>), with its message.
  const field = res.$('#other-part > .field');
  t.is(field.find('input[name=other_part]').length, 1);
  t.regex(field.find('.field-error').text(), /required when selected_part is Other/);
  t.is(field.find('input').attr('aria-invalid'), 'true');
  t.regex(res.$('#f-quantity-error').text(), /at least 1/);
  t.regex(res.$('#f-requester-name-error').text(), /at most 50/);
  t.is(res.$('input[name=requester_name]').val(), 'x'.repeat(51), 'what was typed is kept');
  t.regex(res.$('.alert.error').text(), /Check the fields/);

  const missing = await browser.submit('/optics', '/optics', { selected_part: '', quantity: '1', requester_name: 'A B.' });
  t.is(missing.status, 400);
  t.regex(missing.$('#f-selected_part-error').text(), /required/);
  t.is(missing.$('#other-part > .field').length, 0);
  t.is(missing.$('#other-part noscript').length, 1);
});

test('what people type is shown as text, never as markup', async (t) => {
  const script = '<script>alert(1)</script>';
  const img = '<img src=x onerror=alert(2)>';
  const r = await submitApi(techApi, {
    selected_part: 'Other',
    other_part: `${script}${img}`,
    requester_name: '<script>x</script>',
  });
  t.is(
    (await adminApi.send('PATCH', `/api/optics-requests/${r.id}/status`, { action: 'approve', admin_note: `${img}${script}` }))
      .status,
    200,
  );
  const check = (page: Reply, where: string) => {
    t.is(page.status, 200, where);
    const main = page.$('main').length ? page.$('main') : page.$('body');
    t.is(main.find('script').length, 0, `${where}: no script element`);
    t.is(main.find('img').length, 0, `${where}: no img element`);
    t.is(main.find('[onerror]').length, 0, `${where}: no onerror`);
    t.true(main.text().includes(script), `${where}: the text is shown`);
    t.true(main.text().includes('<script>x</script>'), `${where}: the name is shown`);
    t.false(page.text.includes(script), `${where}: raw markup never in the HTML`);
  };
  const tech = await signedInClient(app.url, 'tech');
  const admin = await signedInClient(app.url, 'boss');
  check(await tech.get('/optics'), 'requester list');
  check(await admin.get('/optics?status=approved'), 'admin list');
  check(await tech.get(`/optics/${r.id}`), 'request page');
  check(await admin.get(`/optics/${r.id}`, { 'HX-Request': 'true' }), 'row fragment');
  const note = (await admin.get(`/optics/${r.id}`)).$(`#optics-request-${r.id} .optics-note`).text();
  t.true(note.includes(img), 'the admin note is shown as typed');
});

// ---- admin actions ------------------------------------------------------------------------------

test('admins get approve/deny/archive on pending rows, archive on decided ones, nothing on archived', async (t) => {
  const pending = await submitApi(techApi);
  const approved = await submitApi(techApi);
  const archived = await submitApi(techApi);
  await adminApi.send('PATCH', `/api/optics-requests/${approved.id}/status`, { action: 'approve' });
  await adminApi.send('PATCH', `/api/optics-requests/${archived.id}/status`, { action: 'archive' });
  const admin = await signedInClient(app.url, 'boss');
  const page = await admin.get('/optics?include_archived=true&limit=200');
  t.deepEqual(buttonsOf(page, pending.id), ['approve', 'deny', 'archive']);
  t.deepEqual(buttonsOf(page, approved.id), ['archive']);
  t.deepEqual(buttonsOf(page, archived.id), []);
  const form = page.$(`#optics-request-${pending.id} form.optics-actions`);
  t.is(form.attr('action'), `/optics/${pending.id}/status`);
  t.is(form.attr('hx-post'), `/optics/${pending.id}/status`);
  t.is(form.attr('hx-target'), `#optics-request-${pending.id}`);
  t.is(form.attr('hx-swap'), 'outerHTML');
  const note = form.find('input[name=admin_note]');
  t.is(note.attr('maxlength'), '500');
  t.is(page.$(`label[for="${note.attr('id')}"]`).length, 1, 'the note has a label');
  t.is(page.$('a[href="/optics/parts"]').length, 1);

  // Archived rows are hidden by default and listed under their own filter.
  const open = await admin.get('/optics?limit=200');
  t.is(open.$(`#optics-request-${archived.id}`).length, 0);
  t.is(open.$('.pills a[aria-current]').text(), 'Open');
  const onlyArchived = await admin.get('/optics?status=archived');
  t.is(onlyArchived.$(`#optics-request-${archived.id}`).length, 1);
  t.is(onlyArchived.$('.pills a[aria-current]').text(), 'Archived');
  t.is((await admin.get('/optics?status=bogus')).status, 400);
});

test('without JavaScript an admin action posts, then 303 back with a flash; a refused one says why', async (t) => {
  const r = await submitApi(techApi);
  const admin = await signedInClient(app.url, 'boss');
  const done = await admin.submit('/optics', `/optics/${r.id}/status`, {
    action: 'approve',
    admin_note: 'Two in stock',
    return_to: '/optics',
  });
  t.is(done.status, 303);
  t.is(done.headers.get('location'), '/optics');
  const page = await admin.get('/optics');
  t.regex(page.$('main > .flash.success').text(), new RegExp(`Request #${r.id} approved`));
  const row = page.$(`#optics-request-${r.id}`);
  t.is(row.find('.badge').text(), 'Approved');
  t.regex(squash(row.text()), /Approved by boss/);
  t.regex(row.find('.optics-note').text(), /Two in stock/);

  const again = await admin.submit('/optics', `/optics/${r.id}/status`, { action: 'deny', return_to: `/optics/${r.id}` });
  t.is(again.status, 303);
  t.is(again.headers.get('location'), `/optics/${r.id}`, 'back to where the button was');
  const detail = await admin.get(`/optics/${r.id}`);
  t.regex(detail.$('main > .flash.error').text(), /already approved/);
  t.deepEqual(
    detail
      .$('ol.timeline li')
      .map((_, li) => squash(detail.$(li).text()))
      .get()
      .map((s) => s.replace(/^\S+ \S+ UTC /, '')),
    ['tech submitted the request', 'boss approved it Two in stock'],
  );

  const offsite = await admin.submit('/optics', `/optics/${r.id}/status`, {
    action: 'archive',
    return_to: 'https://evil.example/',
  });
  t.is(offsite.headers.get('location'), '/optics', 'never sent off the site');
  const archivedRow = (await admin.get(`/optics/${r.id}`)).$(`#optics-request-${r.id}`);
  t.is(archivedRow.find('.badge').text(), 'Archived');
  t.regex(squash(archivedRow.text()), /Decided by boss/, 'the decision is still credited after archiving');

  // A user posting the form is refused, and told so.
  const mine = await submitApi(techApi);
  const user = await signedInClient(app.url, 'tech');
  const refused = await user.submit('/optics', `/optics/${mine.id}/status`, { action: 'approve' });
  t.is(refused.status, 303);
  t.regex((await user.get('/optics')).$('main > .flash.error').text(), /Only an admin/);
  t.is((await techApi.send('GET', `/api/optics-requests/${mine.id}`)).json.status, 'pending');
});

test('with htmx an admin action answers the row alone, updated in place; a lost race answers 409 with the row as it is', async (t) => {
  const r = await submitApi(techApi);
  const admin = await signedInClient(app.url, 'boss');
  const csrf = await admin.csrfFrom('/optics');
  const headers = { 'HX-Request': 'true', 'X-CSRF-Token': csrf };
  const res = await admin.postForm(
    `/optics/${r.id}/status`,
    { action: 'approve', admin_note: 'Ordered', return_to: '/optics' },
    headers,
  );
  t.is(res.status, 200);
  t.true(isFragment(res));
  t.true((res.headers.get('vary') ?? '').toLowerCase().includes('hx-request'));
  const row = res.$(`li#optics-request-${r.id}`);
  t.is(row.length, 1);
  t.is(row.find('.badge').text(), 'Approved');
  t.regex(row.find('.flash.success').text(), /approved/);
  t.regex(row.find('.optics-note').text(), /Ordered/);
  t.deepEqual(buttonsOf(res, r.id), ['archive']);

  const lost = await admin.postForm(`/optics/${r.id}/status`, { action: 'deny' }, headers);
  t.is(lost.status, 409);
  t.true(isFragment(lost));
  t.is(lost.$(`li#optics-request-${r.id} .badge`).text(), 'Approved');
  t.regex(lost.$('.flash.error').text(), /already approved/);

  const tooLong = await admin.postForm(`/optics/${r.id}/status`, { action: 'archive', admin_note: 'x'.repeat(501) }, headers);
  t.is(tooLong.status, 400);
  t.regex(tooLong.$('.flash.error').text(), /admin_note/);
  t.is((await techApi.send('GET', `/api/optics-requests/${r.id}`)).json.status, 'approved');

  const missing = await admin.postForm('/optics/999999/status', { action: 'approve' }, headers);
  t.is(missing.status, 404);
  t.true(isFragment(missing));
});

test('the request page: the owner and admins see it with its history; anyone else gets 404', async (t) => {
  const r = await submitApi(techApi);
  const tech = await signedInClient(app.url, 'tech');
  const own = await tech.get(`/optics/${r.id}`);
  t.is(own.status, 200);
  t.is(own.$('h1').text(), `Optics request #${r.id}`);
  t.is(own.$('ol.timeline li').length, 1);
  const stranger = await signedInClient(app.url, 'bystander');
  const hidden = await stranger.get(`/optics/${r.id}`);
  t.is(hidden.status, 404);
  t.false(hidden.text.includes('Tess T.'));
  t.is((await (await signedInClient(app.url, 'boss')).get(`/optics/${r.id}`)).status, 200);
  t.is(techUser.username, 'tech');
});

// ---- the parts page -----------------------------------------------------------------------------

test.serial('admins manage the parts list on a page; users may not', async (t) => {
  const user = await signedInClient(app.url, 'tech');
  t.is((await user.get('/optics/parts')).status, 403);
  const csrf = await user.csrfFrom('/optics');
  t.is((await user.postForm('/optics/parts', { _csrf: csrf, part_number: 'SFP-X' })).status, 403);
  t.is((await user.postForm('/optics/parts/remove', { _csrf: csrf, part_number: 'SFP-10G-SR' })).status, 403);

  const admin = await signedInClient(app.url, 'boss');
  const page = await admin.get('/optics/parts');
  t.is(page.status, 200);
  t.is(page.$('ul.parts-list li').length, 8);
  const added = await admin.submit('/optics/parts', '/optics/parts', { part_number: 'SFP-10G-ZR' });
  t.is(added.status, 303);
  t.is(added.headers.get('location'), '/optics/parts');
  const after = await admin.get('/optics/parts');
  t.regex(after.$('.flash.success').text(), /SFP-10G-ZR added/);
  t.deepEqual(after.$('ul.parts-list .part').last().text(), 'SFP-10G-ZR');
  t.true(
    (await user.get('/optics')).$('select[name=selected_part] option[value="SFP-10G-ZR"]').length === 1,
    'the form offers it',
  );

  const dup = await admin.submit('/optics/parts', '/optics/parts', { part_number: 'sfp-10g-zr' });
  t.is(dup.status, 409);
  t.regex(dup.$('#f-part-number-error').text(), /already on the list/);
  const other = await admin.submit('/optics/parts', '/optics/parts', { part_number: 'Other' });
  t.is(other.status, 400);
  t.regex(other.$('#f-part-number-error').text(), /always offered/);

  const removed = await admin.submit('/optics/parts', '/optics/parts/remove', { part_number: 'SFP-10G-ZR' });
  t.is(removed.status, 303);
  const final = await admin.get('/optics/parts');
  t.regex(final.$('.flash.success').text(), /SFP-10G-ZR removed/);
  t.is(final.$('ul.parts-list li').length, 8);
  const gone = await admin.submit('/optics/parts', '/optics/parts/remove', { part_number: 'SFP-10G-ZR' });
  t.is(gone.status, 303);
  t.regex((await admin.get('/optics/parts')).$('.flash.error').text(), /not on the parts list/);
});
