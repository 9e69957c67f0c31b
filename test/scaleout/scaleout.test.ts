import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import type { Knex } from 'knex';
import { issueApiToken } from '../../src/features/auth/service.ts';
import { LEASE_MS } from '../../src/lib/claim-loop.ts';
import { projectRoot } from '../../src/paths.ts';
import { type Cluster, startCluster } from '../support/cluster.ts';
import { createUser, PASSWORD } from '../support/factories.ts';
import { TWILIO_TOKEN } from '../support/fake-providers.ts';
import { scratchDatabase } from '../support/scratch-db.ts';
import { Traffic } from './traffic.ts';

/**
 * Many machines, one PostgreSQL (issue #26): HAProxy round-robin in front of three web processes,
 * two workers, everything through PgBouncer in transaction mode with prepared statements off, on one
 * PostgreSQL. Seeded mixed traffic from many simulated users for TRAFFIC_SECONDS while one web process
 * and one worker are killed (SIGKILL) and started again, and PgBouncer is restarted. Afterwards the
 * invariants: every acknowledged write is there, nothing doubled, every message delivered, limits
 * shared, sessions and CSRF across replicas, timed work once per period, 5xx only in the fault windows.
 */

const TRAFFIC_SECONDS = Number(process.env.SCALEOUT_SECONDS ?? 60);
const RATE_LIMIT = 12;
/** When each fault happens, in seconds after the traffic starts, and how long it may show (5xx). */
const FAULTS = {
  webKill: { at: 0.25, restartAfter: 5 },
  workerKill: { at: 0.45, restartAfter: 5 },
  poolerRestart: { at: 0.7 },
};
const FAULT_WINDOW_MS = 8_000;
/** A claim this old belongs to the killed worker: the fake providers answer in milliseconds. */
const STALE_CLAIM_MS = 30_000;

let scratchDb: { url: string; drop(): Promise<void> } | undefined;
let cluster: Cluster | undefined;
test.before(async () => {
  const base = process.env.TEST_DATABASE_URL;
  if (!base) throw new Error('the scale-out test needs PostgreSQL: run it as npm run test:scaleout');
  const missing = ['haproxy', 'pgbouncer'].filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
  if (missing.length) throw new Error(`the scale-out test needs ${missing.join(' and ')}: apt-get install ${missing.join(' ')}`);
  scratchDb = await scratchDatabase(base);
  cluster = await startCluster({
    databaseUrl: scratchDb.url,
    webs: 3,
    workers: 2,
    env: { RATE_LIMIT_AUTH_PER_MINUTE: String(RATE_LIMIT), RATE_LIMIT_LINK_PER_MINUTE: '100000' },
  });
});
test.after.always(async () => {
  await cluster?.stop().catch(() => {});
  await scratchDb?.drop().catch(() => {});
});

