import type { Knex } from 'knex';

/**
 * An event as sent and an attempt as logged are history: UPDATE is refused at the database on both
 * (rows go only when their subscription is deleted). Triggers on PostgreSQL and SQLite alike.
 */
const TABLES = ['webhook_events', 'webhook_attempts'];
const isPostgres = (knex: Knex) => ['pg', 'postgres', 'postgresql'].includes(String(knex.client.config.client));

export async function up(knex: Knex): Promise<void> {
  if (isPostgres(knex)) {
    await knex.raw(`
      CREATE FUNCTION webhook_history_unchanged() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION '% is history: UPDATE is not allowed', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
      END;
      $$`);
    for (const table of TABLES) {
      await knex.raw(
        `CREATE TRIGGER ${table}_unchanged BEFORE UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION webhook_history_unchanged()`,
      );
    }
    return;
  }
  for (const table of TABLES) {
    await knex.raw(`
      CREATE TRIGGER ${table}_unchanged BEFORE UPDATE ON ${table}
      BEGIN SELECT RAISE(ABORT, '${table} is history: UPDATE is not allowed'); END`);
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const table of TABLES) {
    await knex.raw(
      isPostgres(knex) ? `DROP TRIGGER IF EXISTS ${table}_unchanged ON ${table}` : `DROP TRIGGER IF EXISTS ${table}_unchanged`,
    );
  }
  if (isPostgres(knex)) await knex.raw('DROP FUNCTION IF EXISTS webhook_history_unchanged()');
}
