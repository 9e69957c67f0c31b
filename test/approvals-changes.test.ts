import test from 'ava';
import { quantityToTake } from '../src/features/tickets/service.ts';
import { startApp, type TestApp } from './support/app.ts';
import { Client } from './support/client.ts';
import { buildCast, buildReceipt, buildRequest } from './support/factories.ts';

/**
 * Approve with changes (DESIGN.md §15): a quantity per line from 0 to what was asked, on the review
 * link, the ticket page and POST /api/tickets/:id/decision; stock taken at fulfilment by the approved
 * quantities; the timeline and the requester's email say what changed; every line at 0 is a rejection.
 */

let app: TestApp;
let cast: Awaited<ReturnType<typeof castOf>>;
const castOf = (a: TestApp) =>
  buildCast(a, { boss: { role: 'admin' }, tech: { browser: true }, stock: { browser: true }, other: {} });

test.before(async () => {
  app = await startApp();
  cast = await castOf(app);
});
test.after.always(async () => {
  await app?.close();
});

const THREE_LINES = [
  { cable_type: 'Cat6', cable_length: '100ft', quantity: 3 },
  { cable_type: 'OM4', cable_length: '10m', quantity: 2 },
  { cable_type: 'Cat5e', cable_length: '3ft', quantity: 5 },
];

const request = (items = THREE_LINES) => buildRequest(app, { creator: cast.tech.user, assignee: cast.stock.user, items });
const ticketOf = async (id: number) => (await cast.boss.api.send('GET', `/api/tickets/${id}?include_deleted=true`)).json;
const onHand = async (type: string, length: string) => {
  const rows = (await cast.tech.api.send('GET', '/api/inventory/on-hand?include_zero=true')).json as {
    cable_type: string;
    cable_length: string;
    on_hand: number;
  }[];
  return rows.find((r) => r.cable_type === type && r.cable_length === length)?.on_hand ?? 0;
};

test('quantityToTake is the approved quantity once there is one, else what was asked', (t) => {
  t.is(quantityToTake({ quantity: 3, approved_quantity: null }), 3);
  t.is(quantityToTake({ quantity: 3, approved_quantity: 2 }), 2);
  t.is(quantityToTake({ quantity: 3, approved_quantity: 0 }), 0);
});

test('the decision API approves 2 of 3 lines with one reduced; fulfilment takes the approved quantities from stock', async (t) => {
  await buildReceipt(app, {
    items: [
      { cable_type: 'Cat6', cable_length: '100ft', quantity: 10 },
      { cable_type: 'OM4', cable_length: '10m', quantity: 10 },
      { cable_type: 'Cat5e', cable_length: '3ft', quantity: 10 },
    ],
  });
  const before = { cat6: await onHand('Cat6', '100ft'), om4: await onHand('OM4', '10m'), cat5e: await onHand('Cat5e', '3ft') };
  const { id } = await request();
  const [cat6, om4, cat5e] = (await ticketOf(id)).items.map((i: { id: number }) => i.id);
  const res = await cast.stock.api.send('POST', `/api/tickets/${id}/decision`, {
    decision: 'approve',
    items: [
      { item_id: cat6, approved_quantity: 2, note: 'only two on the truck' },
      { item_id: cat5e, approved_quantity: 0, note: 'use the spares in room 3' },
    ],
  });
  t.is(res.status, 200, res.text);
  t.is(res.json.status, 'approved');
  t.deepEqual(
    res.json.ticket.items.map((i: { id: number; quantity: number; approved_quantity: number; approval_note: string | null }) => [
      i.id,
      i.quantity,
      i.approved_quantity,
      i.approval_note,
    ]),
    [
      [cat6, 3, 2, 'only two on the truck'],
      [om4, 2, 2, null],
      [cat5e, 5, 0, 'use the spares in room 3'],
    ],
  );
  t.is(res.json.ticket.quantity, 3, 'the seed’s top-level fields keep what was asked');

  const json = await ticketOf(id);
  const decision = json.events.find((e: { type: string }) => e.type === 'status_changed');
  t.is(decision.to_status, 'approved');
  t.is(decision.via, 'api');
  t.regex(
    decision.note,
    /Approved with changes:\nCat6 100ft: 3 → 2 · only two on the truck\nCat5e 3ft: 5 → 0 \(dropped\) · use the spares/,
  );

  // The requester's email lists what was granted.
  const told = await app
    .db('notifications')
    .where({ ticket_id: id, notification_type: 'ticket_approved', channel: 'email' })
    .first();
  t.regex(told.body_text, /Cat6 100ft x2 \(asked 3\)/);
  t.regex(told.body_text, /OM4 10m x2\n/);
  t.regex(told.body_text, /Cat5e 3ft: none \(asked 5\)/);

  for (const status of ['in_progress', 'fulfilled']) {
    t.is((await cast.stock.api.send('PATCH', `/api/tickets/${id}`, { status })).status, 200);
  }
  t.is(await onHand('Cat6', '100ft'), before.cat6 - 2);
  t.is(await onHand('OM4', '10m'), before.om4 - 2);
  t.is(await onHand('Cat5e', '3ft'), before.cat5e, 'a dropped line takes nothing');
  const movements = await app.db('inventory_movements').where({ source_type: 'ticket_fulfillment', source_id: id });
  t.deepEqual(movements.map((m) => Number(m.quantity_delta)).sort(), [-2, -2]);

  // The ticket page shows both numbers.
  const page = await cast.tech.browser.get(`/tickets/${id}`);
  t.deepEqual(
    page
      .$('#ticket table.items tbody tr')
      .map((_, tr) => page.$(tr).find('td').eq(3).text().replace(/\s+/g, ' ').trim())
      .get(),
    ['2 of 3', '2', '0 of 5'],
  );
  t.deepEqual(
    page
      .$('#ticket ul.approval-notes li')
      .map((_, li) => page.$(li).text())
      .get(),
    ['Cat6 100ft: only two on the truck', 'Cat5e 3ft: use the spares in room 3'],
  );
});

