import test from 'ava';
import { changeStatus, editTicket, purgeTicket } from '../src/features/tickets/service.ts';
import { toPrincipal } from '../src/features/users/presenter.ts';
import type { PublicUserRow } from '../src/features/users/queries.ts';
import { HttpError } from '../src/http/errors.ts';
import { startApp, type TestApp } from './support/app.ts';
import { Client, type Reply } from './support/client.ts';
import { ticketCountMismatches } from './support/consistency.ts';
import { buildCast, reviewLinkFor, signedInClient } from './support/factories.ts';
import { createTicket, driveTo } from './support/tickets.ts';

/**
 * Several people acting on one ticket at the same moment, as real parallel HTTP requests
 * (DESIGN.md §4: exactly one wins, the others get 409, the audit trail shows one decision). The
 * tests run one after another so each owns the moment it measures; the requests inside each run at
 * once. On PostgreSQL the requests really overlap in the database (a pool of 10); on SQLite they
 * overlap in the app and queue for its one connection.
 */

const PARALLEL = 8;

let app: TestApp;
let adminUser: PublicUserRow;
let creatorUser: PublicUserRow;
let assigneeUser: PublicUserRow;
let creator: Client;
let assignee: Client;
let admin: Client;

test.before(async () => {
  app = await startApp();
  const cast = await buildCast(app, { boss: { role: 'admin' }, tech: {}, stock: {} });
  ({ user: adminUser, api: admin } = cast.boss);
  ({ user: creatorUser, api: creator } = cast.tech);
  ({ user: assigneeUser, api: assignee } = cast.stock);
});
test.after.always(async () => {
  await app?.close();
});

const newTicket = async (spec: Record<string, unknown> = {}) =>
  (await createTicket(creator, { assigned_to_id: assigneeUser.id, ...spec })).id as number;

const eventsOf = (id: number) => app.db('ticket_events').where({ ticket_id: id }).orderBy('id');
const decisions = async (id: number, type = 'status_changed') => (await eventsOf(id)).filter((e) => e.event_type === type);
const ticketRow = (id: number) => app.db('tickets').where({ id }).first();

/** How many replies had each status, e.g. {200: 1, 409: 7}. */
function tally(replies: Reply[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const r of replies) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return counts;
}

test.serial('eight approvals of one ticket at once (assignee and admin): one 200, seven 409, one decision', async (t) => {
  for (let round = 0; round < 3; round++) {
    const id = await newTicket();
    const replies = await Promise.all(
      Array.from({ length: PARALLEL }, (_, i) =>
        (i % 2 ? admin : assignee).send('PATCH', `/api/tickets/${id}`, { status: 'approved' }),
      ),
    );
    t.deepEqual(tally(replies), { 200: 1, 409: PARALLEL - 1 }, `round ${round}`);
    for (const r of replies.filter((x) => x.status === 409)) t.deepEqual(Object.keys(r.json), ['error']);
    t.is((await ticketRow(id)).status, 'approved');
    const made = await decisions(id);
    t.is(made.length, 1);
    t.like(made[0], { from_status: 'pending_approval', to_status: 'approved' });
    // The same single decision is what the API shows.
    const shown = (await creator.send('GET', `/api/tickets/${id}`)).json.events.filter(
      (e: { type: string }) => e.type === 'status_changed',
    );
    t.is(shown.length, 1);
  }
  t.deepEqual(await ticketCountMismatches(app.db), [], 'ticket_counts = GROUP BY status');
});

test.serial('approve against reject through the ticket page’s htmx forms: one wins, its fragment says so', async (t) => {
  const browser = await signedInClient(app.url, 'stock');
  for (let round = 0; round < 3; round++) {
    const id = await newTicket();
    const csrf = await browser.csrfFrom(`/tickets/${id}`);
    const wants = Array.from({ length: PARALLEL }, (_, i) => (i % 2 ? 'rejected' : 'approved'));
    const replies = await Promise.all(
      wants.map((status, i) =>
        browser.postForm(
          `/tickets/${id}/status`,
          { status, reason: `reason ${i}` },
          { 'HX-Request': 'true', 'X-CSRF-Token': csrf },
        ),
      ),
    );
    t.deepEqual(tally(replies), { 200: 1, 409: PARALLEL - 1 }, `round ${round}`);
    const winner = replies.findIndex((r) => r.status === 200);
    const won = wants[winner] as string;
    const row = await ticketRow(id);
    t.is(row.status, won);
    t.is(row.rejection_reason, won === 'rejected' ? `reason ${winner}` : null);
    t.is(replies[winner]?.$('#ticket .ticket-head .badge').first().text(), won === 'approved' ? 'Approved' : 'Rejected');
    for (const r of replies.filter((x) => x.status === 409))
      t.is(r.$('.alert.error').length, 1, 'the losers get the error fragment');
    const made = await decisions(id);
    t.is(made.length, 1);
    t.is(made[0]?.to_status, won);
  }
  t.deepEqual(await ticketCountMismatches(app.db), [], 'ticket_counts = GROUP BY status');
});

