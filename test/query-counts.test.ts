import test from 'ava';
import { isPostgres } from '../src/db/index.ts';
import type { PublicUserRow } from '../src/features/users/queries.ts';
import { startApp, type TestApp } from './support/app.ts';
import type { Client, Reply } from './support/client.ts';
import { buildCast, buildReel, createUser, signedInClient, tokenClient } from './support/factories.ts';
import { createTicket, driveTo } from './support/tickets.ts';

/**
 * SQL statements per request, counted with knex's 'query' event around one request. A list or a
 * ticket page must cost the same whatever the page size or the number of items and events (no N+1),
 * and stay within the budget below. The counts include signing the caller in, one statement either way:
 *   - bearer token (JSON routes): the token joined to its user;
 *   - cookie session (pages): the session row joined to its user.
 * The tests run one at a time so no other request's statements are counted.
 */
const BUDGET = {
  /** GET /api/tickets, bearer: auth, the page of tickets with people and their items (one statement). */
  apiList: { auth: 'bearer', max: 2 },
  /**
   * GET /, session: auth, the page with items, stats, the assignee choices of the new-request form and
   * the locations its cable may come from.
   */
  dashboard: { auth: 'session', max: 5 },
  /** GET / with HX-Request (the list fragment, also "Show older requests"), session: auth, the page with items. */
  listFragment: { auth: 'session', max: 2 },
  /**
   * GET /tickets/:id, session: auth, ticket with people, items, events, the source location, stock at
   * the source of all its items, and the reels: before fulfilment the bulk SKUs of its cable types
   * (what would be cut), after it the cuts made (one statement either way).
   */
  ticketPage: { auth: 'session', max: 7 },
  /**
   * GET /tickets/:id of a request not yet fulfilled whose cable types have reels at its source: as
   * above, with what an approval would cut in two statements (the bulk SKUs of its types that have
   * pickable reels there, and the stock of those types there, counted lengths and bulk alike).
   */
  ticketPageCutFromReels: { auth: 'session', max: 8 },
  /**
   * GET /api/tickets/:id, bearer: auth, ticket with people, items, events, and once fulfilled the cuts
   * from reels of all its items with whether each reel was kept as an offcut (one statement, however
   * many items and cuts: the JSON lists the cuts per item and the offcuts to decide, DESIGN.md §13).
   */
  apiTicket: { auth: 'bearer', max: 5 },
  /**
   * POST /api/tickets, bearer: auth, the requester's and assignee's rows, then in one transaction BEGIN,
   * the ticket, its items, the audit event, the email and SMS (one insert), the ticket.created webhook
   * subscribers (one indexed read; the event and its deliveries are written only when there are some),
   * the counter, COMMIT. The answer is built from what the inserts returned: no read after the commit.
   */
  create: { auth: 'bearer', max: 10 },
  /** GET /api/dashboard/stats, bearer: auth, the counters table. */
  stats: { auth: 'bearer', max: 2 },
  /** GET /api/inventory/on-hand, bearer: auth, the stock table (one row per SKU, never the ledger). */
  onHand: { auth: 'bearer', max: 2 },
  /** GET /inventory, session: auth, the stock table, the locations (for the filter and the viewer's van). */
  inventoryPage: { auth: 'session', max: 3 },
  /** GET /api/optics-requests, bearer: auth, the page of requests with people. */
  opticsApi: { auth: 'bearer', max: 2 },
  /** GET /optics, session: auth, the page of requests, the parts list, the name last used on the form. */
  opticsPage: { auth: 'session', max: 4 },
  /** GET /api/notifications, admin bearer: auth, the page of the log. */
  notificationsApi: { auth: 'bearer', max: 2 },
  /** GET /admin/notifications, admin session: auth, the page of the log, the queue counts. */
  notificationsPage: { auth: 'session', max: 3 },
} as const;

let app: TestApp;
let api: Client;
let browser: Client;
let assignee: PublicUserRow;
let assigneeApi: Client;
let small: number;
let big: number;

