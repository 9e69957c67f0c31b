import { randomBytes } from 'node:crypto';
import test from 'ava';
import type { PublicUserRow } from '../src/features/users/queries.ts';
import { startApp, type TestApp } from './support/app.ts';
import { Client, type Reply } from './support/client.ts';
import { createUser, reviewLinkFor, signedInClient, tokenClient } from './support/factories.ts';
import { createTicket, type TicketSpec } from './support/tickets.ts';

/**
 * The ticket and dashboard pages as a browser without JavaScript sees them (cheerio), plus the
 * fragments htmx asks for with `HX-Request: true`. Set-up goes through the JSON API; the pages are
 * what is under test.
 */

let app: TestApp;
test.before(async () => {
  app = await startApp();
});
test.after.always(async () => {
  await app?.close();
});

const uniq = (prefix = 'u') => `${prefix}_${randomBytes(4).toString('hex')}`;

interface Person {
  row: PublicUserRow;
  name: string;
  /** The same person on the JSON API (bearer token), for set-up. */
  api: Client;
}

async function person(target: TestApp = app, role: 'user' | 'admin' = 'user'): Promise<Person> {
  const row = await createUser(target.db, { role, username: uniq(role === 'admin' ? 'admin' : 'user') });
  return { row, name: row.username, api: await tokenClient(target.url, row.username) };
}

/** A ticket made through the API by `creator` for `assignee`; returns its id. */
async function seedTicket(creator: Person, assignee: Person, spec: Partial<TicketSpec> = {}): Promise<number> {
  const ticket = await createTicket(creator.api, { assigned_to_id: assignee.row.id, ...spec });
  return ticket.id;
}

/** One status move through the API, which must succeed. */
async function move(actor: Person, id: number, status: string, reason?: string): Promise<void> {
  const res = await actor.api.send('PATCH', `/api/tickets/${id}`, { status, ...(reason ? { reason } : {}) });
  if (res.status !== 200) throw new Error(`move to ${status} failed: ${res.status} ${res.text}`);
}

async function remove(actor: Person, id: number): Promise<void> {
  const res = await actor.api.send('DELETE', `/api/tickets/${id}`);
  if (res.status !== 200) throw new Error(`delete failed: ${res.status} ${res.text}`);
}

/** The review page path (`/tickets/:id/review/:token`) of a fresh link. */
const reviewPath = async (id: number, target: TestApp = app): Promise<string> => (await reviewLinkFor(target, id)).reviewPath;

/** Ticket ids of the list rows, in page order. */
const rowIds = (page: Reply): number[] =>
  page
    .$('ul.tickets a.ticket-link')
    .map((_, a) => Number(page.$(a).attr('href')?.replace('/tickets/', '')))
    .get();

const events = (target: TestApp, id: number) => target.db('ticket_events').where({ ticket_id: id }).orderBy('id');
const ticketRow = (target: TestApp, id: number) => target.db('tickets').where({ id }).first();

/** The action forms and links inside the ticket card. */
function actionsOn(page: Reply, id: number) {
  const $ = page.$;
  const statusForms = $(`#ticket form[action="/tickets/${id}/status"]`);
  // A request waiting for approval is decided in one form: a quantity per line, Approve or Reject.
  const decision = $(`#ticket form[action="/tickets/${id}/decision"] button[name=decision]`);
  const decided = { approve: 'approved', reject: 'rejected' } as Record<string, string>;
  return {
    moves: [
      ...(decision.map((_, b) => decided[String($(b).val())]).get() as string[]),
      ...(statusForms.map((_, f) => $(f).find('input[name=status]').val()).get() as string[]),
    ],
    buttons: [
      ...(decision.map((_, b) => $(b).text().trim()).get() as string[]),
      ...(statusForms.map((_, f) => $(f).find('button').text().trim()).get() as string[]),
    ],
    rejectReason:
      $(`#ticket form[action="/tickets/${id}/status"]:has(input[name=status][value=rejected]) textarea[name=reason]`).length +
      $(`#ticket form[action="/tickets/${id}/decision"] textarea[name=reason]`).length,
    edit: $(`#ticket a[href="/tickets/${id}/edit"]`).length > 0,
    delete: $(`#ticket a[href="/tickets/${id}/delete"]`).length > 0,
    restore: $(`#ticket form[action="/tickets/${id}/restore"]`).length > 0,
    purge: $(`#ticket form[action="/tickets/${id}/purge"]`).length > 0,
    forms: $('#ticket form').length,
  };
}

/** The timeline entries' text, whitespace collapsed. */
const timeline = (page: Reply): string[] =>
  page
    .$('#ticket ol.timeline li')
    .map((_, li) => page.$(li).text().replace(/\s+/g, ' ').trim())
    .get();

const isFragment = (reply: Reply) => !/<html|<body|<!doctype/i.test(reply.text);

// ---- dashboard --------------------------------------------------------------------------------

test('the dashboard sends anonymous visitors to the sign-in page', async (t) => {
  const res = await new Client(app.url).get('/?filter=mine');
  t.is(res.status, 303);
  t.is(res.headers.get('location'), '/login?next=%2F%3Ffilter%3Dmine');
  // htmx must not paste the sign-in page into the list: the whole page goes, back to where it was.
  const partial = await new Client(app.url).get('/?filter=mine&q=x', {
    'HX-Request': 'true',
    'HX-Current-URL': `${app.url}/?filter=mine`,
  });
  t.is(partial.status, 401);
  t.is(partial.headers.get('hx-redirect'), '/login?next=%2F%3Ffilter%3Dmine');
  t.true(isFragment(partial));
});