test.serial('two (and more) moves from in progress to fulfilled at once: one wins', async (t) => {
  for (let round = 0; round < 3; round++) {
    const id = await newTicket({
      items: [
        { cable_type: 'Cat6', cable_length: '100ft', quantity: 2 },
        { cable_type: 'OM4', cable_length: '5m', quantity: 1 },
      ],
    });
    await driveTo(assignee, id, 'in_progress');
    const replies = await Promise.all(
      Array.from({ length: PARALLEL }, (_, i) =>
        (i % 2 ? admin : assignee).send('PATCH', `/api/tickets/${id}`, { status: 'fulfilled' }),
      ),
    );
    t.deepEqual(tally(replies), { 200: 1, 409: PARALLEL - 1 }, `round ${round}`);
    t.is((await ticketRow(id)).status, 'fulfilled');
    const fulfils = (await decisions(id)).filter((e) => e.to_status === 'fulfilled');
    t.is(fulfils.length, 1);
  }
  // Fulfil against close: one of the two moves, never both.
  const id = await newTicket();
  await driveTo(assignee, id, 'in_progress');
  const replies = await Promise.all(
    Array.from({ length: PARALLEL }, (_, i) =>
      assignee.send('PATCH', `/api/tickets/${id}`, { status: i % 2 ? 'closed' : 'fulfilled' }),
    ),
  );
  const ok = replies.filter((r) => r.status === 200);
  // `closed` can follow `fulfilled`, so a close may legitimately win after a fulfil; nothing else.
  const row = await ticketRow(id);
  const moves = (await decisions(id)).filter((e) => e.from_status === 'in_progress' || e.from_status === 'fulfilled');
  t.is(moves.length, ok.length);
  t.true(ok.length === 1 || (ok.length === 2 && row.status === 'closed'), `${ok.length} won, now ${row.status}`);
  t.is(moves.filter((e) => e.from_status === 'in_progress').length, 1, 'one move out of in progress');
  t.true(replies.every((r) => r.status === 200 || r.status === 409));
  t.deepEqual(await ticketCountMismatches(app.db), [], 'ticket_counts = GROUP BY status');
});

test.serial('parallel POSTs to one review link: one decision event, every click gets a page', async (t) => {
  for (let round = 0; round < 3; round++) {
    const id = await newTicket();
    const pathname = (await reviewLinkFor(app, id)).reviewPath;
    const wants = Array.from({ length: PARALLEL }, (_, i) => (i % 3 === 2 ? 'reject' : 'approve'));
    const replies = await Promise.all(wants.map((decision) => new Client(app.url).postForm(pathname, { decision })));
    t.deepEqual(tally(replies), { 200: PARALLEL }, `round ${round}`);
    const done = replies.filter((r) => r.$('main .flash.success').length === 1);
    const already = replies.filter((r) => r.$('main .flash.info').text().includes('already'));
    t.is(done.length, 1, 'one click decided');
    t.is(already.length, PARALLEL - 1, 'the others are told it was already decided');
    const made = await decisions(id);
    t.is(made.length, 1);
    t.like(made[0], { via: 'review link', actor_user_id: assigneeUser.id });
    const winner = replies.indexOf(done[0] as Reply);
    t.is((await ticketRow(id)).status, wants[winner] === 'approve' ? 'approved' : 'rejected');
  }

  // The seed's JSON link routes race the same way: one decides, the rest are "already processed".
  const id = await newTicket();
  const { token } = await reviewLinkFor(app, id);
  const replies = await Promise.all(
    Array.from({ length: PARALLEL }, (_, i) =>
      new Client(app.url).send(i % 2 ? 'GET' : 'POST', `/api/tickets/${id}/${i % 4 < 2 ? 'approve' : 'reject'}/${token}`),
    ),
  );
  t.deepEqual(tally(replies), { 200: PARALLEL });
  t.is(replies.filter((r) => r.json.message === 'Ticket already processed').length, PARALLEL - 1);
  t.is((await decisions(id)).length, 1);
  t.deepEqual(await ticketCountMismatches(app.db), [], 'ticket_counts = GROUP BY status');
});

