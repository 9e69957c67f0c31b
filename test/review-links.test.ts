import test from 'ava';
import { RESEND_LINK_AFTER_MS } from '../src/features/tickets/service.ts';
import type { PublicUserRow } from '../src/features/users/queries.ts';
import { startApp, type TestApp } from './support/app.ts';
import { Client } from './support/client.ts';
import { buildCast, createUser, reviewLinkFor, signedInClient, tokenClient } from './support/factories.ts';
import { createTicket } from './support/tickets.ts';

let app: TestApp;
let creator: Client;
let anonymous: Client;
let assigneeUser: PublicUserRow;

test.before(async () => {
  app = await startApp({ APPROVAL_TOKEN_TTL_HOURS: '2' });
  const cast = await buildCast(app, { chief: { role: 'admin' }, tech: {}, stock: {} });
  assigneeUser = cast.stock.user;
  creator = cast.tech.api;
  anonymous = new Client(app.url);
});
test.after.always(async () => {
  await app?.close();
});

/** A pending ticket and a working review link for it. */
async function ticketWithLink() {
  const ticket = await createTicket(creator, { assigned_to_id: assigneeUser.id });
  const { reviewUrl: url, token, reviewPath: path } = await reviewLinkFor(app, ticket.id);
  return { ticket, url, token, path };
}

const statusOf = async (id: number) => (await creator.send('GET', `/api/tickets/${id}?include_deleted=true`)).json.status;
const eventsOf = async (id: number) => (await creator.send('GET', `/api/tickets/${id}?include_deleted=true`)).json.events;

test('the review URL is built from APP_URL, carries a 256-bit token, and only its hash is stored', async (t) => {
  const { ticket, url, token } = await ticketWithLink();
  t.true(url.startsWith(`${app.config.appUrl}/tickets/${ticket.id}/review/`));
  t.regex(token, /^[A-Za-z0-9_-]{43}$/);
  const row = await app.db('tickets').where({ id: ticket.id }).first();
  t.not(row.approval_token_hash, token);
  t.regex(row.approval_token_hash, /^[0-9a-f]{64}$/);
  const expires = new Date(row.approval_token_expires_at).getTime();
  t.true(Math.abs(expires - (Date.now() + 2 * 3_600_000)) < 60_000, 'APPROVAL_TOKEN_TTL_HOURS is honoured');
});

test('the JSON approve link decides once; later calls say it was already processed', async (t) => {
  const { ticket, token } = await ticketWithLink();
  const first = await anonymous.send('GET', `/api/tickets/${ticket.id}/approve/${token}`);
  t.is(first.status, 200);
  t.is(first.json.status, 'approved');
  t.false(first.text.includes(token), 'the token is never echoed');
  const again = await anonymous.send('POST', `/api/tickets/${ticket.id}/approve/${token}`);
  t.is(again.status, 200);
  t.deepEqual(again.json, { message: 'Ticket already processed', status: 'approved' });
  const reject = await anonymous.send('GET', `/api/tickets/${ticket.id}/reject/${token}`);
  t.deepEqual(reject.json, { message: 'Ticket already processed', status: 'approved' });
  const decisions = (await eventsOf(ticket.id)).filter((e: { type: string }) => e.type === 'status_changed');
  t.is(decisions.length, 1);
  t.like(decisions[0], { via: 'review link', actor: { id: assigneeUser.id, username: 'stock' }, to_status: 'approved' });
});

test('the JSON reject link takes a reason from the query string or the body', async (t) => {
  const a = await ticketWithLink();
  const byQuery = await anonymous.send('GET', `/api/tickets/${a.ticket.id}/reject/${a.token}?reason=No%20stock`);
  t.is(byQuery.status, 200);
  t.is(byQuery.json.ticket.rejection_reason, 'No stock');
  const b = await ticketWithLink();
  const byBody = await anonymous.send('POST', `/api/tickets/${b.ticket.id}/reject/${b.token}`, { reason: 'Wrong building' });
  t.is(byBody.status, 200);
  t.is(byBody.json.ticket.rejection_reason, 'Wrong building');
  t.is(await statusOf(b.ticket.id), 'rejected');
});