test('the stats on the dashboard are the numbers of /api/dashboard/stats', async (t) => {
  // Its own app, so tickets made by the other tests do not move the numbers under it.
  const own = await startApp();
  t.teardown(() => own.close());
  const [creator, assignee] = [await person(own), await person(own)];
  const ids: number[] = [];
  for (let i = 0; i < 9; i++) ids.push(await seedTicket(creator, assignee));
  const [a, b, c, d, e, f, g] = ids as [number, number, number, number, number, number, number];
  await move(assignee, a, 'approved');
  await move(assignee, b, 'approved');
  await move(assignee, b, 'in_progress');
  await move(assignee, c, 'rejected', 'no stock');
  await move(assignee, d, 'approved');
  await move(assignee, d, 'in_progress');
  await move(assignee, d, 'fulfilled');
  await move(assignee, e, 'rejected');
  await move(assignee, e, 'closed');
  await remove(creator, f);
  await remove(creator, g);

  const api = await (await tokenClient(own.url, creator.name)).send('GET', '/api/dashboard/stats');
  t.is(api.status, 200);
  t.deepEqual(api.json, {
    total_tickets: 7,
    pending_approval: 2,
    approved: 1,
    rejected: 1,
    in_progress: 1,
    fulfilled: 1,
    closed: 1,
    archived: 2,
  });

  const page = await (await signedInClient(own.url, creator.name)).get('/');
  t.is(page.status, 200);
  const stat = (href: string) => Number(page.$(`section.stats a[href="${href}"] .n`).text());
  t.is(stat('/'), api.json.total_tickets);
  for (const s of ['pending_approval', 'approved', 'rejected', 'in_progress', 'fulfilled', 'closed']) {
    t.is(stat(`/?status=${s}`), api.json[s], s);
  }
  t.is(stat('/?include_deleted=true'), api.json.archived);
  // The list leaves the deleted ones out.
  t.deepEqual(rowIds(page), ids.filter((id) => id !== f && id !== g).reverse());
});

test('the filter tabs show All / Created by me / Assigned to me, and filter the list', async (t) => {
  // `me` is an admin: only an admin may be their own approver (a self-assigned request).
  const [me, other, third] = [await person(app, 'admin'), await person(), await person()];
  // A word only these tickets carry, so "All" can be checked exactly while other tests add tickets.
  const word = uniq('tabs');
  const spec = { location: `Room ${word}` };
  const mine1 = await seedTicket(me, other, spec);
  const mine2 = await seedTicket(me, third, spec);
  const toMe1 = await seedTicket(other, me, spec);
  const toMe2 = await seedTicket(third, me, spec);
  const unrelated = await seedTicket(other, third, spec);
  const selfAssigned = await seedTicket(me, me, spec);
  const browser = await signedInClient(app.url, me.name);

  const all = await browser.get(`/?q=${word}`);
  t.is(all.status, 200);
  const radios = all.$('form.filters input[type=radio][name=filter]');
  t.deepEqual(radios.map((_, r) => all.$(r).val()).get(), ['all', 'mine', 'assigned']);
  t.deepEqual(radios.map((_, r) => all.$(`label[for="${all.$(r).attr('id')}"]`).text()).get(), [
    'All',
    'Created by me',
    'Assigned to me',
  ]);
  t.is(all.$('input[name=filter]:checked').val(), 'all');
  t.is(all.$('form.filters').attr('method'), 'get');
  t.is(all.$('form.filters').attr('action'), '/');
  t.deepEqual(rowIds(all), [selfAssigned, unrelated, toMe2, toMe1, mine2, mine1], 'All includes other people’s tickets');
  t.is((await browser.get('/')).$('input[name=filter]:checked').val(), 'all', 'All is the default tab');

  const mine = await browser.get('/?filter=mine');
  t.is(mine.status, 200);
  t.is(mine.$('input[name=filter]:checked').val(), 'mine');
  t.deepEqual(rowIds(mine), [selfAssigned, mine2, mine1]);

  const assigned = await browser.get('/?filter=assigned');
  t.is(assigned.$('input[name=filter]:checked').val(), 'assigned');
  t.deepEqual(rowIds(assigned), [selfAssigned, toMe2, toMe1]);

  const bad = await browser.get('/?filter=everything');
  t.is(bad.status, 400);
  t.true(bad.$('main').text().includes('filter'));
});

test('the status select and the search filter the list, and combine with the tabs', async (t) => {
  const [me, other] = [await person(), await person(app, 'admin')];
  const word = uniq('zebra').toLowerCase();
  const approved = await seedTicket(me, other, { location: `Rack ${word}` });
  await move(other, approved, 'approved');
  const pending = await seedTicket(me, other, { location: 'Rack 7' });
  const inNotes = await seedTicket(other, me, { notes: `Please bring the ${word.toUpperCase()} reel` });
  const inCable = await seedTicket(other, other, {
    items: [
      { cable_type: 'Cat5e', cable_length: '3ft', quantity: 1 },
      { cable_type: `Fibre-${word}`, cable_length: '10m', quantity: 1 },
    ],
  });
  const browser = await signedInClient(app.url, me.name);

  const byStatus = await browser.get('/?status=approved');
  t.is(byStatus.status, 200);
  t.is(byStatus.$('select[name=status] option:selected').val(), 'approved');
  t.deepEqual(
    byStatus
      .$('select[name=status] option')
      .map((_, o) => byStatus.$(o).val())
      .get(),
    ['', 'pending_approval', 'approved', 'rejected', 'in_progress', 'fulfilled', 'closed'],
  );
  const approvedRows = rowIds(byStatus);
  t.true(approvedRows.includes(approved));
  t.false(approvedRows.includes(pending));
  t.is(byStatus.$('ul.tickets li .badge[class*="status-"]').not('.status-approved').length, 0, 'only approved rows');

  const mineApproved = await browser.get('/?filter=mine&status=approved');
  t.deepEqual(rowIds(mineApproved), [approved]);
  const minePending = await browser.get('/?filter=mine&status=pending_approval');
  t.deepEqual(rowIds(minePending), [pending]);

  // Location, notes and (any item's) cable type, case-insensitively.
  const search = await browser.get(`/?q=${encodeURIComponent(word.toUpperCase())}`);
  t.is(search.status, 200);
  t.is(search.$('input[name=q]').val(), word.toUpperCase());
  t.deepEqual(rowIds(search), [inCable, inNotes, approved]);
  const searchMine = await browser.get(`/?filter=mine&q=${word}`);
  t.deepEqual(rowIds(searchMine), [approved]);

  const none = await browser.get(`/?q=${uniq('nothing')}`);
  t.deepEqual(rowIds(none), []);
  t.is(none.$('#ticket-list .empty').text(), 'No requests match.');

  const badStatus = await browser.get('/?status=lost');
  t.is(badStatus.status, 400);
});