test.serial('thirty tickets created at once: thirty rows, and the stats count thirty more', async (t) => {
  const before = (await creator.send('GET', '/api/dashboard/stats')).json;
  const rowsBefore = Number(((await app.db('tickets').count({ n: '*' })) as { n: number | string }[])[0]?.n);
  const replies = await Promise.all(
    Array.from({ length: 30 }, (_, i) =>
      creator.send('POST', '/api/tickets', {
        assigned_to_id: assigneeUser.id,
        location: `Bay ${i}`,
        items: Array.from({ length: (i % 3) + 1 }, (__, k) => ({
          cable_type: `Type ${i}-${k}`,
          cable_length: '1m',
          quantity: k + 1,
        })),
      }),
    ),
  );
  t.deepEqual(tally(replies), { 201: 30 });
  const ids = replies.map((r) => r.json.ticket.id as number);
  t.is(new Set(ids).size, 30);
  const rowsAfter = Number(((await app.db('tickets').count({ n: '*' })) as { n: number | string }[])[0]?.n);
  t.is(rowsAfter - rowsBefore, 30);
  const items = await app.db('ticket_items').whereIn('ticket_id', ids).count({ n: '*' });
  t.is(Number((items as { n: number | string }[])[0]?.n), 60, '1 + 2 + 3 items, ten times');
  for (const [i, r] of replies.entries()) t.is(r.json.ticket.items.length, (i % 3) + 1);
  const created = await app.db('ticket_events').whereIn('ticket_id', ids).where({ event_type: 'created' }).count({ n: '*' });
  t.is(Number((created as { n: number | string }[])[0]?.n), 30);

  const after = (await creator.send('GET', '/api/dashboard/stats')).json;
  t.is(after.total_tickets - before.total_tickets, 30);
  t.is(after.pending_approval - before.pending_approval, 30);
  t.is(after.archived, before.archived);
  t.deepEqual(await ticketCountMismatches(app.db), [], 'ticket_counts = GROUP BY status');
});

test.serial(
  'the same ticket deleted at once: one 200, the others 409 or 410, one deleted event; restore and purge likewise',
  async (t) => {
    const id = await newTicket();
    await driveTo(assignee, id, 'approved');
    const deletes = await Promise.all(
      Array.from({ length: PARALLEL }, (_, i) => (i % 2 ? admin : creator).send('DELETE', `/api/tickets/${id}`)),
    );
    const counts = tally(deletes);
    t.is(counts[200], 1, JSON.stringify(counts));
    t.is((counts[409] ?? 0) + (counts[410] ?? 0), PARALLEL - 1, JSON.stringify(counts));
    t.like(await ticketRow(id), { status: 'deleted', status_before_delete: 'approved' });
    t.is((await decisions(id, 'deleted')).length, 1);
    t.deepEqual(await ticketCountMismatches(app.db), [], 'ticket_counts = GROUP BY status');

    const restores = await Promise.all(
      Array.from({ length: PARALLEL }, (_, i) => (i % 2 ? admin : creator).send('POST', `/api/tickets/${id}/restore`)),
    );
    t.deepEqual(tally(restores), { 200: 1, 409: PARALLEL - 1 });
    t.is((await ticketRow(id)).status, 'approved');
    t.is((await decisions(id, 'restored')).length, 1);
    t.deepEqual(await ticketCountMismatches(app.db), [], 'ticket_counts = GROUP BY status');

    t.is((await creator.send('DELETE', `/api/tickets/${id}`)).status, 200);
    const purges = await Promise.all(Array.from({ length: PARALLEL }, () => admin.send('DELETE', `/api/tickets/${id}/purge`)));
    const purged = tally(purges);
    t.is(purged[200], 1, JSON.stringify(purged));
    t.is((purged[404] ?? 0) + (purged[409] ?? 0), PARALLEL - 1, JSON.stringify(purged));
    t.is(await ticketRow(id), undefined);
    t.is((await eventsOf(id)).length, 0, 'the events went with it');
    t.is((await creator.send('GET', `/api/tickets/${id}?include_deleted=true`)).status, 404);
    t.deepEqual(await ticketCountMismatches(app.db), [], 'ticket_counts = GROUP BY status');
  },
);

