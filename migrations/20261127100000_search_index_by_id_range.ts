import type { Knex } from 'knex';

/**
 * The trigram index answers "which tickets hold this word" in no order, so the newest page of a
 * search for a word in 2,500 of a million tickets was found only after reading all 2,500 rows (~3 ms,
 * growing with the table). This index holds, beside each ticket's trigrams, its id range: `id >> 16`,
 * a "bucket" of 65,536 ids. A search then asks for the word within the newest bucket, then the one
 * before, until the page is full (src/features/tickets/queries.ts, SEARCH_BUCKET_BITS), and reads only
 * the rows of the buckets it needs. The bucket is a one-element int[] (GIN's built-in array_ops), so
 * nothing beyond pg_trgm is needed. A GIN index serves a query on any of its columns, so it replaces
 * the trigram-only index (one index to keep up on every write), with the same bounded pending list.
 *
 * Without pg_trgm there was no trigram index (20261126100000) and there is none here: search stays
 * correct, on sequential scans. SQLite has no such index.
 *
 * The build holds a lock that makes ticket writes wait (~15 s at a million tickets on a 2-core host);
 * reads go on. Where that pause is too long, build the index beforehand with the statement in
 * DEPLOYMENT.md ("CREATE INDEX CONCURRENTLY ... tickets_search_trgm_bucket ..."): this migration then
 * finds it and only drops the old index. An invalid one (an interrupted CONCURRENTLY) is built again.
 * Dropping the old index needs the table to itself for a moment, and every ticket query would queue
 * behind a drop waiting for a long query (a backup): the drop waits LOCK_TIMEOUT at most, and where
 * it is refused the old index stays (correct, only one more index to keep up; DEPLOYMENT.md says how
 * to drop it later) and the migration says so.
 */
const isPostgres = (knex: Knex) => ['pg', 'postgres', 'postgresql'].includes(String(knex.client.config.client));

const INDEX = 'tickets_search_trgm_bucket';
const OLD_INDEX = 'tickets_search_text_trgm';

const LOCK_TIMEOUT = '5s';

/** The schema pg_trgm is installed in, if it is. */
async function trigramSchema(knex: Knex): Promise<string | undefined> {
  const { rows } = await knex.raw<{ rows: { schema: string }[] }>(
    "SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'",
  );
  return rows[0]?.schema;
}

const opclass = (schema: string) => `"${schema.replace(/"/g, '""')}".gin_trgm_ops`;

/** Whether `name` (on the search path) is an index PostgreSQL marked invalid. */
async function isInvalid(knex: Knex, name: string): Promise<boolean> {
  const { rows } = await knex.raw<{ rows: { valid: boolean }[] }>(
    'SELECT i.indisvalid AS valid FROM pg_index i WHERE i.indexrelid = to_regclass(?)',
    [name],
  );
  return rows[0]?.valid === false;
}

/** DROP INDEX IF EXISTS `name`, waiting `timeout` at most for the table, in a savepoint (a refusal
 * must not abort the migrations' transaction), the previous lock timeout restored. */
async function dropWithin(knex: Knex, timeout: string, name: string): Promise<void> {
  await knex.transaction(async (trx) => {
    const { rows } = await trx.raw<{ rows: { previous: string }[] }>(
      "SELECT current_setting('lock_timeout') AS previous, set_config('lock_timeout', ?, true)",
      [timeout],
    );
    await trx.raw(`DROP INDEX IF EXISTS ${name}`);
    await trx.raw("SELECT set_config('lock_timeout', ?, true)", [rows[0]?.previous ?? '0']);
  });
}

export async function up(knex: Knex): Promise<void> {
  if (!isPostgres(knex)) return;
  const schema = await trigramSchema(knex);
  if (!schema) return;
  // Here a refused lock fails the migration (the rollout stops, the old version serves on): an
  // invalid index is of no use, and building beside it is not possible under the same name.
  if (await isInvalid(knex, INDEX)) await dropWithin(knex, LOCK_TIMEOUT, INDEX);
  await knex.raw(
    `CREATE INDEX IF NOT EXISTS ${INDEX} ON tickets USING gin (search_text ${opclass(schema)}, (array[id >> 16])) WITH (gin_pending_list_limit = 64)`,
  );
  try {
    await dropWithin(knex, LOCK_TIMEOUT, OLD_INDEX);
  } catch (err) {
    console.warn(
      `${OLD_INDEX} stays beside ${INDEX} (${(err as Error).message}): drop it later with DROP INDEX CONCURRENTLY ${OLD_INDEX}.`,
    );
  }
}

export async function down(knex: Knex): Promise<void> {
  if (!isPostgres(knex)) return;
  const schema = await trigramSchema(knex);
  if (schema) {
    await knex.raw(
      `CREATE INDEX IF NOT EXISTS ${OLD_INDEX} ON tickets USING gin (search_text ${opclass(schema)}) WITH (gin_pending_list_limit = 64)`,
    );
  }
  await knex.raw(`DROP INDEX IF EXISTS ${INDEX}`);
}
