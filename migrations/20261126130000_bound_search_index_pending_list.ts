import type { Knex } from 'knex';

/**
 * A GIN index takes new entries into a "pending list" (fastupdate) and moves them into the index
 * proper only when the list passes gin_pending_list_limit (4 MB by default) or at a vacuum or
 * auto-analyze. Every search reads the whole pending list, and every write that is not a HOT update
 * (a new request, a status change: `status` is indexed) adds the ticket's trigrams to it. ~3,000 such
 * writes made ~500 pending pages, and the rare-word search of `npm run bench` took twice as long (6.8
 * against 3.4 ms at 10,000 tickets) until autovacuum came by (auto-analyze at a million tickets: after
 * ~100,000 changes). At 64 kB (8 pages, the least PostgreSQL takes) a search reads about that much (a
 * write that finds the list full moves it into the index unless another write is already doing so);
 * writes pay ~140 µs on average for it, against ~60 µs with the default list and ~300 µs with
 * fastupdate off, which writes every trigram into the index at once.
 *
 * The setting is a speed-up, never a condition for correct results: where it cannot be made (the
 * index owned by another role, a lock not granted within LOCK_TIMEOUT because a long query holds the
 * table) the migration says why and goes on. ALTER INDEX takes an exclusive lock on the index, which
 * every query on tickets needs to plan, until the migrations' transaction ends: hence the timeout
 * rather than waiting behind a long query while every ticket request queues behind the ALTER.
 */
const isPostgres = (knex: Knex) => ['pg', 'postgres', 'postgresql'].includes(String(knex.client.config.client));

const INDEX = 'tickets_search_text_trgm';

const LOCK_TIMEOUT = '5s';

/** Whether the trigram index exists (the one on the search_path, as the table's other statements see it). */
async function hasIndex(knex: Knex): Promise<boolean> {
  const { rows } = await knex.raw<{ rows: { found: string | null }[] }>('SELECT to_regclass(?) AS found', [INDEX]);
  return Boolean(rows[0]?.found);
}

/** `statements` in a savepoint with a lock timeout, the previous timeout restored; a refusal is logged. */
async function tryAlter(knex: Knex, ...statements: string[]): Promise<void> {
  try {
    await knex.transaction(async (trx) => {
      const { rows } = await trx.raw<{ rows: { previous: string }[] }>(
        "SELECT current_setting('lock_timeout') AS previous, set_config('lock_timeout', ?, true)",
        [LOCK_TIMEOUT],
      );
      for (const statement of statements) await trx.raw(statement);
      await trx.raw("SELECT set_config('lock_timeout', ?, true)", [rows[0]?.previous ?? '0']);
    });
  } catch (err) {
    console.warn(`${INDEX} keeps its pending list as it was (${(err as Error).message}): searches may slow between vacuums.`);
  }
}

export async function up(knex: Knex): Promise<void> {
  if (!isPostgres(knex) || !(await hasIndex(knex))) return;
  // What is pending now is moved too; it would otherwise wait for the next write.
  await tryAlter(
    knex,
    `ALTER INDEX ${INDEX} SET (gin_pending_list_limit = 64)`,
    `SELECT gin_clean_pending_list('${INDEX}'::regclass)`,
  );
}

export async function down(knex: Knex): Promise<void> {
  if (!isPostgres(knex) || !(await hasIndex(knex))) return;
  await tryAlter(knex, `ALTER INDEX ${INDEX} RESET (gin_pending_list_limit)`);
}