test('with HX-Request the same URL answers only the list fragment', async (t) => {
  const [me, other] = [await person(), await person()];
  const ids = [await seedTicket(me, other), await seedTicket(me, other), await seedTicket(other, me)];
  const browser = await signedInClient(app.url, me.name);

  const full = await browser.get('/?filter=mine');
  const fragment = await browser.get('/?filter=mine', { 'HX-Request': 'true' });
  t.is(fragment.status, 200);
  t.true(isFragment(fragment), fragment.text.slice(0, 200));
  t.regex(fragment.headers.get('content-type') ?? '', /text\/html/);
  const vary = (fragment.headers.get('vary') ?? '').toLowerCase();
  t.true(vary.includes('hx-request'), `Vary: ${vary}`);
  t.true((full.headers.get('vary') ?? '').toLowerCase().includes('hx-request'));
  t.deepEqual(rowIds(fragment), [ids[1], ids[0]]);
  t.deepEqual(rowIds(fragment), rowIds(full));
  // Only the list: no stats, no filters, no form, no layout.
  t.is(fragment.$('section.stats').length, 0);
  t.is(fragment.$('form').length, 0);
  t.is(fragment.$('header.top').length, 0);
  t.is(fragment.$('ul.tickets').length, 1);
  // The page's list container holds exactly what the fragment replaces it with.
  t.is(full.$('#ticket-list').length, 1);
  t.is(full.$('form.filters').attr('hx-target'), '#ticket-list');

  const assigned = await browser.get('/?filter=assigned', { 'HX-Request': 'true' });
  t.true(isFragment(assigned));
  t.deepEqual(rowIds(assigned), [ids[2]]);
});

test('"Show older requests" pages through more than 20 rows, as a page and as htmx, without duplicates', async (t) => {
  const [me, other] = [await person(), await person()];
  const ids: number[] = [];
  for (let i = 0; i < 25; i++) ids.push(await seedTicket(me, other, { location: `Shelf ${i}` }));
  const newestFirst = [...ids].reverse();
  const browser = await signedInClient(app.url, me.name);

  const first = await browser.get('/?filter=mine');
  t.deepEqual(rowIds(first), newestFirst.slice(0, 20));
  const more = first.$('ul.tickets li.more a');
  t.is(more.text(), 'Show older requests');
  const href = more.attr('href') ?? '';
  t.regex(href, /^\/\?/);
  t.is(more.attr('hx-get'), href);
  const params = new URL(href, app.url).searchParams;
  t.is(params.get('filter'), 'mine', 'the next page keeps the filter');

  // As a page (no JavaScript): the next rows, and no further link.
  const second = await browser.get(href);
  t.is(second.status, 200);
  t.deepEqual(rowIds(second), newestFirst.slice(20));
  t.is(second.$('li.more').length, 0);

  // As htmx: only the rows, to replace the "more" item in the list (no new <ul>).
  const appended = await browser.get(href, { 'HX-Request': 'true' });
  t.is(appended.status, 200);
  t.true(isFragment(appended));
  t.false(appended.text.includes('<ul'));
  const appendedIds = appended
    .$('a.ticket-link')
    .map((_, a) => Number(appended.$(a).attr('href')?.replace('/tickets/', '')))
    .get();
  t.deepEqual(appendedIds, newestFirst.slice(20));
  t.is(appended.$('li.more').length, 0);
  const seen = [...rowIds(first), ...appendedIds];
  t.is(new Set(seen).size, 25);
  t.deepEqual(seen, newestFirst);

  // A new ticket arriving meanwhile does not shift the next page.
  await seedTicket(me, other);
  const again = await browser.get(href);
  t.deepEqual(rowIds(again), newestFirst.slice(20));

  // Exactly 20 rows: no "more" link.
  const [solo, peer] = [await person(), await person()];
  for (let i = 0; i < 20; i++) await seedTicket(solo, peer);
  const exact = await (await signedInClient(app.url, solo.name)).get('/?filter=mine');
  t.is(rowIds(exact).length, 20);
  t.is(exact.$('li.more').length, 0);
});

// ---- the new-request form ---------------------------------------------------------------------

test('a request made with the form (two items) redirects to its page, which shows both items', async (t) => {
  const [me, approver] = [await person(), await person()];
  const browser = await signedInClient(app.url, me.name);
  const form = await browser.get('/tickets/new');
  t.is(form.status, 200);
  t.true(form.$(`select[name=assigned_to_id] option[value="${approver.row.id}"]`).length === 1);
  const res = await browser.submit('/tickets/new', '/tickets', {
    assigned_to_id: approver.row.id,
    priority: 'high',
    location: 'Building 4, IDF 2',
    notes: 'For the new office',
    'items[0][cable_type]': 'Cat6',
    'items[0][cable_length]': '100ft',
    'items[0][cable_gauge]': '23AWG',
    'items[0][quantity]': '3',
    'items[1][cable_type]': 'OM4 fibre',
    'items[1][cable_length]': '5m',
    'items[1][cable_gauge]': '',
    'items[1][quantity]': '12',
  });
  t.is(res.status, 303);
  const location = res.headers.get('location') ?? '';
  t.regex(location, /^\/tickets\/\d+$/);
  const id = Number(location.split('/').pop());
  const row = await ticketRow(app, id);
  t.like(row, { created_by_id: me.row.id, assigned_to_id: approver.row.id, status: 'pending_approval', priority: 'high' });

  const page = await browser.get(location);
  t.is(page.status, 200);
  t.is(page.$('p.flash.success').text(), `Request #${id} sent for approval.`);
  const cells = page
    .$('#ticket table.items tbody tr')
    .map((_, tr) => [
      page
        .$(tr)
        .find('td')
        .map((__, td) => page.$(td).text())
        .get()
        .slice(0, 4),
    ])
    .get();
  // Cable, length, gauge, quantity (an on-hand column may follow).
  t.deepEqual(cells, [
    ['Cat6', '100ft', '23AWG', '3'],
    ['OM4 fibre', '5m', '—', '12'],
  ]);
  t.true(page.$('#ticket .facts').text().includes('Building 4, IDF 2'));
  t.true(page.$('#ticket .facts').text().includes('For the new office'));
  t.true(page.$('#ticket .facts').text().includes(approver.name));
  // The flash is shown once.
  t.is((await browser.get(location)).$('p.flash').length, 0);
  // The dashboard form posts to the same place.
  const home = await browser.get('/');
  t.is(home.$('form.ticket-form').attr('action'), '/tickets');
  t.is(home.$('form.ticket-form').attr('method'), 'post');
});

