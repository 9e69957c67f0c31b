import { type ClaimWindow, claimDueRows } from '../../db/claim.ts';
import type { Db, Trx } from '../../db/index.ts';
import type { WebhookEvent } from './schema.ts';

/** All Knex for webhooks. Timestamps go in as ISO-8601 strings (both databases). */

type Q = Db | Trx;

export interface SubscriptionRow {
  id: number;
  url: string;
  description: string | null;
  secret_ciphertext: string;
  enabled: boolean | number;
  consecutive_failures: number;
  disabled_at: Date | string | null;
  disabled_reason: string | null;
  created_by_id: number | null;
  created_by_username: string | null;
  created_at: Date | string;
  updated_at: Date | string;
  events: WebhookEvent[];
}

const SUBSCRIPTION_COLUMNS = [
  's.id',
  's.url',
  's.description',
  's.secret_ciphertext',
  's.enabled',
  's.consecutive_failures',
  's.disabled_at',
  's.disabled_reason',
  's.created_by_id',
  'u.username as created_by_username',
  's.created_at',
  's.updated_at',
];

/** Subscriptions (all, or those with these ids) with their events, in two statements. */
async function readSubscriptions(q: Q, ids?: number[]): Promise<SubscriptionRow[]> {
  const query = q('webhook_subscriptions as s')
    .leftJoin('users as u', 'u.id', 's.created_by_id')
    .select(SUBSCRIPTION_COLUMNS)
    .orderBy('s.id');
  if (ids) query.whereIn('s.id', ids);
  const rows = (await query) as Omit<SubscriptionRow, 'events'>[];
  if (rows.length === 0) return [];
  const events = (await q('webhook_subscription_events')
    .whereIn(
      'subscription_id',
      rows.map((r) => r.id),
    )
    .select('subscription_id', 'event_type')
    .orderBy('event_type')) as { subscription_id: number; event_type: WebhookEvent }[];
  return rows.map((r) => ({ ...r, events: events.filter((e) => e.subscription_id === r.id).map((e) => e.event_type) }));
}

export const listSubscriptions = (q: Q) => readSubscriptions(q);

export const findSubscription = async (q: Q, id: number): Promise<SubscriptionRow | undefined> =>
  (await readSubscriptions(q, [id]))[0];

export async function insertSubscription(
  trx: Trx,
  row: { url: string; description: string | null; secret_ciphertext: string; created_by_id: number; now: string },
  events: WebhookEvent[],
): Promise<number> {
  const [inserted] = await trx('webhook_subscriptions')
    .insert({
      url: row.url,
      description: row.description,
      secret_ciphertext: row.secret_ciphertext,
      created_by_id: row.created_by_id,
      created_at: row.now,
      updated_at: row.now,
    })
    .returning('id');
  const id = Number(typeof inserted === 'object' ? inserted.id : inserted);
  await setSubscriptionEvents(trx, id, events);
  return id;
}

export async function setSubscriptionEvents(trx: Trx, id: number, events: WebhookEvent[]): Promise<void> {
  await trx('webhook_subscription_events').where({ subscription_id: id }).delete();
  await trx('webhook_subscription_events').insert(events.map((event_type) => ({ subscription_id: id, event_type })));
}

export const updateSubscription = (q: Q, id: number, columns: Record<string, unknown>) =>
  q('webhook_subscriptions').where({ id }).update(columns);

export const deleteSubscription = (q: Q, id: number) => q('webhook_subscriptions').where({ id }).delete();

/** The enabled subscriptions that hear `event`: one indexed statement. */
export const subscribersOf = async (q: Q, event: WebhookEvent): Promise<number[]> =>
  (
    (await q('webhook_subscription_events as e')
      .join('webhook_subscriptions as s', 's.id', 'e.subscription_id')
      .where({ 'e.event_type': event, 's.enabled': true })
      .select('s.id')) as { id: number }[]
  ).map((r) => r.id);

export async function insertEvent(
  trx: Trx,
  row: { message_id: string; event_type: WebhookEvent; payload: string; created_at: string },
): Promise<number> {
  const [inserted] = await trx('webhook_events').insert(row).returning('id');
  return Number(typeof inserted === 'object' ? inserted.id : inserted);
}

