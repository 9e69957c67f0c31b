import test from 'ava';
import fc from 'fast-check';
import { startApp, type TestApp } from './support/app.ts';
import { Client } from './support/client.ts';
import { buildReel, createUser, PASSWORD, reviewLinkFor, signedInClient, tokenClient } from './support/factories.ts';
import { FUZZ_SEED, type FuzzRequest, formPost, fuzz, fuzzTally, pageGet, pathSegment } from './support/fuzz.ts';
import { createTicket, driveTo } from './support/tickets.ts';

/**
 * Fuzzing every form and page (issue #9 §2) as a browser sends them: urlencoded bodies with hostile
 * values, bracket syntax, duplicate fields and malformed encoding, with and without htmx. No 5xx;
 * every 4xx is an HTML page (or an htmx fragment, or the form again) with a message in a
 * role=alert element; a rejected post changes no row. The admin's session and CSRF token are real,
 * so the requests reach the handlers.
 */

let app: TestApp;
let browser: Client;
let csrf: string;
const ticketIds: string[] = [];
const opticsIds: string[] = [];
const notificationIds: string[] = [];
const userIds: string[] = [];
/** In-progress requests cut from bulk reels, and the reels there. */
const cutIds: string[] = [];
const reelCodes: string[] = [];
let reviewLink: { id: number; token: string };

test.before(async () => {
  app = await startApp();
  const boss = await createUser(app.db, { username: 'form_admin', role: 'admin' });
  const tech = await createUser(app.db, { username: 'form_tech' });
  const stock = await createUser(app.db, { username: 'form_stock' });
  userIds.push(String(boss.id), String(tech.id), String(stock.id));
  browser = await signedInClient(app.url, boss.username);
  csrf = await browser.csrfFrom('/');
  const api = await tokenClient(app.url, tech.username);
  const adminApi = await tokenClient(app.url, boss.username);
  for (const status of ['pending_approval', 'pending_approval', 'approved', 'in_progress']) {
    const ticket = await createTicket(api, { assigned_to_id: stock.id });
    await driveTo(adminApi, ticket.id, status);
    ticketIds.push(String(ticket.id));
  }
  const linked = await createTicket(api, { assigned_to_id: stock.id });
  reviewLink = { id: linked.id, token: (await reviewLinkFor(app, linked.id)).token };
  ticketIds.push(String(linked.id));
  await adminApi.send('POST', '/api/cable-receiving', {
    vendor: 'Acme',
    items: [{ cable_type: 'Cat6', cable_length: '100ft', quantity: 50 }],
  });
  for (let i = 0; i < 2; i += 1) {
    const res = await api.send('POST', '/api/optics-requests', {
      selected_part: 'SFP-10G-SR',
      quantity: 2,
      requester_name: 'Tess T',
    });
    opticsIds.push(String(res.json.optics_request.id));
  }
  for (const length of ['400 ft', '105 ft']) reelCodes.push((await buildReel(app, { cable_type: 'Form bulk', length })).code);
  for (let n = 0; n < 3; n++) {
    const cut = await createTicket(api, {
      assigned_to_id: stock.id,
      items: [{ cable_type: 'Form bulk', cable_length: '100ft', quantity: 1 }],
    });
    await driveTo(adminApi, cut.id, 'in_progress');
    cutIds.push(String(cut.id));
  }
  const rows = await app.db('notifications').select('id').limit(3);
  for (const row of rows) notificationIds.push(String(row.id));
  await app.db('notifications').where({ id: rows[0]?.id }).update({ status: 'failed' });
});
test.after.always(async () => {
  await app?.close();
});

const form = (path: fc.Arbitrary<string>, valid: Record<string, string>, extraKeys: string[] = []) =>
  formPost(csrf, path, valid, { extraKeys, query: ['return_to', 'status'] });

const page = pageGet;

const id = (ids: string[]) => pathSegment(ids);
const ITEM_ROW = {
  'items[0][cable_type]': 'Cat6',
  'items[0][cable_length]': '100ft',
  'items[0][cable_gauge]': '23AWG',
  'items[0][quantity]': '2',
};

/** A fresh anonymous browser with its CSRF token, for forms that change who is signed in. */
async function freshAnonymous(req: FuzzRequest): Promise<FuzzRequest> {
  const client = new Client(app.url);
  const token = await client.csrfFrom('/login');
  return { ...req, client, headers: { ...req.headers, 'x-csrf-token': token } };
}