test.before(async () => {
  app = await startApp();
  const cast = await buildCast(app, { maker: { browser: true }, approver: {} });
  ({ api, browser } = cast.maker);
  ({ user: assignee, api: assigneeApi } = cast.approver);
  // The first page after sign-in shows (and so rewrites the session to drop) the welcome flash:
  // take it now, so every counted page is an ordinary one.
  await browser.get('/tickets/new');
  const items = (n: number) =>
    Array.from({ length: n }, (_, k) => ({ cable_type: `Cat${k}`, cable_length: `${k + 1}m`, quantity: k + 1 }));
  // 50 tickets with 3 items each, in batches of 10.
  for (let batch = 0; batch < 5; batch++) {
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        createTicket(api, { assigned_to_id: assignee.id, location: `Row ${batch * 10 + i}`, items: items(3) }),
      ),
    );
  }
  // One ticket with 1 item and 1 event; one with 10 items and 10 events (created, 5 edits, 4 moves).
  small = (await createTicket(api, { assigned_to_id: assignee.id, items: items(1) })).id;
  big = (await createTicket(api, { assigned_to_id: assignee.id, items: items(10) })).id;
  for (let i = 0; i < 5; i++) {
    const res = await api.send('PATCH', `/api/tickets/${big}`, { location: `Moved ${i}` });
    if (res.status !== 200) throw new Error(`edit failed: ${res.status} ${res.text}`);
  }
  await driveTo(assigneeApi, big, 'fulfilled');
  const closed = await assigneeApi.send('PATCH', `/api/tickets/${big}`, { status: 'closed' });
  if (closed.status !== 200) throw new Error(`close failed: ${closed.status}`);
});
test.after.always(async () => {
  await app?.close();
});

interface Counted {
  reply: Reply;
  sql: string[];
}

/** The statements the app ran while answering one request. */
async function counted(request: () => Promise<Reply>): Promise<Counted> {
  const sql: string[] = [];
  const listener = (q: { sql: string }) => sql.push(q.sql);
  app.db.on('query', listener);
  try {
    const reply = await request();
    return { reply, sql };
  } finally {
    app.db.removeListener('query', listener);
  }
}

const show = (c: Counted) => `${c.sql.length} statements:\n${c.sql.join('\n')}`;

test.serial('the counted requests really were signed in the way the budget says', async (t) => {
  const bearer = await counted(() => api.send('GET', '/api/dashboard/stats'));
  t.is(bearer.reply.status, 200);
  t.true(
    bearer.sql.some((s) => /api_tokens/.test(s)),
    show(bearer),
  );
  t.false(
    bearer.sql.some((s) => /sessions/.test(s)),
    show(bearer),
  );
  const session = await counted(() => browser.get(`/tickets/${small}`));
  t.is(session.reply.status, 200);
  t.true(
    session.sql.some((s) => /sessions/.test(s)),
    show(session),
  );
  t.false(
    session.sql.some((s) => /api_tokens/.test(s)),
    show(session),
  );
  // The same route by session costs what it costs by token: the session row comes with its user.
  const bySession = await counted(() => browser.get('/api/dashboard/stats'));
  t.is(bySession.reply.status, 200);
  t.is(bySession.sql.length, bearer.sql.length, `${show(bySession)}\n---\n${show(bearer)}`);
  t.true(
    bySession.sql.some((s) => /sessions/.test(s) && /users/.test(s)),
    show(bySession),
  );
});

test.serial('GET /api/tickets: the same statements for 5 or 40 rows of 3 items, within budget', async (t) => {
  const five = await counted(() => api.send('GET', '/api/tickets?limit=5'));
  const forty = await counted(() => api.send('GET', '/api/tickets?limit=40'));
  t.is(five.reply.status, 200);
  t.is(five.reply.json.length, 5);
  t.is(forty.reply.json.length, 40);
  t.true(forty.reply.json.every((ticket: { items: unknown[] }) => ticket.items.length >= 1));
  t.is(forty.reply.json.filter((ticket: { items: unknown[] }) => ticket.items.length === 3).length, 38);
  t.is(five.sql.length, forty.sql.length, `${show(five)}\n---\n${show(forty)}`);
  t.true(forty.sql.length <= BUDGET.apiList.max, show(forty));

  // The next page (cursor) and filters cost the same.
  const next = forty.reply.headers.get('link')?.match(/<([^>]+)>/)?.[1];
  t.truthy(next);
  const page2 = await counted(() => api.send('GET', next as string));
  t.is(page2.reply.json.length, 12);
  t.is(page2.sql.length, forty.sql.length, show(page2));
  // A search's first use of a word on PostgreSQL asks the planner for its estimate (one EXPLAIN for the
  // word, one for the table; kept ten minutes, src/features/tickets/queries.ts planSearch). After that,
  // and always on SQLite, a search costs what the list costs.
  const search = '/api/tickets?filter=mine&status=pending_approval&q=row&limit=40';
  const first = await counted(() => api.send('GET', search));
  t.is(first.reply.json.length, 40);
  const estimates = first.sql.filter((s) => /^explain /.test(s));
  t.is(estimates.length, isPostgres(app.db) ? 2 : 0, show(first));
  t.is(first.sql.length - estimates.length, forty.sql.length, show(first));
  const again = await counted(() => api.send('GET', search));
  t.is(again.reply.json.length, 40);
  t.is(again.sql.length, forty.sql.length, show(again));
});

