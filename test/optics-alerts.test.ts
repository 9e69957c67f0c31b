import test from 'ava';
import { ConfigError, loadConfig } from '../src/config.ts';
import { type Db, isPostgres } from '../src/db/index.ts';
import type { PublicUserRow } from '../src/features/users/queries.ts';
import { startApp, type TestApp } from './support/app.ts';
import type { Client } from './support/client.ts';
import { createUser, tokenClient } from './support/factories.ts';

/**
 * Optics alerts through the outbox (DESIGN.md §6, issue #6): a new request emails OPTICS_ALERT_EMAILS
 * or else every admin; a decision emails the requester; the rows commit with their cause or not at all.
 */

interface World {
  app: TestApp;
  tech: Client;
  admin: Client;
  techUser: PublicUserRow;
  admins: PublicUserRow[];
}

async function world(env: Record<string, string> = {}): Promise<World> {
  const app = await startApp(env);
  const admins = [
    await createUser(app.db, { username: 'boss', email: 'Boss@Example.test', role: 'admin' }),
    await createUser(app.db, { username: 'chief', role: 'admin' }),
  ];
  const techUser = await createUser(app.db, { username: 'tech', email: 'tech@example.test' });
  await createUser(app.db, { username: 'bystander' });
  return { app, admins, techUser, tech: await tokenClient(app.url, 'tech'), admin: await tokenClient(app.url, 'boss') };
}

let plain: World;
let listed: World;

test.before(async () => {
  [plain, listed] = await Promise.all([
    world(),
    world({ OPTICS_ALERT_EMAILS: ' optics-desk@example.test, boss@example.test ,, Optics-Desk@example.test' }),
  ]);
});
test.after.always(async () => {
  await plain?.app.close();
  await listed?.app.close();
});

const GOOD = { selected_part: 'QSFP-100G-LR4', quantity: 2, requester_name: 'Maria G.' };

async function submit(w: World, body: Record<string, unknown> = {}) {
  const res = await w.tech.send('POST', '/api/optics-requests', { ...GOOD, ...body });
  if (res.status !== 201) throw new Error(`${res.status} ${res.text}`);
  return res.json.optics_request as { id: number };
}

const alertsFor = (w: World, id: number) => w.app.db('notifications').where({ optics_request_id: id }).orderBy('id');
const count = async (db: Db, table: string) => Number((await db(table).count({ n: '*' }).first())?.n);

test('unset OPTICS_ALERT_EMAILS: every admin gets one email, nobody else', async (t) => {
  const r = await submit(plain, { selected_part: 'Other', other_part: 'Finisar <FTLX>' });
  const rows = await alertsFor(plain, r.id);
  t.deepEqual(
    rows.map((n) => [n.recipient_user_id, n.recipient_address]),
    plain.admins.map((a) => [a.id, a.email]),
  );
  for (const row of rows) {
    t.like(row, { channel: 'email', notification_type: 'optics_request_submitted', status: 'queued', ticket_id: null });
    t.is(row.subject, `Optics request #${r.id} needs review: 2 x Finisar <FTLX> (Maria G.)`);
    t.regex(row.body_text, /Maria G\. \(tech\) asks for 2 x Finisar <FTLX>/);
    t.regex(row.body_text, /not on the parts list/);
    t.regex(row.body_text, new RegExp(`/optics/${r.id}$`, 'm'));
    t.true(row.body_html.includes('Finisar &lt;FTLX&gt;'), 'the HTML email escapes what was typed');
  }
});

test('OPTICS_ALERT_EMAILS set: exactly those addresses (deduplicated), and the account behind one is noted', async (t) => {
  t.deepEqual(listed.app.config.opticsAlertEmails, ['optics-desk@example.test', 'boss@example.test']);
  const r = await submit(listed);
  const rows = await alertsFor(listed, r.id);
  const boss = listed.admins[0] as PublicUserRow;
  t.deepEqual(
    rows.map((n) => [n.recipient_address, n.recipient_user_id]),
    [
      ['optics-desk@example.test', null],
      ['boss@example.test', boss.id],
    ],
  );
  t.true(rows.every((n) => n.notification_type === 'optics_request_submitted' && n.channel === 'email'));
  t.false(
    rows.some((n) => n.recipient_address === 'chief@example.test' || /chief/.test(n.recipient_address)),
    'other admins are not alerted when the list is set',
  );
});

test('a decision emails the requester; archiving emails no one', async (t) => {
  const approved = await submit(plain);
  await plain.admin.send('PATCH', `/api/optics-requests/${approved.id}/status`, {
    action: 'approve',
    admin_note: 'On order <soon>',
  });
  const denied = await submit(plain);
  await plain.admin.send('PATCH', `/api/optics-requests/${denied.id}/status`, { action: 'deny' });
  await plain.admin.send('PATCH', `/api/optics-requests/${denied.id}/status`, { action: 'archive', admin_note: 'tidy' });

  const decision = async (id: number) =>
    (await alertsFor(plain, id)).filter((n) => n.notification_type !== 'optics_request_submitted');
  const [approval] = await decision(approved.id);
  t.like(approval, {
    notification_type: 'optics_request_approved',
    channel: 'email',
    recipient_user_id: plain.techUser.id,
    recipient_address: 'tech@example.test',
    status: 'queued',
  });
  t.is(approval.subject, `Approved: your optics request #${approved.id} (2 x QSFP-100G-LR4)`);
  t.regex(approval.body_text, /was approved by boss\.\n\nNote: On order <soon>\n/);
  t.true(approval.body_html.includes('On order &lt;soon&gt;'));

  const denials = await decision(denied.id);
  t.is(denials.length, 1, 'the archive sent nothing');
  t.like(denials[0], { notification_type: 'optics_request_denied', recipient_address: 'tech@example.test' });
  t.regex(denials[0].subject, /^Denied: your optics request/);
  t.notRegex(denials[0].body_text, /Note:/);
});

