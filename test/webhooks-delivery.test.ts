import test, { type ExecutionContext } from 'ava';
import { Webhook } from 'standardwebhooks';
import { decryptSecret } from '../src/features/webhooks/secrets.ts';
import { pruneDeliveryLog } from '../src/features/webhooks/service.ts';
import { retryDelayMs } from '../src/lib/claim-loop.ts';
import { startApp, type TestApp } from './support/app.ts';
import { manualClock } from './support/clock.ts';
import { type Contract, contractFor } from './support/contract.ts';
import { buildCast, buildReceipt, buildRequest } from './support/factories.ts';
import { Receiver } from './support/receiver.ts';
import { buildWebhook, deliveriesOf, webhookWorker } from './support/webhooks.ts';

/**
 * Webhook delivery (issue #23) to real local receivers: signed the Standard Webhooks way and verified
 * with that library's verifier, every body valid against the OpenAPI document's `webhooks` section,
 * retried with backoff on 5xx and timeouts, given up on 410 and after the last attempt, each attempt
 * in the delivery log, redelivered by hand, a subscription disabled (admins emailed) after repeated
 * failures. Serial: one worker claims every due delivery, so tests must not share a moment.
 */

let app: TestApp;
let contract: Contract;
let people: Awaited<ReturnType<typeof cast>>;

const cast = (a: TestApp) =>
  buildCast(a, { hook_admin: { role: 'admin' }, hook_tech: {}, hook_stock: {}, hook_admin2: { role: 'admin' } });

/** Long enough for a receiver on a busy test machine, short enough to wait for a timeout once. */
const TIMEOUT_MS = 2000;

test.before(async () => {
  app = await startApp({
    WEBHOOK_ALLOW_PRIVATE: 'true',
    WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
    WEBHOOK_MAX_ATTEMPTS: '3',
    WEBHOOK_DISABLE_AFTER: '2',
  });
  contract = (await contractFor(app.url)) as Contract;
  people = await cast(app);
});
test.after.always(async () => {
  await app?.close();
});

/** A receiver and a subscription to it, both gone when the test ends. */
async function subscribed(t: ExecutionContext, events?: Parameters<typeof buildWebhook>[1]['events'], host?: string) {
  const receiver = await new Receiver().start(host);
  const hook = await buildWebhook(app, { url: receiver.url, events, adminId: people.hook_admin.user.id });
  t.teardown(async () => {
    await app.db('webhook_subscriptions').where({ id: hook.id }).delete();
    await receiver.close();
  });
  return { receiver, hook };
}

/** Each body must be what the document's `webhooks` section says its event sends. */
function assertDocumented(t: ExecutionContext, bodies: { type: string }[]) {
  for (const body of bodies) {
    const validate = contract.validator(
      `/webhooks/${encodeURIComponent(body.type)}/post/requestBody/content/application~1json/schema`,
    );
    t.true(validate(body), `${body.type}: ${JSON.stringify(validate.errors?.slice(0, 2))}`);
  }
}

const newTicket = () => buildRequest(app, { creator: people.hook_tech.user, assignee: people.hook_stock.user });