test('an approval without lines (and the seed’s link routes) grants everything as asked', async (t) => {
  const a = await request();
  t.is((await cast.stock.api.send('POST', `/api/tickets/${a.id}/decision`, { decision: 'approve' })).status, 200);
  t.deepEqual(
    (await ticketOf(a.id)).items.map((i: { approved_quantity: number }) => i.approved_quantity),
    [3, 2, 5],
  );
  const b = await request();
  const seed = await new Client(app.url).send('GET', `/api/tickets/${b.id}/approve/${b.token}`);
  t.is(seed.status, 200);
  t.deepEqual(
    seed.json.ticket.items.map((i: { approved_quantity: number }) => i.approved_quantity),
    [3, 2, 5],
  );
});

test('every line at 0 is a rejection, with the reason saying so', async (t) => {
  const { id } = await request();
  const items = (await ticketOf(id)).items.map((i: { id: number }) => ({ item_id: i.id, approved_quantity: 0 }));
  const res = await cast.stock.api.send('POST', `/api/tickets/${id}/decision`, { decision: 'approve', items });
  t.is(res.status, 200);
  t.is(res.json.status, 'rejected');
  t.regex(res.json.message, /Every line was at 0/);
  const json = await ticketOf(id);
  t.is(json.status, 'rejected');
  t.is(json.rejection_reason, 'Every line was approved at 0, so nothing was granted.');
  t.deepEqual(
    json.items.map((i: { approved_quantity: number | null }) => i.approved_quantity),
    [null, null, null],
    'nothing is granted',
  );
});

test('bad lines are 400s naming the field, and change nothing', async (t) => {
  const { id } = await request();
  const other = await request();
  const [first] = (await ticketOf(id)).items.map((i: { id: number }) => i.id);
  const [foreign] = (await ticketOf(other.id)).items.map((i: { id: number }) => i.id);
  const cases: [string, unknown, RegExp][] = [
    ['more than asked', [{ item_id: first, approved_quantity: 4 }], /items\.0\.approved_quantity: must be at most 3/],
    ['negative', [{ item_id: first, approved_quantity: -1 }], /items/],
    ['not a number', [{ item_id: first, approved_quantity: 'two' }], /items/],
    ['another request’s item', [{ item_id: foreign, approved_quantity: 1 }], /is not on this request/],
    [
      'twice',
      [
        { item_id: first, approved_quantity: 1 },
        { item_id: first, approved_quantity: 2 },
      ],
      /named twice/,
    ],
    ['not a list', 'all of it', /items/],
  ];
  for (const [label, items, error] of cases) {
    const res = await cast.stock.api.send('POST', `/api/tickets/${id}/decision`, { decision: 'approve', items });
    t.is(res.status, 400, label);
    t.regex(res.json.error, error, label);
  }
  t.is((await cast.stock.api.send('POST', `/api/tickets/${id}/decision`, { decision: 'maybe' })).status, 400);
  const json = await ticketOf(id);
  t.is(json.status, 'pending_approval');
  t.is(json.events.length, 1);
});