test('a wrong token is 403 and changes nothing', async (t) => {
  const { ticket, token } = await ticketWithLink();
  const wrong = `${token.slice(0, -2)}AA`;
  for (const path of [`/api/tickets/${ticket.id}/approve/${wrong}`, `/api/tickets/${ticket.id}/reject/x`]) {
    const res = await anonymous.send('GET', path);
    t.is(res.status, 403);
    t.is(typeof res.json.error, 'string');
  }
  const otherTicket = await ticketWithLink();
  t.is(
    (await anonymous.send('GET', `/api/tickets/${otherTicket.ticket.id}/approve/${token}`)).status,
    403,
    'a token works only for its ticket',
  );
  t.is((await anonymous.send('GET', `/api/tickets/999999/approve/${token}`)).status, 404);
  t.is(await statusOf(ticket.id), 'pending_approval');
});

test('a new link replaces the old one', async (t) => {
  const { ticket, token } = await ticketWithLink();
  const newer = (await reviewLinkFor(app, ticket.id)).reviewUrl;
  t.is((await anonymous.send('GET', `/api/tickets/${ticket.id}/approve/${token}`)).status, 403);
  const ok = await anonymous.send(
    'GET',
    new URL(newer).pathname.replace('/review/', '/approve/').replace('/tickets/', '/api/tickets/'),
  );
  t.is(ok.status, 200);
});

test('a deleted ticket answers 410 to its link', async (t) => {
  const { ticket, token, path } = await ticketWithLink();
  t.is((await creator.send('DELETE', `/api/tickets/${ticket.id}`)).status, 200);
  t.is((await anonymous.send('GET', `/api/tickets/${ticket.id}/approve/${token}`)).status, 410);
  t.is((await anonymous.get(path)).status, 410);
  t.is(await statusOf(ticket.id), 'deleted');
});

test('an expired link is 410 and decides nothing', async (t) => {
  const { ticket, token, path } = await ticketWithLink();
  await app
    .db('tickets')
    .where({ id: ticket.id })
    .update({ approval_token_expires_at: new Date(Date.now() - 1000).toISOString() });
  const res = await anonymous.send('POST', `/api/tickets/${ticket.id}/approve/${token}`);
  t.is(res.status, 410);
  t.regex(res.json.error, /expired/);
  const page = await anonymous.get(path);
  t.is(page.status, 410);
  t.regex(page.$('main').text(), /expired/);
  t.is(page.$('form button').length, 0, 'no decision buttons on an expired link');
  // Nothing can send a link again; the way on is to sign in and decide on the ticket page.
  t.is(page.$(`main a[href="/tickets/${ticket.id}"]`).length, 1, 'a way to sign in and decide');
  t.is(await statusOf(ticket.id), 'pending_approval');
});

test('the review page needs no session or CSRF token, and its GET changes nothing', async (t) => {
  const { ticket, path } = await ticketWithLink();
  for (let i = 0; i < 3; i++) t.is((await anonymous.get(path)).status, 200);
  t.is(await statusOf(ticket.id), 'pending_approval');
  t.is((await eventsOf(ticket.id)).length, 1);
  const page = await anonymous.get(path);
  t.is(page.headers.get('cache-control'), 'no-store');
  t.is(page.headers.get('referrer-policy'), 'no-referrer');
  t.falsy(page.headers.get('set-cookie'), 'no session is made for a link visitor');
  const decided = await anonymous.postForm(path, { decision: 'reject', reason: 'Use the spare in room 3' });
  t.is(decided.status, 200);
  t.regex(decided.$('main').text(), /rejected/);
  t.is(await statusOf(ticket.id), 'rejected');
  const later = await anonymous.get(path);
  t.regex(later.$('main').text(), /already rejected by stock/);
  const bad = await anonymous.postForm(path, { decision: 'maybe' });
  t.is(bad.status, 400);
});

test('review link tokens never reach the logs', async (t) => {
  const { ticket, token, path } = await ticketWithLink();
  await anonymous.get(path);
  await anonymous.send('GET', `/api/tickets/${ticket.id}/approve/${token}`);
  t.true(app.logs.some((line) => line.includes('/review/[redacted]')));
  t.false(app.logs.some((line) => line.includes(token)));
});

