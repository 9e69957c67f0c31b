import type { Knex } from 'knex';

/**
 * The assignee field's suggestions look accounts up by the start of their name
 * (`username_key LIKE 'abc%'`). PostgreSQL's unique index on username_key cannot serve a LIKE under a
 * non-C collation, so each keystroke read every account; a text_pattern_ops index serves the prefix.
 * SQLite keeps its scan: its installs have few accounts.
 */
const isPostgres = (knex: Knex) => ['pg', 'postgres', 'postgresql'].includes(String(knex.client.config.client));

export async function up(knex: Knex): Promise<void> {
  if (isPostgres(knex)) await knex.raw('CREATE INDEX users_username_key_prefix ON users (username_key text_pattern_ops)');
}

export async function down(knex: Knex): Promise<void> {
  if (isPostgres(knex)) await knex.raw('DROP INDEX IF EXISTS users_username_key_prefix');
}
