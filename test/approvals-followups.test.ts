import test from 'ava';
import { createDb, type Db, isPostgres } from '../src/db/index.ts';
import { runFollowUps } from '../src/features/approvals/service.ts';
import { createLogger } from '../src/logger.ts';
import { type TimedJob, TimedWork } from '../src/timed/runner.ts';
import { timedJobs } from '../src/worker.ts';
import { onPostgres, startApp, type TestApp } from './support/app.ts';
import { Client } from './support/client.ts';
import { buildCast, buildRequest, createUser, signedInClient } from './support/factories.ts';

/**
 * Reminders and escalation (DESIGN.md §15) with a fake clock: reminders every APPROVAL_REMIND_AFTER_HOURS
 * up to APPROVAL_REMIND_MAX, escalation once after APPROVAL_ESCALATE_AFTER_HOURS with a link of each
 * escalation approver's own, everything stopping at the decision, once per period across processes.
 */

const HOUR = 3_600_000;
const APP_URL = 'https://tickets.example.test';
const logger = createLogger('silent');

let app: TestApp;
let cast: Awaited<ReturnType<typeof castOf>>;
const castOf = (a: TestApp) =>
  buildCast(a, {
    boss: { role: 'admin' },
    tech: {},
    stock: { phone: '+12025550142' },
    escal: { phone: '+12025550177' },
  });

test.before(async () => {
  app = await startApp({
    APP_URL,
    APPROVAL_REMIND_AFTER_HOURS: '4',
    APPROVAL_REMIND_MAX: '3',
    APPROVAL_ESCALATE_AFTER_HOURS: '24',
    APPROVAL_ESCALATION_USERS: 'escal',
  });
  cast = await castOf(app);
});
test.after.always(async () => {
  await app?.close();
});

/**
 * A pending request and a clock starting when its link went out. The job looks at every pending
 * request, so the tests run one at a time and each deletes its request at the end.
 */
async function pendingRequest(t: { teardown(fn: () => Promise<void>): void }) {
  const start = Date.now();
  const request = await buildRequest(app, { creator: cast.tech.user, assignee: cast.stock.user });
  t.teardown(async () => {
    await cast.tech.api.send('DELETE', `/api/tickets/${request.id}`);
  });
  return { ...request, at: (hours: number) => new Date(start + hours * HOUR + 1000) };
}

const run = (now: Date) => runFollowUps(app.db, app.config, now);
const sent = (ticketId: number, type: string) =>
  app.db('notifications').where({ ticket_id: ticketId, notification_type: type }).orderBy('id');
const eventsOf = async (id: number) =>
  (await cast.boss.api.send('GET', `/api/tickets/${id}`)).json.events as { type: string; note: string }[];
const reviewPathIn = (text: string) => new URL(/https?:\/\/\S+\/review\/\S+/.exec(text)?.[0] as string).pathname;

test.serial('reminders: after 4 hours, every 4 hours, at most 3, each by email and SMS with a link that works', async (t) => {
  const r = await pendingRequest(t);
  const counts: number[] = [];
  for (const hours of [1, 3.9, 4, 4.5, 7.9, 8, 12, 16, 20, 23]) {
    await run(r.at(hours));
    counts.push((await sent(r.id, 'approval_reminder')).length / 2);
  }
  t.deepEqual(counts, [0, 0, 1, 1, 1, 2, 3, 3, 3, 3]);
  const row = await app.db('approval_followups').where({ ticket_id: r.id }).first();
  t.is(row.reminders_sent, 3);
  const events = (await eventsOf(r.id)).filter((e) => e.type === 'reminded').map((e) => e.note);
  t.deepEqual(events, ['Reminder 1 of 3 sent to stock.', 'Reminder 2 of 3 sent to stock.', 'Reminder 3 of 3 sent to stock.']);

  const messages = await sent(r.id, 'approval_reminder');
  const sms = messages.filter((m) => m.channel === 'sms');
  t.true(sms.every((m) => m.recipient_address === '+12025550142'));
  t.regex(
    sms[0].body_text,
    new RegExp(
      `^Reminder 1/3: #${r.id} from tech: .* Reply YES ${r.id} or NO ${r.id} reason\\. ${app.config.appUrl}/tickets/${r.id}/review/\\S+$`,
    ),
  );
  t.true(
    sms.every((m) => m.body_text.length <= 160),
    'one SMS segment each',
  );
  const mail = messages.find((m) => m.channel === 'email');
  t.regex(mail.subject, new RegExp(`^Reminder: cable request #${r.id} from tech needs your review$`));
  // Each reminder's link is the assignee's own, and so is the first one still.
  const page = await new Client(app.url).get(reviewPathIn(mail.body_text));
  t.is(page.status, 200);
  t.is(page.$('form.decision').length, 1);
  t.is((await new Client(app.url).get(r.reviewPath)).status, 200, 'the first link still works');
});