test('the decision API keeps the rules: assignee or admin, not the requester, 409 once decided, 404/410', async (t) => {
  const { id } = await request();
  t.is((await cast.other.api.send('POST', `/api/tickets/${id}/decision`, { decision: 'approve' })).status, 403);
  t.is((await cast.tech.api.send('POST', `/api/tickets/${id}/decision`, { decision: 'approve' })).status, 403);
  t.is((await new Client(app.url).send('POST', `/api/tickets/${id}/decision`, { decision: 'approve' })).status, 401);
  t.is((await cast.boss.api.send('POST', `/api/tickets/${id}/decision`, { decision: 'reject', reason: 'no' })).status, 200);
  const again = await cast.stock.api.send('POST', `/api/tickets/${id}/decision`, { decision: 'approve' });
  t.is(again.status, 409);
  t.is((await cast.stock.api.send('POST', '/api/tickets/999999/decision', { decision: 'approve' })).status, 404);
  const deleted = await buildRequest(app, { creator: cast.tech.user, assignee: cast.stock.user, status: 'deleted' });
  t.is((await cast.stock.api.send('POST', `/api/tickets/${deleted.id}/decision`, { decision: 'approve' })).status, 410);
});

test('the review link’s form approves with one line lowered and another dropped, without a session', async (t) => {
  const { id, reviewPath } = await request();
  const anon = new Client(app.url);
  const page = await anon.get(reviewPath);
  t.is(page.$('form.decision input.qty').length, 3);
  t.regex(page.$('form.decision').text(), /every line at 0 rejects the request/);
  const items = (await ticketOf(id)).items as { id: number }[];
  const fields: Record<string, string | number> = { decision: 'approve' };
  items.forEach((item, n) => {
    fields[`items[${n}][item_id]`] = item.id;
    fields[`items[${n}][approved_quantity]`] = [1, 2, 0][n] as number;
    fields[`items[${n}][note]`] = n === 0 ? 'one for now' : '';
  });
  const res = await anon.postForm(reviewPath, fields);
  t.is(res.status, 200);
  t.regex(res.$('main .flash.success').text(), /now approved/);
  t.deepEqual(
    res
      .$('main table.items tbody tr')
      .map((_, tr) => res.$(tr).find('td').eq(3).text().replace(/\s+/g, ' ').trim())
      .get(),
    ['1 of 3', '2', '0 of 5'],
  );
  t.is(res.$('main ul.approval-notes').text().trim(), 'Cat6 100ft: one for now');
  const json = await ticketOf(id);
  t.deepEqual(
    json.items.map((i: { approved_quantity: number }) => i.approved_quantity),
    [1, 2, 0],
  );
  t.like(json.events.at(-1), { type: 'status_changed', via: 'review link', actor: { username: 'stock' } });

  // A quantity past what was asked shows the page again with the sentence and what was typed.
  const second = await request();
  const bad = await anon.postForm(second.reviewPath, {
    decision: 'approve',
    'items[0][item_id]': (await ticketOf(second.id)).items[0].id,
    'items[0][approved_quantity]': 9,
  });
  t.is(bad.status, 400);
  t.regex(bad.$('main .alert.error').text(), /must be at most 3/);
  t.is(bad.$('main input.qty').first().val(), '9');
  t.is((await ticketOf(second.id)).status, 'pending_approval');
});

test('the ticket page’s decision form works without JavaScript, and with htmx answers the fragment', async (t) => {
  const { id } = await request();
  const page = await cast.stock.browser.get(`/tickets/${id}`);
  const form = page.$(`#ticket form[action="/tickets/${id}/decision"]`);
  t.is(form.find('input.qty').length, 3);
  t.is(form.find('input[name=_csrf]').length, 1);
  const items = (await ticketOf(id)).items as { id: number }[];
  const res = await cast.stock.browser.submit(`/tickets/${id}`, `/tickets/${id}/decision`, {
    decision: 'approve',
    'items[0][item_id]': items[0]?.id as number,
    'items[0][approved_quantity]': 1,
  });
  t.is(res.status, 303);
  t.is(res.headers.get('location'), `/tickets/${id}`);
  const after = await cast.stock.browser.get(`/tickets/${id}`);
  t.is(after.$('.flash.success').text(), 'Request approved.');
  t.deepEqual(
    (await ticketOf(id)).items.map((i: { approved_quantity: number }) => i.approved_quantity),
    [1, 2, 5],
  );

  const other = await request();
  const csrf = await cast.stock.browser.csrfFrom(`/tickets/${other.id}`);
  const fragment = await cast.stock.browser.postForm(
    `/tickets/${other.id}/decision`,
    { decision: 'reject', reason: 'Wrong site' },
    { 'HX-Request': 'true', 'X-CSRF-Token': csrf },
  );
  t.is(fragment.status, 200);
  t.regex(fragment.$('#ticket .badge').first().text(), /Rejected/);
  t.false(/<html/i.test(fragment.text));

  // A refusal without JavaScript comes back as a flash on the ticket page.
  const refused = await cast.stock.browser.submit(`/tickets/${other.id}`, `/tickets/${other.id}/decision`, {
    decision: 'approve',
  });
  t.is(refused.status, 303);
  t.regex((await cast.stock.browser.get(`/tickets/${other.id}`)).$('.flash.error').text(), /cannot move/);
});
