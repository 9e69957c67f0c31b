import type { Db, Trx } from '../../db/index.ts';
import type { Principal } from '../../http/context.ts';
import { badRequest, conflict, notFound } from '../../http/errors.ts';
import { randomToken } from '../../lib/crypto.ts';
import { keysetPage } from '../../lib/keyset.ts';
import {
  attemptsFor,
  type DeliveryRow,
  deleteFinishedBefore,
  deleteOrphanEvents,
  deleteSubscription,
  failWaiting,
  findDelivery,
  findSubscription,
  insertDeliveries,
  insertEvent,
  insertSubscription,
  listDeliveries,
  listSubscriptions,
  requeue,
  type SubscriptionRow,
  setSubscriptionEvents,
  subscribersOf,
  updateSubscription,
} from './queries.ts';
import type { DeliveriesQuery, EventData, NewSubscription, SubscriptionEdit, WebhookEvent } from './schema.ts';
import { encryptSecret, newWebhookSecret } from './secrets.ts';
import { deliveriesDue } from './signal.ts';
import { notPublic } from './target.ts';

export { WEBHOOK_EVENTS, type WebhookEvent } from './schema.ts';

/** What the webhooks feature needs from the configuration. */
export interface WebhookServiceSettings {
  /** SECRET_KEY: the key the subscriptions' secrets are encrypted under. */
  secretKey: string;
  /** WEBHOOK_ALLOW_PRIVATE. */
  allowPrivate: boolean;
}

// ---- emitting ------------------------------------------------------------------------------------

/**
 * Hands an event to every enabled subscription that asked for it, in the caller's transaction: one
 * event row (its body, exactly as it will be signed and sent) and one queued delivery per subscriber,
 * written only if the change that caused it commits. Without subscribers it costs one indexed read
 * and `data` is never built (pass a function when building it takes queries). The webhook-id is
 * random (`msg_` and 128 bits), the same for every subscriber and every retry.
 */
export async function emitEvent<E extends WebhookEvent>(
  trx: Trx,
  type: E,
  data: EventData<E> | (() => Promise<EventData<E>> | EventData<E>),
  now: Date = new Date(),
): Promise<void> {
  const subscribers = await subscribersOf(trx, type);
  if (subscribers.length === 0) return;
  const at = now.toISOString();
  const body = { type, timestamp: at, data: typeof data === 'function' ? await data() : data };
  const eventId = await insertEvent(trx, {
    message_id: `msg_${randomToken(16)}`,
    event_type: type,
    payload: JSON.stringify(body),
    created_at: at,
  });
  await insertDeliveries(trx, eventId, subscribers, at);
  trx.executionPromise.then(deliveriesDue, () => {});
}

// ---- subscriptions ---------------------------------------------------------------------------------

/**
 * An address that names a non-public host outright (a literal IP, localhost) is refused when it is
 * typed, unless WEBHOOK_ALLOW_PRIVATE: a clear 400 now rather than failed deliveries later. Names are
 * checked at each delivery, after DNS (target.ts).
 */
function checkTarget(url: string, allowPrivate: boolean): void {
  if (allowPrivate) return;
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '').replace(/\.+$/, '');
  const literal = /^localhost$/i.test(host) || host.toLowerCase().endsWith('.localhost') ? '127.0.0.1' : host;
  const why = /^[\d.]+$|:/.test(literal) ? notPublic(literal) : undefined;
  if (why) {
    const sentence = `${why}: private, loopback and link-local targets are refused (WEBHOOK_ALLOW_PRIVATE)`;
    throw badRequest(`url: ${sentence}`, { url: sentence });
  }
}

export const subscriptions = (db: Db) => listSubscriptions(db);

export async function subscription(db: Db | Trx, id: number): Promise<SubscriptionRow> {
  const row = await findSubscription(db, id);
  if (!row) throw notFound('No webhook with that id.');
  return row;
}

/** A new subscription and its secret (in plain text only in this answer). */
export async function createSubscription(
  db: Db,
  actor: Principal,
  input: NewSubscription,
  settings: WebhookServiceSettings,
  now: Date,
) {
  checkTarget(input.url, settings.allowPrivate);
  const secret = newWebhookSecret();
  const id = await db.transaction((trx) =>
    insertSubscription(
      trx,
      {
        url: input.url,
        description: input.description ?? null,
        secret_ciphertext: encryptSecret(secret, settings.secretKey),
        created_by_id: actor.id,
        now: now.toISOString(),
      },
      input.events,
    ),
  );
  return { subscription: await subscription(db, id), secret };
}

