import type { Db } from './index.ts';
import { isPostgres } from './index.ts';

/** Which rows of an outbox-like table (status, next_attempt_at, locked_at, attempts) a worker may claim now. */
export interface ClaimWindow {
  /** The claim's timestamp, stored in locked_at: the worker's proof that the row is still its own. */
  now: string;
  /** `sending` rows locked before this were left by a worker that died: they are claimed again. */
  staleBefore: string;
  limit: number;
}

/**
 * Claims up to `limit` due rows of `table` in one statement: `queued` rows whose time has come, and
 * `sending` rows whose lease ran out. They become `sending` with `locked_at = now`, and `attempts`
 * counts the try. On PostgreSQL the candidate rows are locked `FOR UPDATE SKIP LOCKED`, so workers
 * racing for the same rows each get different ones without waiting. SQLite has a single writer: the
 * statement runs whole, and a second worker's statement sees the rows already `sending`. The
 * notification outbox and the webhook deliveries share it.
 */
export async function claimDueRows<Row>(db: Db, table: string, w: ClaimWindow, returning: string[]): Promise<Row[]> {
  const due = db(table)
    .select('id')
    .where((q) =>
      q
        .where((a) => a.where('status', 'queued').where('next_attempt_at', '<=', w.now))
        .orWhere((b) => b.where('status', 'sending').where('locked_at', '<', w.staleBefore)),
    )
    .orderBy('id')
    .limit(w.limit);
  if (isPostgres(db)) due.forUpdate().skipLocked();
  return (await db(table)
    .whereIn('id', due)
    .update({ status: 'sending', locked_at: w.now, attempts: db.raw('?? + 1', ['attempts']), updated_at: w.now })
    .returning(returning)) as Row[];
}