test('"Add another item" without JavaScript shows the form again with one more row, keeping what was typed', async (t) => {
  const [me, approver] = [await person(), await person()];
  const browser = await signedInClient(app.url, me.name);
  const before = await app.db('tickets').where({ created_by_id: me.row.id }).count({ n: '*' });
  const form = await browser.get('/tickets/new');
  t.is(form.$('fieldset.item-row').length, 1);
  t.is(form.$('button[name=add_item]').attr('type'), 'submit');
  t.is(form.$('button[name=remove_item]').length, 0, 'a lone row has no remove button');
  const res = await browser.submit('/tickets/new', '/tickets', {
    assigned_to_id: approver.row.id,
    priority: 'urgent',
    location: 'Lab 3',
    notes: 'typed notes',
    'items[0][cable_type]': 'Cat6A',
    'items[0][cable_length]': '50ft',
    'items[0][cable_gauge]': '',
    'items[0][quantity]': '4',
    add_item: '1',
  });
  t.is(res.status, 200);
  const $ = res.$;
  t.is($('fieldset.item-row').length, 2);
  t.is($('input[name="items[0][cable_type]"]').val(), 'Cat6A');
  t.is($('input[name="items[0][cable_length]"]').val(), '50ft');
  t.is($('input[name="items[0][quantity]"]').val(), '4');
  for (const field of ['cable_type', 'cable_length', 'cable_gauge', 'quantity']) {
    t.is($(`input[name="items[1][${field}]"]`).val(), '', `the new row's ${field} is blank`);
  }
  t.is($('button[name=remove_item]').length, 2, 'with two rows, each can be removed');
  t.is($('input[name=location]').val(), 'Lab 3');
  t.is($('textarea[name=notes]').text(), 'typed notes');
  t.is($('select[name=assigned_to_id] option:selected').val(), String(approver.row.id));
  t.is($('select[name=priority] option:selected').val(), 'urgent');
  t.is($('input[name=_csrf]').length > 0, true);
  t.is($('[aria-invalid]').length, 0, 'adding a row is not an error');
  t.deepEqual(await app.db('tickets').where({ created_by_id: me.row.id }).count({ n: '*' }), before, 'nothing was created');

  // Adding again grows to three rows, still keeping the first.
  const third = await browser.postForm('/tickets', {
    _csrf: String($('input[name=_csrf]').val()),
    assigned_to_id: approver.row.id,
    location: 'Lab 3',
    'items[0][cable_type]': 'Cat6A',
    'items[0][cable_length]': '50ft',
    'items[0][quantity]': '4',
    'items[1][cable_type]': 'Coax',
    'items[1][cable_length]': '10ft',
    'items[1][quantity]': '1',
    add_item: '1',
  });
  t.is(third.$('fieldset.item-row').length, 3);
  t.is(third.$('input[name="items[1][cable_type]"]').val(), 'Coax');
});

test('"Remove item" without JavaScript drops that row and keeps the others', async (t) => {
  const [me, approver] = [await person(), await person()];
  const browser = await signedInClient(app.url, me.name);
  const res = await browser.submit('/tickets/new', '/tickets', {
    assigned_to_id: approver.row.id,
    location: 'Closet B',
    'items[0][cable_type]': 'Alpha',
    'items[0][cable_length]': '1ft',
    'items[0][quantity]': '1',
    'items[1][cable_type]': 'Bravo',
    'items[1][cable_length]': '2ft',
    'items[1][quantity]': '2',
    'items[2][cable_type]': 'Charlie',
    'items[2][cable_length]': '3ft',
    'items[2][quantity]': '3',
    remove_item: '1',
  });
  t.is(res.status, 200);
  const $ = res.$;
  t.is($('fieldset.item-row').length, 2);
  const types = $('fieldset.item-row input[name$="[cable_type]"]')
    .map((_, i) => $(i).val())
    .get();
  t.deepEqual(types, ['Alpha', 'Charlie']);
  t.is($('input[name="items[1][quantity]"]').val(), '3');
  t.is($('input[name=location]').val(), 'Closet B');
  // Each row's remove button names its own (new) index.
  t.deepEqual(
    $('button[name=remove_item]')
      .map((_, b) => $(b).val())
      .get(),
    ['0', '1'],
  );
  t.is(await app.db('tickets').where({ created_by_id: me.row.id }).first(), undefined, 'nothing was created');
});

test('a form with errors comes back (400) with each sentence beside its field and the values kept', async (t) => {
  const [me, approver] = [await person(), await person()];
  const browser = await signedInClient(app.url, me.name);
  const res = await browser.submit('/tickets/new', '/tickets', {
    assigned_to_id: approver.row.id,
    priority: 'low',
    location: '   ',
    notes: 'keep these notes',
    'items[0][cable_type]': 'Cat6',
    'items[0][cable_length]': '100ft',
    'items[0][quantity]': '0',
    'items[1][cable_type]': '',
    'items[1][cable_length]': '9ft',
    'items[1][quantity]': '2',
  });
  t.is(res.status, 400);
  const $ = res.$;
  t.is($('form.ticket-form').length, 1);
  t.true($('.alert.error').text().length > 0, 'a summary at the top');

  const location = $('input[name=location]');
  t.is(location.attr('aria-invalid'), 'true');
  const locationError = $(`#${location.attr('aria-describedby')}`);
  t.is(locationError.text(), 'is required');
  t.true(locationError.closest('.field').find('input[name=location]').length === 1, 'the sentence is beside the field');

  const qty = $('input[name="items[0][quantity]"]');
  t.is(qty.attr('aria-invalid'), 'true');
  t.is($(`#${qty.attr('aria-describedby')}`).text(), 'must be at least 1');
  const type1 = $('input[name="items[1][cable_type]"]');
  t.is(type1.attr('aria-invalid'), 'true');
  t.is($(`#${type1.attr('aria-describedby')}`).text(), 'is required');
  t.is($('input[name="items[0][cable_type]"]').attr('aria-invalid'), undefined, 'a good field is not marked');
  t.is($('select[name=assigned_to_id]').attr('aria-invalid'), undefined);

  // What was typed is still there.
  t.is($('textarea[name=notes]').text(), 'keep these notes');
  t.is($('input[name="items[0][cable_type]"]').val(), 'Cat6');
  t.is($('input[name="items[0][quantity]"]').val(), '0');
  t.is($('input[name="items[1][cable_length]"]').val(), '9ft');
  t.is($('select[name=assigned_to_id] option:selected').val(), String(approver.row.id));
  t.is($('select[name=priority] option:selected').val(), 'low');
  t.is(await app.db('tickets').where({ created_by_id: me.row.id }).first(), undefined);

  // An assignee who does not exist is named beside the select.
  const ghost = await browser.submit('/tickets/new', '/tickets', {
    assigned_to_id: 99_999_999,
    location: 'Somewhere',
    'items[0][cable_type]': 'Cat6',
    'items[0][cable_length]': '1ft',
    'items[0][quantity]': '1',
  });
  t.is(ghost.status, 400);
  t.is(ghost.$('select[name=assigned_to_id]').attr('aria-invalid'), 'true');
  t.is(ghost.$(`#${ghost.$('select[name=assigned_to_id]').attr('aria-describedby')}`).text(), 'no user with that id');
  t.is(ghost.$('input[name=location]').val(), 'Somewhere');
});

