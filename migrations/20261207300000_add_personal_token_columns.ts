import type { Knex } from 'knex';

/**
 * Personal API tokens live beside sign-in tokens in api_tokens: `kind` tells them apart, a personal
 * token has a name and a scope (`read` answers 403 to any unsafe method), and `last_used_at` (written
 * at most once a minute per token) says whether it is still in use. Existing rows are sign-in tokens
 * with full power (`write`). The checks hold on both databases (SQLite: as column constraints, the
 * only kind ALTER TABLE can add there).
 */
export async function up(knex: Knex): Promise<void> {
  const isPostgres = ['pg', 'postgres', 'postgresql'].includes(String(knex.client.config.client));
  const time = isPostgres ? 'timestamptz' : 'datetime';
  await knex.raw(
    "ALTER TABLE api_tokens ADD COLUMN kind varchar(10) NOT NULL DEFAULT 'sign_in' CHECK (kind IN ('sign_in', 'personal'))",
  );
  await knex.raw(
    "ALTER TABLE api_tokens ADD COLUMN scope varchar(5) NOT NULL DEFAULT 'write' CHECK (scope IN ('read', 'write'))",
  );
  await knex.raw(
    "ALTER TABLE api_tokens ADD COLUMN name varchar(100) NULL CHECK (kind = 'sign_in' OR (name IS NOT NULL AND length(name) > 0))",
  );
  await knex.raw(`ALTER TABLE api_tokens ADD COLUMN last_used_at ${time} NULL`);
}

export async function down(knex: Knex): Promise<void> {
  // name's check names kind: it goes first.
  for (const column of ['last_used_at', 'name', 'scope', 'kind']) {
    await knex.raw(`ALTER TABLE api_tokens DROP COLUMN ${column}`);
  }
}