test.serial('every event reaches its subscribers signed, verifiable, and as documented', async (t) => {
  const { receiver, hook } = await subscribed(t);
  const { receiver: onlyStock } = await subscribed(t, ['stock.low']);
  const worker = webhookWorker(app);

  const ticket = await newTicket();
  await people.hook_stock.api.send('PATCH', `/api/tickets/${ticket.id}`, {
    status: 'rejected',
    rejection_reason: 'Use the spare',
  });
  await people.hook_tech.api.send('POST', '/api/optics-requests', {
    selected_part: 'SFP-10G-SR',
    quantity: 2,
    requester_name: 'Hook H',
  });
  await buildReceipt(app, { admin: people.hook_admin.user, items: [{ cable_type: 'Hook6', cable_length: '7m', quantity: 12 }] });
  const admin = people.hook_admin.api;
  await admin.send('PATCH', '/api/inventory/stock/threshold', { cable_type: 'Hook6', cable_length: '7m', reorder_threshold: 10 });
  await admin.send('POST', '/api/inventory/adjustments', {
    cable_type: 'Hook6',
    cable_length: '7m',
    quantity: -5,
    reason: 'used',
  });

  const report = await worker.runOnce();
  t.is(report.delivered, 5, JSON.stringify(report));
  const bodies = receiver.verified(hook.secret);
  t.deepEqual(bodies.map((b) => b.type).sort(), [
    'optics_request.created',
    'stock.low',
    'ticket.created',
    'ticket.status_changed',
  ]);
  assertDocumented(t, bodies);
  const created = bodies.find((b) => b.type === 'ticket.created');
  t.like(created?.data.ticket, { id: ticket.id, status: 'pending_approval' });
  const moved = bodies.find((b) => b.type === 'ticket.status_changed')?.data;
  t.like(moved, { from_status: 'pending_approval', to_status: 'rejected', via: 'api', reason: 'Use the spare' });
  t.like(moved?.changed_by, { id: people.hook_stock.user.id, username: 'hook_stock' });
  t.like(bodies.find((b) => b.type === 'stock.low')?.data, { cable_type: 'Hook6', on_hand: 7, reorder_threshold: 10 });

  t.is(onlyStock.received.length, 1, 'a subscriber hears only its events');
  const [first] = receiver.received;
  t.regex(String(first?.headers['webhook-id']), /^msg_[\w-]{22}$/);
  t.regex(String(first?.headers['webhook-timestamp']), /^\d{10}$/);
  t.regex(String(first?.headers['webhook-signature']), /^v1,[A-Za-z0-9+/]+=*$/);
  t.is(first?.headers['content-type'], 'application/json');
  t.throws(() =>
    new Webhook(`whsec_${Buffer.from('another secret, 24 bytes!').toString('base64')}`).verify(
      first?.body ?? '',
      first?.headers as Record<string, string>,
    ),
  );

  const rows = await deliveriesOf(app, hook.id);
  t.true(rows.every((d) => d.status === 'delivered' && d.attempts === 1 && d.attempts_log.length === 1));
  t.like(rows[0]?.attempts_log[0], { outcome: 'delivered', status_code: 200, response_excerpt: 'ok', error: null });
  t.true(Number(rows[0]?.attempts_log[0]?.duration_ms) >= 0);
});

test.serial('no subscriber: no event row, and the change costs nothing more', async (t) => {
  const before = await app.db('webhook_events').count({ n: '*' }).first();
  await newTicket();
  const after = await app.db('webhook_events').count({ n: '*' }).first();
  t.is(Number(after?.n), Number(before?.n));
});

test.serial('a 5xx and a timeout are retried with backoff; the same webhook-id each time', async (t) => {
  const { receiver, hook } = await subscribed(t, ['ticket.created']);
  receiver.answer(
    { status: 500, body: 'down for a moment' },
    { status: 200, body: 'late', delayMs: TIMEOUT_MS + 1500 },
    { status: 204 },
  );
  const clock = manualClock();
  const worker = webhookWorker(app, { clock: clock.now, random: () => 0.5 });
  await newTicket();

  t.like(await worker.runOnce(), { retried: 1 });
  let [row] = await deliveriesOf(app, hook.id);
  t.is(row?.status, 'queued');
  const wait = retryDelayMs(1, () => 0.5);
  t.is(new Date(row?.next_attempt_at).getTime() - clock.now().getTime(), wait, 'backoff: about 30 s after the first try');
  t.like(await worker.runOnce(), { claimed: 0 }, 'not due yet');

  clock.advance(wait);
  t.like(await worker.runOnce(), { retried: 1 }, 'no answer within WEBHOOK_TIMEOUT_MS');
  clock.advance(retryDelayMs(2, () => 0.5));
  t.like(await worker.runOnce(), { delivered: 1 });

  [row] = await deliveriesOf(app, hook.id);
  t.is(row?.status, 'delivered');
  t.deepEqual(
    row?.attempts_log.map((a: { outcome: string; status_code: number | null }) => [a.outcome, a.status_code]),
    [
      ['failed', 500],
      ['failed', null],
      ['delivered', 204],
    ],
  );
  t.is(row?.attempts_log[0].response_excerpt, 'down for a moment');
  t.regex(row?.attempts_log[1].error, new RegExp(`No answer within ${TIMEOUT_MS} ms`));
  t.is(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size, 1);
  t.is(receiver.verified(hook.secret).length, 3, 'each attempt freshly signed');
});

test.serial('410 Gone is given up at once; the last attempt gives up too', async (t) => {
  const { receiver, hook } = await subscribed(t, ['ticket.created']);
  const clock = manualClock();
  const worker = webhookWorker(app, { clock: clock.now, retryBaseMs: 1000 });
  receiver.answer({ status: 410, body: 'gone' });
  await newTicket();
  t.like(await worker.runOnce(), { gaveUp: 1 });
  let rows = await deliveriesOf(app, hook.id);
  t.like(rows[0], { status: 'failed', last_status_code: 410, attempts: 1 });
  t.regex(rows[0]?.last_error, /Gone: not retried/);

  receiver.fallback = { status: 503, body: 'no' };
  await newTicket();
  for (let i = 0; i < 3; i++) {
    await worker.runOnce();
    clock.advance(60 * 60_000);
  }
  rows = await deliveriesOf(app, hook.id);
  t.like(rows[1], { status: 'failed', attempts: 3 });
  t.deepEqual(
    rows[1]?.attempts_log.map((a: { outcome: string }) => a.outcome),
    ['failed', 'failed', 'gave_up'],
  );
  t.like(await worker.runOnce(), { claimed: 0 }, 'nothing more is tried');
  t.is(receiver.received.length, 4);
});