/**
 * The service, called twice at once in one process: on SQLite this interleaves deterministically
 * (both reads, then both transactions), which parallel HTTP requests only sometimes do. The loser
 * finds out inside its transaction; it must answer 409 from there, not wait for a second connection
 * that SQLite's one-connection pool never frees.
 */
test.serial('a race lost inside a transaction is a clean 409 (purge against purge, edit against approve)', async (t) => {
  const settings = { appUrl: app.config.appUrl, approvalTokenTtlHours: app.config.approvalTokenTtlHours };
  const refusal = (r: PromiseSettledResult<unknown>) =>
    r.status === 'rejected' ? (r.reason instanceof HttpError ? r.reason.status : String(r.reason)) : 'ok';

  const purged = await newTicket();
  t.is((await creator.send('DELETE', `/api/tickets/${purged}`)).status, 200);
  const purges = await Promise.allSettled([
    purgeTicket(app.db, toPrincipal(adminUser), purged),
    purgeTicket(app.db, toPrincipal(adminUser), purged),
  ]);
  const purgeOutcomes = purges.map(refusal).sort();
  t.is(purgeOutcomes[1], 'ok', JSON.stringify(purgeOutcomes));
  t.true(purgeOutcomes[0] === 404 || purgeOutcomes[0] === 409, JSON.stringify(purgeOutcomes));
  t.is(await ticketRow(purged), undefined);

  const edited = await newTicket({ location: 'Before' });
  const outcomes = (
    await Promise.allSettled([
      changeStatus(app.db, toPrincipal(assigneeUser), edited, { status: 'approved' }, settings),
      editTicket(app.db, toPrincipal(creatorUser), edited, { location: 'After' }, settings),
    ])
  ).map(refusal);
  t.is(outcomes[0], 'ok');
  t.true(outcomes[1] === 'ok' || outcomes[1] === 409, JSON.stringify(outcomes));
  const row = await ticketRow(edited);
  t.is(row.status, 'approved');
  t.is(row.location, outcomes[1] === 'ok' ? 'After' : 'Before', 'an edit either happened before the approval or not at all');
  t.deepEqual(await ticketCountMismatches(app.db), [], 'ticket_counts = GROUP BY status');
});

test.serial('a mixed crowd on many tickets at once leaves ticket_counts equal to a GROUP BY of the tickets', async (t) => {
  const ids = await Promise.all(Array.from({ length: 6 }, () => newTicket()));
  const link = (await reviewLinkFor(app, ids[5] as number)).reviewPath;
  const requests: Promise<Reply>[] = [];
  for (const id of ids.slice(0, 5)) {
    requests.push(
      assignee.send('PATCH', `/api/tickets/${id}`, { status: 'approved' }),
      admin.send('PATCH', `/api/tickets/${id}`, { status: 'rejected', reason: 'no' }),
      creator.send('DELETE', `/api/tickets/${id}`),
      creator.send('PATCH', `/api/tickets/${id}`, { location: 'Edited meanwhile' }),
    );
  }
  requests.push(new Client(app.url).postForm(link, { decision: 'approve' }), creator.send('DELETE', `/api/tickets/${ids[5]}`));
  const replies = await Promise.all(requests);
  // Every reply is a success or a clean refusal; none is a server error.
  for (const r of replies) t.true([200, 403, 409, 410].includes(r.status), `${r.status} ${r.text.slice(0, 120)}`);
  for (const id of ids) {
    const row = await ticketRow(id);
    const evs = await eventsOf(id);
    // The events replay to the stored status: each one starts where the previous one ended.
    let status = 'pending_approval';
    for (const e of evs.filter((x) => x.from_status !== null || x.to_status !== null).slice(1)) {
      t.is(e.from_status, status, `ticket ${id}: ${JSON.stringify(evs)}`);
      status = e.to_status;
    }
    t.is(row.status, status, `ticket ${id}`);
  }
  t.deepEqual(await ticketCountMismatches(app.db), [], 'ticket_counts = GROUP BY status');
});
