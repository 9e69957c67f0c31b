import test from 'ava';
import twilio from 'twilio';
import { runFollowUps } from '../src/features/approvals/service.ts';
import { actingApprover } from '../src/features/users/service.ts';
import { startApp, type TestApp } from './support/app.ts';
import { Client } from './support/client.ts';
import { buildCast, buildPerson, type Person } from './support/factories.ts';
import { TWILIO_TOKEN } from './support/fake-providers.ts';
import { createTicket } from './support/tickets.ts';

/**
 * Delegation while away (DESIGN.md §15): set on the settings page or the API; loops refused with a
 * sentence; while it holds, new requests and reminders go to the delegate, who decides "for A, as
 * delegate" by link, ticket page, API or SMS.
 */

const APP_URL = 'https://tickets.example.test';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let app: TestApp;
let cast: Awaited<ReturnType<typeof castOf>>;
const castOf = (a: TestApp) =>
  buildCast(a, {
    tech: {},
    stock: { phone: '+12025550142' },
    deputy: { phone: '+12025550143', browser: true },
    boss: { role: 'admin' },
  });

test.before(async () => {
  app = await startApp({ APP_URL, TWILIO_AUTH_TOKEN: TWILIO_TOKEN });
  cast = await castOf(app);
});
test.after.always(async () => {
  await app?.close();
});

const iso = (ms: number) => new Date(ms).toISOString();
const away = (who: Person, delegate: string, from: number, until: number) =>
  who.api.send('PUT', '/api/me/delegation', { delegate, away_from: iso(from), away_until: iso(until) });

test('the API sets, shows and removes a delegation; bad ones are 400s naming the field', async (t) => {
  const me = await buildPerson(app);
  const now = Date.now();
  t.deepEqual((await me.api.send('GET', '/api/me/delegation')).json, { delegation: null });
  const set = await away(me, 'deputy', now - HOUR, now + DAY);
  t.is(set.status, 200, set.text);
  t.deepEqual(set.json.delegation, {
    delegate: { id: cast.deputy.user.id, username: 'deputy' },
    away_from: iso(now - HOUR),
    away_until: iso(now + DAY),
    active: true,
  });
  t.deepEqual((await me.api.send('GET', '/api/me/delegation')).json, set.json);
  // A day alone means the whole day (UTC).
  const days = await me.api.send('PUT', '/api/me/delegation', {
    delegate_id: cast.stock.user.id,
    away_from: '2099-01-10',
    away_until: '2099-01-12',
  });
  t.like(days.json.delegation, { away_from: '2099-01-10T00:00:00.000Z', away_until: '2099-01-13T00:00:00.000Z', active: false });

  const bad: [string, Record<string, unknown>, string][] = [
    ['themself', { delegate: me.user.username, away_from: iso(now), away_until: iso(now + DAY) }, 'delegate'],
    ['no such account', { delegate: 'nobody_here', away_from: iso(now), away_until: iso(now + DAY) }, 'delegate'],
    ['no delegate', { away_from: iso(now), away_until: iso(now + DAY) }, 'delegate'],
    ['ends before it starts', { delegate: 'deputy', away_from: iso(now + DAY), away_until: iso(now) }, 'away_until'],
    ['over', { delegate: 'deputy', away_from: iso(now - 2 * DAY), away_until: iso(now - DAY) }, 'away_until'],
    ['not a date', { delegate: 'deputy', away_from: 'next week', away_until: iso(now + DAY) }, 'away_from'],
    ['no such day', { delegate: 'deputy', away_from: '2099-02-30', away_until: '2099-03-02' }, 'away_from'],
  ];
  for (const [label, body, field] of bad) {
    const res = await me.api.send('PUT', '/api/me/delegation', body);
    t.is(res.status, 400, label);
    t.true(field in (res.json.fields ?? {}), `${label}: ${res.text}`);
  }
  const removed = await me.api.send('DELETE', '/api/me/delegation');
  t.is(removed.status, 200);
  t.deepEqual((await me.api.send('GET', '/api/me/delegation')).json, { delegation: null });
  t.is((await new Client(app.url).send('GET', '/api/me/delegation')).status, 401);
});