test.serial('replicas behind HAProxy and PgBouncer: faults during mixed traffic keep every invariant', async (t) => {
  const c = cluster as Cluster;
  // The people: technicians file requests, approvers decide and fulfil; all with API tokens made
  // here, and two of them also in a browser (cookie session through the balancer).
  const admin = await createUser(c.db, { username: 'so_admin', role: 'admin', phone: '+12025550199' });
  const techs = await Promise.all(
    Array.from({ length: 8 }, (_, i) => createUser(c.db, { username: `so_tech${i}`, phone: `+1202555${String(1000 + i)}` })),
  );
  const approvers = await Promise.all(
    Array.from({ length: 3 }, (_, i) => createUser(c.db, { username: `so_stock${i}`, phone: `+1202555${String(2000 + i)}` })),
  );
  const token = async (id: number) => (await issueApiToken(c.db, id, 3600)).access_token;

  const traffic = new Traffic({
    url: c.url,
    seed: 20261207,
    twilioToken: TWILIO_TOKEN,
    providers: c.providers,
    techs: await Promise.all(techs.map(async (u) => ({ user: u, token: await token(u.id) }))),
    approvers: await Promise.all(approvers.map(async (u) => ({ user: u, token: await token(u.id) }))),
    browserPassword: PASSWORD,
  });
  // Two of them in a browser: signed in first (the limit below is per client address too, and every
  // request comes through the balancer from one address).
  await traffic.signInBrowsers();

  // ---- limits hold across replicas: one account's wrong passwords, round robin over three processes
  const attempts = await Promise.all(
    Array.from({ length: RATE_LIMIT * 3 }, () =>
      fetch(`${c.url}/api/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: admin.username, password: 'not the password' }),
      }).then((r) => r.status),
    ),
  );
  const allowed = attempts.filter((s) => s !== 429).length;
  t.true(
    allowed <= RATE_LIMIT,
    `${allowed} of ${attempts.length} sign-in attempts got through: the allowance is ${RATE_LIMIT} in all`,
  );
  t.true(attempts.filter((s) => s === 429).length >= RATE_LIMIT * 2, 'the rest were refused');

  // ---- the faults, on a schedule, while the traffic runs
  const ms = TRAFFIC_SECONDS * 1000;
  const faults: { name: string; at: number }[] = [];
  const schedule = async () => {
    const since = Date.now();
    const until = (fraction: number) => new Promise((r) => setTimeout(r, Math.max(0, fraction * ms - (Date.now() - since))));
    await until(FAULTS.webKill.at);
    faults.push({ name: 'web2 killed', at: traffic.elapsed() });
    await c.webs[1]?.kill();
    await new Promise((r) => setTimeout(r, FAULTS.webKill.restartAfter * 1000));
    await c.webs[1]?.start();
    faults.push({ name: 'web2 back', at: traffic.elapsed() });
    await until(FAULTS.workerKill.at);
    faults.push({ name: 'worker1 killed', at: traffic.elapsed() });
    await c.workers[0]?.kill();
    await new Promise((r) => setTimeout(r, FAULTS.workerKill.restartAfter * 1000));
    await c.workers[0]?.start();
    faults.push({ name: 'worker1 back', at: traffic.elapsed() });
    await until(FAULTS.poolerRestart.at);
    faults.push({ name: 'pgbouncer restarted', at: traffic.elapsed() });
    await c.bouncer.kill();
    await c.bouncer.start();
    faults.push({ name: 'pgbouncer back', at: traffic.elapsed() });
  };
  const faultsDone = schedule();
  traffic.holdUntil(faultsDone, FAULT_WINDOW_MS);
  await Promise.all([traffic.run(ms), faultsDone]);
  const trafficMs = traffic.elapsed();

  // ---- drain: the workers deliver what the traffic queued. The killed worker's claims stay
  // `sending` until their lease (LEASE_MS, minutes) runs out; rather than wait, the lease is made to
  // pass for claims older than any live send here (STALE_CLAIM_MS), and the other worker takes them.
  const count = async (q: (b: Knex.QueryBuilder) => void) =>
    Number(((await c.db('notifications').where(q).count({ n: '*' }).first()) as { n: string }).n);
  const staleBefore = () => new Date(Date.now() - STALE_CLAIM_MS).toISOString();
  const busy = () =>
    count((b) =>
      b.where('status', 'queued').orWhere((s) => s.where('status', 'sending').where('locked_at', '>=', staleBefore())),
    );
  const drain = async (open: () => Promise<number>) => {
    for (let i = 0; i < 600 && (await open()) > 0; i++) await new Promise((r) => setTimeout(r, 100));
  };
  await drain(busy);
  const leaseRanOut = await c
    .db('notifications')
    .where('status', 'sending')
    .where('locked_at', '<', staleBefore())
    .update({ locked_at: new Date(Date.now() - LEASE_MS - 60_000).toISOString() });
  await drain(() => count((b) => b.whereIn('status', ['queued', 'sending'])));

  const report = await traffic.report();
  const checks = await invariants(c, traffic);
  const fiveXx = report.failures;
  const windows = faults.filter((f) => /killed|restarted/.test(f.name)).map((f) => f.at);
  const outside = fiveXx.filter((f) => !windows.some((w) => f.at >= w - 500 && f.at <= w + FAULT_WINDOW_MS));

  // ---- the invariants
  t.true(report.acked.creates > 50, `${report.acked.creates} requests were acknowledged`);
  t.deepEqual(checks.missingCreates, [], 'every acknowledged request is stored');
  t.deepEqual(checks.doubled, [], 'no request was filed twice');
  t.deepEqual(checks.lostDecisions, [], 'every acknowledged decision holds');
  t.deepEqual(checks.lostFulfilments, [], 'every acknowledged fulfilment holds');
  t.deepEqual(checks.wrongConsumption, [], 'each fulfilled request took its cable once, the others none');
  t.deepEqual(checks.undelivered, [], 'every message was delivered');
  t.true(
    checks.duplicateSends <= 2 * 25,
    `${checks.duplicateSends} messages were sent twice: at most a killed worker's claims in flight`,
  );
  t.deepEqual(report.sessionRefusals, [], 'sessions and CSRF tokens work on every replica');
  t.deepEqual(
    checks.timedRuns,
    checks.timedRuns.map((r) => ({ ...r, runs: 1 })),
    'each timed job ran once in its period',
  );
  t.deepEqual(outside, [], '5xx only while a process was down or the pooler restarting');

  // Each fault window's failures by what they were: a status (502 from HAProxy, 503 from the app
  // while PgBouncer restarts) or 0 (the connection dropped), and the operation.
  const byWindow = faults
    .filter((f) => /killed|restarted/.test(f.name))
    .map((f) => ({
      fault: f.name,
      failures: fiveXx
        .filter((x) => x.at >= f.at - 500 && x.at <= f.at + FAULT_WINDOW_MS)
        .map((x) => `${x.op} ${x.status} at +${x.at - f.at} ms`),
    }));
  const figures = { trafficMs, leaseRanOut, faults, counts: report.counts, failures: byWindow, checks };
  writeResults(figures);
  t.log(
    JSON.stringify({
      trafficMs,
      leaseRanOut,
      ...report.counts,
      failures: fiveXx.length,
      duplicateSends: checks.duplicateSends,
      faults,
    }),
  );
});

interface Invariants {
  missingCreates: string[];
  doubled: string[];
  lostDecisions: string[];
  lostFulfilments: string[];
  wrongConsumption: string[];
  undelivered: string[];
  duplicateSends: number;
  timedRuns: { name: string; runs: number }[];
}

async function invariants(c: Cluster, traffic: Traffic): Promise<Invariants> {
  const tickets = (await c.db('tickets').select('id', 'notes', 'status')) as {
    id: number;
    notes: string | null;
    status: string;
  }[];
  const byMarker = new Map<string, number[]>();
  for (const row of tickets) if (row.notes) byMarker.set(row.notes, [...(byMarker.get(row.notes) ?? []), row.id]);
  const status = new Map(tickets.map((r) => [r.id, r.status]));
  const missingCreates = [...traffic.created].filter(([marker, id]) => !byMarker.get(marker)?.includes(id)).map(([m]) => m);
  const doubled = [...byMarker].filter(([, ids]) => ids.length > 1).map(([m, ids]) => `${m}: ${ids.join(', ')}`);
  const decided = new Set(['approved', 'in_progress', 'fulfilled', 'closed', 'rejected']);
  const lostDecisions = [...traffic.decided].filter(([id]) => !decided.has(status.get(id) ?? '')).map(([id]) => `#${id}`);
  const lostFulfilments = [...traffic.fulfilled].filter((id) => status.get(id) !== 'fulfilled').map((id) => `#${id}`);
  const consumed = (await c
    .db('inventory_movements')
    .where({ source_type: 'ticket_fulfillment' })
    .select('source_id')
    .count({ n: '*' })
    .groupBy('source_id')) as { source_id: number; n: string }[];
  const items = (await c.db('ticket_items').select('ticket_id').count({ n: '*' }).groupBy('ticket_id')) as {
    ticket_id: number;
    n: string;
  }[];
  const itemCount = new Map(items.map((r) => [Number(r.ticket_id), Number(r.n)]));
  const consumedCount = new Map(consumed.map((r) => [Number(r.source_id), Number(r.n)]));
  const wrongConsumption = tickets
    .filter((r) => (consumedCount.get(r.id) ?? 0) !== (r.status === 'fulfilled' ? (itemCount.get(r.id) ?? 0) : 0))
    .map((r) => `#${r.id} ${r.status}: ${consumedCount.get(r.id) ?? 0} movements`);
  // Every message not sent, by status, kind and reason (none expected).
  const undelivered = (
    (await c
      .db('notifications')
      .whereNot({ status: 'sent' })
      .select('status', 'channel', 'notification_type', 'error_message')
      .count({ n: '*' })
      .groupBy('status', 'channel', 'notification_type', 'error_message')) as Record<string, string>[]
  ).map((r) => `${r.n} ${r.status} ${r.channel} ${r.notification_type}${r.error_message ? `: ${r.error_message}` : ''}`);
  // Resend: a repeat of a row's idempotency key is a second send of that row; Twilio: the same text to the same number.
  const resend = c.providers.of('resend');
  const twilioSends = c.providers.of('twilio').map((r) => `${r.body.To} ${r.body.Body}`);
  const duplicateSends = resend.filter((r) => r.replayed).length + (twilioSends.length - new Set(twilioSends).size);
  const timedRuns = (await c.db('timed_runs').select('name', 'runs').orderBy('name')).map((r) => ({
    name: r.name as string,
    runs: Number(r.runs),
  }));
  return { missingCreates, doubled, lostDecisions, lostFulfilments, wrongConsumption, undelivered, duplicateSends, timedRuns };
}

function writeResults(figures: object): void {
  const dir = path.join(projectRoot, process.env.SCALEOUT_RESULTS ? 'bench/results' : 'bench/tmp');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${new Date().toISOString().slice(0, 10)}-scaleout.json`);
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        host: `${os.hostname()} (${os.cpus().length} CPUs, load average ${os
          .loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')})`,
        at: new Date().toISOString(),
        seconds: TRAFFIC_SECONDS,
        ...figures,
      },
      null,
      2,
    )}\n`,
  );
}