// ---- escaping ---------------------------------------------------------------------------------

test('markup in notes, location and cable type is shown as text on the ticket, dashboard and review pages', async (t) => {
  const [me, approver] = [await person(), await person()];
  const script = '<script>alert(1)</script>';
  const img = '"><img src=x onerror=alert(1)>';
  const browser = await signedInClient(app.url, me.name);
  const made = await browser.submit('/tickets/new', '/tickets', {
    assigned_to_id: approver.row.id,
    location: `${img} ${script}`,
    notes: `${script}\n${img}`,
    'items[0][cable_type]': `${img}`,
    'items[0][cable_length]': `${script}`,
    'items[0][quantity]': '1',
  });
  t.is(made.status, 303);
  const id = Number(made.headers.get('location')?.split('/').pop());
  t.is((await ticketRow(app, id)).notes, `${script}\n${img}`, 'stored as typed');

  const check = (page: Reply, where: string, texts: string[]) => {
    t.is(page.status, 200, where);
    // A full page: inside <main>; an htmx fragment: the whole of it.
    const main = page.$('main').length ? page.$('main') : page.$('body');
    t.is(main.find('script').length, 0, `${where}: no script element`);
    t.is(main.find('[onerror]').length, 0, `${where}: no onerror attribute`);
    t.is(main.find('img').length, 0, `${where}: no img element`);
    const text = main.text();
    for (const s of texts) t.true(text.includes(s), `${where}: shows ${s}`);
    t.false(page.text.includes(script), `${where}: raw markup never in the HTML`);
  };
  check(await browser.get(`/tickets/${id}`), 'ticket page', [script, img]);
  check(await browser.get(`/tickets/${id}`, { 'HX-Request': 'true' }), 'ticket fragment', [script, img]);
  check(await browser.get('/?filter=mine'), 'dashboard', [script, img]);
  check(await browser.get('/?filter=mine', { 'HX-Request': 'true' }), 'dashboard fragment', [script, img]);
  check(await browser.get(`/tickets/${id}/edit`), 'edit page', [script]);
  const review = await new Client(app.url).get(await reviewPath(id));
  check(review, 'review page', [script, img]);
  const approverView = await (await signedInClient(app.url, approver.name)).get(`/tickets/${id}`);
  check(approverView, 'assignee view', [script, img]);
});

// ---- the ticket page: actions per viewer ------------------------------------------------------

test('the ticket page offers only the actions the viewer may take', async (t) => {
  const [creator, assignee, stranger, admin] = [await person(), await person(), await person(), await person(app, 'admin')];
  const id = await seedTicket(creator, assignee);
  const view = async (who: Person, path = `/tickets/${id}`) => {
    const page = await (await signedInClient(app.url, who.name)).get(path);
    t.is(page.status, 200, `${who.name} ${path}`);
    return actionsOn(page, id);
  };

  const asCreator = await view(creator);
  t.like(asCreator, { moves: [], edit: true, delete: true, restore: false, purge: false });
  const asAssignee = await view(assignee);
  t.like(asAssignee, { moves: ['approved', 'rejected'], buttons: ['Approve', 'Reject'], edit: false, delete: false });
  t.is(asAssignee.rejectReason, 1, 'rejecting asks for a reason');
  const asStranger = await view(stranger);
  t.like(asStranger, { moves: [], edit: false, delete: false, restore: false, purge: false, forms: 0 });
  const asAdmin = await view(admin);
  t.like(asAdmin, { moves: ['approved', 'rejected'], edit: true, delete: true, restore: false, purge: false });

  // Approved: the assignee moves the work on; the creator can no longer edit.
  await move(assignee, id, 'approved');
  t.like(await view(assignee), { moves: ['in_progress', 'closed'], buttons: ['Start work', 'Close'], edit: false });
  t.like(await view(creator), { moves: [], edit: false, delete: true });
  t.like(await view(stranger), { forms: 0 });

  // Deleted: 410 for the plain page; with include_deleted, Restore for the creator, Purge for admins only.
  await remove(creator, id);
  const gone = await (await signedInClient(app.url, creator.name)).get(`/tickets/${id}`);
  t.is(gone.status, 410);
  t.true(gone.$('main h1').text().length > 0, 'an error page in the layout');
  const deletedPath = `/tickets/${id}?include_deleted=true`;
  t.like(await view(creator, deletedPath), { moves: [], edit: false, delete: false, restore: true, purge: false });
  t.like(await view(admin, deletedPath), { moves: [], edit: false, delete: false, restore: true, purge: true });
  t.like(await view(assignee, deletedPath), { forms: 0 });
  t.like(await view(stranger, deletedPath), { forms: 0 });
});