test.serial('a redirect is not followed, and counts as a failed attempt', async (t) => {
  const target = await new Receiver().start();
  t.teardown(() => target.close());
  const { receiver, hook } = await subscribed(t, ['ticket.created']);
  receiver.answer({ status: 302, headers: { location: target.url } });
  await newTicket();
  await webhookWorker(app).runOnce();
  const [row] = await deliveriesOf(app, hook.id);
  t.like(row?.attempts_log[0], { outcome: 'failed', status_code: 302 });
  t.regex(row?.attempts_log[0].error, /redirects are not followed/);
  t.is(target.received.length, 0);
});

test.serial('deliveries given up in a row disable the subscription, fail what waits and email every admin', async (t) => {
  const { receiver, hook } = await subscribed(t, ['ticket.created']);
  const worker = webhookWorker(app);
  receiver.answer({ status: 410 }, { status: 200 }, { status: 410 });
  await newTicket();
  await worker.runOnce();
  await newTicket();
  await worker.runOnce();
  t.like(
    await app.db('webhook_subscriptions').where({ id: hook.id }).first(),
    { consecutive_failures: 0 },
    'a success ends the run',
  );

  receiver.answer({ status: 410 }, { status: 410 });
  await newTicket();
  await worker.runOnce();
  await newTicket();
  await newTicket();
  // Two deliveries claimed at once: the first given up disables it (the second of the run), the other fails as waiting or given up.
  await worker.runOnce();
  const sub = await app.db('webhook_subscriptions').where({ id: hook.id }).first();
  t.falsy(sub.enabled);
  t.regex(sub.disabled_reason, /2 deliveries in a row failed/);
  const rows = await deliveriesOf(app, hook.id);
  t.true(rows.every((d) => d.status === 'delivered' || d.status === 'failed'));
  const mails = await app
    .db('notifications')
    .where({ notification_type: 'webhook_disabled' })
    .where('subject', 'like', `Webhook #${hook.id} %`);
  t.deepEqual(mails.map((m) => m.recipient_user_id).sort(), [people.hook_admin.user.id, people.hook_admin2.user.id].sort());
  t.regex(mails[0].subject, new RegExp(`Webhook #${hook.id} disabled`));

  await newTicket();
  t.is(
    await app
      .db('webhook_deliveries')
      .where({ subscription_id: hook.id, status: 'queued' })
      .count({ n: '*' })
      .first()
      .then((r) => Number(r?.n)),
    0,
    'a disabled subscription gets nothing new',
  );
  const refused = await people.hook_admin.api.send('POST', `/api/webhook-deliveries/${rows[0]?.id}/redeliver`);
  t.is(refused.status, 409);

  const enabled = await people.hook_admin.api.send('PATCH', `/api/webhooks/${hook.id}`, { enabled: true });
  t.like(enabled.json.webhook, { enabled: true, consecutive_failures: 0, disabled_reason: null });
});

test.serial('redeliver by hand: the same body and webhook-id, a fresh set of attempts', async (t) => {
  const { receiver, hook } = await subscribed(t, ['ticket.created']);
  const worker = webhookWorker(app);
  await newTicket();
  await worker.runOnce();
  const [row] = await deliveriesOf(app, hook.id);
  const again = await people.hook_admin.api.send('POST', `/api/webhook-deliveries/${row?.id}/redeliver`);
  t.is(again.status, 200);
  t.like(again.json.delivery, { status: 'queued', attempts: 0 });
  t.is((await people.hook_admin.api.send('POST', `/api/webhook-deliveries/${row?.id}/redeliver`)).status, 409, 'already waiting');
  await worker.runOnce();
  t.is(receiver.received.length, 2);
  t.is(receiver.received[0]?.body, receiver.received[1]?.body);
  t.is(receiver.received[0]?.headers['webhook-id'], receiver.received[1]?.headers['webhook-id']);
  const [after] = await deliveriesOf(app, hook.id);
  t.like(after, { status: 'delivered', attempts: 1 });
  t.is(after?.attempts_log.length, 2, 'the log keeps the first attempt');
  t.is((await people.hook_tech.api.send('POST', `/api/webhook-deliveries/${row?.id}/redeliver`)).status, 403);
});