export async function insertDeliveries(trx: Trx, eventId: number, subscriptionIds: number[], now: string): Promise<void> {
  await trx('webhook_deliveries').insert(
    subscriptionIds.map((subscription_id) => ({
      event_id: eventId,
      subscription_id,
      status: 'queued',
      attempts: 0,
      next_attempt_at: now,
      created_at: now,
      updated_at: now,
    })),
  );
}

// ---- the worker's claims (the notifications outbox's pattern, notifications/queries.ts) ----------------

export interface ClaimedDelivery {
  id: number;
  subscription_id: number;
  attempts: number;
  url: string;
  secret_ciphertext: string;
  enabled: boolean | number;
  message_id: string;
  event_type: WebhookEvent;
  payload: string;
}

/**
 * Claims up to `limit` due deliveries (see claimDueRows); then reads what sending them takes (the
 * URL and secret, the event's id and body) in one more statement.
 */
export async function claimDue(db: Db, w: ClaimWindow): Promise<ClaimedDelivery[]> {
  const claimed = await claimDueRows<{ id: number; attempts: number }>(db, 'webhook_deliveries', w, ['id', 'attempts']);
  if (claimed.length === 0) return [];
  const rows = (await db('webhook_deliveries as d')
    .join('webhook_subscriptions as s', 's.id', 'd.subscription_id')
    .join('webhook_events as e', 'e.id', 'd.event_id')
    .whereIn(
      'd.id',
      claimed.map((c) => c.id),
    )
    .select('d.id', 'd.subscription_id', 's.url', 's.secret_ciphertext', 's.enabled', 'e.message_id', 'e.event_type', 'e.payload')
    .orderBy('d.id')) as Omit<ClaimedDelivery, 'attempts'>[];
  const attempts = new Map(claimed.map((c) => [c.id, c.attempts]));
  return rows.map((r) => ({ ...r, attempts: attempts.get(r.id) ?? 1 }));
}

export interface Claim {
  id: number;
  lockedAt: string;
}

/** Ends a claim, only while the row is still `sending` under this claim: false when another worker took it over. */
export async function finishClaim(q: Q, claim: Claim, columns: Record<string, unknown>): Promise<boolean> {
  const changed = await q('webhook_deliveries')
    .where({ id: claim.id, status: 'sending', locked_at: claim.lockedAt })
    .update({ locked_at: null, ...columns });
  return changed > 0;
}

/** Claimed-but-untried rows go back (a worker stopping mid-batch), as if never claimed. */
export async function releaseClaims(db: Db, lockedAt: string, ids: number[], now: string): Promise<number> {
  if (ids.length === 0) return 0;
  return db('webhook_deliveries')
    .whereIn('id', ids)
    .where({ status: 'sending', locked_at: lockedAt })
    .update({ status: 'queued', locked_at: null, attempts: db.raw('?? - 1', ['attempts']), updated_at: now });
}

export interface NewAttempt {
  delivery_id: number;
  attempt: number;
  outcome: 'delivered' | 'failed' | 'gave_up' | 'refused';
  status_code: number | null;
  duration_ms: number;
  error: string | null;
  response_excerpt: string | null;
  started_at: string;
}

export const insertAttempt = (q: Q, row: NewAttempt) => q('webhook_attempts').insert(row);

/** A success: the run of failures is over (written only when there was one). */
export const clearFailures = (q: Q, subscriptionId: number, now: string) =>
  q('webhook_subscriptions')
    .where({ id: subscriptionId })
    .where('consecutive_failures', '>', 0)
    .update({ consecutive_failures: 0, updated_at: now });

/** A delivery given up: the run grows by one; the new length. */
export async function countFailure(trx: Trx, subscriptionId: number, now: string): Promise<number> {
  await trx('webhook_subscriptions')
    .where({ id: subscriptionId })
    .update({ consecutive_failures: trx.raw('?? + 1', ['consecutive_failures']), updated_at: now });
  const row = (await trx('webhook_subscriptions').where({ id: subscriptionId }).select('consecutive_failures').first()) as
    | { consecutive_failures: number }
    | undefined;
  return Number(row?.consecutive_failures ?? 0);
}