test('restore and purge by form', async (t) => {
  const [creator, assignee, admin] = [await person(), await person(), await person(app, 'admin')];
  const id = await seedTicket(creator, assignee);
  await move(assignee, id, 'approved');
  const browser = await signedInClient(app.url, creator.name);
  // The ticket page links to a page that asks first; its button deletes.
  const ticketPage = await browser.get(`/tickets/${id}`);
  t.is(ticketPage.$(`#ticket a[href="/tickets/${id}/delete"]`).text(), 'Delete…');
  const ask = await browser.get(`/tickets/${id}/delete`);
  t.is(ask.status, 200);
  t.is(ask.$('h1').text(), `Delete request #${id}?`);
  t.is(ask.$(`a[href="/tickets/${id}"]`).text(), 'Keep it');
  t.is((await ticketRow(app, id)).status, 'approved', 'asking deletes nothing');
  const deleted = await browser.submit(`/tickets/${id}/delete`, `/tickets/${id}/delete`, {});
  t.is(deleted.status, 303);
  t.is(deleted.headers.get('location'), `/tickets/${id}?include_deleted=true`);
  const deletedPage = await browser.get(`/tickets/${id}?include_deleted=true`);
  t.true(deletedPage.$('p.flash.success').text().includes('deleted'));
  t.is(deletedPage.$('#ticket .badge.status-deleted').length, 1);

  const restored = await browser.submit(`/tickets/${id}?include_deleted=true`, `/tickets/${id}/restore`, {});
  t.is(restored.status, 303);
  t.is((await ticketRow(app, id)).status, 'approved', 'back to the status it had');
  t.is((await browser.get(`/tickets/${id}`)).$('p.flash.success').text(), 'Ticket restored.');

  await remove(creator, id);
  // The creator has no purge button; posting anyway is refused and nothing happens.
  const refused = await browser.submit(`/tickets/${id}?include_deleted=true`, `/tickets/${id}/purge`, {});
  t.is(refused.status, 303);
  t.true((await browser.get(`/tickets/${id}?include_deleted=true`)).$('p.flash.error').text().includes('admin'));
  t.truthy(await ticketRow(app, id));
  const adminBrowser = await signedInClient(app.url, admin.name);
  const purged = await adminBrowser.submit(`/tickets/${id}?include_deleted=true`, `/tickets/${id}/purge`, {});
  t.is(purged.status, 303);
  t.is(purged.headers.get('location'), '/');
  t.is(await ticketRow(app, id), undefined);
  t.is((await adminBrowser.get(`/tickets/${id}?include_deleted=true`)).status, 404);
});

// ---- status changes by form -------------------------------------------------------------------

test('a status change by form: 303, the flash on the next page, and the step in the timeline with its actor', async (t) => {
  const [creator, assignee] = [await person(), await person()];
  const id = await seedTicket(creator, assignee);
  const browser = await signedInClient(app.url, assignee.name);
  const res = await browser.submit(`/tickets/${id}`, `/tickets/${id}/status`, { status: 'approved' });
  t.is(res.status, 303);
  t.is(res.headers.get('location'), `/tickets/${id}`);
  const page = await browser.get(`/tickets/${id}`);
  t.is(page.$('p.flash.success').text(), 'Status changed to approved.');
  t.is(page.$('#ticket .ticket-head .badge').first().text(), 'Approved');
  const steps = timeline(page);
  t.is(steps.length, 2);
  t.true(steps[0]?.includes(`${creator.name} created the request`), steps[0]);
  t.true(steps[1]?.includes(`${assignee.name} moved it from Pending approval to Approved`), steps[1]);

  // Rejection reasons go into the timeline as the note.
  const other = await seedTicket(creator, assignee);
  const rejected = await browser.submit(`/tickets/${other}`, `/tickets/${other}/status`, {
    status: 'rejected',
    reason: 'Out of <b>stock</b>',
  });
  t.is(rejected.status, 303);
  const rejectedPage = await browser.get(`/tickets/${other}`);
  t.true(timeline(rejectedPage)[1]?.includes('Out of <b>stock</b>'));
  t.true(rejectedPage.$('#ticket .facts').text().includes('Out of <b>stock</b>'));
  t.is(rejectedPage.$('#ticket b').length, 0);

  // Without a CSRF token the form is refused.
  const forged = await browser.postForm(`/tickets/${id}/status`, { status: 'in_progress' });
  t.is(forged.status, 403);
  t.is((await ticketRow(app, id)).status, 'approved');
});

test('a status change with HX-Request answers the #ticket fragment', async (t) => {
  const [creator, assignee] = [await person(), await person()];
  const id = await seedTicket(creator, assignee);
  await move(assignee, id, 'approved');
  const browser = await signedInClient(app.url, assignee.name);
  const csrf = await browser.csrfFrom(`/tickets/${id}`);
  const res = await browser.postForm(
    `/tickets/${id}/status`,
    { status: 'in_progress' },
    { 'HX-Request': 'true', 'X-CSRF-Token': csrf },
  );
  t.is(res.status, 200);
  t.true(isFragment(res));
  t.is(res.$('article#ticket').length, 1);
  t.true(res.text.trimStart().startsWith('<article'), 'the fragment is the #ticket element itself');
  t.is(res.$('#ticket-alert').text().trim(), 'Status changed to in progress.');
  t.is(res.$('#ticket .ticket-head .badge').first().text(), 'In progress');
  t.deepEqual(actionsOn(res, id).moves, ['fulfilled', 'closed']);
  t.true(timeline(res).at(-1)?.includes(`${assignee.name} moved it from Approved to In progress`));
  t.true((res.headers.get('vary') ?? '').toLowerCase().includes('hx-request'));
  t.is((await ticketRow(app, id)).status, 'in_progress');
  // The fragment leaves no flash behind for the next full page.
  t.is((await browser.get(`/tickets/${id}`)).$('p.flash').length, 0);
});