/** Makes every insert into `table` fail (optionally only rows matching a SQL condition on NEW). */
async function breakInserts(db: Db, table: string, when = 'true'): Promise<() => Promise<void>> {
  const name = `fail_${table}`;
  if (isPostgres(db)) {
    await db.raw(`CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'test: insert into ${table} refused'; END $$`);
    await db.raw(`CREATE TRIGGER ${name} BEFORE INSERT ON ${table} FOR EACH ROW WHEN (${when}) EXECUTE FUNCTION ${name}()`);
    return async () => {
      await db.raw(`DROP TRIGGER ${name} ON ${table}`);
      await db.raw(`DROP FUNCTION ${name}()`);
    };
  }
  await db.raw(`CREATE TRIGGER ${name} BEFORE INSERT ON ${table} WHEN ${when === 'true' ? '1' : when}
    BEGIN SELECT RAISE(ABORT, 'test: insert into ${table} refused'); END`);
  return async () => {
    await db.raw(`DROP TRIGGER ${name}`);
  };
}

test.serial('same transaction: when the alert cannot be written, the request is not stored either', async (t) => {
  const { db } = plain.app;
  const before = { requests: await count(db, 'optics_requests'), events: await count(db, 'optics_request_events') };
  const repair = await breakInserts(db, 'notifications', "NEW.notification_type = 'optics_request_submitted'");
  try {
    const res = await plain.tech.send('POST', '/api/optics-requests', GOOD);
    t.is(res.status, 500);
    t.deepEqual(Object.keys(res.json), ['error']);
    t.false(res.text.includes('refused'), 'no database detail leaks');
  } finally {
    await repair();
  }
  t.is(await count(db, 'optics_requests'), before.requests);
  t.is(await count(db, 'optics_request_events'), before.events);
});

test.serial('same transaction: a failed insert after the alert leaves no alert behind', async (t) => {
  const { db } = plain.app;
  const before = { requests: await count(db, 'optics_requests'), notifications: await count(db, 'notifications') };
  const repair = await breakInserts(db, 'optics_request_events');
  try {
    t.is((await plain.tech.send('POST', '/api/optics-requests', GOOD)).status, 500);
  } finally {
    await repair();
  }
  t.is(await count(db, 'optics_requests'), before.requests);
  t.is(await count(db, 'notifications'), before.notifications, 'the alert rows were rolled back with the request');
  // And it works again once the database accepts the rows.
  const r = await submit(plain);
  t.is((await alertsFor(plain, r.id)).length, 2);
});

test.serial('same transaction: a decision whose email cannot be written does not happen', async (t) => {
  const { db } = plain.app;
  const r = await submit(plain);
  const repair = await breakInserts(db, 'notifications', "NEW.notification_type = 'optics_request_approved'");
  try {
    t.is((await plain.admin.send('PATCH', `/api/optics-requests/${r.id}/status`, { action: 'approve' })).status, 500);
  } finally {
    await repair();
  }
  const now = (await plain.tech.send('GET', `/api/optics-requests/${r.id}`)).json;
  t.is(now.status, 'pending');
  t.is(now.decided_by, null);
  t.is(now.events.length, 1, 'no audit row for the change that did not happen');
  t.is((await plain.admin.send('PATCH', `/api/optics-requests/${r.id}/status`, { action: 'approve' })).status, 200);
});

test('OPTICS_ALERT_EMAILS is validated at start, naming the variable and the bad entry', (t) => {
  const base = { NODE_ENV: 'test', SECRET_KEY: 'test-secret-key-0123456789abcdef' };
  const bad = t.throws(() => loadConfig({ ...base, OPTICS_ALERT_EMAILS: 'ops@example.test, not-an-address' }), {
    instanceOf: ConfigError,
  });
  t.regex(bad?.message ?? '', /OPTICS_ALERT_EMAILS/);
  t.regex(bad?.message ?? '', /not-an-address/);
  t.deepEqual(loadConfig(base).opticsAlertEmails, []);
  t.deepEqual(loadConfig({ ...base, OPTICS_ALERT_EMAILS: '' }).opticsAlertEmails, []);
  t.deepEqual(loadConfig({ ...base, OPTICS_ALERT_EMAILS: ' , ' }).opticsAlertEmails, []);
  t.deepEqual(loadConfig({ ...base, OPTICS_ALERT_EMAILS: 'a@example.test,b@example.test' }).opticsAlertEmails, [
    'a@example.test',
    'b@example.test',
  ]);
});