test.serial('the dashboard page: the same statements for 5 or 40 rows, within budget', async (t) => {
  const five = await counted(() => browser.get('/?limit=5'));
  const forty = await counted(() => browser.get('/?limit=40'));
  const twenty = await counted(() => browser.get('/'));
  t.is(five.reply.status, 200);
  t.is(five.reply.$('ul.tickets a.ticket-link').length, 5);
  t.is(forty.reply.$('ul.tickets a.ticket-link').length, 40);
  t.is(twenty.reply.$('ul.tickets a.ticket-link').length, 20);
  t.true(forty.reply.$('section.stats').length === 1 && forty.reply.$('form.ticket-form').length === 1);
  t.is(five.sql.length, forty.sql.length, `${show(five)}\n---\n${show(forty)}`);
  t.is(twenty.sql.length, forty.sql.length, show(twenty));
  t.true(forty.sql.length <= BUDGET.dashboard.max, show(forty));
});

test.serial(
  'the htmx list fragment and "Show older requests": the same statements for 5 or 40 rows, within budget',
  async (t) => {
    const hx = { 'HX-Request': 'true' };
    const five = await counted(() => browser.get('/?limit=5', hx));
    const forty = await counted(() => browser.get('/?filter=mine&limit=40', hx));
    t.is(five.reply.status, 200);
    t.false(five.reply.text.includes('<html'));
    t.is(five.reply.$('a.ticket-link').length, 5);
    t.is(forty.reply.$('a.ticket-link').length, 40);
    t.is(five.sql.length, forty.sql.length, `${show(five)}\n---\n${show(forty)}`);
    t.true(forty.sql.length <= BUDGET.listFragment.max, show(forty));

    const more = forty.reply.$('li.more a').attr('hx-get');
    t.truthy(more);
    const older = await counted(() => browser.get(more as string, hx));
    t.is(older.reply.$('a.ticket-link').length, 12);
    t.is(older.sql.length, forty.sql.length, show(older));
  },
);

test.serial('GET /tickets/:id: the same statements for 1 or 10 items and events, within budget', async (t) => {
  const one = await counted(() => browser.get(`/tickets/${small}`));
  const ten = await counted(() => browser.get(`/tickets/${big}`));
  t.is(one.reply.status, 200);
  t.is(ten.reply.status, 200);
  t.is(one.reply.$('#ticket table.items tbody tr').length, 1);
  t.is(one.reply.$('#ticket ol.timeline li').length, 1);
  t.is(ten.reply.$('#ticket table.items tbody tr').length, 10);
  t.is(ten.reply.$('#ticket ol.timeline li').length, 10);
  t.is(one.sql.length, ten.sql.length, `${show(one)}\n---\n${show(ten)}`);
  t.true(ten.sql.length <= BUDGET.ticketPage.max, show(ten));

  const fragment = await counted(() => browser.get(`/tickets/${big}`, { 'HX-Request': 'true' }));
  t.is(fragment.reply.$('#ticket ol.timeline li').length, 10);
  t.is(fragment.sql.length, ten.sql.length, show(fragment));
});

test.serial('GET /api/tickets/:id: within budget for 1 or 10 items and events; the cuts read only once fulfilled', async (t) => {
  const one = await counted(() => api.send('GET', `/api/tickets/${small}`));
  const ten = await counted(() => api.send('GET', `/api/tickets/${big}`));
  t.is(one.reply.json.items.length, 1);
  t.is(one.reply.json.events.length, 1);
  t.is(ten.reply.json.items.length, 10);
  t.is(ten.reply.json.events.length, 10);
  // small waits for approval: nothing was cut, so the cuts are not read; big was fulfilled: one statement.
  t.is(one.sql.length + 1, ten.sql.length, `${show(one)}\n---\n${show(ten)}`);
  t.true(ten.sql.length <= BUDGET.apiTicket.max, show(ten));
});

