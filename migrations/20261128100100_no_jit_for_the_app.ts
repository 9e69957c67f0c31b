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

/** The role's default `jit` in this database as stored (`off`, `false`, …), if it has one. */
async function storedJit(knex: Knex): Promise<string | undefined> {
  const { rows } = await knex.raw<{ rows: { value: string }[] }>(
    `SELECT substr(c, 5) AS value FROM pg_db_role_setting s
     JOIN pg_database d ON d.oid = s.setdatabase AND d.datname = current_database(),
     unnest(s.setconfig) AS c
     WHERE s.setrole = (SELECT oid FROM pg_roles WHERE rolname = current_user) AND c LIKE 'jit=%'`,
  );
  return rows[0]?.value;
}

/** The spellings PostgreSQL accepts for a boolean setting's false: 0, any prefix of false or no, of(f). */
function isOff(value: string | undefined): boolean {
  const v = value?.toLowerCase() ?? '';
  return v === '0' || (v !== '' && ('false'.startsWith(v) || 'no'.startsWith(v))) || (v.length >= 2 && 'off'.startsWith(v));
}

/**
 * ALTER ROLE for this database, under a transaction-level advisory lock: several deployments (or test
 * runs, one schema each in one database) may migrate at once, and PostgreSQL refuses a second writer
 * of the same setting ("tuple concurrently updated"). Up leaves any off spelling as it is; down
 * removes only an off setting (not one an administrator made on).
 */
async function setForThisDatabase(knex: Knex, want: 'off' | 'default'): Promise<void> {
  await knex.raw("SELECT pg_advisory_xact_lock(hashtext('cable_ticketing: role jit setting'))");
  if (isOff(await storedJit(knex)) === (want === 'off')) return;
  const { rows } = await knex.raw<{ rows: { name: string }[] }>('SELECT current_database() AS name');
  const database = `"${(rows[0]?.name ?? '').replace(/"/g, '""')}"`;
  await knex.raw(`ALTER ROLE CURRENT_USER IN DATABASE ${database} ${want === 'off' ? 'SET jit = off' : 'RESET jit'}`);
}

export async function up(knex: Knex): Promise<void> {
  if (isPostgres(knex)) await setForThisDatabase(knex, 'off');
}

export async function down(knex: Knex): Promise<void> {
  if (isPostgres(knex)) await setForThisDatabase(knex, 'default');
}
