import type { Knex } from 'knex';

/**
 * A rare word's newest matches are looked up one id range ("bucket", 65,536 ids) at a time
 * (src/features/tickets/queries.ts, bucketedPageQuery). With the trigram index holding the bucket as a
 * second column (20261127100000), each step still decoded the word's list of the whole table to
 * intersect it with the bucket's: ~0.2 ms a step at a million tickets, a cost that grows with the
 * table. Here each key is the bucket and three characters together, so a key's list holds only its
 * bucket's tickets:
 *
 *   ticket_search_keys(id, search_text) = every three consecutive characters of search_text, each
 *   prefixed by `id >> 16` and a colon: ticket 1,000,000 "floor 7" -> {15:flo, 15:loo, 15:oor, ...}.
 *
 * A word's keys in bucket b are ticket_search_keys(b << 16, word); a ticket of bucket b whose search
 * text holds the word holds all of them (the search text and the word are lowercased alike), and the
 * whole search is checked on the tickets found. No extension is needed: the function is built-in SQL.
 * The bucket width (16 bits) is SEARCH_BUCKET_BITS in the app; a test compares them.
 *
 * The build holds a lock that makes ticket writes wait (~50 s at a million tickets on a 2-core host);
 * reads go on. Where that pause is too long, build the index beforehand with the statements in
 * DEPLOYMENT.md (CREATE FUNCTION, then CREATE INDEX CONCURRENTLY): this migration then finds both. An
 * invalid index (an interrupted CONCURRENTLY) fails the migration with what to do: dropping it here
 * would hold the table from reads too until the end of the migrations' transaction, through the
 * build (the rollout stops, the previous version serves on). SQLite has no such index.
 */
const isPostgres = (knex: Knex) => ['pg', 'postgres', 'postgresql'].includes(String(knex.client.config.client));

const FUNCTION = 'ticket_search_keys';
const INDEX = 'tickets_search_keys';

export async function up(knex: Knex): Promise<void> {
  if (!isPostgres(knex)) return;
  // IMMUTABLE is true: the result depends on the arguments alone (integer-to-text, substr and length
  // do not depend on settings). STRICT: no search text, no keys.
  await knex.raw(
    `CREATE OR REPLACE FUNCTION ${FUNCTION}(id integer, search_text text) RETURNS text[]
     LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
     AS $$ SELECT array(SELECT ($1 >> 16)::text || ':' || substr($2, i, 3) FROM generate_series(1, length($2) - 2) AS i) $$`,
  );
  const { rows } = await knex.raw<{ rows: { valid: boolean }[] }>(
    'SELECT i.indisvalid AS valid FROM pg_index i WHERE i.indexrelid = to_regclass(?)',
    [INDEX],
  );
  if (rows[0]?.valid === false) {
    throw new Error(
      `${INDEX} is invalid (an interrupted CREATE INDEX CONCURRENTLY): run DROP INDEX CONCURRENTLY ${INDEX}, then build it again (DEPLOYMENT.md) or migrate again.`,
    );
  }
  await knex.raw(
    `CREATE INDEX IF NOT EXISTS ${INDEX} ON tickets USING gin (${FUNCTION}(id, search_text)) WITH (gin_pending_list_limit = 64)`,
  );
}

export async function down(knex: Knex): Promise<void> {
  if (!isPostgres(knex)) return;
  await knex.raw(`DROP INDEX IF EXISTS ${INDEX}`);
  await knex.raw(`DROP FUNCTION IF EXISTS ${FUNCTION}(integer, text)`);
}