test('decisions by link are rate limited per address', async (t) => {
  const limited = await startApp({ RATE_LIMIT_LINK_PER_MINUTE: '5' });
  try {
    await createUser(limited.db, { username: 'x', role: 'admin' });
    const c = await tokenClient(limited.url, 'x');
    const ticket = await createTicket(c, { assigned_to_id: 1 });
    const visitor = new Client(limited.url);
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++)
      statuses.push((await visitor.send('POST', `/api/tickets/${ticket.id}/approve/wrong-token-${i}`)).status);
    t.deepEqual(statuses, [403, 403, 403, 403, 403, 429, 429]);
    const page = await visitor.postForm(`/tickets/${ticket.id}/review/wrong-token`, { decision: 'approve' });
    t.is(page.status, 429);
    t.truthy(page.headers.get('retry-after'));
  } finally {
    await limited.close();
  }
});

test('reassigning a request retires the old assignee’s link', async (t) => {
  const { ticket, token } = await ticketWithLink();
  const other = await createUser(app.db, { username: `other_${ticket.id}` });
  const edit = await creator.send('PATCH', `/api/tickets/${ticket.id}`, { assigned_to_id: other.id });
  t.is(edit.status, 200);
  t.is((await anonymous.send('GET', `/api/tickets/${ticket.id}/approve/${token}`)).status, 403);
  t.is(await statusOf(ticket.id), 'pending_approval');
  const rows = await app.db('notifications').where({ ticket_id: ticket.id, notification_type: 'ticket_reassigned' });
  t.deepEqual(rows.map((r) => r.recipient_user_id).sort(), [other.id, other.id], 'the new assignee gets email and SMS');
});

/** Moves a ticket's last review link back in time, past the wait before another may be sent. */
async function ageLink(id: number) {
  const sentAt = Date.now() - RESEND_LINK_AFTER_MS - 60_000;
  const expires = new Date(sentAt + app.config.approvalTokenTtlHours * 3_600_000).toISOString();
  await app.db('tickets').where({ id }).update({ approval_token_expires_at: expires });
}
const resent = (id: number) => app.db('notifications').where({ ticket_id: id, notification_type: 'review_link_resent' });

test('the creator sends the review link again: the old one stops working, the assignee gets a new email and SMS', async (t) => {
  const { ticket, token } = await ticketWithLink();
  await ageLink(ticket.id);
  const res = await creator.send('POST', `/api/tickets/${ticket.id}/review-link`);
  t.is(res.status, 200);
  t.is(res.json.message, 'A new review link is on its way to stock.');
  t.is(res.json.ticket.status, 'pending_approval');
  t.is((await anonymous.send('GET', `/api/tickets/${ticket.id}/approve/${token}`)).status, 403, 'the old link is retired');

  const rows = await resent(ticket.id);
  t.deepEqual(rows.map((r) => `${r.channel} ${r.recipient_user_id}`).sort(), [
    `email ${assigneeUser.id}`,
    `sms ${assigneeUser.id}`,
  ]);
  const sms = rows.find((r) => r.channel === 'sms');
  const link = /(\/tickets\/\d+\/review\/[\w-]+)/.exec(sms.body_text)?.[1];
  t.truthy(link, sms.body_text);
  const page = await anonymous.get(link as string);
  t.is(page.status, 200, 'the new link opens the review page');
  t.is(page.$('button[name=decision][value=approve]').length, 1, 'and it can be approved there');
  const events = await eventsOf(ticket.id);
  t.like(events.at(-1), { type: 'link_resent', actor: { username: 'tech' } });
});