/** Disables an enabled subscription; false when it already was (someone else did it first). */
export async function disable(trx: Trx, subscriptionId: number, reason: string, now: string): Promise<boolean> {
  const changed = await trx('webhook_subscriptions')
    .where({ id: subscriptionId, enabled: true })
    .update({ enabled: false, disabled_at: now, disabled_reason: reason, updated_at: now });
  return changed > 0;
}

/** A disabled subscription's waiting deliveries end as failed (an admin can redeliver them). */
export const failWaiting = (trx: Trx, subscriptionId: number, reason: string, now: string) =>
  trx('webhook_deliveries')
    .where({ subscription_id: subscriptionId, status: 'queued' })
    .update({ status: 'failed', last_error: reason, updated_at: now });

// ---- the delivery log ----------------------------------------------------------------------------

export interface DeliveryRow {
  id: number;
  subscription_id: number;
  status: 'queued' | 'sending' | 'delivered' | 'failed';
  attempts: number;
  next_attempt_at: Date | string;
  last_status_code: number | null;
  last_error: string | null;
  delivered_at: Date | string | null;
  created_at: Date | string;
  message_id: string;
  event_type: WebhookEvent;
  payload: string;
}

export interface AttemptRow extends NewAttempt {
  id: number;
}

const DELIVERY_COLUMNS = [
  'd.id',
  'd.subscription_id',
  'd.status',
  'd.attempts',
  'd.next_attempt_at',
  'd.last_status_code',
  'd.last_error',
  'd.delivered_at',
  'd.created_at',
  'e.message_id',
  'e.event_type',
  'e.payload',
];

/** A subscription's deliveries, newest first; one more than asked, to know whether another page exists. */
export function listDeliveries(
  db: Db,
  f: { subscriptionId: number; status?: DeliveryRow['status']; cursor?: number; limit: number },
): Promise<DeliveryRow[]> {
  const q = db('webhook_deliveries as d')
    .join('webhook_events as e', 'e.id', 'd.event_id')
    .select(DELIVERY_COLUMNS)
    .where('d.subscription_id', f.subscriptionId)
    .orderBy('d.id', 'desc')
    .limit(f.limit + 1);
  if (f.status) q.where('d.status', f.status);
  if (f.cursor) q.where('d.id', '<', f.cursor);
  return q;
}

export const findDelivery = (q: Q, id: number): Promise<DeliveryRow | undefined> =>
  q('webhook_deliveries as d')
    .join('webhook_events as e', 'e.id', 'd.event_id')
    .select(DELIVERY_COLUMNS)
    .where('d.id', id)
    .first();

export const attemptsFor = (q: Q, deliveryIds: number[]): Promise<AttemptRow[]> =>
  deliveryIds.length ? q('webhook_attempts').whereIn('delivery_id', deliveryIds).orderBy('id') : Promise.resolve([]);

/** A finished delivery back in the queue, due now, with a fresh set of attempts; false when it is not finished. */
export async function requeue(db: Db, id: number, now: string): Promise<boolean> {
  const changed = await db('webhook_deliveries')
    .where({ id })
    .whereIn('status', ['delivered', 'failed'])
    .update({ status: 'queued', attempts: 0, next_attempt_at: now, locked_at: null, last_error: null, updated_at: now });
  return changed > 0;
}

// ---- retention -------------------------------------------------------------------------------------

/** Finished deliveries last touched before `before` go, their attempts with them (ON DELETE CASCADE). */
export const deleteFinishedBefore = (db: Db, before: string) =>
  db('webhook_deliveries').whereIn('status', ['delivered', 'failed']).where('updated_at', '<', before).delete();

/** Events no delivery points at any more. */
export const deleteOrphanEvents = (db: Db) =>
  db('webhook_events')
    .whereNotExists(db('webhook_deliveries as d').select(db.raw('1')).whereRaw('?? = ??', ['d.event_id', 'webhook_events.id']))
    .delete();