test.serial('reminders and escalation stop at the decision', async (t) => {
  const r = await pendingRequest(t);
  await run(r.at(4));
  t.is((await sent(r.id, 'approval_reminder')).length, 2);
  t.is((await new Client(app.url).postForm(r.reviewPath, { decision: 'approve' })).status, 200);
  for (const hours of [8, 12, 24, 30]) await run(r.at(hours));
  t.is((await sent(r.id, 'approval_reminder')).length, 2, 'no reminder after the decision');
  t.is((await sent(r.id, 'approval_escalated')).length, 0, 'no escalation after the decision');
});

test.serial(
  'a worker that was down sends one reminder, not the missed ones; a link sent again starts the count afresh',
  async (t) => {
    const r = await pendingRequest(t);
    await run(r.at(10));
    t.is((await sent(r.id, 'approval_reminder')).length, 2, 'one reminder (email and SMS) after 10 hours');
    t.like(await app.db('approval_followups').where({ ticket_id: r.id }).first(), { reminders_sent: 2 });
    // The creator sends the link again (here: as the app does, a new expiry), two hours later.
    const resentAt = r.at(12);
    await app
      .db('tickets')
      .where({ id: r.id })
      .update({
        approval_token_expires_at: new Date(resentAt.getTime() + app.config.approvalTokenTtlHours * HOUR).toISOString(),
      });
    await run(new Date(resentAt.getTime() + 3 * HOUR));
    t.is((await sent(r.id, 'approval_reminder')).length, 2, 'nothing due 3 hours after the new link');
    await run(new Date(resentAt.getTime() + 4 * HOUR));
    t.like(await app.db('approval_followups').where({ ticket_id: r.id }).first(), { reminders_sent: 1 });
    t.deepEqual(
      (await eventsOf(r.id)).filter((e) => e.type === 'reminded').map((e) => e.note),
      ['Reminder 2 of 3 sent to stock.', 'Reminder 1 of 3 sent to stock.'],
      'counted again from the new link',
    );
  },
);