test.serial('sign-in, registration and sign-out forms', async (t) => {
  await fuzz(t, app.db, {
    name: 'POST /login, /register, /logout',
    client: browser,
    logs: app.logs,
    audience: 'html',
    numRuns: 150,
    prepare: freshAnonymous,
    requests: fc.oneof(
      form(fc.constant('/login'), { username: 'form_tech', password: PASSWORD, next: '/tickets/1' }),
      form(fc.constant('/register'), { username: 'form_new', email: 'form_new@example.test', phone: '', password: PASSWORD }, [
        'role',
      ]),
      form(fc.constant('/logout'), {}),
    ),
  });
});

test.serial('tickets: the request form and the edit form', async (t) => {
  const fields = { assigned_to_id: userIds[2] as string, priority: 'high', location: 'Building A', notes: 'n', ...ITEM_ROW };
  await fuzz(t, app.db, {
    name: 'POST /tickets, /tickets/:id/edit',
    client: browser,
    logs: app.logs,
    audience: 'html',
    numRuns: 300,
    requests: fc.oneof(
      form(fc.constant('/tickets'), fields, ['add_item', 'remove_item']),
      form(
        id(ticketIds).map((i) => `/tickets/${i}/edit`),
        fields,
        ['add_item', 'remove_item'],
      ),
    ),
  });
});

test.serial('tickets: status, delete, restore, purge buttons', async (t) => {
  await fuzz(t, app.db, {
    name: 'POST /tickets/:id/status|delete|restore|purge',
    client: browser,
    logs: app.logs,
    audience: 'html',
    numRuns: 250,
    requests: fc.oneof(
      form(
        id(ticketIds).map((i) => `/tickets/${i}/status`),
        { status: 'in_progress', reason: 'r' },
        ['note', 'rejection_reason'],
      ),
      form(
        fc.tuple(id(ticketIds), fc.constantFrom('delete', 'restore', 'purge')).map(([i, verb]) => `/tickets/${i}/${verb}`),
        {},
      ),
    ),
  });
});

test.serial('tickets: the fulfilment page (cuts from reels) and the offcut prompt', async (t) => {
  const item = String((await app.db('ticket_items').where({ ticket_id: cutIds[0] }).first()).id);
  await fuzz(t, app.db, {
    name: 'GET and POST /tickets/:id/fulfil, POST /tickets/:id/offcuts/keep',
    client: browser,
    logs: app.logs,
    audience: 'html',
    numRuns: 200,
    requests: fc.oneof(
      // Asked for while the requests still have pieces to cut (later they are fulfilled).
      page(
        id(cutIds).map((i) => `/tickets/${i}/fulfil`),
        ['cuts', 'cuts[0][reel_code]'],
      ),
      form(
        id(cutIds).map((i) => `/tickets/${i}/fulfil`),
        { 'cuts[0][item_id]': item, 'cuts[0][piece]': '1', 'cuts[0][reel_code]': reelCodes[1] as string, note: 'n' },
        ['cuts[1][reel_code]', 'cuts', 'status'],
      ),
      form(
        id(cutIds).map((i) => `/tickets/${i}/offcuts/keep`),
        { reel_code: reelCodes[1] as string },
      ),
    ),
  });
});

test.serial('the review page form (no session needed)', async (t) => {
  await fuzz(t, app.db, {
    name: 'POST /tickets/:id/review/:token',
    client: new Client(app.url),
    audience: 'html',
    numRuns: 200,
    requests: form(
      fc
        .tuple(
          fc.oneof(fc.constant(String(reviewLink.id)), id(ticketIds)),
          fc.oneof(fc.constant(reviewLink.token), pathSegment()),
        )
        .map(([i, token]) => `/tickets/${i}/review/${token}`),
      { decision: 'reject', reason: 'not now' },
      ['items[0][item_id]', 'items[0][approved_quantity]', 'items[0][note]', 'items'],
    ),
  });
});

test.serial('inventory forms: receiving, adjustments, thresholds', async (t) => {
  await fuzz(t, app.db, {
    name: 'POST /inventory/receiving|adjustments|threshold',
    client: browser,
    logs: app.logs,
    audience: 'html',
    numRuns: 300,
    requests: fc.oneof(
      form(
        fc.constant('/inventory/receiving'),
        {
          vendor: 'Acme',
          po_number: 'PO-7',
          notes: 'n',
          'items[0][cable_type]': 'Cat6',
          'items[0][cable_length]': '100ft',
          'items[0][quantity]': '4',
        },
        ['add_item', 'remove_item'],
      ),
      form(fc.constant('/inventory/adjustments'), {
        cable_type: 'Cat6',
        cable_length: '100ft',
        quantity: '3',
        direction: 'out',
        reason: 'damaged',
      }),
      form(fc.constant('/inventory/threshold'), { cable_type: 'Cat6', cable_length: '100ft', reorder_threshold: '5' }),
    ),
  });
});

