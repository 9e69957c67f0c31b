import type { Knex } from 'knex';

/**
 * A GIN index takes new entries into a "pending list" (fastupdate) and moves them into the index
 * proper only when the list passes gin_pending_list_limit (4 MB by default) or at a vacuum. Every
 * search reads the whole pending list, and every write that is not a HOT update (a new request, a
 * status change: `status` is indexed) adds the ticket's trigrams to it. After ~3,000 such writes the
 * list held ~500 pages and a search that took 1.9 ms took 9 ms, until autovacuum came by (at a
 * million tickets, after 200,000 changes). At 64 kB (8 pages, the least PostgreSQL takes) a search
 * reads at most those, and a write that fills the list moves it into the index (well under a
 * millisecond; ~140 µs a write on average against ~60 µs with the default list and ~300 µs with
 * fastupdate off, which writes every trigram into the index at once).
 */
const isPostgres = (knex: Knex) => ['pg', 'postgres', 'postgresql'].includes(String(knex.client.config.client));

const INDEX = 'tickets_search_text_trgm';

/** Whether the trigram index exists in this schema (pg_trgm may have been unavailable: no index then). */
async function hasIndex(knex: Knex): Promise<boolean> {
  const { rows } = await knex.raw<{ rows: { found: string | null }[] }>('SELECT to_regclass(?) AS found', [INDEX]);
  return Boolean(rows[0]?.found);
}

export async function up(knex: Knex): Promise<void> {
  if (!isPostgres(knex) || !(await hasIndex(knex))) return;
  await knex.raw(`ALTER INDEX ${INDEX} SET (gin_pending_list_limit = 64)`);
  // What is pending now would otherwise wait for the next write to be moved.
  await knex.raw('SELECT gin_clean_pending_list(?::regclass)', [INDEX]);
}

export async function down(knex: Knex): Promise<void> {
  if (!isPostgres(knex) || !(await hasIndex(knex))) return;
  await knex.raw(`ALTER INDEX ${INDEX} RESET (gin_pending_list_limit)`);
}