test.serial(
  'escalation after 24 hours: once, to the escalation approvers, each with a link of their own; the first decision wins',
  async (t) => {
    const r = await pendingRequest(t);
    await run(r.at(23.9));
    t.is((await sent(r.id, 'approval_escalated')).length, 0);
    await run(r.at(24));
    await run(r.at(24.5));
    await run(r.at(48));
    const escalated = await sent(r.id, 'approval_escalated');
    t.deepEqual(
      escalated.map((m) => [m.channel, m.recipient_user_id]),
      [
        ['email', cast.escal.user.id],
        ['sms', cast.escal.user.id],
      ],
      'the configured approver only, once',
    );
    t.regex(escalated[0].subject, /^Waiting 24 hours: cable request #\d+ from tech needs your review$/);
    const events = (await eventsOf(r.id)).filter((e) => e.type === 'escalated');
    t.deepEqual(
      events.map((e) => e.note),
      ['Not decided in 24 hours: offered to escal as well.'],
    );

    const theirs = reviewPathIn(escalated[0].body_text);
    t.not(theirs, r.reviewPath);
    const page = await new Client(app.url).get(theirs);
    t.regex(page.$('main').text(), /Offered to you because stock has not decided it/);
    const decided = await new Client(app.url).postForm(theirs, { decision: 'reject', reason: 'Budget is frozen' });
    t.regex(decided.$('main .flash.success').text(), /now rejected/);
    const json = (await cast.boss.api.send('GET', `/api/tickets/${r.id}`)).json;
    const decision = json.events.find((e: { type: string }) => e.type === 'status_changed');
    t.like(decision, {
      actor: { username: 'escal' },
      acting_as: 'escalation',
      on_behalf_of: { username: 'stock' },
      via: 'review link',
    });
    // The assignee's link now says who decided and when.
    const assignee = await new Client(app.url).get(r.reviewPath);
    t.regex(assignee.$('main').text(), /already rejected by escal at \d{4}-\d\d-\d\d \d\d:\d\d UTC \(via review link\)/);
    const timeline = await (await signedInClient(app.url, 'boss')).get(`/tickets/${r.id}`);
    t.regex(
      timeline.$('#ticket').text().replace(/\s+/g, ' '),
      /escal moved it from Pending approval to Rejected for stock, as escalation approver/,
    );
  },
);

test.serial('escalation approvers default to the admins; the requester is never one', async (t) => {
  const other = await startApp({ APP_URL, APPROVAL_ESCALATE_AFTER_HOURS: '2', APPROVAL_REMIND_MAX: '0' });
  t.teardown(() => other.close());
  const [admin1, admin2, tech, stock] = [
    await createUser(other.db, { role: 'admin' }),
    await createUser(other.db, { role: 'admin' }),
    await createUser(other.db),
    await createUser(other.db),
  ];
  const mine = await buildRequest(other, { creator: admin2, assignee: stock });
  const theirs = await buildRequest(other, { creator: tech, assignee: stock });
  await runFollowUps(other.db, other.config, new Date(Date.now() + 2 * HOUR + 1000));
  const to = async (id: number) =>
    (await other.db('notifications').where({ ticket_id: id, notification_type: 'approval_escalated', channel: 'email' })).map(
      (m) => m.recipient_user_id,
    );
  t.deepEqual(await to(theirs.id), [admin1.id, admin2.id]);
  t.deepEqual(await to(mine.id), [admin1.id], 'not the admin who asked');
  t.is(
    await other
      .db('notifications')
      .where({ notification_type: 'approval_reminder' })
      .count({ n: '*' })
      .first()
      .then((r) => Number(r?.n)),
    0,
    'APPROVAL_REMIND_MAX=0: no reminders',
  );
});

/** A second "process": its own connection pool on the same database (PostgreSQL); the same handle on SQLite. */
function otherProcess(t: { teardown(fn: () => Promise<void>): void }): Db {
  if (!isPostgres(app.db)) return app.db;
  const db = createDb(
    { client: 'pg', url: process.env.TEST_DATABASE_URL as string },
    { schema: app.db.client.config.searchPath[0] },
  );
  t.teardown(() => db.destroy().catch(() => {}));
  return db;
}

test.serial('the follow-up job is in the worker’s timed work and runs once across two worker processes', async (t) => {
  const r = await pendingRequest(t);
  const jobOn = (db: Db) => timedJobs(db, app.config).find((j) => j.name === 'approvals.follow-ups') as TimedJob;
  t.truthy(jobOn(app.db));
  const one = new TimedWork({ db: app.db, logger, jobs: [jobOn(app.db)] });
  const two = new TimedWork({ db: otherProcess(t), logger, jobs: [jobOn(otherProcess(t))] });
  // The job's own schedule starts on first sight: reset it so this test's clock decides.
  await app.db('timed_runs').where({ name: 'approvals.follow-ups' }).delete();
  const ran = await Promise.all([one.runDue(r.at(4)), two.runDue(r.at(4))]);
  t.is(ran.flat().length, 1, 'one process ran it');
  t.is((await sent(r.id, 'approval_reminder')).length, 2, 'one reminder');
  // Both ask again when the next period is due: still one reminder per step.
  const again = await Promise.all([one.runDue(r.at(8)), two.runDue(r.at(8))]);
  t.is(again.flat().length, 1);
  t.is((await sent(r.id, 'approval_reminder')).length, 4);
  t.log(onPostgres ? 'two connection pools on PostgreSQL' : 'SQLite: one process');
});

test.serial('run(now) twice at the same moment, even at once, sends each step once', async (t) => {
  const r = await pendingRequest(t);
  await Promise.all([run(r.at(24)), run(r.at(24)), run(r.at(24))]);
  await run(r.at(24));
  t.is((await sent(r.id, 'approval_reminder')).length, 2);
  t.is((await sent(r.id, 'approval_escalated')).length, 2);
});