test('sending the link again is refused: too soon, by anyone but the creator or an admin, once decided or deleted', async (t) => {
  const { ticket, token } = await ticketWithLink();
  const soon = await creator.send('POST', `/api/tickets/${ticket.id}/review-link`);
  t.is(soon.status, 409);
  t.regex(soon.json.error, /^A review link was sent less than 10 minutes ago\. Try again in 10 minutes\.$/);
  t.is((await resent(ticket.id)).length, 0);
  t.is((await anonymous.send('GET', `/tickets/${ticket.id}/review/${token}`)).status, 200, 'the link still works');

  await ageLink(ticket.id);
  const assignee = await tokenClient(app.url, 'stock');
  t.is((await assignee.send('POST', `/api/tickets/${ticket.id}/review-link`)).status, 403, 'the assignee has the page itself');
  t.is((await anonymous.send('POST', `/api/tickets/${ticket.id}/review-link`)).status, 401);
  t.is((await resent(ticket.id)).length, 0, 'nothing sent');
  const admin = await tokenClient(app.url, 'chief');
  t.is((await admin.send('POST', `/api/tickets/${ticket.id}/review-link`)).status, 200, 'an admin may');

  const decided = await ticketWithLink();
  await assignee.send('PATCH', `/api/tickets/${decided.ticket.id}`, { status: 'approved' });
  await ageLink(decided.ticket.id);
  const late = await creator.send('POST', `/api/tickets/${decided.ticket.id}/review-link`);
  t.is(late.status, 409);
  t.is(late.json.error, 'This request was already decided; it needs no review link.');
  const deleted = await ticketWithLink();
  await creator.send('DELETE', `/api/tickets/${deleted.ticket.id}`);
  t.is((await creator.send('POST', `/api/tickets/${deleted.ticket.id}/review-link`)).status, 410);
  t.is((await creator.send('POST', '/api/tickets/999999/review-link')).status, 404);
});

test('the ticket page offers "Send the review link again" to the creator; without JavaScript it posts and comes back', async (t) => {
  const { ticket } = await ticketWithLink();
  const browser = await signedInClient(app.url, 'tech');
  // Right after the request was filed the page says when the link can go again, instead of a button that would fail.
  const early = await browser.get(`/tickets/${ticket.id}`);
  t.is(early.$(`form[action="/tickets/${ticket.id}/review-link"]`).length, 0);
  t.regex(early.$('#ticket .actions.secondary').text(), /You can send it again in 10 minutes \(at /);
  const tooSoon = await browser.submit(`/tickets/${ticket.id}`, `/tickets/${ticket.id}/review-link`, {});
  t.is(tooSoon.status, 303);
  t.regex((await browser.get(`/tickets/${ticket.id}`)).$('.flash.error').text(), /less than 10 minutes ago/);

  await ageLink(ticket.id);
  const page = await browser.get(`/tickets/${ticket.id}`);
  t.is(page.$(`form[action="/tickets/${ticket.id}/review-link"] button`).text(), 'Send the review link again');
  t.notRegex(page.$('#ticket .actions.secondary').text(), /send it again in/);
  const assignee = await signedInClient(app.url, 'stock');
  t.is((await assignee.get(`/tickets/${ticket.id}`)).$(`form[action="/tickets/${ticket.id}/review-link"]`).length, 0);

  const sent = await browser.submit(`/tickets/${ticket.id}`, `/tickets/${ticket.id}/review-link`, {});
  t.is(sent.status, 303);
  t.is(sent.headers.get('location'), `/tickets/${ticket.id}`);
  const after = await browser.get(`/tickets/${ticket.id}`);
  t.is(after.$('.flash.success').text(), 'A new review link is on its way to stock.');
  t.regex(after.$('ol.timeline li').last().text(), /tech\s+sent the review link again/);
});

test('two clicks on "send again" at once send one link: the other is told it just went', async (t) => {
  const { ticket } = await ticketWithLink();
  await ageLink(ticket.id);
  const replies = await Promise.all([1, 2, 3].map(() => creator.send('POST', `/api/tickets/${ticket.id}/review-link`)));
  t.deepEqual(replies.map((r) => r.status).sort(), [200, 409, 409]);
  for (const r of replies.filter((x) => x.status === 409)) t.regex(r.json.error, /sent (a moment|less than 10 minutes) ago/);
  t.is((await resent(ticket.id)).length, 2, 'one email and one SMS');
  t.is((await eventsOf(ticket.id)).filter((e: { type: string }) => e.type === 'link_resent').length, 1);
});