test.serial('optics forms: request, parts, admin actions', async (t) => {
  await fuzz(t, app.db, {
    name: 'POST /optics, /optics/parts[/remove], /optics/:id/status',
    client: browser,
    logs: app.logs,
    audience: 'html',
    numRuns: 300,
    requests: fc.oneof(
      form(fc.constant('/optics'), { selected_part: 'Other', other_part: 'XFP-ZR', quantity: '2', requester_name: 'Tess T' }),
      form(fc.constant('/optics/parts'), { part_number: 'SFP-FORM-1' }),
      form(fc.constant('/optics/parts/remove'), { part_number: 'SFP-1G-LX' }),
      form(
        id(opticsIds).map((i) => `/optics/${i}/status`),
        { action: 'approve', admin_note: 'ok', return_to: '/optics' },
      ),
    ),
  });
});

test.serial('admin forms: roles and notification retries', async (t) => {
  await fuzz(t, app.db, {
    name: 'POST /admin/users/:id/role, /admin/notifications/:id/retry',
    client: browser,
    logs: app.logs,
    audience: 'html',
    numRuns: 150,
    requests: fc.oneof(
      form(
        id([userIds[2] as string]).map((i) => `/admin/users/${i}/role`),
        { role: 'user' },
      ),
      form(
        id(notificationIds).map((i) => `/admin/notifications/${i}/retry`),
        {},
      ),
    ),
  });
});

test.serial('pages with hostile query strings and path parameters', async (t) => {
  await fuzz(t, app.db, {
    name: 'GET pages',
    client: browser,
    logs: app.logs,
    audience: 'html',
    numRuns: 400,
    requests: fc.oneof(
      page(fc.constant('/'), ['filter', 'status', 'q', 'limit', 'cursor', 'include_deleted']),
      page(
        id(ticketIds).map((i) => `/tickets/${i}`),
        ['include_deleted'],
      ),
      page(
        id(ticketIds).map((i) => `/tickets/${i}/edit`),
        [],
      ),
      page(
        id(ticketIds).map((i) => `/tickets/${i}/delete`),
        [],
      ),
      page(fc.constantFrom('/tickets/new/item-row', '/inventory/receiving/item-row'), ['index', 'remove']),
      page(fc.constant('/optics'), ['status', 'include_archived', 'limit', 'cursor']),
      page(
        id(opticsIds).map((i) => `/optics/${i}`),
        [],
      ),
      page(fc.constant('/optics/other-part-field'), ['selected_part']),
      page(fc.constantFrom('/inventory', '/inventory/on-hand.csv'), ['include_zero']),
      page(fc.constantFrom('/inventory/ledger', '/inventory/ledger.csv'), [
        'movement_type',
        'source_type',
        'source_id',
        'limit',
        'cursor',
      ]),
      page(fc.constantFrom('/inventory/receiving', '/inventory/adjustments'), ['cursor', 'limit']),
      page(fc.constant('/admin/notifications'), ['status', 'channel', 'cursor', 'limit']),
      page(
        fc.tuple(id(notificationIds), fc.constantFrom('', '/email.html')).map(([i, part]) => `/admin/notifications/${i}${part}`),
        [],
      ),
      page(fc.constantFrom('/admin/users', '/optics/parts', '/tickets/new'), ['q']),
      page(
        fc
          .tuple(
            fc.oneof(fc.constant(String(reviewLink.id)), id(ticketIds)),
            fc.oneof(fc.constant(reviewLink.token), pathSegment()),
          )
          .map(([i, token]) => `/tickets/${i}/review/${token}`),
        [],
      ),
    ),
  });
});

test.serial('the sign-in page keeps only a same-site next', async (t) => {
  await fuzz(t, app.db, {
    name: 'GET /login?next=…',
    client: new Client(app.url),
    audience: 'html',
    numRuns: 100,
    requests: page(fc.constantFrom('/login', '/register'), ['next']),
  });
});

test.after('figures', (t) => {
  t.log(`${fuzzTally.cases} cases over ${fuzzTally.endpoints} endpoint groups (seed ${FUZZ_SEED})`);
});