test.serial('the secret is stored encrypted, shown once, and a new one replaces it at once', async (t) => {
  const receiver = await new Receiver().start();
  t.teardown(() => receiver.close());
  const made = await people.hook_admin.api.send('POST', '/api/webhooks', {
    url: receiver.url,
    events: ['ticket.created'],
    description: 'ERP',
  });
  t.is(made.status, 201);
  t.is(made.headers.get('location'), `/api/webhooks/${made.json.webhook.id}`);
  const secret = made.json.secret as string;
  t.regex(secret, /^whsec_[A-Za-z0-9+/]{32}$/);
  const id = made.json.webhook.id as number;
  t.teardown(() => app.db('webhook_subscriptions').where({ id }).delete());
  const row = await app.db('webhook_subscriptions').where({ id }).first();
  t.false(row.secret_ciphertext.includes(secret.slice(6)));
  t.is(decryptSecret(row.secret_ciphertext, app.config.secretKey), secret);
  for (const res of [await people.hook_admin.api.get('/api/webhooks'), await people.hook_admin.api.get(`/api/webhooks/${id}`)]) {
    t.is(res.status, 200);
    t.false(res.text.includes(secret.slice(6)), 'never listed');
  }

  const rotated = await people.hook_admin.api.send('POST', `/api/webhooks/${id}/secret`);
  t.is(rotated.status, 200);
  t.not(rotated.json.secret, secret);
  await newTicket();
  await webhookWorker(app).runOnce();
  t.is(receiver.verified(rotated.json.secret).length, 1);
  t.throws(() => receiver.verified(secret), undefined, 'the old secret no longer verifies');
});

test.serial('a secret unreadable under the current SECRET_KEY fails its delivery saying what to do', async (t) => {
  const { receiver, hook } = await subscribed(t, ['ticket.created']);
  await newTicket();
  const worker = webhookWorker(app, { secretKey: 'another-secret-key-0123456789' });
  t.like(await worker.runOnce(), { gaveUp: 1 });
  const [row] = await deliveriesOf(app, hook.id);
  t.like(row?.attempts_log[0], { outcome: 'refused' });
  t.regex(row?.last_error, /SECRET_KEY.*rotate the secret/);
  t.is(receiver.received.length, 0);
});

test.serial('a delivery left sending by a worker that died is sent again after the lease (at least once)', async (t) => {
  const { receiver, hook } = await subscribed(t, ['ticket.created']);
  await newTicket();
  const clock = manualClock();
  const [row] = await deliveriesOf(app, hook.id);
  await app
    .db('webhook_deliveries')
    .where({ id: row?.id })
    .update({ status: 'sending', attempts: 1, locked_at: new Date(clock.now().getTime() - 60_000).toISOString() });
  const worker = webhookWorker(app, { clock: clock.now });
  t.like(await worker.runOnce(), { claimed: 0 }, 'another worker may still be sending it');
  clock.advance(5 * 60_000);
  t.like(await worker.runOnce(), { delivered: 1 });
  t.like((await deliveriesOf(app, hook.id))[0], { status: 'delivered', attempts: 2 });
  t.is(receiver.received.length, 1);
});

test.serial('the in-process worker delivers right after the commit', async (t) => {
  const live = await startApp({ WEBHOOK_ALLOW_PRIVATE: 'true', WORKER_IN_PROCESS: 'true', NOTIFY_POLL_MS: '60000' });
  t.teardown(() => live.close());
  const receiver = await new Receiver().start();
  t.teardown(() => receiver.close());
  const hook = await buildWebhook(live, { url: receiver.url, events: ['ticket.created'] });
  await buildRequest(live);
  for (let i = 0; i < 100 && receiver.received.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  t.is(receiver.verified(hook.secret).length, 1, 'without waiting for the minute-long poll');
});

test.serial('the delivery log keeps 30 days of finished deliveries; what is waiting stays', async (t) => {
  const { hook } = await subscribed(t, ['ticket.created']);
  await newTicket();
  await webhookWorker(app).runOnce();
  await newTicket();
  const [old, waiting] = await deliveriesOf(app, hook.id);
  const now = new Date();
  await app
    .db('webhook_deliveries')
    .whereIn('id', [old?.id, waiting?.id])
    .update({ updated_at: new Date(now.getTime() - 31 * 86_400_000).toISOString() });
  await pruneDeliveryLog(app.db, now);
  const left = await deliveriesOf(app, hook.id);
  t.deepEqual(
    left.map((d) => d.id),
    [waiting?.id],
    'the queued one is kept, however old',
  );
  t.is(await app.db('webhook_attempts').where({ delivery_id: old?.id }).first(), undefined, 'its attempts went with it');
  t.is(await app.db('webhook_events').where({ id: old?.event_id }).first(), undefined, 'and its event, no longer needed');
  t.truthy(await app.db('webhook_events').where({ id: waiting?.event_id }).first());
});
