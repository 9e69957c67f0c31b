import test from 'ava';
import { ASSIGNEE_CHOICES_MAX } from '../src/features/tickets/pages.ts';
import { startApp, type TestApp } from './support/app.ts';
import type { Client } from './support/client.ts';
import { createUser, signedInClient, tokenClient } from './support/factories.ts';

/**
 * Past ASSIGNEE_CHOICES_MAX accounts the request form asks for the assignee's username (with htmx
 * suggestions) instead of listing every account; the form still works without JavaScript.
 */

let app: TestApp;
let browser: Client;
let approverId: number;
let otherId: number;

const itemFields = {
  priority: 'medium',
  location: 'Plant room 2',
  notes: '',
  'items[0][cable_type]': 'Cat6',
  'items[0][cable_length]': '10m',
  'items[0][cable_gauge]': '',
  'items[0][quantity]': '2',
};
const ticketCount = async () => Number((await app.db('tickets').count({ n: '*' }))[0]?.n);

test.before(async () => {
  app = await startApp();
  await createUser(app.db, { username: 'tech' });
  approverId = (await createUser(app.db, { username: 'Store_Keeper' })).id;
  otherId = (await createUser(app.db, { username: 'StoreXKeeper' })).id;
  for (let i = 0; i < ASSIGNEE_CHOICES_MAX; i++) await createUser(app.db, { username: `crew${String(i).padStart(3, '0')}` });
  browser = await signedInClient(app.url, 'tech');
});

test.after.always(() => app?.close());

test('with many accounts the dashboard and the new-request page ask for a username, not a list of everyone', async (t) => {
  for (const path of ['/', '/tickets/new']) {
    const { $, status } = await browser.get(path);
    t.is(status, 200);
    t.is($('select[name=assigned_to_id]').length, 0, path);
    const field = $('input[name=assignee_name]');
    t.is(field.length, 1, path);
    t.is(field.attr('list'), 'f-assignee-list');
    t.is(field.attr('hx-get'), '/tickets/new/assignees');
    t.is($('label[for=f-assignee]').text(), 'Assign to');
    t.is($('datalist#f-assignee-list').length, 1);
  }
});

test('suggestions: up to 20 accounts whose name starts with what was typed, any case, wildcards taken literally', async (t) => {
  const names = async (typed: string) => {
    const res = await browser.get(`/tickets/new/assignees?assignee_name=${encodeURIComponent(typed)}`, { 'hx-request': 'true' });
    t.is(res.status, 200);
    return res
      .$('option')
      .map((_, o) => res.$(o).attr('value'))
      .get();
  };
  t.deepEqual(await names('store_'), ['Store_Keeper'], 'an _ is a character, not any character');
  t.deepEqual(await names('STORE'), ['Store_Keeper', 'StoreXKeeper']);
  t.deepEqual(
    await names('crew00'),
    Array.from({ length: 10 }, (_, i) => `crew00${i}`),
  );
  t.is((await names('crew')).length, 20);
  t.deepEqual(await names('%'), []);
  t.deepEqual(await names(''), [], 'nothing typed, nothing suggested');
  t.deepEqual(await names('nobody'), []);
});

test('the form resolves the typed username; an unknown or missing one shows the form again and stores nothing', async (t) => {
  const before = await ticketCount();
  const unknown = await browser.submit('/tickets/new', '/tickets', { assignee_name: 'storekeeper', ...itemFields });
  t.is(unknown.status, 400);
  t.is(unknown.$('#f-assignee-e').text(), 'no account is called "storekeeper"');
  t.is(unknown.$('input[name=assignee_name]').val(), 'storekeeper', 'what was typed is kept');
  t.is(unknown.$('input[name=location]').val(), 'Plant room 2');
  const blank = await browser.submit('/tickets/new', '/tickets', { assignee_name: '  ', ...itemFields });
  t.is(blank.status, 400);
  t.is(blank.$('#f-assignee-e').length, 1);
  t.is(await ticketCount(), before, 'nothing stored');

  const made = await browser.submit('/tickets/new', '/tickets', { assignee_name: ' store_keeper ', ...itemFields });
  t.is(made.status, 303);
  const id = Number(made.headers.get('location')?.split('/').pop());
  t.is((await app.db('tickets').where({ id }).first()).assigned_to_id, approverId);

  // The edit form shows the current assignee's name; another name reassigns.
  const edit = await browser.get(`/tickets/${id}/edit`);
  t.is(edit.$('input[name=assignee_name]').val(), 'Store_Keeper');
  const saved = await browser.submit(`/tickets/${id}/edit`, `/tickets/${id}/edit`, {
    assignee_name: 'StoreXKeeper',
    ...itemFields,
  });
  t.is(saved.status, 303);
  t.is((await app.db('tickets').where({ id }).first()).assigned_to_id, otherId);
});

test('the JSON API keeps assigned_to_id: a name alone is a 400 naming assigned_to_id', async (t) => {
  const api = await tokenClient(app.url, 'tech');
  const res = await api.send('POST', '/api/tickets', {
    assignee_name: 'Store_Keeper',
    location: 'Plant room 2',
    items: [{ cable_type: 'Cat6', cable_length: '10m' }],
  });
  t.is(res.status, 400);
  t.regex(res.json.error, /assigned_to_id/);
});
