import { type Db, toIso } from '../../db/index.ts';

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