test('an illegal move: by form a flash error on the ticket (303); with htmx the error fragment (409)', async (t) => {
  const [creator, assignee, stranger] = [await person(), await person(), await person()];
  const id = await seedTicket(creator, assignee);
  const browser = await signedInClient(app.url, assignee.name);
  const before = (await events(app, id)).length;

  const res = await browser.submit(`/tickets/${id}`, `/tickets/${id}/status`, { status: 'fulfilled' });
  t.is(res.status, 303);
  t.is(res.headers.get('location'), `/tickets/${id}`);
  const page = await browser.get(`/tickets/${id}`);
  t.is(page.status, 200);
  t.is(page.$('p.flash.error').text(), 'A ticket that is pending approval cannot move to fulfilled.');

  const csrf = await browser.csrfFrom(`/tickets/${id}`);
  const htmx = await browser.postForm(
    `/tickets/${id}/status`,
    { status: 'closed' },
    { 'HX-Request': 'true', 'X-CSRF-Token': csrf },
  );
  t.is(htmx.status, 409);
  t.true(isFragment(htmx));
  t.is(htmx.$('.alert.error[role=alert]').text().trim(), 'A ticket that is pending approval cannot move to closed.');
  t.is(htmx.$('article#ticket').length, 0);

  // The wrong person: the same two shapes with 403.
  const strangerBrowser = await signedInClient(app.url, stranger.name);
  const refused = await strangerBrowser.submit(`/tickets/${id}`, `/tickets/${id}/status`, { status: 'approved' });
  t.is(refused.status, 303);
  t.true((await strangerBrowser.get(`/tickets/${id}`)).$('p.flash.error').text().includes('assignee'));
  const strangerCsrf = await strangerBrowser.csrfFrom('/');
  const refusedHtmx = await strangerBrowser.postForm(
    `/tickets/${id}/status`,
    { status: 'approved' },
    { 'HX-Request': 'true', 'X-CSRF-Token': strangerCsrf },
  );
  t.is(refusedHtmx.status, 403);
  t.true(isFragment(refusedHtmx));

  // An unknown status is bad input, not a flash.
  const unknown = await browser.submit(`/tickets/${id}`, `/tickets/${id}/status`, { status: 'teleported' });
  t.is(unknown.status, 400);

  t.is((await ticketRow(app, id)).status, 'pending_approval');
  t.is((await events(app, id)).length, before, 'nothing written');
});

// ---- editing ----------------------------------------------------------------------------------

test('the creator edits a pending request on the edit page; the timeline shows the edit', async (t) => {
  const [creator, assignee, stranger] = [await person(), await person(), await person()];
  const id = await seedTicket(creator, assignee, {
    location: 'Old place',
    notes: 'old notes',
    items: [{ cable_type: 'Cat5e', cable_length: '10ft', quantity: 1 }],
  });
  const browser = await signedInClient(app.url, creator.name);
  const form = await browser.get(`/tickets/${id}/edit`);
  t.is(form.status, 200);
  t.is(form.$('form.ticket-form').attr('action'), `/tickets/${id}/edit`);
  t.is(form.$('input[name=location]').val(), 'Old place');
  t.is(form.$('textarea[name=notes]').text(), 'old notes');
  t.is(form.$('input[name="items[0][cable_type]"]').val(), 'Cat5e');
  t.is(form.$('select[name=assigned_to_id] option:selected').val(), String(assignee.row.id));

  // No-JS add row works on the edit page too.
  const grown = await browser.submit(`/tickets/${id}/edit`, `/tickets/${id}/edit`, {
    assigned_to_id: assignee.row.id,
    location: 'New place',
    'items[0][cable_type]': 'Cat5e',
    'items[0][cable_length]': '10ft',
    'items[0][quantity]': '1',
    add_item: '1',
  });
  t.is(grown.status, 200);
  t.is(grown.$('fieldset.item-row').length, 2);
  t.is(grown.$('input[name=location]').val(), 'New place');
  t.is(grown.$('form.ticket-form').attr('action'), `/tickets/${id}/edit`);

  const saved = await browser.submit(`/tickets/${id}/edit`, `/tickets/${id}/edit`, {
    assigned_to_id: assignee.row.id,
    priority: 'medium',
    location: 'New place',
    notes: 'old notes',
    'items[0][cable_type]': 'Cat5e',
    'items[0][cable_length]': '10ft',
    'items[0][quantity]': '1',
    'items[1][cable_type]': 'Cat6',
    'items[1][cable_length]': '20ft',
    'items[1][quantity]': '2',
  });
  t.is(saved.status, 303);
  t.is(saved.headers.get('location'), `/tickets/${id}`);
  const page = await browser.get(`/tickets/${id}`);
  t.is(page.$('p.flash.success').text(), 'Request updated.');
  t.true(page.$('#ticket .facts').text().includes('New place'));
  t.is(page.$('#ticket table.items tbody tr').length, 2);
  const last = timeline(page).at(-1) ?? '';
  t.true(last.includes(`${creator.name} edited the request`), last);
  t.true(last.includes('location'), last);
  t.is((await events(app, id)).at(-1)?.event_type, 'edited');

  // A bad edit comes back with the sentence and the values.
  const bad = await browser.submit(`/tickets/${id}/edit`, `/tickets/${id}/edit`, {
    assigned_to_id: assignee.row.id,
    location: '',
    notes: 'changed but invalid',
    'items[0][cable_type]': 'Cat5e',
    'items[0][cable_length]': '10ft',
    'items[0][quantity]': '1',
  });
  t.is(bad.status, 400);
  t.is(bad.$('input[name=location]').attr('aria-invalid'), 'true');
  t.is(bad.$('textarea[name=notes]').text(), 'changed but invalid');
  t.is((await ticketRow(app, id)).location, 'New place');

  // Anyone else: a 403 page with no form; a forged POST returns to the ticket with the sentence.
  const strangerBrowser = await signedInClient(app.url, stranger.name);
  const strangerForm = await strangerBrowser.get(`/tickets/${id}/edit`);
  t.is(strangerForm.status, 403);
  t.is(strangerForm.$('form.ticket-form').length, 0);
  t.true(strangerForm.$('main .alert.error').text().includes('Only the creator'));
  const strangerPost = await strangerBrowser.submit('/', `/tickets/${id}/edit`, {
    assigned_to_id: assignee.row.id,
    location: 'Hijacked',
    'items[0][cable_type]': 'x',
    'items[0][cable_length]': 'y',
  });
  t.is(strangerPost.status, 303);
  t.is(strangerPost.headers.get('location'), `/tickets/${id}`);
  t.true((await strangerBrowser.get(`/tickets/${id}`)).$('.flash.error').text().includes('Only the creator'));

  // Once approved, the creator cannot edit any more: 409 page, and the POST is refused the same way.
  await move(assignee, id, 'approved');
  const late = await browser.get(`/tickets/${id}/edit`);
  t.is(late.status, 409);
  t.is(late.$('form.ticket-form').length, 0);
  const latePost = await browser.submit('/', `/tickets/${id}/edit`, {
    assigned_to_id: assignee.row.id,
    location: 'Too late',
    'items[0][cable_type]': 'x',
    'items[0][cable_length]': 'y',
  });
  t.is(latePost.status, 303);
  t.true((await browser.get(`/tickets/${id}`)).$('.flash.error').text().includes('waiting for approval'));
  t.is((await ticketRow(app, id)).location, 'New place');
});