test('a delegation that would go round in a circle is refused with a sentence; a chain resolves', async (t) => {
  const [a, b, c] = [await buildPerson(app), await buildPerson(app), await buildPerson(app)];
  const now = Date.now();
  t.is((await away(a, b.user.username, now - HOUR, now + 3 * DAY)).status, 200);
  // b away at a time that overlaps a's, naming a: refused, naming a and the overlap.
  const loop = await away(b, a.user.username, now + DAY, now + 5 * DAY);
  t.is(loop.status, 409);
  t.regex(
    loop.json.error,
    new RegExp(`^${a.user.username} is away from .+ UTC with you as their delegate: requests would go round in a circle`),
  );
  // Not overlapping: fine.
  t.is((await away(b, a.user.username, now + 4 * DAY, now + 5 * DAY)).status, 200);
  // A longer circle: c -> a while a -> b and b -> c overlap.
  t.is((await away(b, c.user.username, now - HOUR, now + 2 * DAY)).status, 200);
  const longer = await away(c, a.user.username, now, now + DAY);
  t.is(longer.status, 409);
  t.regex(longer.json.error, /with you as their delegate/);
  // The chain a -> b -> c resolves to c while both are away.
  const acting = await actingApprover(app.db, a.user.id, new Date(now + HOUR));
  t.deepEqual(acting, { userId: c.user.id, chain: [a.user.id, b.user.id, c.user.id] });
  t.deepEqual(await actingApprover(app.db, a.user.id, new Date(now + 4 * DAY)), { userId: a.user.id, chain: [a.user.id] });
});

test('while the assignee is away, a new request is offered to the delegate, who decides it for them by link', async (t) => {
  const now = Date.now();
  const [assignee] = [await buildPerson(app, { phone: '+12025550150' })];
  t.is((await away(assignee, 'deputy', now - HOUR, now + DAY)).status, 200);
  const ticket = await createTicket(cast.tech.api, { assigned_to_id: assignee.user.id });
  t.is(ticket.assigned_to.id, assignee.user.id, 'the request stays with its assignee');
  const offers = await app
    .db('notifications')
    .where({ ticket_id: ticket.id, notification_type: 'approval_offered' })
    .orderBy('id');
  t.deepEqual(
    offers.map((o) => [o.channel, o.recipient_user_id]),
    [
      ['email', cast.deputy.user.id],
      ['sms', cast.deputy.user.id],
    ],
  );
  t.regex(offers[0].body_text, new RegExp(`${assignee.user.username} is away and named you their delegate`));
  t.regex(
    offers[1].body_text,
    new RegExp(`^For ${assignee.user.username}, away: #${ticket.id} .* Reply YES ${ticket.id} or NO ${ticket.id} reason\\. `),
  );
  const link = new URL(/https:\/\/\S+\/review\/\S+/.exec(offers[0].body_text)?.[0] as string).pathname;
  const page = await new Client(app.url).get(link);
  t.regex(page.$('main').text(), new RegExp(`You decide this request for ${assignee.user.username}, as their delegate`));
  await new Client(app.url).postForm(link, { decision: 'approve' });
  const json = (await cast.boss.api.send('GET', `/api/tickets/${ticket.id}`)).json;
  t.is(json.status, 'approved');
  const offered = json.events.find((e: { type: string }) => e.type === 'offered');
  t.like(offered, { actor: { username: 'deputy' }, acting_as: 'delegate', on_behalf_of: { username: assignee.user.username } });
  const decision = json.events.find((e: { type: string }) => e.type === 'status_changed');
  t.like(decision, { actor: { username: 'deputy' }, acting_as: 'delegate', on_behalf_of: { username: assignee.user.username } });
  // Offered once, even when the follow-ups run after.
  await runFollowUps(app.db, app.config, new Date(now + 2 * HOUR));
  t.is((await app.db('notifications').where({ ticket_id: ticket.id, notification_type: 'approval_offered' })).length, 2);
});