test.serial('GET /api/dashboard/stats: within budget, and not more with more tickets', async (t) => {
  const before = await counted(() => api.send('GET', '/api/dashboard/stats'));
  t.is(before.reply.status, 200);
  t.is(before.reply.json.total_tickets, 52);
  t.true(before.sql.length <= BUDGET.stats.max, show(before));
  await Promise.all(Array.from({ length: 10 }, () => createTicket(api, { assigned_to_id: assignee.id })));
  const after = await counted(() => api.send('GET', '/api/dashboard/stats'));
  t.is(after.reply.json.total_tickets, 62);
  t.is(after.sql.length, before.sql.length, show(after));
});

// ---- inventory, optics and the notification log ------------------------------------------------

test.serial('GET /api/inventory/on-hand and /inventory: the same statements for 3 or 30 SKUs, within budget', async (t) => {
  const admin = await createUser(app.db, { role: 'admin' });
  const adminApi = await tokenClient(app.url, admin.username);
  const receive = async (from: number, to: number) => {
    const items = Array.from({ length: to - from }, (_, k) => ({
      cable_type: `Cat${from + k}`,
      cable_length: '100ft',
      quantity: 10,
    }));
    const res = await adminApi.send('POST', '/api/cable-receiving', { vendor: 'Anixter', items });
    if (res.status !== 201) throw new Error(`receiving failed: ${res.status} ${res.text}`);
  };
  await receive(0, 3);
  const few = await counted(() => api.send('GET', '/api/inventory/on-hand'));
  const fewPage = await counted(() => browser.get('/inventory'));
  await receive(3, 30);
  const many = await counted(() => api.send('GET', '/api/inventory/on-hand'));
  const manyPage = await counted(() => browser.get('/inventory'));
  // Besides what the fulfilled ticket above took out of stock (shortfalls are on-hand rows too).
  t.is(many.reply.json.length - few.reply.json.length, 27);
  t.is(manyPage.reply.status, 200);
  t.is(few.sql.length, many.sql.length, `${show(few)}\n---\n${show(many)}`);
  t.true(many.sql.length <= BUDGET.onHand.max, show(many));
  t.false(
    many.sql.some((s) => /inventory_movements/.test(s)),
    show(many),
  );
  t.is(fewPage.sql.length, manyPage.sql.length, `${show(fewPage)}\n---\n${show(manyPage)}`);
  t.true(manyPage.sql.length <= BUDGET.inventoryPage.max, show(manyPage));
});

test.serial('GET /api/optics-requests and /optics: the same statements for 5 or 40 rows, within budget', async (t) => {
  for (let batch = 0; batch < 5; batch++) {
    await Promise.all(
      Array.from({ length: 9 }, () =>
        api.send('POST', '/api/optics-requests', { selected_part: 'SFP-10G-SR', quantity: 2, requester_name: 'Maker' }),
      ),
    );
  }
  const five = await counted(() => api.send('GET', '/api/optics-requests?limit=5'));
  const forty = await counted(() => api.send('GET', '/api/optics-requests?limit=40'));
  t.is(five.reply.json.length, 5);
  t.is(forty.reply.json.length, 40);
  t.is(five.sql.length, forty.sql.length, `${show(five)}\n---\n${show(forty)}`);
  t.true(forty.sql.length <= BUDGET.opticsApi.max, show(forty));

  const fivePage = await counted(() => browser.get('/optics?limit=5'));
  const fortyPage = await counted(() => browser.get('/optics?limit=40'));
  t.is(fivePage.reply.$('li.optics-row').length, 5);
  t.is(fortyPage.reply.$('li.optics-row').length, 40);
  t.is(fivePage.sql.length, fortyPage.sql.length, `${show(fivePage)}\n---\n${show(fortyPage)}`);
  t.true(fortyPage.sql.length <= BUDGET.opticsPage.max, show(fortyPage));
});

