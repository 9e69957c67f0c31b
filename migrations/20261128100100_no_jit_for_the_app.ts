import type { Knex } from 'knex';

/**
 * PostgreSQL compiles a query to machine code (JIT) when the planner's cost estimate passes
 * jit_above_cost (100,000 by default), and it compiles again on every execution. The app's queries
 * read a page, a ticket or a count: they take about a millisecond, and a compile takes 10–80 ms. At a
 * million tickets, the generic plan of a bucketed search (20261128100000) is costed at ~150,000
 * (the planner cannot know how few tickets a parameter's search keys hold), so each search
 * took ~20 ms instead of ~1.5. So JIT is turned off for the app's role in this database, where the
 * server applies it to every new session (also behind PgBouncer, which refuses a client's startup
 * options). A role may set its own defaults, so no extra privilege is needed. Connections already
 * open keep their setting until they close.
 */
const isPostgres = (knex: Knex) => ['pg', 'postgres', 'postgresql'].includes(String(knex.client.config.client));

/** Whether the role's default for this database turns JIT off. */
async function isOff(knex: Knex): Promise<boolean> {
  const { rows } = await knex.raw<{ rows: { off: boolean }[] }>(
    `SELECT coalesce('jit=off' = ANY (s.setconfig), false) AS off FROM pg_db_role_setting s
     JOIN pg_database d ON d.oid = s.setdatabase AND d.datname = current_database()
     WHERE s.setrole = (SELECT oid FROM pg_roles WHERE rolname = current_user)`,
  );
  return rows[0]?.off === true;
}

/**
 * ALTER ROLE for this database, in a savepoint: two deployments (or test runs, one schema each)
 * migrating at once may both write the setting, and PostgreSQL refuses one of them ("tuple
 * concurrently updated"); the refused one is fine when the other's setting is the wanted one.
 */
async function setForThisDatabase(knex: Knex, setting: 'SET jit = off' | 'RESET jit'): Promise<void> {
  const want = setting === 'SET jit = off';
  if ((await isOff(knex)) === want) return;
  const { rows } = await knex.raw<{ rows: { name: string }[] }>('SELECT current_database() AS name');
  try {
    await knex.transaction((trx) => trx.raw(`ALTER ROLE CURRENT_USER IN DATABASE ?? ${setting}`, [rows[0]?.name ?? '']));
  } catch (err) {
    if ((await isOff(knex)) !== want) throw err;
  }
}

export async function up(knex: Knex): Promise<void> {
  if (isPostgres(knex)) await setForThisDatabase(knex, 'SET jit = off');
}

export async function down(knex: Knex): Promise<void> {
  if (isPostgres(knex)) await setForThisDatabase(knex, 'RESET jit');
}