// ---- review links -----------------------------------------------------------------------------

test('the review page shows the request and its buttons, and its GET changes nothing', async (t) => {
  const [creator, assignee] = [await person(), await person()];
  const id = await seedTicket(creator, assignee, {
    location: 'Warehouse dock 2',
    notes: 'Needed Friday',
    items: [
      { cable_type: 'Cat6', cable_length: '100ft', cable_gauge: '23AWG', quantity: 3 },
      { cable_type: 'SFP DAC', cable_length: '3m', quantity: 2 },
    ],
  });
  const path = await reviewPath(id);
  const before = await events(app, id);
  const anon = new Client(app.url);
  for (let i = 0; i < 3; i++) {
    const page = await anon.get(path);
    t.is(page.status, 200);
    t.is(page.headers.get('cache-control'), 'no-store');
    t.is(page.$('main h1').text(), `Review request #${id}`);
    const facts = page.$('main .facts').text();
    for (const s of [creator.name, assignee.name, 'Warehouse dock 2', 'Needed Friday']) t.true(facts.includes(s), s);
    // One form: a quantity per line (as asked to start with), a reason, Approve and Reject.
    t.is(page.$('main table.items tbody tr.line').length, 2);
    t.deepEqual(
      page
        .$('main input.qty')
        .map((_, i) => page.$(i).val())
        .get(),
      ['3', '2'],
    );
    const form = page.$('main form.decision');
    t.is(form.attr('method'), 'post');
    t.is(form.find('button[name=decision][value=approve]').text(), 'Approve');
    t.is(form.find('button[name=decision][value=reject]').text(), 'Reject');
    t.is(form.find('textarea[name=reason]').length, 1);
    // It posts back to the link itself, with no CSRF field.
    t.is(form.attr('action'), path);
    t.is(page.$('main input[name=_csrf]').length, 0);
  }
  t.is((await ticketRow(app, id)).status, 'pending_approval');
  t.deepEqual(await events(app, id), before, 'no event written by GET');
  t.is(anon.cookies.size, 0, 'no session for link visitors');
});

test('POST decision=approve on the link approves without a session; a second visit says who already approved', async (t) => {
  const [creator, assignee] = [await person(), await person()];
  const id = await seedTicket(creator, assignee);
  const path = await reviewPath(id);
  const anon = new Client(app.url);
  const res = await anon.postForm(path, { decision: 'approve' });
  t.is(res.status, 200);
  t.true(res.$('main .flash.success').text().includes('the request is now approved'), res.$('main').text());
  t.is(res.$('main form').length, 0, 'no buttons once decided');
  t.is((await ticketRow(app, id)).status, 'approved');
  const decisions = (await events(app, id)).filter((e) => e.event_type === 'status_changed');
  t.is(decisions.length, 1);
  t.like(decisions[0], {
    actor_user_id: assignee.row.id,
    via: 'review link',
    from_status: 'pending_approval',
    to_status: 'approved',
  });

  const again = await anon.get(path);
  t.is(again.status, 200);
  const notice = again.$('main .flash.info').text().replace(/\s+/g, ' ');
  t.true(notice.includes(`already approved by ${assignee.name} at `), notice);
  t.is(again.$('main form').length, 0);

  // Clicking again (a stale tab) changes nothing and says the same.
  const twice = await anon.postForm(path, { decision: 'reject', reason: 'late' });
  t.is(twice.status, 200);
  t.true(twice.$('main .flash.info').text().includes(`already approved by ${assignee.name}`));
  t.is((await ticketRow(app, id)).status, 'approved');
  t.is((await events(app, id)).filter((e) => e.event_type === 'status_changed').length, 1);

  // The ticket page's timeline says it came through the link.
  const page = await (await signedInClient(app.url, creator.name)).get(`/tickets/${id}`);
  t.true(timeline(page).at(-1)?.includes(`${assignee.name} moved it from Pending approval to Approved (via review link)`));
});

test('POST decision=reject on the link rejects with the reason', async (t) => {
  const [creator, assignee] = [await person(), await person()];
  const id = await seedTicket(creator, assignee);
  const path = await reviewPath(id);
  const res = await new Client(app.url).postForm(path, { decision: 'reject', reason: 'Use the spare <i>reel</i>' });
  t.is(res.status, 200);
  t.true(res.$('main .flash.success').text().includes('rejected'));
  t.like(await ticketRow(app, id), { status: 'rejected', rejection_reason: 'Use the spare <i>reel</i>' });
  const bad = await new Client(app.url).postForm(await reviewPath(await seedTicket(creator, assignee)), { decision: 'maybe' });
  t.is(bad.status, 400);
});

test('a wrong review token is a 403 page; a deleted ticket’s link is a 410 page', async (t) => {
  const [creator, assignee] = [await person(), await person()];
  const id = await seedTicket(creator, assignee);
  const path = await reviewPath(id);
  const wrong = path.replace(/[^/]+$/, 'A'.repeat(43));
  const anon = new Client(app.url);
  const forbidden = await anon.get(wrong);
  t.is(forbidden.status, 403);
  t.is(forbidden.$('main h1').text(), 'Not allowed');
  t.true(forbidden.$('main .alert.error').text().includes('not valid'));
  t.is((await anon.postForm(wrong, { decision: 'approve' })).status, 403);
  t.is((await ticketRow(app, id)).status, 'pending_approval');

  // A newer link replaces the old one.
  const newer = await reviewPath(id);
  t.is((await anon.get(path)).status, 403);
  t.is((await anon.get(newer)).status, 200);

  await remove(creator, id);
  const gone = await anon.get(newer);
  t.is(gone.status, 410);
  t.is(gone.$('main h1').text(), 'Deleted');
  t.is(gone.$('main form').length, 0);
  t.is((await anon.postForm(newer, { decision: 'approve' })).status, 410);
  t.is((await ticketRow(app, id)).status, 'deleted');
});