test.serial('GET /api/notifications and /admin/notifications: the same statements for 5 or 40 rows, within budget', async (t) => {
  const admin = await createUser(app.db, { role: 'admin' });
  const adminApi = await tokenClient(app.url, admin.username);
  const adminBrowser = await signedInClient(app.url, admin.username);
  await adminBrowser.get('/tickets/new');
  const five = await counted(() => adminApi.send('GET', '/api/notifications?limit=5'));
  const forty = await counted(() => adminApi.send('GET', '/api/notifications?limit=40'));
  t.is(five.reply.json.length, 5);
  t.is(forty.reply.json.length, 40);
  t.is(five.sql.length, forty.sql.length, `${show(five)}\n---\n${show(forty)}`);
  t.true(forty.sql.length <= BUDGET.notificationsApi.max, show(forty));

  const fivePage = await counted(() => adminBrowser.get('/admin/notifications?limit=5'));
  const fortyPage = await counted(() => adminBrowser.get('/admin/notifications?limit=40&channel=email'));
  t.is(fivePage.reply.status, 200);
  t.is(fortyPage.reply.status, 200);
  t.is(fivePage.sql.length, fortyPage.sql.length, `${show(fivePage)}\n---\n${show(fortyPage)}`);
  t.true(fortyPage.sql.length <= BUDGET.notificationsPage.max, show(fortyPage));
});

// Last: it adds tickets the lists above would count.
test.serial('POST /api/tickets: the same statements for 1 or 10 items, within budget, none after the commit', async (t) => {
  const items = (n: number) => Array.from({ length: n }, (_, k) => ({ cable_type: `Cat${k}`, cable_length: '1m', quantity: 1 }));
  const create = (n: number) =>
    counted(() => api.send('POST', '/api/tickets', { assigned_to_id: assignee.id, location: 'Counted', items: items(n) }));
  const one = await create(1);
  const ten = await create(10);
  t.is(one.reply.status, 201);
  t.is(ten.reply.status, 201);
  t.is(ten.reply.json.ticket.items.length, 10);
  t.is(one.sql.length, ten.sql.length, `${show(one)}\n---\n${show(ten)}`);
  t.true(one.sql.length <= BUDGET.create.max, show(one));
  t.regex(one.sql.at(-1) ?? '', /^commit/i, `the last statement is the commit:\n${show(one)}`);
});

// Last, so the tickets it files change no count above.
test.serial('GET /api/tickets/:id with cuts from reels: the same statements for 1 or 10 cut items, within budget', async (t) => {
  await buildReel(app, { cable_type: 'Budget bulk', length: '1000 ft' });
  const cut = async (items: { cable_type: string; cable_length: string; quantity: number }[]) => {
    const { id } = await createTicket(api, { assigned_to_id: assignee.id, items });
    await driveTo(assigneeApi, id, 'fulfilled');
    return id;
  };
  const oneId = await cut([{ cable_type: 'Budget bulk', cable_length: '10ft', quantity: 3 }]);
  const tenId = await cut(
    Array.from({ length: 10 }, (_, k) => ({ cable_type: 'Budget bulk', cable_length: `${k + 1}ft`, quantity: 2 })),
  );
  const one = await counted(() => assigneeApi.send('GET', `/api/tickets/${oneId}`));
  const ten = await counted(() => assigneeApi.send('GET', `/api/tickets/${tenId}`));
  t.deepEqual(
    one.reply.json.items.map((i: { cuts: unknown[] }) => i.cuts.length),
    [3],
  );
  t.deepEqual(
    ten.reply.json.items.map((i: { cuts: unknown[] }) => i.cuts.length),
    Array(10).fill(2),
  );
  t.is(one.sql.length, ten.sql.length, `${show(one)}\n---\n${show(ten)}`);
  t.true(ten.sql.length <= BUDGET.apiTicket.max, show(ten));
});

test.serial(
  'GET /tickets/:id of a pending request cut from reels: the same statements for 1 or 10 items, within budget',
  async (t) => {
    await buildReel(app, { cable_type: 'Pending bulk', length: '1000 ft' });
    const pending = async (n: number) =>
      (
        await createTicket(api, {
          assigned_to_id: assignee.id,
          items: Array.from({ length: n }, (_, k) => ({ cable_type: 'Pending bulk', cable_length: `${k + 1}ft`, quantity: 2 })),
        })
      ).id;
    const [oneId, tenId] = [await pending(1), await pending(10)];
    const one = await counted(() => browser.get(`/tickets/${oneId}`));
    const ten = await counted(() => browser.get(`/tickets/${tenId}`));
    t.is(one.reply.status, 200);
    // What would be cut shows before the approval: one line per item, each from the reels.
    t.is(ten.reply.$('#ticket table.items tbody tr').length, 10);
    t.regex(ten.reply.$('#ticket').text(), /from reels/i);
    t.is(one.sql.length, ten.sql.length, `${show(one)}\n---\n${show(ten)}`);
    t.true(ten.sql.length <= BUDGET.ticketPageCutFromReels.max, show(ten));
  },
);
