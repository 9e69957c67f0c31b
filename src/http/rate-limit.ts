import type { Context } from 'koa';
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import { type Db, isPostgres, usesPreparedStatements } from '../db/index.ts';
import { tooManyRequests } from './errors.ts';

/** The table rate-limiter-flexible's PostgreSQL store keeps its counters in (migration 20261207000100). */
export const RATE_LIMIT_TABLE = 'rate_limits';

type Store = RateLimiterMemory | RateLimiterPostgres;

/**
 * PostgreSQL's store names its statements; behind a pooler without prepared statements
 * (DATABASE_PREPARED_STATEMENTS=false) the same statements run unnamed.
 */
function postgresStore(db: Db, name: string, points: number, duration: number): RateLimiterPostgres {
  const store = new RateLimiterPostgres({
    storeClient: db,
    storeType: 'knex',
    tableName: RATE_LIMIT_TABLE,
    tableCreated: true,
    // Expired rows are deleted by timed work (deleteExpiredRateLimits), not by a timer in every process.
    clearExpiredByTimeout: false,
    keyPrefix: name,
    points,
    duration,
    // While PostgreSQL cannot be reached the limits are kept per process instead of failing requests.
    insuranceLimiter: new RateLimiterMemory({ keyPrefix: name, points, duration }),
  });
  if (!usesPreparedStatements(db)) {
    const internals = store as unknown as { _query(q: { name?: string; text: string; values?: unknown[] }): Promise<unknown> };
    const query = internals._query.bind(store);
    internals._query = (q) => query({ text: q.text, values: q.values });
  }
  return store;
}

/**
 * Fixed-window limits per key (an IP, an account, a sending number) with rate-limiter-flexible. On
 * PostgreSQL the counters are shared by every process, so N replicas do not multiply the allowance;
 * on SQLite (one process) they are kept in memory.
 */
export class Limiter {
  private readonly store: Store;
  constructor(db: Db, name: string, points: number, durationSeconds: number) {
    this.store = isPostgres(db)
      ? postgresStore(db, name, points, durationSeconds)
      : new RateLimiterMemory({ keyPrefix: name, points, duration: durationSeconds });
  }

  /** Counts one attempt against every key; throws 429 when any key is over its allowance. */
  async hit(...keys: string[]): Promise<void> {
    for (const key of keys) {
      try {
        await this.store.consume(key);
      } catch (res) {
        if (res instanceof RateLimiterRes) throw tooManyRequests(Math.max(1, Math.ceil(res.msBeforeNext / 1000)));
        throw res;
      }
    }
  }
}

/** Timed work: counters whose window ended more than an hour ago are deleted. */
export const deleteExpiredRateLimits = (db: Db, now: Date) =>
  db(RATE_LIMIT_TABLE)
    .where('expire', '<', now.getTime() - 3_600_000)
    .delete();

export const clientIp = (ctx: Context): string => ctx.ip || 'unknown';