test('the delegate decides on the ticket page (with the "for A" timeline) and by API; not once the period is over', async (t) => {
  const now = Date.now();
  const assignee = await buildPerson(app);
  t.is((await away(assignee, 'deputy', now - HOUR, now + DAY)).status, 200);
  const first = await createTicket(cast.tech.api, { assigned_to_id: assignee.user.id });
  const page = await cast.deputy.browser.get(`/tickets/${first.id}`);
  t.regex(page.$('#ticket').text(), new RegExp(`${assignee.user.username} is away: you decide this request for them`));
  const res = await cast.deputy.browser.submit(`/tickets/${first.id}`, `/tickets/${first.id}/decision`, {
    decision: 'reject',
    reason: 'Not this week',
  });
  t.is(res.status, 303);
  const after = await cast.deputy.browser.get(`/tickets/${first.id}`);
  t.regex(
    after.$('#ticket ol.timeline').text().replace(/\s+/g, ' '),
    new RegExp(`deputy moved it from Pending approval to Rejected for ${assignee.user.username}, as delegate`),
  );

  const second = await createTicket(cast.tech.api, { assigned_to_id: assignee.user.id });
  t.is((await cast.deputy.api.send('POST', `/api/tickets/${second.id}/decision`, { decision: 'approve' })).status, 200);

  // Back: the delegate no longer decides.
  await assignee.api.send('DELETE', '/api/me/delegation');
  const third = await createTicket(cast.tech.api, { assigned_to_id: assignee.user.id });
  t.is((await cast.deputy.api.send('POST', `/api/tickets/${third.id}/decision`, { decision: 'approve' })).status, 403);
  t.is(
    (await cast.deputy.browser.get(`/tickets/${third.id}`)).$(`#ticket form[action="/tickets/${third.id}/decision"]`).length,
    0,
  );
});

test('reminders for an away assignee’s pending requests go to the delegate; SMS from the delegate decides', async (t) => {
  const now = Date.now();
  const ticket = await createTicket(cast.tech.api, { assigned_to_id: cast.stock.user.id });
  // stock goes away after the request was filed: the follow-ups offer it, and remind the delegate.
  t.is((await away(cast.stock, 'deputy', now, now + DAY)).status, 200);
  t.teardown(async () => {
    await cast.stock.api.send('DELETE', '/api/me/delegation');
  });
  await runFollowUps(app.db, app.config, new Date(now + HOUR));
  t.is(
    (
      await app
        .db('notifications')
        .where({ ticket_id: ticket.id, notification_type: 'approval_offered', recipient_user_id: cast.deputy.user.id })
    ).length,
    2,
  );
  await runFollowUps(app.db, app.config, new Date(now + 8 * HOUR + 60_000));
  const reminders = await app.db('notifications').where({ ticket_id: ticket.id, notification_type: 'approval_reminder' });
  t.true(reminders.length >= 2);
  t.true(reminders.every((r) => r.recipient_user_id === cast.deputy.user.id));
  t.regex(reminders.find((r) => r.channel === 'sms').body_text, /^Reminder \d\/3 \(for stock\): /);

  const fields = { From: '+12025550143', To: '+15005550006', Body: `YES ${ticket.id}` };
  const signature = twilio.getExpectedTwilioSignature(TWILIO_TOKEN, `${APP_URL}/api/twilio/sms`, fields);
  const sms = await new Client(app.url).postForm('/api/twilio/sms', fields, { 'X-Twilio-Signature': signature });
  t.regex(sms.$('Response > Message').text(), new RegExp(`Request #${ticket.id} approved`));
  const decision = (await cast.boss.api.send('GET', `/api/tickets/${ticket.id}`)).json.events.find(
    (e: { type: string }) => e.type === 'status_changed',
  );
  t.like(decision, { actor: { username: 'deputy' }, via: 'sms', acting_as: 'delegate', on_behalf_of: { username: 'stock' } });
});

test('the settings page sets and removes the delegate without JavaScript, and shows a refusal beside the form', async (t) => {
  const me = await buildPerson(app, { browser: true });
  const browser = me.browser as Client;
  const page = await browser.get('/settings');
  t.is(page.status, 200);
  t.regex(page.$('main').text(), /No delegate/);
  const saved = await browser.submit('/settings', '/settings/delegation', {
    delegate: 'deputy',
    away_from: '2099-05-01',
    away_until: '2099-05-03',
  });
  t.is(saved.status, 303);
  const shown = await browser.get('/settings');
  t.regex(shown.$('.flash.success').text(), /deputy decides requests assigned to you/);
  t.is(shown.$('input[name=away_until]').val(), '2099-05-03', 'the last day away, as typed');
  const bad = await browser.submit('/settings', '/settings/delegation', {
    delegate: me.user.username,
    away_from: '2099-05-01',
    away_until: '2099-05-03',
  });
  t.is(bad.status, 400);
  t.regex(bad.$('.field-error').text(), /cannot be yourself/);
  const cleared = await browser.submit('/settings', '/settings/delegation/clear', {});
  t.is(cleared.status, 303);
  t.regex((await browser.get('/settings')).$('main').text(), /No delegate/);
  const deputyPage = await cast.deputy.browser.get('/settings');
  t.is(deputyPage.status, 200);
});