/**
 * Changes what was sent. Disabling fails the deliveries still waiting (they can be redelivered);
 * enabling starts a fresh count of failures.
 */
export async function editSubscription(db: Db, id: number, edit: SubscriptionEdit, settings: WebhookServiceSettings, now: Date) {
  if (edit.url !== undefined) checkTarget(edit.url, settings.allowPrivate);
  const at = now.toISOString();
  await db.transaction(async (trx) => {
    const current = await subscription(trx, id);
    const columns: Record<string, unknown> = { updated_at: at };
    if (edit.url !== undefined) columns.url = edit.url;
    if (edit.description !== undefined) columns.description = edit.description;
    const wasEnabled = Boolean(current.enabled);
    if (edit.enabled === true && !wasEnabled)
      Object.assign(columns, { enabled: true, consecutive_failures: 0, disabled_at: null, disabled_reason: null });
    if (edit.enabled === false && wasEnabled)
      Object.assign(columns, { enabled: false, disabled_at: at, disabled_reason: 'Disabled by an admin.' });
    await updateSubscription(trx, id, columns);
    if (edit.events) await setSubscriptionEvents(trx, id, edit.events);
    if (edit.enabled === false && wasEnabled) await failWaiting(trx, id, 'The subscription was disabled.', at);
  });
  return subscription(db, id);
}

/** A new secret, shown once; the old one stops signing at once. */
export async function rotateSecret(db: Db, id: number, settings: WebhookServiceSettings, now: Date) {
  await subscription(db, id);
  const secret = newWebhookSecret();
  await updateSubscription(db, id, {
    secret_ciphertext: encryptSecret(secret, settings.secretKey),
    updated_at: now.toISOString(),
  });
  return { subscription: await subscription(db, id), secret };
}

/** Deletes the subscription with its deliveries and their log. */
export async function removeSubscription(db: Db, id: number): Promise<void> {
  if ((await deleteSubscription(db, id)) === 0) throw notFound('No webhook with that id.');
}

// ---- the delivery log ------------------------------------------------------------------------------

/** One page of a subscription's deliveries, newest first, each with its attempts. */
export async function deliveryPage(db: Db, subscriptionId: number, query: DeliveriesQuery & { limit: number }) {
  await subscription(db, subscriptionId);
  const { rows, nextCursor } = keysetPage(
    await listDeliveries(db, { subscriptionId, status: query.status, cursor: query.cursor, limit: query.limit }),
    query.limit,
    (d) => d.id,
  );
  const attempts = await attemptsFor(
    db,
    rows.map((r) => r.id),
  );
  return { deliveries: rows.map((row) => ({ row, attempts: attempts.filter((a) => a.delivery_id === row.id) })), nextCursor };
}

/**
 * Sends a finished delivery (delivered or failed) again, due now, with a fresh set of attempts and
 * the same webhook-id, so a receiver that already has it can tell.
 */
export async function redeliver(db: Db, deliveryId: number, now: Date): Promise<{ row: DeliveryRow; subscriptionId: number }> {
  const delivery = await findDelivery(db, deliveryId);
  if (!delivery) throw notFound('No delivery with that id.');
  const owner = await subscription(db, delivery.subscription_id);
  if (!owner.enabled) throw conflict('This webhook is disabled: enable it before redelivering.');
  if (!(await requeue(db, deliveryId, now.toISOString()))) {
    throw conflict(`This delivery is ${delivery.status === 'sending' ? 'being sent' : 'waiting to be sent'} already.`);
  }
  deliveriesDue();
  return { row: (await findDelivery(db, deliveryId)) as DeliveryRow, subscriptionId: owner.id };
}

export const attemptsOf = (db: Db, deliveryId: number) => attemptsFor(db, [deliveryId]);

/** The subscription a delivery belongs to (undefined when there is no such delivery). */
export const deliveryOwner = async (db: Db, deliveryId: number): Promise<number | undefined> =>
  (await findDelivery(db, deliveryId))?.subscription_id;

/** How long a finished delivery (and its log) is kept. */
export const DELIVERY_LOG_DAYS = 30;

/** Timed work: finished deliveries older than DELIVERY_LOG_DAYS go with their attempts, then events nobody needs. */
export async function pruneDeliveryLog(db: Db, now: Date): Promise<void> {
  await deleteFinishedBefore(db, new Date(now.getTime() - DELIVERY_LOG_DAYS * 86_400_000).toISOString());
  await deleteOrphanEvents(db);
}
