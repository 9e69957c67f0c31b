import { type ClaimWindow, claimDueRows } from '../../db/claim.ts';
import { type Db, toIso } from '../../db/index.ts';
import type { Channel, NotificationStatus } from './outbox.ts';

/** All Knex for the notifications feature. Timestamps go in as ISO-8601 strings (both databases). */

export interface NotificationRow {
  id: number;
  ticket_id: number | null;
  optics_request_id: number | null;
  recipient_user_id: number | null;
  recipient_address: string | null;
  channel: Channel;
  notification_type: string;
  status: NotificationStatus;
  attempts: number;
  next_attempt_at: Date | string;
  locked_at: Date | string | null;
  subject: string | null;
  provider: string | null;
  provider_message_id: string | null;
  error_message: string | null;
  sent_at: Date | string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

/** A claimed row: what the worker needs to send it (bodies included). */
export interface ClaimedRow {
  id: number;
  channel: Channel;
  recipient_address: string | null;
  subject: string | null;
  body_text: string;
  body_html: string | null;
  reply_to: string | null;
  attempts: number;
  created_at: Date | string;
}

/** Claims up to `limit` due notifications (see claimDueRows). */
export const claimDue = (db: Db, w: ClaimWindow): Promise<ClaimedRow[]> =>
  claimDueRows<ClaimedRow>(db, 'notifications', w, [
    'id',
    'channel',
    'recipient_address',
    'subject',
    'body_text',
    'body_html',
    'reply_to',
    'attempts',
    'created_at',
  ]);

export interface Claim {
  id: number;
  lockedAt: string;
}

/**
 * Ends a claim: only while the row is still `sending` under this claim's locked_at. A worker whose
 * lease ran out (and whose row another worker took) changes nothing and learns it from `false`.
 */
export async function finishClaim(db: Db, claim: Claim, columns: Record<string, unknown>): Promise<boolean> {
  const changed = await db('notifications')
    .where({ id: claim.id, status: 'sending', locked_at: claim.lockedAt })
    .update({ locked_at: null, ...columns });
  return changed > 0;
}

/** Hands claimed-but-untried rows back (a worker stopping mid-batch), as if never claimed. */
export async function releaseClaims(db: Db, lockedAt: string, ids: number[], now: string): Promise<number> {
  if (ids.length === 0) return 0;
  return db('notifications')
    .whereIn('id', ids)
    .where({ status: 'sending', locked_at: lockedAt })
    .update({ status: 'queued', locked_at: null, attempts: db.raw('?? - 1', ['attempts']), updated_at: now });
}

const LOG_COLUMNS = [
  'id',
  'ticket_id',
  'optics_request_id',
  'recipient_user_id',
  'recipient_address',
  'channel',
  'notification_type',
  'status',
  'attempts',
  'next_attempt_at',
  'locked_at',
  'subject',
  'provider',
  'provider_message_id',
  'error_message',
  'sent_at',
  'created_at',
  'updated_at',
];

export interface LogFilter {
  status?: NotificationStatus;
  channel?: Channel;
  /** Rows older than this id (keyset pagination, newest first). */
  cursor?: number;
  limit: number;
}

/** Newest first by id; one row more than asked, to know whether another page exists. Never the bodies. */
export function listLog(db: Db, f: LogFilter): Promise<NotificationRow[]> {
  const q = db('notifications')
    .select(LOG_COLUMNS)
    .orderBy('id', 'desc')
    .limit(f.limit + 1);
  if (f.status) q.where('status', f.status);
  if (f.channel) q.where('channel', f.channel);
  if (f.cursor) q.where('id', '<', f.cursor);
  return q;
}

/** A log row with the message it holds: for an admin's preview of exactly what is (or was) sent. */
export type MessageRow = NotificationRow & Pick<ClaimedRow, 'body_text' | 'body_html' | 'reply_to'>;

export const findMessage = (db: Db, id: number): Promise<MessageRow | undefined> =>
  db('notifications')
    .select([...LOG_COLUMNS, 'body_text', 'body_html', 'reply_to'])
    .where({ id })
    .first();

export const findLogRow = (db: Db, id: number): Promise<NotificationRow | undefined> =>
  db('notifications').select(LOG_COLUMNS).where({ id }).first();

/** Rows waiting or in flight, and failed ones, counted on the (status, next_attempt_at) index. */
export async function countOpen(db: Db): Promise<Record<'queued' | 'sending' | 'failed', number>> {
  const rows: { status: string; n: number | string }[] = await db('notifications')
    .select('status')
    .count({ n: '*' })
    .whereIn('status', ['queued', 'sending', 'failed'])
    .groupBy('status');
  const counts = { queued: 0, sending: 0, failed: 0 };
  for (const r of rows) counts[r.status as keyof typeof counts] = Number(r.n);
  return counts;
}

/** failed → queued, due now, with a fresh set of attempts. `false` when the row is not failed (any more). */
export async function requeueFailed(db: Db, id: number, now: string): Promise<boolean> {
  const changed = await db('notifications')
    .where({ id, status: 'failed' })
    .update({ status: 'queued', attempts: 0, next_attempt_at: now, locked_at: null, updated_at: now });
  return changed > 0;
}

// ---- monitoring ---------------------------------------------------------------------------------

/**
 * Scrape-time reads of the outbox, for monitoring only. Both use the (status, next_attempt_at) index:
 * the count is an index range per status asked for, the oldest due row one index probe.
 */
export async function notificationCounts(db: Db, statuses: readonly string[]): Promise<Map<string, number>> {
  const rows = (await db('notifications').whereIn('status', statuses).select('status').count({ n: '*' }).groupBy('status')) as {
    status: string;
    n: number | string;
  }[];
  return new Map(rows.map((r) => [r.status, Number(r.n)]));
}

/** When the longest-waiting due `queued` row became due (null: none is due). */
export async function oldestDueQueuedAt(db: Db, now: string): Promise<string | null> {
  const row = (await db('notifications')
    .where('status', 'queued')
    .andWhere('next_attempt_at', '<=', now)
    .min({ at: 'next_attempt_at' })
    .first()) as { at: Date | string | null } | undefined;
  return toIso(row?.at ?? null);
}
