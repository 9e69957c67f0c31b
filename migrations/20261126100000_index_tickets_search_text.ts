import type { Knex } from 'knex';

/**
 * The dashboard search is `search_text LIKE '%words%'`: a leading wildcard, which no B-tree can serve.
 * At a million tickets a search with few matches read the whole table (~300 ms). On PostgreSQL a
 * trigram GIN index (pg_trgm, in Debian's postgresql-contrib and most managed services) makes those
 * searches an index lookup; searches that match many rows keep the newest-first primary-key scan,
 * which stops after one page. A finer statistics sample on search_text lets the planner tell the two
 * apart (at the default, it guessed a few rows for patterns that match thousands).
 *
 * Where the extension cannot be installed (not in the server, or no CREATE privilege on the database)
 * the migration logs why and leaves search on sequential scans: correct, slower at scale. Running it
 * again later, after `CREATE EXTENSION pg_trgm` by a superuser, is a new migration's job.
 * SQLite has no such index; its searches scan the table (fine at the sizes SQLite is meant for).
 */
const isPostgres = (knex: Knex) => ['pg', 'postgres', 'postgresql'].includes(String(knex.client.config.client));

const INDEX = 'tickets_search_text_trgm';

/** The schema pg_trgm lives in, installing it (into `public`, shared by every schema) when missing. */
async function trigramSchema(knex: Knex): Promise<string | undefined> {
  const installed = async () =>
    (
      await knex.raw<{ rows: { schema: string }[] }>(
        "SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'",
      )
    ).rows[0]?.schema;
  const found = await installed();
  if (found) return found;
  try {
    // A savepoint: a refusal must not abort the migration's transaction.
    await knex.transaction((trx) => trx.raw('CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public'));
  } catch (err) {
    // Another migration run (a parallel test file) may have installed it a moment ago.
    const schema = await installed();
    if (schema) return schema;
    console.warn(`pg_trgm is not available (${(err as Error).message}): ticket search stays without an index.`);
    return undefined;
  }
  return installed();
}

export async function up(knex: Knex): Promise<void> {
  if (!isPostgres(knex)) return;
  await knex.raw('ALTER TABLE tickets ALTER COLUMN search_text SET STATISTICS 1000');
  const schema = await trigramSchema(knex);
  if (!schema) return;
  await knex.raw(`CREATE INDEX ${INDEX} ON tickets USING gin (search_text "${schema.replace(/"/g, '""')}".gin_trgm_ops)`);
}

export async function down(knex: Knex): Promise<void> {
  if (!isPostgres(knex)) return;
  await knex.raw(`DROP INDEX IF EXISTS ${INDEX}`);
  await knex.raw('ALTER TABLE tickets ALTER COLUMN search_text SET STATISTICS -1');
  // pg_trgm stays: other schemas in the database may use it.
}
