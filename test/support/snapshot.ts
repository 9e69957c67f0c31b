import { createHash } from 'node:crypto';
import type { Db } from '../../src/db/index.ts';

/**
 * Tables a request may touch without changing anything a user owns: the session store (a visit to
 * a form page makes a CSRF secret), the rate-limit counters (on PostgreSQL they count every attempt,
 * the refused ones too: that is their job), timed work's schedule and Knex's own bookkeeping.
 */
const IGNORED = new Set(['sessions', 'rate_limits', 'timed_runs', 'knex_migrations', 'knex_migrations_lock']);

/** Every application table of the database the app runs on (SQLite, or the test's PostgreSQL schema). */
export async function tableNames(db: Db): Promise<string[]> {
  const rows: { name: string }[] =
    db.client.config.client === 'pg'
      ? (
          await db.raw(
            "select table_name as name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE'",
          )
        ).rows
      : await db.raw("select name from sqlite_master where type = 'table' and name not like 'sqlite_%'");
  return rows
    .map((r) => r.name)
    .filter((name) => !IGNORED.has(name))
    .sort();
}

export type Snapshot = Record<string, { count: number; hash: string }>;

/** Row count and a hash of every row (order-independent) of every table: equal snapshots, no row changed. */
export async function snapshot(db: Db, tables?: string[]): Promise<Snapshot> {
  const result: Snapshot = {};
  for (const table of tables ?? (await tableNames(db))) {
    const rows = await db(table).select('*');
    const lines = rows.map((row) => JSON.stringify(row, (_k, v) => (v instanceof Date ? v.toISOString() : v))).sort();
    const hash = createHash('sha256');
    for (const line of lines) hash.update(line).update('\n');
    result[table] = { count: rows.length, hash: hash.digest('hex').slice(0, 16) };
  }
  return result;
}

/** The tables whose rows differ between two snapshots (empty when nothing changed). */
export function changedTables(before: Snapshot, after: Snapshot): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].filter((n) => before[n]?.hash !== after[n]?.hash || before[n]?.count !== after[n]?.count).sort();
}
