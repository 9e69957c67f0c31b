import test from 'ava';
import { parseDatabaseUrl } from '../src/config.ts';
import { createDb, type Db } from '../src/db/index.ts';
import { Client } from './support/client.ts';
import { countBy, stockMismatches, ticketCountMismatches } from './support/consistency.ts';
import { registerThroughApi } from './support/factories.ts';
import { scratchDatabase } from './support/scratch-db.ts';
import { startServerProcess } from './support/server-process.ts';

/**
 * Crash safety (issue #9 §6): the real server process (src/main.ts, as `npm start` runs it, with
 * WORKER_IN_PROCESS=false) takes a burst of ticket creations and status changes (through to
 * fulfilled, which takes stock) and is killed with SIGKILL in the middle of it. After a restart on
 * the same database, every change that was acknowledged with a 2xx is there and consistent: the
 * ticket, its items, its audit events and its messages; ticket_counts equals a GROUP BY of the
 * tickets; stock equals the sum of the ledger. Nothing is half-written, acknowledged or not.
 * SQLite (a WAL file) in `npm run test:sqlite`, PostgreSQL (its own database) in `npm run test:pg`.
 */

const onPostgres = Boolean(process.env.TEST_DATABASE_URL);
const PATH = ['approved', 'in_progress', 'fulfilled'] as const;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('SIGKILL in a burst of creations and status changes: after a restart every acknowledged change is there and consistent', async (t) => {
  t.timeout(180_000);
  const database = await scratchDatabase(process.env.TEST_DATABASE_URL);
  t.teardown(() => database.drop());
  const env = { DATABASE_URL: database.url, APP_URL: 'https://tickets.example.test', RATE_LIMIT_AUTH_PER_MINUTE: '1000' };
  let server = await startServerProcess(env);
  t.teardown(() => {
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
  });

  // Accounts (the first is the admin), stock to fulfil from.
  const register = (username: string, phone?: string) => registerThroughApi(server.url, username, phone);
  const admin = await register('crash_admin');
  const tech = await register('crash_tech', '+12025550100');
  const stock = await register('crash_stock', '+12025550142');
  const client = (token: string) => new Client(server.url).withToken(token);
  const received = await client(admin.token).send('POST', '/api/cable-receiving', {
    vendor: 'Acme',
    items: [
      { cable_type: 'Cat6', cable_length: '100ft', quantity: 10_000 },
      { cable_type: 'OM4', cable_length: '3m', quantity: 10_000 },
    ],
  });
  t.is(received.status, 201);

  // The burst: each loop creates a ticket and walks it to fulfilled, recording what was acknowledged.
  const acked = new Map<number, { status: string; items: number }>();
  let killed = false;
  let unanswered = 0;
  /** Answers that came back wrong (a status other than the one expected): never, killed or not. */
  const wrongAnswers: string[] = [];
  class WrongAnswer extends Error {}
  const loop = async (n: number) => {
    while (!killed) {
      try {
        const items = [
          { cable_type: 'Cat6', cable_length: '100ft', quantity: 1 + (n % 3) },
          ...(n % 2 ? [{ cable_type: 'om4 ', cable_length: '3M', quantity: 2 }] : []),
        ];
        const created = await client(tech.token).send('POST', '/api/tickets', {
          assigned_to_id: stock.id,
          location: `Site ${n}`,
          items,
        });
        if (created.status !== 201) throw new WrongAnswer(`create: ${created.status} ${created.text}`);
        const id = created.json.ticket.id as number;
        acked.set(id, { status: 'pending_approval', items: items.length });
        for (const status of PATH) {
          const moved = await client(stock.token).send('PATCH', `/api/tickets/${id}`, { status });
          if (moved.status !== 200) throw new WrongAnswer(`move to ${status}: ${moved.status} ${moved.text}`);
          acked.set(id, { status, items: items.length });
        }
      } catch (err) {
        // A request cut off by the kill has no answer; one that was answered must have been right.
        if (err instanceof WrongAnswer) wrongAnswers.push(err.message);
        else unanswered += 1;
        if (!killed) await sleep(10);
      }
    }
  };
  const loops = Array.from({ length: 8 }, (_, n) => loop(n));
  // Kill once a good number of changes are through, in the middle of the traffic.
  const deadline = Date.now() + 30_000;
  while ([...acked.values()].filter((a) => a.status === 'fulfilled').length < 12 && Date.now() < deadline) await sleep(20);
  server.child.kill('SIGKILL');
  const exit = await server.exited;
  killed = true;
  await Promise.all(loops);
  t.is(exit.signal, 'SIGKILL');
  t.deepEqual(wrongAnswers, [], 'every answer before the kill was the expected one');
  t.true(acked.size >= 12, `${acked.size} tickets acknowledged before the kill`);

  // Restart on the same database: it serves, and everything acknowledged is there.
  const restarted = Date.now();
  server = await startServerProcess(env);
  const restartMs = Date.now() - restarted;
  const after = await client(tech.token).send('POST', '/api/tickets', {
    assigned_to_id: stock.id,
    location: 'After the crash',
    items: [{ cable_type: 'Cat6', cable_length: '100ft', quantity: 1 }],
  });
  t.is(after.status, 201, 'the restarted server takes requests (and the token from before still works)');

  const db: Db = createDb(parseDatabaseUrl(database.url), { poolMax: 2 });
  t.teardown(() => db.destroy());
  const tickets = new Map((await db('tickets').select('id', 'status')).map((r) => [Number(r.id), r.status as string]));
  const items = await countBy(db, 'ticket_items', 'ticket_id');
  const itemCount = new Map([...items].map(([id, n]) => [Number(id), n]));
  const events = await db('ticket_events').select('ticket_id', 'event_type', 'to_status');
  const eventsOf = (id: number) => events.filter((e) => Number(e.ticket_id) === id);
  const messages = await db('notifications').select('ticket_id', 'notification_type', 'channel');
  const messagesOf = (id: number) => messages.filter((m) => Number(m.ticket_id) === id);
  const consumption = await db('inventory_movements').where({ source_type: 'ticket_fulfillment' }).select('source_id');

  const problems: string[] = [];
  for (const [id, ack] of acked) {
    const status = tickets.get(id);
    if (!status) {
      problems.push(`#${id}: acknowledged (${ack.status}) but missing`);
      continue;
    }
    const order = ['pending_approval', ...PATH];
    if (order.indexOf(status) < order.indexOf(ack.status)) problems.push(`#${id}: acknowledged ${ack.status}, found ${status}`);
    if (itemCount.get(id) !== ack.items) problems.push(`#${id}: ${itemCount.get(id)} items, ${ack.items} sent`);
  }
  // Every ticket, acknowledged or not, is whole: what its status says happened, happened once.
  const MESSAGE_FOR: Record<string, string> = { approved: 'ticket_approved', fulfilled: 'ticket_fulfilled' };
  for (const [id, status] of tickets) {
    const reached = ['pending_approval', ...PATH].slice(0, ['pending_approval', ...PATH].indexOf(status) + 1);
    const evs = eventsOf(id);
    if (evs.filter((e) => e.event_type === 'created').length !== 1) problems.push(`#${id}: no single 'created' event`);
    for (const s of reached.slice(1)) {
      if (evs.filter((e) => e.to_status === s).length !== 1) problems.push(`#${id}: ${s} without exactly one audit event`);
      const type = MESSAGE_FOR[s];
      if (type && !messagesOf(id).some((m) => m.notification_type === type && m.channel === 'email')) {
        problems.push(`#${id}: ${s} without its ${type} email`);
      }
    }
    if (evs.some((e) => e.to_status && !reached.includes(e.to_status)))
      problems.push(`#${id}: an event past its status ${status}`);
    if (messagesOf(id).filter((m) => m.notification_type === 'ticket_created').length !== 2)
      problems.push(`#${id}: not 2 review messages`);
    if (!itemCount.get(id)) problems.push(`#${id}: no items`);
    const taken = consumption.filter((m) => Number(m.source_id) === id).length;
    if (taken !== (status === 'fulfilled' ? itemCount.get(id) : 0))
      problems.push(`#${id} (${status}): ${taken} consumption movements`);
  }
  t.deepEqual(problems, []);

  // Counters and stock agree with the rows they summarise.
  t.deepEqual(await ticketCountMismatches(db), [], 'ticket_counts = GROUP BY status');
  t.deepEqual(await stockMismatches(db), [], 'stock = the sum of the ledger');

  const fulfilled = [...acked.values()].filter((a) => a.status === 'fulfilled').length;
  t.log(
    `${onPostgres ? 'PostgreSQL' : 'SQLite (WAL)'}: ${acked.size} tickets acknowledged (${fulfilled} fulfilled), ` +
      `${tickets.size - 1} in the database after the kill, ${unanswered} requests cut off; restart took ${restartMs} ms`,
  );
  server.child.kill('SIGTERM');
  await server.exited;
});
